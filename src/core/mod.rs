//! The SDK's conference logic as a sans-IO state machine, compiled and tested natively.
//!
//! Inputs: [`Client::set_identity`], [`Client::handle_command`] (an app call),
//! [`Client::handle_open`] / [`Client::handle_message`] / [`Client::handle_closed`]
//! (the socket), [`Client::handle_online`] / [`Client::handle_visible`] (the browser),
//! and [`Client::handle_timeout`], each with the current time in ms. Keeping the
//! session through a dropped connection is in `reconnect.rs`, and joining again when
//! the server lost it in `rejoin.rs`; presence, calls and invitations in `calls.rs`.
//!
//! Drain order after every input: `poll_transport` (open or close the socket), then
//! `poll_transmit` (messages to send, in order), then `poll_local_media` (this page's
//! peer connections to close), `poll_completion` (promises to settle) and `poll_event`
//! (hooks to call), and last `poll_timeout` (when to call `handle_timeout`). Nothing
//! here touches JavaScript.

mod calls;
mod command;
mod error;
mod event;
mod interaction;
mod reconnect;
mod rejoin;
mod state;
mod text;
mod transfers;
mod vecmap;

pub use command::{Command, Outcome};
pub use error::SdkError;
pub use event::{LocalMedia, SdkEvent};
pub use reconnect::{retry_delay, Reconnect, GIVE_UP_MS, HEARTBEAT_MS};
pub use state::{JoinedConference, Rejoin};
pub use transfers::DataOut;

use emedia_protocol::{
    CallType, ClientMessage, ConferenceId, ErrorCode, Event, ExitReason, Joined, Member, ReplyBody,
    Request, Response, Role, ServerMessage, StreamId, StreamInfo, PROTOCOL_VERSION,
};
pub use text::{cat, decimal};
pub use vecmap::{VecMap, VecSet};

/// The app's handle on one pending call.
pub type OpId = u32;

/// A request not answered in this time fails as a network error.
pub const REQUEST_TIMEOUT_MS: u64 = 15_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportCommand {
    Open {
        url: String,
    },
    /// Drop the socket; the server keeps the session for a while, to be resumed.
    Close,
    /// Close the socket normally (WebSocket code 1000): the user logged out, and the
    /// server ends the session at once.
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub op: OpId,
    pub result: Result<Outcome, SdkError>,
}

#[derive(Clone, Debug)]
struct Identity {
    user: String,
    token: String,
}

/// The signaling link. Messages wait in `queued` until it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Down,
    Connecting,
    Open,
    /// Lost while in a conference: getting the session back (`reconnect.rs`).
    Reconnecting(Reconnect),
}

/// What a reply in flight is for.
#[derive(Clone, Debug)]
enum Waiting {
    Auth,
    Resume,
    /// A heartbeat or a probe: only its silence matters.
    Keepalive,
    /// Settles `op` with what the reply says.
    Op(OpId, Command),
    /// The ticket half of joinConference; the join follows.
    TicketForJoin(OpId, Command),
    /// Joining this conference again after the server lost the session; true once
    /// by room name (the conference was gone).
    Rejoin(ConferenceId, bool),
}

struct Pending {
    waiting: Waiting,
    deadline: u64,
}

#[derive(Default)]
pub struct Client {
    server_url: Option<String>,
    identity: Option<Identity>,
    link: Option<Link>,
    next_rid: u32,
    pending: VecMap<u32, Pending>,
    queued: Vec<ClientMessage>,
    conferences: VecMap<ConferenceId, JoinedConference>,
    transport: Vec<TransportCommand>,
    transmit: Vec<ClientMessage>,
    completions: Vec<Completion>,
    events: Vec<SdkEvent>,
    local_media: Vec<LocalMedia>,
    /// The conference joined last: pubStream's default.
    last_joined: Option<ConferenceId>,
    next_rtc_id: u32,
    /// The key that resumes this login's session on a new connection.
    session: Option<String>,
    /// Events received in this session, on any connection (the server counts too).
    received: u64,
    next_heartbeat: u64,
    /// Logging in and joining again after a refused resume (`reconnect.rs`).
    rejoining: bool,
    /// The type of each call this user is rung for, by call id, until it is answered
    /// or over: `accept` hands it to the conference it joins.
    invitations: VecMap<String, CallType>,
    /// Calls whose failure also goes to `onError` (`Command::reports_errors`).
    error_ops: VecSet<OpId>,
    /// `sendBuffer` / `sendFile` in flight, both ways (`transfers.rs`).
    transfers: transfers::Transfers,
    /// When to log in again after the link of a user in no conference dropped
    /// (`reconnect.rs`, `schedule_relogin`), and how many tries it has taken so far.
    relogin: Option<u64>,
    relogin_attempts: u32,
    /// What this login asked the server to keep for it, asked again after a relogin:
    /// presence notifications and do-not-disturb.
    watching_presence: bool,
    dnd: bool,
}

