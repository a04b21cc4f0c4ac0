//! The emedia hooks: plain assignable properties holding the app's functions, and
//! the one place where a core event becomes a hook call.

use super::convert;
use crate::core::{cat, SdkEvent};
use emedia_protocol::{CallProgress, ErrorCode, Event, RoomMsg};
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
    // In-conference interaction (issue 8).
    RecvRoomTextMsg,
    RecvRoomCustomMsg,
    NotifyCmdData,
    SendProgress,
    NotifyBufferData,
    NotifyFileData,
    NotifyCancelSend,
    RequestToTalker,
    RequestToTalkerReply,
    Muted,
    Unmuted,
    ConfrAttrsUpdated,
    RequestRoomPK,
    RequestRoomPKReply,
    RoomPKStarted,
    QuitRoomPK,
}

impl Hook {
    pub const ALL: [Hook; 41] = [
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
        Hook::RecvRoomTextMsg,
        Hook::RecvRoomCustomMsg,
        Hook::NotifyCmdData,
        Hook::SendProgress,
        Hook::NotifyBufferData,
        Hook::NotifyFileData,
        Hook::NotifyCancelSend,
        Hook::RequestToTalker,
        Hook::RequestToTalkerReply,
        Hook::Muted,
        Hook::Unmuted,
        Hook::ConfrAttrsUpdated,
        Hook::RequestRoomPK,
        Hook::RequestRoomPKReply,
        Hook::RoomPKStarted,
        Hook::QuitRoomPK,
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
            Hook::RecvRoomTextMsg => "onRecvRoomTextMsg",
            Hook::RecvRoomCustomMsg => "onRecvRoomCustomMsg",
            Hook::NotifyCmdData => "onNotifyCmdData",
            Hook::SendProgress => "onSendProgress",
            Hook::NotifyBufferData => "onNotifyBufferData",
            Hook::NotifyFileData => "onNotifyFileData",
            Hook::NotifyCancelSend => "onNotifyCancelSend",
            Hook::RequestToTalker => "onRequestToTalker",
            Hook::RequestToTalkerReply => "onRequestToTalkerReply",
            Hook::Muted => "onMuted",
            Hook::Unmuted => "onUnmuted",
            Hook::ConfrAttrsUpdated => "onConfrAttrsUpdated",
            Hook::RequestRoomPK => "onRequestRoomPK",
            Hook::RequestRoomPKReply => "onRequestRoomPKReply",
            Hook::RoomPKStarted => "onRoomPKStarted",
            Hook::QuitRoomPK => "onQuitRoomPK",
        }
    }
}

#[derive(Clone)]
pub struct Hooks {
    slots: [Option<Function>; Hook::ALL.len()],
    /// `(kind, confrId, id) => Promise`, bound into the `agree` / `refuse` functions
    /// of a request to speak (kind 1 / 0, the applicant's member id) and of a PK
    /// request (kind 3 / 2, the asking room) (`mod.rs`, `answer`).
    pub answer: Option<Function>,
}

