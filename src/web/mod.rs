//! The `#[wasm_bindgen]` façade: `emedia.mgr` as a JavaScript class. Each method
//! converts its arguments (rejecting bad ones with -200 before anything is sent),
//! hands a command to the driver and returns the driver's promise.

mod controls;
mod convert;
mod driver;
mod hooks;
mod ice;
mod media;
mod network;
mod publish;
mod rtmp;
mod socket;
mod subscribe;
mod transfer;
mod volume;
mod wire;

use crate::core::{Command, SdkError};
use driver::Shared;
use emedia_protocol::{ConferenceId, ConfrType, ErrorCode, MemberId, Request, Role, RoomMsg};
use hooks::Hook;
use js_sys::{Function, Object, Promise};
use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `emedia.mgr`. Several can live in one page, each with its own connection.
#[wasm_bindgen]
pub struct Manager {
    shared: Shared,
}

type MediaFuture = Pin<Box<dyn Future<Output = Result<JsValue, SdkError>>>>;

pub(crate) fn settle(fut: MediaFuture) -> Promise {
    wasm_bindgen_futures::future_to_promise(
        async move { fut.await.map_err(|e| convert::error(&e)) },
    )
}

fn rejected(e: SdkError) -> Promise {
    Promise::reject(&convert::error(&e))
}

/// The page's own origin, the natural default server for a page the server serves.
fn page_origin() -> Option<String> {
    let location = convert::get(&js_sys::global(), "location");
    convert::get(&location, "origin")
        .as_string()
        .filter(|o| o.starts_with("http"))
}

impl Manager {
    fn media(&self, fut: impl Future<Output = Result<JsValue, SdkError>> + 'static) -> Promise {
        // Boxed so that one promise adapter serves every media method: each
        // instantiation of `future_to_promise` costs kilobytes of wasm.
        settle(Box::pin(fut))
    }

    /// Configured by the mini-program entry: media goes over RTMP.
    fn mini_program(&self) -> bool {
        self.shared.borrow().mini_program
    }

    /// The local media controls work on the browser's tracks: -507 in a mini-program,
    /// whose `<live-pusher>` / `<live-player>` the app controls itself.
    fn browser_only(&self) -> Result<(), SdkError> {
        if self.mini_program() {
            return Err(SdkError::new(
                ErrorCode::NotSupported,
                "not in a mini-program: use the live-pusher and live-player components",
            ));
        }
        Ok(())
    }

    /// A local control that is done at once: a settled promise.
    fn local(&self, f: impl FnOnce(&Shared) -> Result<JsValue, SdkError>) -> Promise {
        match self.browser_only().and_then(|()| f(&self.shared)) {
            Ok(v) => Promise::resolve(&v),
            Err(e) => rejected(e),
        }
    }

    /// A local control that waits for the browser.
    fn local_async(
        &self,
        fut: impl Future<Output = Result<JsValue, SdkError>> + 'static,
    ) -> Promise {
        match self.browser_only() {
            Ok(()) => self.media(fut),
            Err(e) => rejected(e),
        }
    }

    fn run(&self, cmd: Result<Command, SdkError>) -> Promise {
        match cmd {
            Ok(cmd) => driver::call(&self.shared, cmd),
            Err(e) => rejected(e),
        }
    }

    /// `run` for the call and invitation methods: a bad argument goes to `onError`
    /// too, as every other failure of theirs does (the core reports those).
    fn run_call(&self, cmd: Result<Command, SdkError>) -> Promise {
        if let Err(e) = &cmd {
            let hooks = self.shared.borrow().hooks.clone();
            hooks.dispatch(
                &crate::core::SdkEvent::CallError(e.clone()),
                JsValue::UNDEFINED,
            );
        }
        self.run(cmd)
    }
}

/// Exported one by one: the constructor, the constants, and the two entry points of
/// the methods below (`methodNames`, `invoke`).
#[wasm_bindgen]
impl Manager {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Manager {
        // A panic (a bug) is logged with its message. The package's own build aborts on a
        // panic without formatting anything (`scripts/build-pkg.sh`): no hook runs then.
        #[cfg(not(panic = "immediate-abort"))]
        console_error_panic_hook::set_once();
        let shared = Shared::default();
        if let Some(origin) = page_origin() {
            // A page origin is always a valid URL; ignore the impossible failure.
            let _ = shared.borrow_mut().core.set_server(&origin);
        }
        let watch = network::NetworkWatch::install(std::rc::Rc::downgrade(&shared));
        shared.borrow_mut().network = Some(watch);
        let answer = answer_function(&shared);
        {
            let mut d = shared.borrow_mut();
            d.hooks.answer = Some(answer.as_ref().unchecked_ref::<Function>().clone());
            d.answer = Some(answer);
        }
        Manager { shared }
    }

    #[wasm_bindgen(getter = ConfrType)]
    pub fn confr_type_constants(&self) -> Object {
        convert::constants(&[
            ("COMMUNICATION", ConfrType::Communication.code()),
            ("COMMUNICATION_MIX", ConfrType::CommunicationMix.code()),
            ("LIVE", ConfrType::Live.code()),
        ])
    }