impl Client {
    pub fn new() -> Self {
        Self::default()
    }

    /// The signaling WebSocket URL (`ws://host/ws`), from the server base URL.
    pub fn set_server(&mut self, base: &str) -> Result<(), SdkError> {
        self.server_url = Some(signaling_url(base)?);
        Ok(())
    }

    /// Logs in as another user (or with a fresh token). A different user drops the
    /// current connection and every conference of the old one.
    pub fn set_identity(&mut self, user: &str, token: &str, now: u64) -> Result<(), SdkError> {
        if user.is_empty() || token.is_empty() {
            return Err(SdkError::bad_param(
                "setIdentity needs a userId and a token",
            ));
        }
        let changed_user = self.identity.as_ref().is_some_and(|i| i.user != user);
        self.identity = Some(Identity {
            user: user.to_owned(),
            token: token.to_owned(),
        });
        if changed_user && self.link() != Link::Down {
            // A normal close: the old user's session ends at once rather than
            // waiting out its liveness timeout as a dropped link would.
            self.transport.push(TransportCommand::End);
            self.teardown(
                ExitReason::Normal,
                None,
                SdkError::network("identity changed"),
                now,
            );
        }
        Ok(())
    }

    /// The user id given to `set_identity`.
    pub fn user_id(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.user.as_str())
    }

    pub fn conference(&self, id: &ConferenceId) -> Option<&JoinedConference> {
        self.conferences.get(id)
    }

    /// The conference `pubStream` publishes into when the app names none: the one
    /// joined last that this page is still in.
    pub fn current_conference(&self) -> Option<&ConferenceId> {
        self.last_joined
            .as_ref()
            .filter(|id| self.conferences.contains_key(*id))
            .or_else(|| self.conferences.keys().next_back())
    }

    /// Whether this conference is an audio call: the SDK's own capture then publishes
    /// audio only unless the app asks for video.
    pub fn audio_call(&self, id: &ConferenceId) -> bool {
        self.conferences
            .get(id)
            .is_some_and(|c| c.call_type == Some(CallType::Audio))
    }

    /// A stream this page knows of, and its conference.
    pub fn find_stream(&self, id: &StreamId) -> Option<(&ConferenceId, &StreamInfo)> {
        self.conferences
            .iter()
            .find_map(|(cid, c)| c.stream(id).map(|s| (cid, s)))
    }

    /// A fresh rtcId for a pubStream that names none.
    pub fn next_rtc_id(&mut self) -> String {
        self.next_rtc_id += 1;
        cat(&["RTC", &decimal(self.next_rtc_id.into())])
    }

    fn link(&self) -> Link {
        self.link.unwrap_or(Link::Down)
    }

    pub fn handle_command(&mut self, op: OpId, cmd: Command, now: u64) {
        if cmd.reports_errors() {
            self.error_ops.insert(op);
        }
        if let Err(e) = self.check(&cmd) {
            self.complete(op, Err(e));
            return;
        }
        if let Command::Send(Request::SetMedia {
            confr_id,
            stream_id,
            aoff,
            voff,
        }) = &cmd
        {
            // Recorded at once, so a pauseAudio and a pauseVideo in quick succession
            // each build on the other's flags.
            let own = self
                .conferences
                .get_mut(confr_id)
                .and_then(|c| c.streams.iter_mut().find(|s| &s.id == stream_id));
            if let Some(s) = own {
                (s.aoff, s.voff) = (*aoff, *voff);
            }
        }
        let me = self.identity.as_ref().map_or("", |i| i.user.as_str());
        let req = cmd.first_request(me);
        self.cancel_local(&req);
        let waiting = match cmd {
            Command::JoinConference { .. } => Waiting::TicketForJoin(op, cmd),
            _ => Waiting::Op(op, cmd),
        };
        self.send(req, waiting, now);
    }

    fn check(&self, cmd: &Command) -> Result<(), SdkError> {
        cmd.validate()?;
        if self.identity.is_none() {
            return Err(SdkError::new(
                ErrorCode::TokenInvalid,
                "call setIdentity(userId, token) first",
            ));
        }
        if self.server_url.is_none() {
            return Err(SdkError::bad_param("call emedia.config({server}) first"));
        }
        if let Some(conf) = cmd.confr_id().and_then(|id| self.conferences.get(id)) {
            if cmd.needs_admin() && conf.role != Role::Admin {
                return Err(SdkError::new(
                    ErrorCode::IllegalRights,
                    "only an ADMIN may do this",
                ));
            }
            if matches!(cmd, Command::Send(Request::Publish { .. })) && conf.role == Role::Audience
            {
                return Err(SdkError::new(
                    ErrorCode::IllegalRights,
                    "an AUDIENCE member cannot publish",
                ));
            }
            if let Command::Send(Request::SetMedia {
                stream_id,
                aoff: false,
                ..
            }) = cmd
            {
                if conf.muted && conf.stream(stream_id).is_some_and(|s| s.audio) {
                    return Err(SdkError::muted());
                }
            }
            if cmd.is_join() {
                return Err(SdkError::new(
                    ErrorCode::BadRequest,
                    "already in this conference",
                ));
            }
        }
        Ok(())
    }

    fn new_rid(&mut self) -> u32 {
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        self.next_rid
    }

    fn send(&mut self, req: Request, waiting: Waiting, now: u64) {
        let rid = self.new_rid();
        self.pending.insert(
            rid,
            Pending {
                waiting,
                deadline: now + REQUEST_TIMEOUT_MS,
            },
        );
        let msg = ClientMessage { rid, req };
        match self.link() {
            Link::Open => self.transmit.push(msg),
            Link::Connecting | Link::Reconnecting(_) => self.queued.push(msg),
            Link::Down => {
                self.queued.push(msg);
                self.connect(now);
            }
        }
    }

    /// Opens the socket; the login goes first, ahead of whatever is queued.
    fn connect(&mut self, now: u64) {
        let (Some(url), Some(identity)) = (self.server_url.clone(), self.identity.clone()) else {
            return;
        };
        self.link = Some(Link::Connecting);
        self.session = None;
        self.transport.push(TransportCommand::Open { url });
        let rid = self.new_rid();
        self.pending.insert(
            rid,
            Pending {
                waiting: Waiting::Auth,
                deadline: now + REQUEST_TIMEOUT_MS,
            },
        );
        let auth = Request::Auth {
            token: identity.token,
            protocol: PROTOCOL_VERSION,
        };
        self.queued.insert(0, ClientMessage { rid, req: auth });
    }

    pub fn handle_open(&mut self, _now: u64) {
        match self.link() {
            Link::Connecting => {
                self.link = Some(Link::Open);
                self.transmit.append(&mut self.queued);
            }
            // Only the resume goes out; the rest waits for its answer.
            Link::Reconnecting(Reconnect { retry_at: None, .. }) if !self.queued.is_empty() => {
                let resume = self.queued.remove(0);
                self.transmit.push(resume);
            }
            _ => {}
        }
    }

    /// The socket closed or failed: in a conference, reconnect and resume; otherwise
    /// pending calls fail.
    pub fn handle_closed(&mut self, now: u64) {
        match self.link() {
            Link::Down => {}
            Link::Reconnecting(r) if r.retry_at.is_none() => self.attempt_failed(r, now),
            Link::Reconnecting(_) => {}
            Link::Open | Link::Connecting => self.link_lost("connection to the server lost", now),
        }
    }

    fn teardown(
        &mut self,
        reason: ExitReason,
        failed: Option<ErrorCode>,
        err: SdkError,
        _now: u64,
    ) {
        self.link = Some(Link::Down);
        self.session = None;
        self.rejoining = false;
        self.drop_transfers();
        self.queued.clear();
        for (_, p) in std::mem::take(&mut self.pending) {
            if let Waiting::Op(op, _) | Waiting::TicketForJoin(op, _) = p.waiting {
                self.complete(op, Err(err.clone()));
            }
        }
        for (confr_id, conf) in std::mem::take(&mut self.conferences) {
            self.release_local(&conf);
            self.events.push(SdkEvent::ConferenceExited {
                confr_id,
                reason,
                failed,
            });
        }
    }

    pub fn handle_message(&mut self, msg: ServerMessage, now: u64) {
        match msg {
            ServerMessage::Reply { rid, body } => self.handle_reply(rid, body, now),
            ServerMessage::Event(e) => {
                self.received += 1;
                self.handle_event(e)
            }
        }
    }

    fn handle_reply(&mut self, rid: u32, body: ReplyBody, now: u64) {
        let Some(p) = self.pending.remove(&rid) else {
            return;
        };
        let result = match body {
            ReplyBody::Ok(r) => Ok(r),
            ReplyBody::Err(e) => Err(SdkError::from(e)),
        };
        match (p.waiting, result) {
            (Waiting::Auth, Ok(Response::Authed { session, .. })) => {
                self.session = Some(session);
                self.received = 0;
                self.next_heartbeat = now + HEARTBEAT_MS;
                self.relogin_attempts = 0;
            }
            (Waiting::Auth, Ok(_)) | (Waiting::Keepalive, _) => {}
            (Waiting::Resume, Ok(_)) => self.resumed(now),
            (Waiting::Resume, Err(_)) => self.resume_refused(now),
            (Waiting::Auth, Err(e)) => {
                // Everything queued behind the login would be refused: fail it with the
                // login's own reason, and start afresh on the next call. A rejoin that
                // cannot log in ends as a lost connection.
                let code = if self.rejoining {
                    ErrorCode::Network
                } else {
                    e.code
                };
                self.transport.push(TransportCommand::Close);
                self.teardown(ExitReason::Failed, Some(code), e, now);
            }
            (Waiting::Rejoin(old, by_name), result) => {
                self.rejoin_answered(old, by_name, result, now)
            }
            (Waiting::TicketForJoin(op, cmd), Ok(Response::Ticket { ticket })) => {
                let Command::JoinConference { confr_id, ext, .. } = cmd.clone() else {
                    unreachable!("only joinConference waits for a ticket")
                };
                let req = Request::Join {
                    confr_id,
                    ticket,
                    ext,
                    nick_name: None,
                };
                self.send(req, Waiting::Op(op, cmd), now);
            }
            (Waiting::TicketForJoin(op, _), Err(e)) => self.complete(op, Err(e)),
            (Waiting::Op(op, cmd), Ok(r)) => self.finish(op, cmd, r),
            (Waiting::Op(op, _), Err(e)) => self.complete(op, Err(e)),
            (Waiting::TicketForJoin(op, _), Ok(_)) => self.unexpected(op),
        }
    }

    fn finish(&mut self, op: OpId, cmd: Command, resp: Response) {
        match (cmd, resp) {
            (
                Command::Send(Request::CreateConference { password, .. }),
                Response::Created {
                    confr_id,
                    confr_type,
                    ticket,
                    role_token,
                },
            ) => self.complete(
                op,
                Ok(Outcome::Created {
                    confr_id,
                    confr_type,
                    password,
                    ticket,
                    role_token,
                }),
            ),
            (Command::Send(Request::GetTicket { .. }), Response::Ticket { ticket }) => {
                self.complete(op, Ok(Outcome::Ticket(ticket)))
            }
            (
                cmd @ (Command::JoinConference { .. }
                | Command::Send(Request::Join { .. })
                | Command::Send(Request::JoinRoom { .. })),
                Response::Joined(joined),
            ) => {
                let rejoin = match &cmd {
                    Command::JoinConference { ext, .. } => Rejoin {
                        ext: ext.clone(),
                        ..Rejoin::default()
                    },
                    Command::Send(Request::Join { ext, nick_name, .. }) => Rejoin {
                        ext: ext.clone(),
                        nick_name: nick_name.clone(),
                        room: None,
                    },
                    Command::Send(room @ Request::JoinRoom { ext, nick_name, .. }) => Rejoin {
                        ext: ext.clone(),
                        nick_name: nick_name.clone(),
                        room: Some(room.clone()),
                    },
                    _ => Rejoin::default(),
                };
                let password = match cmd {
                    Command::JoinConference { password, .. }
                    | Command::Send(Request::JoinRoom { password, .. }) => password,
                    _ => None,
                };
                self.enter(&joined, rejoin, None);
                self.complete(op, Ok(Outcome::Joined { joined, password }));
            }
            (Command::Send(Request::Exit { confr_id }), Response::Done) => {
                self.complete(op, Ok(Outcome::Done));
                if let Some(conf) = self.conferences.remove(&confr_id) {
                    self.release_local(&conf);
                    self.events.push(SdkEvent::ConferenceExited {
                        confr_id,
                        reason: ExitReason::Normal,
                        failed: None,
                    });
                }
            }
            (
                Command::Send(
                    Request::Destroy { .. }
                    | Request::Kick { .. }
                    | Request::GrantRole { .. }
                    | Request::SubscriptionReady { .. },
                ),
                Response::Done,
            ) => self.complete(op, Ok(Outcome::Done)),
            (Command::Send(Request::GetInfo { .. }), Response::Info(info)) => {
                self.complete(op, Ok(Outcome::Info(info)))
            }
            (
                Command::Send(Request::Publish { confr_id, .. }),
                Response::Published { stream, sdp },
            ) => {
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    conf.published.insert(stream.id.clone());
                    conf.upsert_stream(stream.clone());
                }
                self.complete(op, Ok(Outcome::Published { stream, sdp }));
            }
            (
                Command::Send(Request::PublishRtmp { confr_id, .. }),
                Response::Rtmp { stream, url },
            ) => {
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    conf.published.insert(stream.id.clone());
                    conf.upsert_stream(stream.clone());
                }
                self.complete(op, Ok(Outcome::Rtmp { stream, url }));
            }
            (Command::Send(Request::PlayRtmp { .. }), Response::Rtmp { stream, url }) => {
                self.complete(op, Ok(Outcome::Rtmp { stream, url }))
            }
            (Command::Send(Request::RestartIce { .. }), Response::IceRestarted { sdp }) => {
                self.complete(op, Ok(Outcome::IceRestarted(sdp)))
            }
            (
                Command::Send(Request::Subscribe { confr_id, .. }),
                Response::Subscribed { stream_id, sdp },
            ) => {
                // The stream may have ended while the answer was on its way: the answer
                // is still applied (the connection must match the SFU's), but nothing
                // is subscribed.
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    if conf.stream(&stream_id).is_some() {
                        conf.subscribed.insert(stream_id.clone());
                    }
                }
                self.complete(op, Ok(Outcome::Subscribed { stream_id, sdp }));
            }
            (
                Command::Send(Request::Unpublish {
                    confr_id,
                    stream_id,
                }),
                Response::Done,
            ) => {
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    conf.published.remove(&stream_id);
                    conf.remove_stream(&stream_id);
                }
                self.local_media.push(LocalMedia::ClosePublisher(stream_id));
                self.complete(op, Ok(Outcome::Done));
            }
            (
                Command::Send(Request::Unsubscribe {
                    confr_id,
                    stream_id,
                }),
                Response::Done,
            ) => {
                if let Some(conf) = self.conferences.get_mut(&confr_id) {
                    conf.subscribed.remove(&stream_id);
                }
                self.local_media
                    .push(LocalMedia::CloseSubscriber(stream_id));
                self.complete(op, Ok(Outcome::Done));
            }
            (
                Command::Send(Request::SetMedia {
                    confr_id,
                    stream_id,
                    aoff,
                    voff,
                }),
                Response::Done,
            ) => {
                let own = self
                    .conferences
                    .get_mut(&confr_id)
                    .and_then(|c| c.streams.iter_mut().find(|s| s.id == stream_id));
                if let Some(s) = own {
                    s.aoff = aoff;
                    s.voff = voff;
                }
                self.complete(op, Ok(Outcome::Done));
            }
            (cmd, resp) => self.finish_interaction(op, cmd, resp),
        }
    }

    /// In a conference (joined, or a call started or accepted): mirror it, make it
    /// pubStream's default, and tell the app of the members and streams already there.
    fn enter(&mut self, joined: &Joined, rejoin: Rejoin, call_type: Option<CallType>) {
        let mut conf = JoinedConference::from_joined(joined);
        conf.rejoin = rejoin;
        conf.call_type = call_type;
        let confr_id = joined.confr_id.clone();
        let streams: Vec<_> = joined
            .streams
            .iter()
            .map(|s| (conf.owner_of(s), s.clone()))
            .collect();
        self.conferences.insert(confr_id.clone(), conf);
        self.last_joined = Some(confr_id.clone());
        // A member who arrives late hears of everyone and everything already there.
        for member in joined.members.iter().map(|m| Member::clone(m)) {
            self.events.push(SdkEvent::MemberJoined {
                confr_id: confr_id.clone(),
                member,
            });
        }
        for (owner, stream) in streams {
            self.events.push(SdkEvent::StreamAdded {
                confr_id: confr_id.clone(),
                owner,
                stream,
            });
        }
        self.room_state_on_join(joined);
    }

    fn unexpected(&mut self, op: OpId) {
        // No `{resp:?}`: Debug for every protocol type would cost the wasm kilobytes.
        let e = SdkError::new(ErrorCode::BadRequest, "unexpected reply from the server");
        self.complete(op, Err(e));
    }

    fn handle_event(&mut self, event: Event) {
        let Some(confr_id) = event.confr_id() else {
            // Peer data, presence and call news concern no conference.
            return self.peer_event(event);
        };
        let Some(conf) = self.conferences.get_mut(confr_id) else {
            // Late news about a conference already left: nobody to tell.
            return;
        };
        let out = match event {
            Event::SubscriptionsLost { confr_id } => {
                // The tracks end when their transceivers stop; subscribing again opens
                // a new connection.
                for id in std::mem::take(&mut conf.subscribed) {
                    self.local_media.push(LocalMedia::CloseSubscriber(id));
                }
                self.local_media
                    .push(LocalMedia::CloseSubscriberConnection(confr_id));
                return;
            }
            Event::MemberJoined { confr_id, member } => {
                conf.upsert(member.clone());
                SdkEvent::MemberJoined { confr_id, member }
            }
            Event::MemberExited {
                confr_id,
                member,
                reason,
            } => {
                conf.remove(&member.id);
                SdkEvent::MemberExited {
                    confr_id,
                    member,
                    reason,
                }
            }
            Event::MemberRoleChanged { confr_id, member } => {
                conf.upsert(member.clone());
                SdkEvent::MemberRoleChanged { confr_id, member }
            }
            Event::RoleChanged {
                confr_id,
                role,
                role_token,
            } => {
                conf.role = role;
                conf.role_token = role_token;
                SdkEvent::RoleChanged { confr_id, role }
            }
            Event::ConferenceExited { confr_id, reason } => {
                if let Some(conf) = self.conferences.remove(&confr_id) {
                    self.release_local(&conf);
                }
                SdkEvent::ConferenceExited {
                    confr_id,
                    reason,
                    failed: None,
                }
            }
            Event::StreamAdded {
                confr_id,
                stream,
                member,
            } => {
                // A PK host of the other room: its member is not in this room's roster.
                if let Some(m) = member {
                    conf.guests.retain(|g| g.id != m.id);
                    conf.guests.push(m);
                }
                conf.upsert_stream(stream.clone());
                SdkEvent::StreamAdded {
                    confr_id,
                    owner: conf.owner_of(&stream),
                    stream,
                }
            }
            Event::StreamUpdated { confr_id, stream } => {
                conf.upsert_stream(stream.clone());
                SdkEvent::StreamUpdated {
                    confr_id,
                    owner: conf.owner_of(&stream),
                    stream,
                }
            }
            Event::StreamRemoved { confr_id, stream } => {
                conf.remove_stream(&stream.id);
                if conf.subscribed.remove(&stream.id) {
                    self.local_media
                        .push(LocalMedia::CloseSubscriber(stream.id.clone()));
                }
                if conf.published.remove(&stream.id) {
                    self.local_media
                        .push(LocalMedia::ClosePublisher(stream.id.clone()));
                }
                SdkEvent::StreamRemoved {
                    confr_id,
                    owner: conf.owner_of(&stream),
                    stream,
                }
            }
            // These name no conference and went to `call_event` above.
            Event::UserStatusChanged(_)
            | Event::Invited(_)
            | Event::CallProgress { .. }
            | Event::CallEnded { .. }
            | Event::InviteeListUpdated { .. }
            | Event::InviteStatus { .. }
            | Event::CmdData { .. }
            | Event::DataIncoming { .. }
            | Event::TransferCancelled { .. } => return,
            event @ (Event::RoomMsg { .. }
            | Event::TalkerRequested { .. }
            | Event::TalkerRequestAnswered { .. }
            | Event::Muted { .. }
            | Event::ConfrAttrsUpdated { .. }
            | Event::RoomPkRequested { .. }
            | Event::RoomPkRefused { .. }
            | Event::RoomPkStarted { .. }
            | Event::RoomPkEnded { .. }) => return self.room_event(event),
        };
        self.events.push(out);
    }

    /// This page's connections in a conference it no longer is in.
    fn release_local(&mut self, conf: &JoinedConference) {
        for id in &conf.published {
            self.local_media
                .push(LocalMedia::ClosePublisher(id.clone()));
        }
        for id in &conf.subscribed {
            self.local_media
                .push(LocalMedia::CloseSubscriber(id.clone()));
        }
        self.local_media
            .push(LocalMedia::CloseSubscriberConnection(conf.confr_id.clone()));
    }

    pub fn handle_timeout(&mut self, now: u64) {
        let expired = self.pending.values().any(|p| p.deadline <= now);
        if expired {
            match self.link() {
                Link::Reconnecting(r) => {
                    // The resume went unanswered; requests queued for later that
                    // waited too long fail on their own.
                    if r.retry_at.is_none() {
                        self.attempt_failed(r, now);
                    }
                    self.fail_expired(now);
                }
                // A server that stops answering is as good as gone.
                _ => self.link_lost("the server did not answer in time", now),
            }
        }
        self.link_timers(now);
    }

    fn fail_expired(&mut self, now: u64) {
        let expired: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(rid, _)| *rid)
            .collect();
        for rid in expired {
            self.queued.retain(|m| m.rid != rid);
            if let Some(Pending {
                waiting: Waiting::Op(op, _) | Waiting::TicketForJoin(op, _),
                ..
            }) = self.pending.remove(&rid)
            {
                self.complete(op, Err(SdkError::network("reconnecting took too long")));
            }
        }
    }

    fn complete(&mut self, op: OpId, result: Result<Outcome, SdkError>) {
        if self.error_ops.remove(&op) {
            if let Err(e) = &result {
                self.events.push(SdkEvent::CallError(e.clone()));
            }
        }
        self.completions.push(Completion { op, result });
    }

    pub fn poll_transport(&mut self) -> Option<TransportCommand> {
        pop_front(&mut self.transport)
    }

    pub fn poll_transmit(&mut self) -> Option<ClientMessage> {
        pop_front(&mut self.transmit)
    }

    pub fn poll_completion(&mut self) -> Option<Completion> {
        pop_front(&mut self.completions)
    }

    pub fn poll_event(&mut self) -> Option<SdkEvent> {
        pop_front(&mut self.events)
    }

    pub fn poll_local_media(&mut self) -> Option<LocalMedia> {
        pop_front(&mut self.local_media)
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        let requests = self.pending.values().map(|p| p.deadline).min();
        requests.into_iter().chain(self.link_deadline()).min()
    }
}

