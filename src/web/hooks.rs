//! The emedia hooks: plain assignable properties holding the app's functions, and
//! the one place where a core event becomes a hook call.

use super::convert;
use crate::core::{cat, SdkEvent};
use emedia_protocol::{CallProgress, ErrorCode};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(msg: &str, err: &JsValue);
}

/// Every hook the SDK can call, by its JavaScript name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    MemberJoined,
    MemberExited,
    MemberRoleChanged,
    RoleChanged,
    ConferenceExit,
    StreamAdded,
    StreamRemoved,
    /// emedia's own (misspelt) name; `MediaChanged` is the alias.
    MediaChanaged,
    MediaChanged,
    Reconnecting,
    Reconnected,
    UserStatusChanged,
    Invited,
    UserEnter,
    Reject,
    LineBusy,
    NoResp,
    UserLeave,
    CallingCancel,
    CallEnd,
    GroupCallInviteeListUpdate,
    InviteStatus,
    Error,
    /// `navigator.mediaDevices` fired `devicechange` (`network.rs`).
    DeviceChanged,
    /// `enableVolumeIndication`'s readings (`volume.rs`).
    UserVoiceVolume,
}

impl Hook {
    pub const ALL: [Hook; 25] = [
        Hook::MemberJoined,
        Hook::MemberExited,
        Hook::MemberRoleChanged,
        Hook::RoleChanged,
        Hook::ConferenceExit,
        Hook::StreamAdded,
        Hook::StreamRemoved,
        Hook::MediaChanaged,
        Hook::MediaChanged,
        Hook::Reconnecting,
        Hook::Reconnected,
        Hook::UserStatusChanged,
        Hook::Invited,
        Hook::UserEnter,
        Hook::Reject,
        Hook::LineBusy,
        Hook::NoResp,
        Hook::UserLeave,
        Hook::CallingCancel,
        Hook::CallEnd,
        Hook::GroupCallInviteeListUpdate,
        Hook::InviteStatus,
        Hook::Error,
        Hook::DeviceChanged,
        Hook::UserVoiceVolume,
    ];

    pub fn js_name(self) -> &'static str {
        match self {
            Hook::MemberJoined => "onMemberJoined",
            Hook::MemberExited => "onMemberExited",
            Hook::MemberRoleChanged => "onMemberRoleChanged",
            Hook::RoleChanged => "onRoleChanged",
            Hook::ConferenceExit => "onConferenceExit",
            Hook::StreamAdded => "onStreamAdded",
            Hook::StreamRemoved => "onStreamRemoved",
            Hook::MediaChanaged => "onMediaChanaged",
            Hook::MediaChanged => "onMediaChanged",
            Hook::Reconnecting => "onReconnecting",
            Hook::Reconnected => "onReconnected",
            Hook::UserStatusChanged => "onUserStatusChanged",
            Hook::Invited => "onInvited",
            Hook::UserEnter => "onUserEnter",
            Hook::Reject => "onReject",
            Hook::LineBusy => "onLineBusy",
            Hook::NoResp => "onNoResp",
            Hook::UserLeave => "onUserLeave",
            Hook::CallingCancel => "onCallingCancel",
            Hook::CallEnd => "onCallEnd",
            Hook::GroupCallInviteeListUpdate => "onGroupCallInviteeListUpdate",
            Hook::InviteStatus => "onInviteStatus",
            Hook::Error => "onError",
            Hook::DeviceChanged => "onDeviceChanged",
            Hook::UserVoiceVolume => "onUserVoiceVolume",
        }
    }
}

#[derive(Default, Clone)]
pub struct Hooks {
    slots: [Option<Function>; Hook::ALL.len()],
}

impl Hooks {
    fn index(hook: Hook) -> usize {
        Hook::ALL.iter().position(|h| *h == hook).unwrap_or(0)
    }

    pub fn get(&self, hook: Hook) -> JsValue {
        self.slots[Self::index(hook)]
            .as_ref()
            .map_or(JsValue::NULL, |f| f.clone().into())
    }

    /// Anything that is not a function clears the hook.
    pub fn set(&mut self, hook: Hook, value: JsValue) {
        self.slots[Self::index(hook)] = value.dyn_into::<Function>().ok();
    }