    #[wasm_bindgen(getter = Role)]
    pub fn role_constants(&self) -> Object {
        convert::constants(&[
            ("ADMIN", Role::Admin.code()),
            ("TALKER", Role::Talker.code()),
            ("AUDIENCE", Role::Audience.code()),
        ])
    }

    /// The methods' names, in the order `invoke` numbers them.
    #[wasm_bindgen(js_name = methodNames)]
    pub fn method_names() -> js_sys::Array {
        METHODS
            .iter()
            .map(|(name, _)| JsValue::from(*name))
            .collect()
    }

    /// Method `slot` of `methodNames()` with up to four arguments: what the JS entries'
    /// `mgr.joinRoom(...)` and the rest call.
    pub fn invoke(
        &self,
        slot: usize,
        a: JsValue,
        b: JsValue,
        c: JsValue,
        d: JsValue,
    ) -> Result<JsValue, JsValue> {
        match METHODS.get(slot) {
            Some((_, method)) => method(self, a, b, c, d),
            None => Err(convert::error(&SdkError::bad_param("no such method"))),
        }
    }
}

/// The methods of `emedia.mgr` (the constructor and the constants aside). They are
/// not exported one by one: each export costs ~300 bytes of wasm and its glue, so the
/// JS entries define them on `Manager.prototype` from `methodNames()`, each calling
/// `invoke(slot, ...)` ([`METHODS`]). Rust callers (the browser tests) call them
/// directly.
impl Manager {
    /// `{server, socketFactory}`: the server's http(s) or ws(s) base URL, and
    /// optionally a function `url => WebSocket-like object` (mini-programs).
    pub fn configure(&self, options: JsValue) -> Result<(), JsValue> {
        // Read every option before borrowing the driver: reading may run the app's getters.
        let server = convert::get(&options, "server");
        let factory = convert::get(&options, "socketFactory");
        let mini_program = convert::get(&options, "miniProgram");
        let relink = !server.is_undefined() || !factory.is_undefined();
        let mut d = self.shared.borrow_mut();
        if !mini_program.is_undefined() {
            d.mini_program = mini_program.is_truthy();
        }
        if !server.is_undefined() {
            let url = convert::string(&server, "server").map_err(|e| convert::error(&e))?;
            d.core.set_server(&url).map_err(|e| convert::error(&e))?;
        }
        if !factory.is_undefined() {
            d.socket_factory = Some(factory.dyn_into::<Function>().map_err(|_| {
                convert::error(&SdkError::bad_param("socketFactory must be a function"))
            })?);
        }
        if relink {
            // setIdentity may have logged in already, with the old settings.
            d.core.relink(driver::now());
            drop(d);
            driver::pump(&self.shared);
        }
        Ok(())
    }

    /// Who this page is: the user id and the token the app's backend minted. Logs in
    /// at once, so that the user is online and can be called.
    pub fn set_identity(&self, user_id: JsValue, token: JsValue) -> Result<(), JsValue> {
        let user = convert::string(&user_id, "userId").map_err(|e| convert::error(&e))?;
        let token = convert::string(&token, "token").map_err(|e| convert::error(&e))?;
        let result = {
            let mut d = self.shared.borrow_mut();
            let result = d.core.set_identity(&user, &token, driver::now());
            if result.is_ok() {
                d.core.go_online(driver::now());
            }
            result
        };
        driver::pump(&self.shared);
        result.map_err(|e| convert::error(&e))
    }