/// `http://h:p` → `ws://h:p/ws`, `https://` → `wss://`; `ws(s)://` URLs pass as given
/// (with `/ws` added when they have no path).
pub fn signaling_url(base: &str) -> Result<String, SdkError> {
    let base = base.trim_ascii().trim_end_matches('/');
    // A byte scan, not `split_once("://")`: a `&str` pattern brings the two-way
    // substring search into the wasm (~2 KB) for this one call.
    let Some(at) = base.as_bytes().windows(3).position(|w| w == b"://") else {
        return Err(SdkError::bad_param(cat(&[
            "server must be an http(s) or ws(s) URL, not \"",
            base,
            "\"",
        ])));
    };
    let (scheme, rest) = (&base[..at], &base[at + 3..]);
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(SdkError::bad_param(cat(&[
                "unsupported server scheme \"",
                other,
                "\"",
            ])))
        }
    };
    if rest.is_empty() {
        return Err(SdkError::bad_param("server URL has no host"));
    }
    let path = if rest.contains('/') { "" } else { "/ws" };
    Ok(cat(&[scheme, "://", rest, path]))
}

/// The queues are plain vectors (a `VecDeque` costs kilobytes of wasm per element
/// type); they hold a few items between two drains, so shifting is cheap.
fn pop_front<T>(queue: &mut Vec<T>) -> Option<T> {
    (!queue.is_empty()).then(|| queue.remove(0))
}

#[cfg(test)]
mod tests;