    /// Calls the hooks for `event`. A hook that throws is logged with its name and
    /// does not stop the SDK.
    pub fn dispatch(&self, event: &SdkEvent) {
        let (hooks, args): (&[Hook], Vec<JsValue>) = match event {
            SdkEvent::MemberJoined { confr_id, member } => (
                &[Hook::MemberJoined],
                vec![convert::member(confr_id, member)],
            ),
            SdkEvent::MemberExited {
                confr_id,
                member,
                reason,
            } => (
                &[Hook::MemberExited],
                vec![convert::member(confr_id, member), reason.code().into()],
            ),
            SdkEvent::MemberRoleChanged { confr_id, member } => (
                &[Hook::MemberRoleChanged],
                vec![convert::member(confr_id, member)],
            ),
            SdkEvent::RoleChanged { confr_id, role } => (
                &[Hook::RoleChanged],
                vec![role.code().into(), confr_id.as_str().into()],
            ),
            SdkEvent::ConferenceExited {
                confr_id,
                reason,
                failed,
            } => (
                &[Hook::ConferenceExit],
                vec![
                    reason.code().into(),
                    failed.map_or(JsValue::UNDEFINED, convert::code_value),
                    confr_id.as_str().into(),
                ],
            ),
            SdkEvent::StreamAdded {
                confr_id,
                owner,
                stream,
            } => {
                let s = convert::stream(confr_id, owner, stream);
                (&[Hook::StreamAdded], vec![convert::get(&s, "owner"), s])
            }
            SdkEvent::StreamRemoved {
                confr_id,
                owner,
                stream,
            } => {
                let s = convert::stream(confr_id, owner, stream);
                (&[Hook::StreamRemoved], vec![convert::get(&s, "owner"), s])
            }
            SdkEvent::StreamUpdated {
                confr_id,
                owner,
                stream,
            } => (
                &[Hook::MediaChanaged, Hook::MediaChanged],
                vec![convert::stream(confr_id, owner, stream)],
            ),
            SdkEvent::Reconnecting => (&[Hook::Reconnecting], vec![]),
            SdkEvent::Reconnected => (&[Hook::Reconnected], vec![]),
            SdkEvent::UserStatusChanged(s) => {
                (&[Hook::UserStatusChanged], vec![convert::user_status(s)])
            }
            SdkEvent::Invited(i) => (&[Hook::Invited], vec![convert::invitation(i)]),
            // `onXxx(userId, callId)`; onNoResp has its code in between: 0 no answer,
            // -601 offline. The call id is an addition, for pages in several calls.
            SdkEvent::CallProgress {
                call_id,
                user_id,
                progress,
            } => {
                let (hook, code): (&[Hook], Option<i32>) = match progress {
                    CallProgress::Entered => (&[Hook::UserEnter], None),
                    CallProgress::Rejected => (&[Hook::Reject], None),
                    CallProgress::Busy => (&[Hook::LineBusy], None),
                    CallProgress::NoResponse => (&[Hook::NoResp], Some(0)),
                    CallProgress::Offline => (&[Hook::NoResp], Some(ErrorCode::UserOffline.code())),
                    CallProgress::Left => (&[Hook::UserLeave], None),
                    CallProgress::Cancelled => (&[Hook::CallingCancel], None),
                };
                let mut args = vec![user_id.as_str().into()];
                args.extend(code.map(JsValue::from));
                args.push(call_id.as_str().into());
                (hook, args)
            }
            SdkEvent::CallEnded { call_id } => (&[Hook::CallEnd], vec![call_id.as_str().into()]),
            SdkEvent::InviteeListUpdated { call_id, user_ids } => (
                &[Hook::GroupCallInviteeListUpdate],
                vec![convert::strings(user_ids).into(), call_id.as_str().into()],
            ),
            SdkEvent::InviteStatus { invite_id, status } => (
                &[Hook::InviteStatus],
                vec![invite_id.as_str().into(), status.code().into()],
            ),
            SdkEvent::CallError(e) => (
                &[Hook::Error],
                vec![e.code.code().into(), e.message.as_str().into()],
            ),
        };
        let args: Array = args.into_iter().collect();
        for hook in hooks {
            self.call(*hook, &args);
        }
    }

    /// Calls one hook, if set, with `args`. A hook that throws is logged with its name
    /// and does not stop the SDK.
    pub fn call(&self, hook: Hook, args: &Array) {
        let Some(f) = &self.slots[Self::index(hook)] else {
            return;
        };
        if let Err(e) = f.apply(&JsValue::NULL, args) {
            console_error(&cat(&["emedia: hook ", hook.js_name(), " threw"]), &e);
        }
    }
}