    /// Ends the session: the socket closes normally (the server ends the session at
    /// once), the identity is forgotten, local media is released and each conference
    /// ends with `onConferenceExit(0)`.
    pub fn logout(&self) -> Promise {
        self.shared.borrow_mut().core.logout(driver::now());
        driver::pump(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// `getUserStatus(userIds?)`: resolves `[{userId, status, dnd}]`; without ids, of
    /// every user of the app who is online.
    pub fn get_user_status(&self, user_ids: JsValue) -> Promise {
        self.run((|| {
            let user_ids = if user_ids.is_undefined() || user_ids.is_null() {
                None
            } else {
                Some(convert::names(&user_ids, "userIds")?)
            };
            Ok(Command::Send(Request::GetUserStatus { user_ids }))
        })())
    }

    pub fn start_user_status_notify(&self) -> Promise {
        self.run(Ok(Command::Send(Request::UserStatusNotify { on: true })))
    }

    pub fn stop_user_status_notify(&self) -> Promise {
        self.run(Ok(Command::Send(Request::UserStatusNotify { on: false })))
    }

    /// `setDNDStatus(n)`: 0 off, anything else on (callers then hear busy).
    pub fn set_dnd_status(&self, n: JsValue) -> Promise {
        let dnd = n.as_f64().map_or(n.is_truthy(), |n| n != 0.0);
        self.run(Ok(Command::Send(Request::SetDnd { dnd })))
    }

    /// `call(userId, {type, timeout, ext})`: resolves `{callId, confrId, conference}`
    /// once the callee rings; the caller is then in the call's conference.
    pub fn call(&self, user_id: JsValue, options: JsValue) -> Promise {
        self.run_call(
            convert::string(&user_id, "userId").and_then(|u| call_cmd(vec![u], &options, false)),
        )
    }

    /// `groupCall(userIds, {type, timeout, ext, callId})`: with the `callId` of a running
    /// call, rings more people into it.
    pub fn group_call(&self, user_ids: JsValue, options: JsValue) -> Promise {
        self.run_call(
            convert::names(&user_ids, "userIds").and_then(|u| call_cmd(u, &options, true)),
        )
    }

    /// Answers an invitation (a call or a conference): resolves like a join.
    pub fn accept(&self, call_id: JsValue) -> Promise {
        self.run(call_id_cmd(&call_id, |call_id| Request::Accept { call_id }))
    }

    pub fn reject(&self, call_id: JsValue) -> Promise {
        self.run(call_id_cmd(&call_id, |call_id| Request::Reject { call_id }))
    }

    /// Cancels a call nobody answered yet, or leaves a running one.
    pub fn hangup(&self, call_id: JsValue) -> Promise {
        self.run(call_id_cmd(&call_id, |call_id| Request::Hangup { call_id }))
    }

    /// Resolves whether this user is in a call or being rung for one.
    pub fn is_busy(&self) -> Promise {
        self.run(Ok(Command::IsBusy))
    }

    /// `inviteToConference(confrId, userId, ext, timeout)`: resolves the invite id.
    pub fn invite_to_conference(
        &self,
        confr_id: JsValue,
        user_id: JsValue,
        ext: JsValue,
        timeout: JsValue,
    ) -> Promise {
        self.run_call((|| {
            Ok(Command::Send(Request::InviteToConference {
                confr_id: convert::confr_id(&confr_id)?,
                user_id: convert::string(&user_id, "userId")?,
                ext: convert::ext(&ext)?,
                timeout_ms: convert::timeout_ms(&timeout)?,
            }))
        })())
    }

    pub fn cancel_invite(&self, invite_id: JsValue) -> Promise {
        self.run(call_id_cmd(&invite_id, |invite_id| Request::CancelInvite {
            invite_id,
        }))
    }

    /// `createConference(confrType, password, rec, recMerge)` or
    /// `createConference({confrType, password, rec, recMerge, maxTalkerCount, ...})`.
    pub fn create_conference(
        &self,
        type_or_options: JsValue,
        password: JsValue,
        rec: JsValue,
        rec_merge: JsValue,
    ) -> Promise {
        let cmd = (|| {
            if type_or_options.is_object() {
                let o = &type_or_options;
                Ok(Command::Send(Request::CreateConference {
                    confr_type: convert::confr_type(&convert::get(o, "confrType"))?,
                    password: convert::opt_string(&convert::get(o, "password"), "password")?,
                    config: convert::config(o)?,
                }))
            } else {
                let config = emedia_protocol::ConferenceConfig {
                    rec: rec.is_truthy(),
                    rec_merge: rec_merge.is_truthy(),
                    ..Default::default()
                };
                Ok(Command::Send(Request::CreateConference {
                    confr_type: convert::confr_type(&type_or_options)?,
                    password: convert::opt_string(&password, "password")?,
                    config,
                }))
            }
        })();
        self.run(cmd)
    }

    /// Resolves a ticket: a signed, expiring grant to join that conference.
    pub fn get_conference_tkt(&self, confr_id: JsValue, password: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::GetTicket {
                confr_id: convert::confr_id(&confr_id)?,
                password: convert::opt_string(&password, "password")?,
            }))
        })())
    }

    pub fn join_conference(&self, confr_id: JsValue, password: JsValue, ext: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::JoinConference {
                confr_id: convert::confr_id(&confr_id)?,
                password: convert::opt_string(&password, "password")?,
                ext: convert::ext(&ext)?,
            })
        })())
    }

    pub fn join_conference_with_ticket(
        &self,
        confr_id: JsValue,
        ticket: JsValue,
        ext: JsValue,
    ) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::Join {
                confr_id: convert::confr_id(&confr_id)?,
                ticket: convert::string(&ticket, "ticket")?,
                ext: convert::ext(&ext)?,
                nick_name: None,
            }))
        })())
    }

    /// `joinRoom({roomName, password, role, config: {nickName, ext, maxTalkerCount, ...}})`.
    pub fn join_room(&self, option: JsValue) -> Promise {
        self.run((|| {
            if !option.is_object() {
                return Err(SdkError::bad_param("joinRoom needs an options object"));
            }
            let config_obj = convert::get(&option, "config");
            let confr_type = convert::get(&config_obj, "confrType");
            let mut config = convert::config(&config_obj)?;
            // emedia's joinRoom takes the joiner's ext in config.ext: it belongs to the
            // member, not the conference.
            let ext = config.ext.take();
            Ok(Command::Send(Request::JoinRoom {
                room_name: convert::string(&convert::get(&option, "roomName"), "roomName")?,
                password: convert::opt_string(&convert::get(&option, "password"), "password")?,
                role: convert::opt_role(&convert::get(&option, "role"))?,
                confr_type: if confr_type.is_undefined() {
                    None
                } else {
                    Some(convert::confr_type(&confr_type)?)
                },
                config,
                nick_name: convert::opt_string(&convert::get(&config_obj, "nickName"), "nickName")?,
                ext,
            }))
        })())
    }

    pub fn exit_conference(&self, confr_id: JsValue) -> Promise {
        self.run(
            convert::confr_id(&confr_id).map(|confr_id| Command::Send(Request::Exit { confr_id })),
        )
    }

    pub fn destroy_conference(&self, confr_id: JsValue) -> Promise {
        self.run(
            convert::confr_id(&confr_id)
                .map(|confr_id| Command::Send(Request::Destroy { confr_id })),
        )
    }

    pub fn kick_members_by_id(&self, confr_id: JsValue, member_names: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::Kick {
                confr_id: convert::confr_id(&confr_id)?,
                members: convert::member_names(&member_names)?,
            }))
        })())
    }

    pub fn grant_role(&self, confr_id: JsValue, member_names: JsValue, role: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::GrantRole {
                confr_id: convert::confr_id(&confr_id)?,
                members: convert::member_names(&member_names)?,
                role: convert::role(&role)?,
            }))
        })())
    }

    pub fn get_conference_info(&self, confr_id: JsValue, password: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::GetInfo {
                confr_id: convert::confr_id(&confr_id)?,
                password: convert::opt_string(&password, "password")?,
            }))
        })())
    }

    /// `pubStream({audio, video})`, `pubStream({screen: true})`, `pubStream(mediaStream)`
    /// or `pubStream({stream, rtcId, ext, confrId})`: resolves `{id, rtcId, stream, confrId}`.
    pub fn pub_stream(&self, options: JsValue) -> Promise {
        if self.mini_program() {
            return self.media(rtmp::publish(self.shared.clone(), options));
        }
        self.media(publish::publish(self.shared.clone(), options))
    }

    pub fn unpub_stream(&self, stream_id: JsValue) -> Promise {
        if self.mini_program() {
            return self.media(rtmp::unpublish(self.shared.clone(), stream_id));
        }
        self.media(publish::unpublish(self.shared.clone(), stream_id))
    }

    /// Mini-programs: a live-pusher / live-player `bindstatechange` event. Resolves
    /// `{id, data: {rtmp}}` with a fresh URL after a lost connection, else null.
    pub fn on_state_change(&self, event: JsValue, stream_id: JsValue) -> Promise {
        self.media(rtmp::state_change(self.shared.clone(), event, stream_id))
    }

    /// `subStream(streamId, {audio, video})`: resolves `{id, stream}`.
    pub fn sub_stream(&self, stream_id: JsValue, options: JsValue) -> Promise {
        if self.mini_program() {
            return self.media(rtmp::play(self.shared.clone(), stream_id));
        }
        self.media(subscribe::subscribe(
            self.shared.clone(),
            stream_id,
            options,
        ))
    }

    pub fn unsub_stream(&self, stream_id: JsValue) -> Promise {
        self.media(subscribe::unsubscribe(self.shared.clone(), stream_id))
    }

    pub fn pause_audio(&self, stream_id: JsValue) -> Promise {
        self.media(publish::set_paused(
            self.shared.clone(),
            stream_id,
            true,
            true,
        ))
    }

    pub fn resume_audio(&self, stream_id: JsValue) -> Promise {
        self.media(publish::set_paused(
            self.shared.clone(),
            stream_id,
            true,
            false,
        ))
    }

    pub fn pause_video(&self, stream_id: JsValue) -> Promise {
        self.media(publish::set_paused(
            self.shared.clone(),
            stream_id,
            false,
            true,
        ))
    }

    pub fn resume_video(&self, stream_id: JsValue) -> Promise {
        self.media(publish::set_paused(
            self.shared.clone(),
            stream_id,
            false,
            false,
        ))
    }

    /// The RTCStatsReport of the connection carrying a stream you publish or subscribe.
    pub fn get_stats(&self, stream_id: JsValue) -> Promise {
        self.media(subscribe::stats(self.shared.clone(), stream_id))
    }

    /// `muteRemoteAudio(streamId, muted)`: only this page stops (or starts again)
    /// playing a subscribed stream's audio.
    pub fn mute_remote_audio(&self, stream_id: JsValue, muted: JsValue) -> Promise {
        self.local(|s| controls::mute_remote_audio(s, &stream_id, &muted))
    }

    /// `muteAllRemoteAudio(muted)`: every subscribed stream, and those subscribed later
    /// while it holds.
    pub fn mute_all_remote_audio(&self, muted: JsValue) -> Promise {
        self.local(|s| controls::mute_all_remote_audio(s, &muted))
    }

    /// `enableVolumeIndication(intervalMs)`: `onUserVoiceVolume` every interval; 0 or
    /// less switches it off (which a mini-program accepts too).
    pub fn enable_volume_indication(&self, interval_ms: JsValue) -> Promise {
        if self.mini_program() && interval_ms.as_f64().is_some_and(|ms| ms <= 0.0) {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        self.local(|s| volume::enable(s, &interval_ms))
    }

    pub fn change_camera(&self, stream_id: JsValue, device_id: JsValue) -> Promise {
        self.local_async(controls::change_device(
            self.shared.clone(),
            stream_id,
            device_id,
            true,
        ))
    }

    pub fn change_microphone(&self, stream_id: JsValue, device_id: JsValue) -> Promise {
        self.local_async(controls::change_device(
            self.shared.clone(),
            stream_id,
            device_id,
            false,
        ))
    }

    /// `switchToAudio(streamId)`: an own stream stops sending video; everyone sees `voff`.
    pub fn switch_to_audio(&self, stream_id: JsValue) -> Promise {
        self.local_async(controls::switch_to_audio(self.shared.clone(), stream_id))
    }

    /// `sendRoomTextMsg(confrId, text)`: every other member gets `onRecvRoomTextMsg`.
    pub fn send_room_text_msg(&self, confr_id: JsValue, text: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::SendRoomMsg {
                confr_id: convert::confr_id(&confr_id)?,
                msg: RoomMsg::Text(convert::string(&text, "text")?),
            }))
        })())
    }

    /// `sendRoomCustomMsg(confrId, cmd, msg)`: `onRecvRoomCustomMsg` at the others.
    pub fn send_room_custom_msg(&self, confr_id: JsValue, cmd: JsValue, msg: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::SendRoomMsg {
                confr_id: convert::confr_id(&confr_id)?,
                msg: RoomMsg::Custom {
                    cmd: convert::string(&cmd, "cmd")?,
                    msg: convert::opt_string(&msg, "msg")?.unwrap_or_default(),
                },
            }))
        })())
    }

    /// `sendCmd(userId, data)`: a message of at most 4 KiB to a user in a conference
    /// with you (`onNotifyCmdData`).
    pub fn send_cmd(&self, user_id: JsValue, data: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::SendCmd {
                to: convert::string(&user_id, "userId")?,
                data: convert::string(&data, "data")?,
            }))
        })())
    }

    /// `sendBuffer(userId, data)`: resolves the taskId; `onSendProgress` follows.
    pub fn send_buffer(&self, user_id: JsValue, data: JsValue) -> Promise {
        self.media(transfer::send(self.shared.clone(), user_id, data, None))
    }

    /// `sendFile(userId, file, fileName?)`: a Blob or File (or bytes and a name).
    pub fn send_file(&self, user_id: JsValue, file: JsValue, file_name: JsValue) -> Promise {
        self.media(transfer::send(
            self.shared.clone(),
            user_id,
            file,
            Some(file_name),
        ))
    }

    /// `cancelSend(taskId)`: stops a transfer at both ends (`onNotifyCancelSend` there).
    pub fn cancel_send(&self, task_id: JsValue) -> Promise {
        self.run(match task_id.as_f64() {
            Some(n) if n.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&n) => {
                Ok(Command::Send(Request::CancelTransfer {
                    transfer_id: n as u32,
                }))
            }
            _ => Err(SdkError::bad_param(
                "taskId must be a number from sendBuffer or sendFile",
            )),
        })
    }

    /// `requestToTalker(confrId, reason)`: an AUDIENCE member asks every ADMIN.
    pub fn request_to_talker(&self, confr_id: JsValue, reason: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::RequestToTalker {
                confr_id: convert::confr_id(&confr_id)?,
                reason: convert::opt_string(&reason, "reason")?,
            }))
        })())
    }

    /// `muteBymemberId` / `unmuteBymemberId(confrId, memberName)`: by member id or user name.
    fn mute(&self, confr_id: JsValue, member: JsValue, muted: bool) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::Mute {
                confr_id: convert::confr_id(&confr_id)?,
                member: convert::string(&member, "memberName")?,
                muted,
            }))
        })())
    }

    /// `muteAll` / `unmuteAll(confrId)`: everyone but the ADMINs, joiners included.
    fn mute_all(&self, confr_id: JsValue, muted: bool) -> Promise {
        self.run(
            convert::confr_id(&confr_id)
                .map(|confr_id| Command::Send(Request::MuteAll { confr_id, muted })),
        )
    }

    /// `setConferenceAttrs(confrId, {key, val})` (or `(confrId, key, val)`).
    pub fn set_conference_attrs(&self, confr_id: JsValue, attr: JsValue, val: JsValue) -> Promise {
        self.run((|| {
            let (key, val) = if attr.is_object() {
                (convert::get(&attr, "key"), convert::get(&attr, "val"))
            } else {
                (attr, val)
            };
            Ok(Command::Send(Request::SetConferenceAttrs {
                confr_id: convert::confr_id(&confr_id)?,
                key: convert::string(&key, "key")?,
                val: convert::opt_string(&val, "val")?.unwrap_or_default(),
            }))
        })())
    }

    pub fn delete_conference_attrs(&self, confr_id: JsValue, key: JsValue) -> Promise {
        self.run((|| {
            let key = if key.is_object() {
                convert::get(&key, "key")
            } else {
                key
            };
            Ok(Command::Send(Request::DeleteConferenceAttrs {
                confr_id: convert::confr_id(&confr_id)?,
                key: convert::string(&key, "key")?,
            }))
        })())
    }

    /// `getRoomInfos(confrIds)`: `[{confrId, type, memberCount, ownerName, attrs}]`.
    pub fn get_room_infos(&self, confr_ids: JsValue) -> Promise {
        self.run(convert::names(&confr_ids, "confrIds").map(|ids| {
            Command::Send(Request::GetRoomInfos {
                confr_ids: ids.into_iter().map(ConferenceId).collect(),
            })
        }))
    }

    /// `getAnchorList(confrId)` (ADMINs and TALKERs) / `getAudienceList(confrId)`.
    fn member_list(&self, confr_id: JsValue, audience: bool) -> Promise {
        self.run(convert::confr_id(&confr_id).map(|confr_id| {
            Command::Send(if audience {
                Request::GetAudienceList { confr_id }
            } else {
                Request::GetAnchorList { confr_id }
            })
        }))
    }

    /// `requestRoomPK(confrId, targetConfrId, targetUserName)` from an ADMIN.
    pub fn request_room_pk(&self, confr_id: JsValue, target: JsValue, user: JsValue) -> Promise {
        self.run((|| {
            Ok(Command::Send(Request::RequestRoomPk {
                confr_id: convert::confr_id(&confr_id)?,
                target_confr_id: ConferenceId(convert::string(&target, "targetConfrId")?),
                target_user: convert::string(&user, "targetUserName")?,
            }))
        })())
    }

    pub fn quit_room_pk(&self, confr_id: JsValue) -> Promise {
        self.run(
            convert::confr_id(&confr_id)
                .map(|confr_id| Command::Send(Request::QuitRoomPk { confr_id })),
        )
    }
}