impl Default for Hooks {
    // By hand: `Default` stops at arrays of 32.
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| None),
            answer: None,
        }
    }
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

    /// `agree` and `refuse` for a request: the answer function with its arguments bound.
    fn answers(&self, agree: u8, confr_id: &str, id: &str) -> [JsValue; 2] {
        let Some(f) = &self.answer else {
            return [JsValue::UNDEFINED, JsValue::UNDEFINED];
        };
        let bind = |kind: u8| -> JsValue {
            f.bind3(&JsValue::NULL, &kind.into(), &confr_id.into(), &id.into())
                .into()
        };
        [bind(agree), bind(agree - 1)]
    }

    /// Calls the hooks for `event`; `payload` is a received transfer's data. A hook
    /// that throws is logged with its name and does not stop the SDK.
    pub fn dispatch(&self, event: &SdkEvent, payload: JsValue) {
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
            SdkEvent::Interaction(event) => return self.interaction(event),
            SdkEvent::RoomPkAnswered {
                confr_id,
                target_confr_id,
                agree,
            } => (
                &[Hook::RequestRoomPKReply],
                vec![
                    (*agree).into(),
                    target_confr_id.as_str().into(),
                    confr_id.as_str().into(),
                ],
            ),
            SdkEvent::SendProgress {
                transfer,
                sent,
                total,
            } => (
                &[Hook::SendProgress],
                vec![
                    (*transfer).into(),
                    (*sent as f64).into(),
                    (*total as f64).into(),
                ],
            ),
            SdkEvent::DataReceived {
                transfer,
                from,
                name: Some(name),
                ..
            } => (
                &[Hook::NotifyFileData],
                vec![
                    from.as_str().into(),
                    payload,
                    name.as_str().into(),
                    (*transfer).into(),
                ],
            ),
            SdkEvent::DataReceived { transfer, from, .. } => (
                &[Hook::NotifyBufferData],
                vec![from.as_str().into(), payload, (*transfer).into()],
            ),
            SdkEvent::TransferCancelled { transfer } => {
                (&[Hook::NotifyCancelSend], vec![(*transfer).into()])
            }
        };
        let args: Array = args.into_iter().collect();
        for hook in hooks {
            self.call(*hook, &args);
        }
    }

    /// The hooks of a server event of issue 8; each ends with the conference id (an
    /// addition to the emedia and TRTC signatures, for pages in several rooms).
    fn interaction(&self, event: &Event) {
        let (hook, args): (Hook, Vec<JsValue>) = match event {
            Event::RoomMsg {
                confr_id,
                from,
                msg: RoomMsg::Text(text),
            } => (
                Hook::RecvRoomTextMsg,
                vec![
                    convert::member(confr_id, from),
                    text.as_str().into(),
                    confr_id.as_str().into(),
                ],
            ),
            Event::RoomMsg {
                confr_id,
                from,
                msg: RoomMsg::Custom { cmd, msg },
            } => (
                Hook::RecvRoomCustomMsg,
                vec![
                    convert::member(confr_id, from),
                    cmd.as_str().into(),
                    msg.as_str().into(),
                    confr_id.as_str().into(),
                ],
            ),
            Event::CmdData { from, data } => (
                Hook::NotifyCmdData,
                vec![from.as_str().into(), data.as_str().into()],
            ),
            Event::TalkerRequested {
                confr_id,
                applicant,
                reason,
            } => {
                let [agree, refuse] = self.answers(1, confr_id.as_str(), applicant.id.as_str());
                let reason = reason.as_deref().map_or(JsValue::UNDEFINED, JsValue::from);
                let applicant = convert::member(confr_id, applicant);
                (
                    Hook::RequestToTalker,
                    vec![applicant, agree, refuse, reason, confr_id.as_str().into()],
                )
            }
            Event::TalkerRequestAnswered { confr_id, agree } => (
                Hook::RequestToTalkerReply,
                vec![(*agree).into(), confr_id.as_str().into()],
            ),
            Event::Muted { confr_id, muted } => (
                if *muted { Hook::Muted } else { Hook::Unmuted },
                vec![confr_id.as_str().into()],
            ),
            Event::ConfrAttrsUpdated { confr_id, attrs } => (
                Hook::ConfrAttrsUpdated,
                vec![convert::attrs(attrs), confr_id.as_str().into()],
            ),
            Event::RoomPkRequested {
                confr_id,
                from,
                from_confr_id,
            } => {
                let [agree, refuse] = self.answers(3, confr_id.as_str(), from_confr_id.as_str());
                (
                    Hook::RequestRoomPK,
                    vec![
                        convert::member(from_confr_id, from),
                        from_confr_id.as_str().into(),
                        agree,
                        refuse,
                        confr_id.as_str().into(),
                    ],
                )
            }
            Event::RoomPkStarted {
                confr_id,
                other_confr_id,
            } => (
                Hook::RoomPKStarted,
                vec![confr_id.as_str().into(), other_confr_id.as_str().into()],
            ),
            Event::RoomPkEnded {
                confr_id,
                other_confr_id,
            } => (
                Hook::QuitRoomPK,
                vec![confr_id.as_str().into(), other_confr_id.as_str().into()],
            ),
            // The core hands no other event over as interaction.
            _ => return,
        };
        self.call(hook, &args.into_iter().collect());
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