/// What `agree()` and `refuse()` call (`hooks.rs`, `answers`): kind 1 / 0 answers a
/// request to speak from member `id`, kind 3 / 2 a PK request from room `id`.
fn answer_function(shared: &Shared) -> driver::AnswerFn {
    let weak = std::rc::Rc::downgrade(shared);
    Closure::new(move |kind: JsValue, confr_id: JsValue, id: JsValue| {
        let Some(shared) = weak.upgrade() else {
            return Promise::resolve(&JsValue::UNDEFINED);
        };
        let kind = kind.as_f64().unwrap_or(0.0) as u8;
        let confr_id = ConferenceId(confr_id.as_string().unwrap_or_default());
        let id = id.as_string().unwrap_or_default();
        let agree = kind % 2 == 1;
        let req = if kind < 2 {
            Request::AnswerTalkerRequest {
                confr_id,
                member_id: MemberId(id),
                agree,
            }
        } else {
            Request::AnswerRoomPk {
                confr_id,
                from_confr_id: ConferenceId(id),
                agree,
            }
        };
        driver::call(&shared, Command::Send(req))
    })
}

/// A method of `emedia.mgr` as `invoke` calls it: the manager and four arguments (the
/// ones the method does not take are undefined).
type Method = fn(&Manager, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// `methodNames()` and `invoke(slot, ...)`: every method by its emedia name.
const METHODS: &[(&str, Method)] = &[
    ("configure", |m, a, _, _, _| {
        m.configure(a).map(|()| JsValue::UNDEFINED)
    }),
    ("setIdentity", |m, a, b, _, _| {
        m.set_identity(a, b).map(|()| JsValue::UNDEFINED)
    }),
    ("logout", |m, _, _, _, _| Ok(m.logout().into())),
    ("getUserStatus", |m, a, _, _, _| {
        Ok(m.get_user_status(a).into())
    }),
    ("startUserStatusNotify", |m, _, _, _, _| {
        Ok(m.start_user_status_notify().into())
    }),
    ("stopUserStatusNotify", |m, _, _, _, _| {
        Ok(m.stop_user_status_notify().into())
    }),
    ("setDNDStatus", |m, a, _, _, _| {
        Ok(m.set_dnd_status(a).into())
    }),
    ("call", |m, a, b, _, _| Ok(m.call(a, b).into())),
    ("groupCall", |m, a, b, _, _| Ok(m.group_call(a, b).into())),
    ("accept", |m, a, _, _, _| Ok(m.accept(a).into())),
    ("reject", |m, a, _, _, _| Ok(m.reject(a).into())),
    ("hangup", |m, a, _, _, _| Ok(m.hangup(a).into())),
    ("isBusy", |m, _, _, _, _| Ok(m.is_busy().into())),
    ("inviteToConference", |m, a, b, c, d| {
        Ok(m.invite_to_conference(a, b, c, d).into())
    }),
    ("cancelInvite", |m, a, _, _, _| {
        Ok(m.cancel_invite(a).into())
    }),
    ("createConference", |m, a, b, c, d| {
        Ok(m.create_conference(a, b, c, d).into())
    }),
    ("getConferenceTkt", |m, a, b, _, _| {
        Ok(m.get_conference_tkt(a, b).into())
    }),
    ("joinConference", |m, a, b, c, _| {
        Ok(m.join_conference(a, b, c).into())
    }),
    ("joinConferenceWithTicket", |m, a, b, c, _| {
        Ok(m.join_conference_with_ticket(a, b, c).into())
    }),
    ("joinRoom", |m, a, _, _, _| Ok(m.join_room(a).into())),
    ("exitConference", |m, a, _, _, _| {
        Ok(m.exit_conference(a).into())
    }),
    ("destroyConference", |m, a, _, _, _| {
        Ok(m.destroy_conference(a).into())
    }),
    ("kickMembersById", |m, a, b, _, _| {
        Ok(m.kick_members_by_id(a, b).into())
    }),
    ("grantRole", |m, a, b, c, _| {
        Ok(m.grant_role(a, b, c).into())
    }),
    ("getConferenceInfo", |m, a, b, _, _| {
        Ok(m.get_conference_info(a, b).into())
    }),
    ("pubStream", |m, a, _, _, _| Ok(m.pub_stream(a).into())),
    ("unpubStream", |m, a, _, _, _| Ok(m.unpub_stream(a).into())),
    ("onStateChange", |m, a, b, _, _| {
        Ok(m.on_state_change(a, b).into())
    }),
    ("subStream", |m, a, b, _, _| Ok(m.sub_stream(a, b).into())),
    ("unsubStream", |m, a, _, _, _| Ok(m.unsub_stream(a).into())),
    ("pauseAudio", |m, a, _, _, _| Ok(m.pause_audio(a).into())),
    ("resumeAudio", |m, a, _, _, _| Ok(m.resume_audio(a).into())),
    ("pauseVideo", |m, a, _, _, _| Ok(m.pause_video(a).into())),
    ("resumeVideo", |m, a, _, _, _| Ok(m.resume_video(a).into())),
    ("getStats", |m, a, _, _, _| Ok(m.get_stats(a).into())),
    ("muteRemoteAudio", |m, a, b, _, _| {
        Ok(m.mute_remote_audio(a, b).into())
    }),
    ("muteAllRemoteAudio", |m, a, _, _, _| {
        Ok(m.mute_all_remote_audio(a).into())
    }),
    ("enableVolumeIndication", |m, a, _, _, _| {
        Ok(m.enable_volume_indication(a).into())
    }),
    ("changeCamera", |m, a, b, _, _| {
        Ok(m.change_camera(a, b).into())
    }),
    ("changeMicrophone", |m, a, b, _, _| {
        Ok(m.change_microphone(a, b).into())
    }),
    ("switchToAudio", |m, a, _, _, _| {
        Ok(m.switch_to_audio(a).into())
    }),
    ("sendRoomTextMsg", |m, a, b, _, _| {
        Ok(m.send_room_text_msg(a, b).into())
    }),
    ("sendRoomCustomMsg", |m, a, b, c, _| {
        Ok(m.send_room_custom_msg(a, b, c).into())
    }),
    ("sendCmd", |m, a, b, _, _| Ok(m.send_cmd(a, b).into())),
    ("sendBuffer", |m, a, b, _, _| Ok(m.send_buffer(a, b).into())),
    ("sendFile", |m, a, b, c, _| Ok(m.send_file(a, b, c).into())),
    ("cancelSend", |m, a, _, _, _| Ok(m.cancel_send(a).into())),
    ("requestToTalker", |m, a, b, _, _| {
        Ok(m.request_to_talker(a, b).into())
    }),
    ("muteBymemberId", |m, a, b, _, _| {
        Ok(m.mute(a, b, true).into())
    }),
    ("unmuteBymemberId", |m, a, b, _, _| {
        Ok(m.mute(a, b, false).into())
    }),
    ("muteAll", |m, a, _, _, _| Ok(m.mute_all(a, true).into())),
    ("unmuteAll", |m, a, _, _, _| Ok(m.mute_all(a, false).into())),
    ("setConferenceAttrs", |m, a, b, c, _| {
        Ok(m.set_conference_attrs(a, b, c).into())
    }),
    ("deleteConferenceAttrs", |m, a, b, _, _| {
        Ok(m.delete_conference_attrs(a, b).into())
    }),
    ("getRoomInfos", |m, a, _, _, _| {
        Ok(m.get_room_infos(a).into())
    }),
    ("getAnchorList", |m, a, _, _, _| {
        Ok(m.member_list(a, false).into())
    }),
    ("getAudienceList", |m, a, _, _, _| {
        Ok(m.member_list(a, true).into())
    }),
    ("requestRoomPK", |m, a, b, c, _| {
        Ok(m.request_room_pk(a, b, c).into())
    }),
    ("quitRoomPK", |m, a, _, _, _| Ok(m.quit_room_pk(a).into())),
];

/// call / groupCall: `{type, timeout, ext, callId}`.
fn call_cmd(user_ids: Vec<String>, options: &JsValue, group: bool) -> Result<Command, SdkError> {
    Ok(Command::Send(Request::Call {
        user_ids,
        call_type: convert::call_type(&convert::get(options, "type"))?,
        timeout_ms: convert::timeout_ms(&convert::get(options, "timeout"))?,
        ext: convert::ext(&convert::get(options, "ext"))?,
        group,
        call_id: convert::opt_string(&convert::get(options, "callId"), "callId")?,
    }))
}

/// A call method that takes a call id (or an invite id). An invalid one still goes
/// through the core, which refuses it and reports it to `onError` too.
fn call_id_cmd(id: &JsValue, req: impl FnOnce(String) -> Request) -> Result<Command, SdkError> {
    Ok(Command::Send(req(id.as_string().unwrap_or_default())))
}

impl Default for Manager {
    fn default() -> Self {
        Self::new()
    }
}

/// The hooks' JavaScript accessors: the entries (`js/index.js`, the mini-program's)
/// define `mgr.onMemberJoined` and the rest on `Manager.prototype` from `hookNames()`,
/// each reading and writing its slot here through `getHook` / `setHook`. Three exports
/// instead of a getter and a setter per hook: each export costs ~300 bytes of wasm.
#[wasm_bindgen]
impl Manager {
    /// The hook names, in slot order.
    #[wasm_bindgen(js_name = hookNames)]
    pub fn hook_names() -> js_sys::Array {
        Hook::ALL
            .iter()
            .map(|h| JsValue::from(h.js_name()))
            .collect()
    }

    /// The function in hook slot `slot`, or null.
    #[wasm_bindgen(js_name = getHook)]
    pub fn get_hook(&self, slot: usize) -> JsValue {
        Hook::ALL
            .get(slot)
            .map_or(JsValue::NULL, |h| self.shared.borrow().hooks.get(*h))
    }

    /// Sets hook slot `slot`; anything but a function clears it.
    #[wasm_bindgen(js_name = setHook)]
    pub fn set_hook(&self, slot: usize, f: JsValue) {
        if let Some(h) = Hook::ALL.get(slot) {
            self.shared.borrow_mut().hooks.set(*h, f);
        }
    }
}

/// Rust accessors per hook, for Rust callers (the browser tests); not exported to
/// JavaScript, so they cost the package nothing.
macro_rules! hook_property {
    ($hook:expr, $get:ident, $set:ident, $js:ident) => {
        impl Manager {
            pub fn $get(&self) -> JsValue {
                self.shared.borrow().hooks.get($hook)
            }

            pub fn $set(&self, f: JsValue) {
                self.shared.borrow_mut().hooks.set($hook, f);
            }
        }
    };
}

hook_property!(
    Hook::MemberJoined,
    on_member_joined,
    set_on_member_joined,
    onMemberJoined
);
hook_property!(
    Hook::MemberExited,
    on_member_exited,
    set_on_member_exited,
    onMemberExited
);
hook_property!(
    Hook::MemberRoleChanged,
    on_member_role_changed,
    set_on_member_role_changed,
    onMemberRoleChanged
);
hook_property!(
    Hook::RoleChanged,
    on_role_changed,
    set_on_role_changed,
    onRoleChanged
);
hook_property!(
    Hook::ConferenceExit,
    on_conference_exit,
    set_on_conference_exit,
    onConferenceExit
);
hook_property!(
    Hook::StreamAdded,
    on_stream_added,
    set_on_stream_added,
    onStreamAdded
);
hook_property!(
    Hook::StreamRemoved,
    on_stream_removed,
    set_on_stream_removed,
    onStreamRemoved
);
hook_property!(
    Hook::MediaChanaged,
    on_media_chanaged,
    set_on_media_chanaged,
    onMediaChanaged
);
hook_property!(
    Hook::MediaChanged,
    on_media_changed,
    set_on_media_changed,
    onMediaChanged
);
hook_property!(
    Hook::Reconnecting,
    on_reconnecting,
    set_on_reconnecting,
    onReconnecting
);
hook_property!(
    Hook::Reconnected,
    on_reconnected,
    set_on_reconnected,
    onReconnected
);
hook_property!(
    Hook::UserStatusChanged,
    on_user_status_changed,
    set_on_user_status_changed,
    onUserStatusChanged
);
hook_property!(Hook::Invited, on_invited, set_on_invited, onInvited);
hook_property!(
    Hook::UserEnter,
    on_user_enter,
    set_on_user_enter,
    onUserEnter
);
hook_property!(Hook::Reject, on_reject, set_on_reject, onReject);
hook_property!(Hook::LineBusy, on_line_busy, set_on_line_busy, onLineBusy);
hook_property!(Hook::NoResp, on_no_resp, set_on_no_resp, onNoResp);
hook_property!(
    Hook::UserLeave,
    on_user_leave,
    set_on_user_leave,
    onUserLeave
);
hook_property!(
    Hook::CallingCancel,
    on_calling_cancel,
    set_on_calling_cancel,
    onCallingCancel
);
hook_property!(Hook::CallEnd, on_call_end, set_on_call_end, onCallEnd);
hook_property!(
    Hook::GroupCallInviteeListUpdate,
    on_group_call_invitee_list_update,
    set_on_group_call_invitee_list_update,
    onGroupCallInviteeListUpdate
);
hook_property!(
    Hook::InviteStatus,
    on_invite_status,
    set_on_invite_status,
    onInviteStatus
);
hook_property!(Hook::Error, on_error, set_on_error, onError);
