//! The server's conference logic as a sans-IO state machine.
//!
//! Inputs: `handle_connect`, `handle_text` (one signaling frame), `handle_alive` (a
//! pong), `handle_disconnect` and `handle_timeout`, each with the current time, all
//! naming the driver's connection. Outputs: drain `poll_output` after every input
//! (messages and closes in the order they must happen), then ask `poll_timeout` when
//! to call `handle_timeout` next. No IO, no clock, no threads: the driver in `hub.rs`
//! owns those. Sessions, which outlive connections, are in `sessions.rs`.
//!
//! Ordering: the events a request causes are queued before its reply, so when a
//! caller's promise resolves its own hooks have already seen the change.

mod calls;
mod conference;
mod ice_restart;
mod media;
mod messaging;
mod moderation;
mod outbox;
mod pk;
mod presence;
mod publishing;
mod room_info;
mod rtmp;
mod sessions;
mod store;
mod streams;
mod subscribing;
mod transfers;
mod validate;

pub use conference::{Conference, Seat};
pub use media::{MediaCommand, MediaEvent, PeerId};
pub use outbox::{Outbound, Output};
pub use rtmp::RtmpUrls;
pub use sessions::{close, ConnId, RateLimit, SessionId};
pub use store::{ConferenceStore, MemoryStore};
pub use streams::{Negotiation, PeerRole, Stream};

use crate::auth::{Grant, Keys};
use emedia_protocol::{
    ClientMessage, ConferenceConfig, ConferenceId, ConfrType, ErrorBody, ErrorCode, Event,
    ExitReason, Joined, Member, MemberExitReason, MemberId, Request, Response, Role,
    PROTOCOL_VERSION,
};
use outbox::{Outbox, Queued};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// How long tickets and role tokens stay valid.
    pub ticket_ttl_secs: u64,
    /// How long a created conference waits for its first member.
    pub empty_conference_ttl_ms: u64,
    /// Mini-program media: where pushes and plays go (none: pubStream in a
    /// mini-program is refused with -507).
    pub rtmp: Option<RtmpUrls>,
    /// How long a session may stay silent (no frame, no pong) or detached before it
    /// ends and its members leave with `NoResponse`.
    pub liveness_ms: u64,
    pub rate: RateLimit,
    /// Conferences held at once, at most; creating one more is refused with -510.
    pub max_conferences: usize,
    /// Members of one conference at most, whatever its own config says (-522).
    pub max_members: usize,
    /// How long an invitee rings when the caller names no timeout.
    pub call_timeout_ms: u64,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            ticket_ttl_secs: 600,
            empty_conference_ttl_ms: 120_000,
            rtmp: None,
            liveness_ms: 15_000,
            rate: RateLimit::default(),
            max_conferences: 10_000,
            max_members: 1000,
            call_timeout_ms: 30_000,
        }
    }
}

type Reply = Result<Response, ErrorBody>;

fn err(code: ErrorCode, msg: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, msg)
}

pub struct Core<S: ConferenceStore = MemoryStore> {
    config: CoreConfig,
    keys: Keys,
    store: S,
    sessions: FxHashMap<SessionId, sessions::Session>,
    /// The session each open connection carries.
    conns: FxHashMap<ConnId, SessionId>,
    next_session: u64,
    next_liveness_check: u64,
    rng: StdRng,
    /// Created conferences still waiting for their first member, by deadline.
    empty_deadlines: BTreeSet<(u64, ConferenceId)>,
    /// Every SFU peer the core has asked for and not closed, and its conference.
    peers: HashMap<PeerId, ConferenceId>,
    /// ICE restarts the SFU has yet to answer: who asked, in which request.
    ice_restarts: HashMap<PeerId, (SessionId, u32)>,
    /// ICE restarts answered since the start, for /metrics.
    ice_restarts_done: u64,
    next_peer: u64,
    /// Calls and invitations ringing or in progress (`calls.rs`).
    calls: calls::Calls,
    /// Who is online, and who listens for it (`presence.rs`).
    presence: presence::Presence,
    /// Data transfers between users (`transfers.rs`).
    transfers: transfers::Transfers,
    /// PK requests waiting for the asked ADMIN (`pk.rs`).
    pk_requests: Vec<pk::PkRequest>,
    out: Outbox,
}

impl Core<MemoryStore> {
    pub fn new(config: CoreConfig, keys: Keys, seed: u64) -> Self {
        Self::with_store(config, keys, MemoryStore::default(), seed)
    }
}

impl<S: ConferenceStore> Core<S> {
    pub fn with_store(config: CoreConfig, keys: Keys, store: S, seed: u64) -> Self {
        Self {
            config,
            keys,
            store,
            sessions: FxHashMap::default(),
            conns: FxHashMap::default(),
            next_session: 1,
            next_liveness_check: 0,
            rng: StdRng::seed_from_u64(seed),
            empty_deadlines: BTreeSet::new(),
            peers: HashMap::new(),
            ice_restarts: HashMap::new(),
            ice_restarts_done: 0,
            next_peer: 1,
            calls: calls::Calls::default(),
            presence: presence::Presence::default(),
            transfers: transfers::Transfers::default(),
            pk_requests: Vec::new(),
            out: Outbox::default(),
        }
    }

    pub fn liveness_ms(&self) -> u64 {
        self.config.liveness_ms
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn conference_count(&self) -> usize {
        self.store.len()
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Streams held, pending ones included.
    pub fn stream_count(&self) -> usize {
        self.store.iter().map(|c| c.streams.len()).sum()
    }

    /// ICE restarts answered since the start.
    pub fn ice_restart_count(&self) -> u64 {
        self.ice_restarts_done
    }

    /// SFU peers the core believes are open.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    pub fn conference(&self, id: &ConferenceId) -> Option<&Conference> {
        self.store.get(id)
    }

    /// The next thing to do. Messages to a detached session are dropped here (its
    /// events are kept for a resume).
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            let Some(next) = self.out.pop() else {
                // Everything else is out: now what it did to presence.
                if self.publish_presence() {
                    continue;
                }
                return None;
            };
            let out = match next {
                Queued::Send { to, msg } => {
                    let conn = match &msg {
                        Outbound::Event(e) => self.record_event(to, e),
                        Outbound::Reply { .. } | Outbound::Data(_) => self.conn_of(to),
                    };
                    conn.map(|to| Output::Send { to, msg })
                }
                Queued::Resend { to, event } => self.conn_of(to).map(|to| Output::Send {
                    to,
                    msg: Outbound::Event(event),
                }),
                Queued::Close { conn, code, reason } => Some(Output::Close { conn, code, reason }),
                Queued::Media(cmd) => Some(Output::Media(cmd)),
            };
            if out.is_some() {
                return out;
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        let empty = self.empty_deadlines.first().map(|(at, _)| *at);
        let liveness = (!self.sessions.is_empty()).then_some(self.next_liveness_check);
        let ringing = self.calls.next_deadline();
        empty.into_iter().chain(liveness).chain(ringing).min()
    }

    pub fn handle_timeout(&mut self, now_ms: u64) {
        if now_ms >= self.next_liveness_check {
            self.expire_sessions(now_ms);
        }
        self.ring_timeouts(now_ms);
        while let Some((at, id)) = self.empty_deadlines.first().cloned() {
            if at > now_ms {
                break;
            }
            self.empty_deadlines.remove(&(at, id.clone()));
            if self.store.get(&id).is_some_and(Conference::is_empty) {
                tracing::info!(confr = %id, "conference removed: nobody joined in time");
                if let Some(conf) = self.store.remove(&id) {
                    self.release_media(&conf);
                }
            }
        }
    }

    /// One signaling frame. Anything unparseable still gets exactly one error reply.
    pub fn handle_text(&mut self, conn: ConnId, text: &str, now_ms: u64) {
        let sid = match self.admit(conn, now_ms) {
            sessions::Admit::Handle(sid) => sid,
            sessions::Admit::Refuse(sid) => {
                // Not parsed: a flood must not cost us a parse per frame.
                return self.out.reply(sid, 0, Err(Self::rate_refusal()));
            }
            sessions::Admit::Drop => return,
        };
        match serde_json::from_str::<ClientMessage>(text) {
            Ok(msg) => self.handle_message(sid, conn, msg, now_ms),
            Err(e) => {
                let (rid, body) = describe_parse_error(text, &e);
                self.out.reply(sid, rid, Err(body));
            }
        }
    }

    /// A binary frame: a data transfer's chunk or ack (`transfers.rs`). A frame that
    /// is not a valid one gets an error reply (id 0) and costs a rate token; nothing
    /// else happens.
    pub fn handle_binary(&mut self, conn: ConnId, frame: bytes::Bytes, now_ms: u64) {
        self.handle_alive(conn, now_ms);
        let Some(&sid) = self.conns.get(&conn) else {
            return;
        };
        let refused = match self.authed(sid) {
            Ok(()) => self.data_frame(sid, frame),
            Err(e) => Err(e),
        };
        let Err(why) = refused else {
            return;
        };
        let why = match self.admit(conn, now_ms) {
            sessions::Admit::Handle(_) => why,
            sessions::Admit::Refuse(_) => Self::rate_refusal(),
            sessions::Admit::Drop => return,
        };
        self.out.reply(sid, 0, Err(why));
    }

    /// A parsed frame, for drivers and tests that have one (no rate check).
    pub fn handle_request(&mut self, conn: ConnId, msg: ClientMessage, now_ms: u64) {
        self.handle_alive(conn, now_ms);
        if let Some(&sid) = self.conns.get(&conn) {
            self.handle_message(sid, conn, msg, now_ms);
        }
    }

    fn handle_message(&mut self, sid: SessionId, conn: ConnId, msg: ClientMessage, now_ms: u64) {
        let rid = msg.rid;
        // Requests that answer themselves, later or with news after the reply; `Err`
        // when refused at once.
        let asked = match msg.req {
            Request::Resume {
                session,
                received,
                protocol,
            } => return self.resume(conn, sid, rid, &session, received, protocol),
            // These are answered when the SFU has answered (see `handle_media`).
            Request::RestartIce {
                confr_id,
                stream_id,
                sdp,
            } => self
                .authed(sid)
                .and_then(|_| self.restart_ice(sid, rid, &confr_id, stream_id.as_ref(), sdp)),
            req @ (Request::Publish { .. } | Request::Subscribe { .. }) => {
                self.authed(sid).and_then(|_| self.negotiate(sid, rid, req))
            }
            // News about invitees follows the reply.
            Request::Call {
                user_ids,
                call_type,
                timeout_ms,
                ext,
                group,
                call_id,
            } => {
                let req = calls::CallRequest {
                    user_ids,
                    call_type,
                    timeout_ms,
                    ext,
                    group,
                    call_id,
                };
                self.authed_user(sid)
                    .and_then(|user| self.call(sid, rid, &user, req, now_ms))
            }
            Request::InviteToConference {
                confr_id,
                user_id,
                ext,
                timeout_ms,
            } => {
                let req = calls::InviteRequest {
                    confr_id,
                    user_id,
                    ext,
                    timeout_ms,
                };
                self.authed_user(sid)
                    .and_then(|user| self.invite_to_conference(sid, rid, &user, req, now_ms))
            }
            req => {
                let result = self.dispatch(sid, req, now_ms);
                return self.answer(sid, rid, result);
            }
        };
        if let Err(e) = asked {
            self.answer(sid, rid, Err(e));
        }
    }

    fn answer(&mut self, sid: SessionId, rid: u32, result: Reply) {
        if let Err(e) = &result {
            tracing::debug!(session = sid.0, code = e.code.code(), msg = %e.message, "request refused");
        }
        self.out.reply(sid, rid, result);
    }

    fn authed(&self, sid: SessionId) -> Result<(), ErrorBody> {
        self.authed_user(sid).map(|_| ())
    }

    fn authed_user(&self, sid: SessionId) -> Result<String, ErrorBody> {
        match self.sessions.get(&sid).and_then(|s| s.user.clone()) {
            Some(user) => Ok(user),
            None => Err(err(
                ErrorCode::TokenInvalid,
                "authenticate first: call setIdentity",
            )),
        }
    }

    fn dispatch(&mut self, sid: SessionId, req: Request, now_ms: u64) -> Reply {
        let Some(session) = self.sessions.get(&sid) else {
            return Err(err(ErrorCode::BadRequest, "unknown session"));
        };
        let user = match (&session.user, req) {
            (None, Request::Auth { token, protocol }) => {
                return self.auth(sid, &token, protocol, now_ms)
            }
            (Some(_), Request::Auth { .. }) => {
                return Err(err(ErrorCode::BadRequest, "already authenticated"))
            }
            (_, Request::Ping) => return Ok(Response::Pong),
            (Some(_), Request::Heartbeat { received }) => {
                return self.heartbeat(sid, received);
            }
            (None, _) => {
                return Err(err(
                    ErrorCode::TokenInvalid,
                    "authenticate first: call setIdentity",
                ))
            }
            (Some(user), req) => (user.clone(), req),
        };
        let (user, req) = user;
        match req {
            Request::CreateConference {
                confr_type,
                password,
                config,
            } => self.create(&user, confr_type, password, config, now_ms),
            Request::GetTicket { confr_id, password } => {
                self.ticket(&user, &confr_id, password.as_deref(), now_ms)
            }
            Request::Join {
                confr_id,
                ticket,
                ext,
                nick_name,
            } => self.join_with_ticket(sid, &user, &confr_id, &ticket, nick_name, ext, now_ms),
            Request::JoinRoom {
                room_name,
                password,
                role,
                confr_type,
                config,
                nick_name,
                ext,
            } => {
                let room = RoomJoin {
                    room_name,
                    password,
                    role,
                    confr_type,
                    config,
                    nick_name,
                    ext,
                };
                self.join_room(sid, &user, room, now_ms)
            }
            Request::Exit { confr_id } => {
                self.own_seat(sid, &confr_id)?;
                self.leave_session(sid, &confr_id, MemberExitReason::Left, None, now_ms);
                Ok(Response::Done)
            }
            Request::Destroy { confr_id } => self.destroy(sid, &confr_id),
            Request::PublishRtmp {
                confr_id,
                rtc_id,
                stream_type,
                audio,
                video,
                ext,
            } => {
                let draft = publishing::Draft {
                    rtc_id,
                    stream_type,
                    audio,
                    video,
                    ext,
                };
                self.publish_rtmp(sid, &confr_id, draft, now_ms)
            }
            Request::PlayRtmp {
                confr_id,
                stream_id,
            } => self.play_rtmp(sid, &confr_id, &stream_id, now_ms),
            Request::Kick { confr_id, members } => self.kick(sid, &confr_id, &members, now_ms),
            Request::GrantRole {
                confr_id,
                members,
                role,
            } => self.grant(sid, &confr_id, &members, role, now_ms),
            Request::GetInfo { confr_id, password } => {
                self.info(sid, &confr_id, password.as_deref())
            }
            Request::Unpublish {
                confr_id,
                stream_id,
            } => self.unpublish(sid, &confr_id, &stream_id),
            Request::Unsubscribe {
                confr_id,
                stream_id,
            } => self.unsubscribe(sid, &confr_id, &stream_id),
            Request::SetMedia {
                confr_id,
                stream_id,
                aoff,
                voff,
            } => self.set_media(sid, &confr_id, &stream_id, aoff, voff),
            Request::SubscriptionReady {
                confr_id,
                stream_id,
            } => self.subscription_ready(sid, &confr_id, &stream_id),
            Request::GetUserStatus { user_ids } => self.get_user_status(user_ids),
            Request::UserStatusNotify { on } => self.set_status_notify(sid, on),
            Request::SetDnd { dnd } => self.set_dnd(&user, dnd),
            Request::Accept { call_id } => self.accept(sid, &user, &call_id, now_ms),
            Request::Reject { call_id } => self.reject(sid, &user, &call_id, now_ms),
            Request::Hangup { call_id } => self.hangup(sid, &user, &call_id, now_ms),
            Request::CancelInvite { invite_id } => self.cancel_invite(&user, &invite_id),
            Request::SendRoomMsg { confr_id, msg } => self.send_room_msg(sid, &confr_id, msg),
            Request::SendCmd { to, data } => self.send_cmd(sid, &user, &to, data),
            Request::SendData { to, size, name } => self.send_data(sid, &user, &to, size, name),
            Request::CancelTransfer { transfer_id } => self.cancel_transfer(sid, transfer_id),
            Request::RequestToTalker { confr_id, reason } => {
                self.request_to_talker(sid, &confr_id, reason)
            }
            Request::AnswerTalkerRequest {
                confr_id,
                member_id,
                agree,
            } => self.answer_talker_request(sid, &confr_id, &member_id, agree, now_ms),
            Request::Mute {
                confr_id,
                member,
                muted,
            } => self.mute(sid, &confr_id, &member, muted),
            Request::MuteAll { confr_id, muted } => self.mute_all(sid, &confr_id, muted),
            Request::RequestRoomPk {
                confr_id,
                target_confr_id,
                target_user,
            } => self.request_room_pk(sid, &confr_id, &target_confr_id, &target_user),
            Request::AnswerRoomPk {
                confr_id,
                from_confr_id,
                agree,
            } => self.answer_room_pk(sid, &confr_id, &from_confr_id, agree),
            Request::QuitRoomPk { confr_id } => self.quit_room_pk(sid, &confr_id),
            Request::SetConferenceAttrs { confr_id, key, val } => {
                self.set_attr(sid, &confr_id, key, val)
            }
            Request::DeleteConferenceAttrs { confr_id, key } => {
                self.delete_attr(sid, &confr_id, &key)
            }
            Request::GetRoomInfos { confr_ids } => self.room_infos(sid, &confr_ids),
            Request::GetAnchorList { confr_id } => self.anchor_list(sid, &confr_id),
            Request::GetAudienceList { confr_id } => self.audience_list(sid, &confr_id),
            Request::Auth { .. }
            | Request::Call { .. }
            | Request::InviteToConference { .. }
            | Request::Ping
            | Request::Heartbeat { .. }
            | Request::Resume { .. }
            | Request::Publish { .. }
            | Request::RestartIce { .. }
            | Request::Subscribe { .. } => unreachable!("handled above"),
        }
    }

    fn auth(&mut self, sid: SessionId, token: &str, protocol: u32, now_ms: u64) -> Reply {
        if protocol != PROTOCOL_VERSION {
            return Err(err(
                ErrorCode::ClientNotSupported,
                format!(
                    "protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"
                ),
            ));
        }
        let user = self.keys.verify_user_token(token, now_ms / 1000)?;
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.user = Some(user.clone());
            self.presence.login(&user, sid);
        }
        Ok(Response::Authed {
            user,
            app_id: self.keys.app_id().to_owned(),
            protocol: PROTOCOL_VERSION,
            session: self.session_key(sid),
        })
    }

    fn new_id(&mut self, prefix: char) -> String {
        format!("{prefix}{:016x}", self.rng.random::<u64>())
    }

    fn grant_token(&self, user: &str, confr_id: &ConferenceId, role: Role, now_ms: u64) -> String {
        self.keys.mint_grant(&Grant {
            sub: user.to_owned(),
            cid: confr_id.clone(),
            role,
            iat_ms: now_ms,
            exp: now_ms / 1000 + self.config.ticket_ttl_secs,
        })
    }

    fn create(
        &mut self,
        user: &str,
        confr_type: ConfrType,
        password: Option<String>,
        config: ConferenceConfig,
        now_ms: u64,
    ) -> Reply {
        validate::config(&config)?;
        validate::optional_text("password", password.as_deref(), validate::MAX_NAME_CHARS)?;
        self.room_for_a_conference()?;
        let id = ConferenceId(self.new_id('C'));
        self.store.insert(Conference::new(
            id.clone(),
            confr_type,
            None,
            password,
            config,
        ));
        self.empty_deadlines
            .insert((now_ms + self.config.empty_conference_ttl_ms, id.clone()));
        tracing::info!(confr = %id, %user, "conference created");
        Ok(Response::Created {
            ticket: self.grant_token(user, &id, Role::Admin, now_ms),
            role_token: self.grant_token(user, &id, Role::Admin, now_ms),
            confr_id: id,
            confr_type,
        })
    }

    fn ticket(
        &mut self,
        user: &str,
        confr_id: &ConferenceId,
        password: Option<&str>,
        now_ms: u64,
    ) -> Reply {
        let conf = self.find(confr_id)?;
        if !conf.password_matches(password) {
            return Err(err(ErrorCode::WrongPassword, "wrong password"));
        }
        let role = conf.confr_type.default_role();
        Ok(Response::Ticket {
            ticket: self.grant_token(user, confr_id, role, now_ms),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn join_with_ticket(
        &mut self,
        sid: SessionId,
        user: &str,
        confr_id: &ConferenceId,
        ticket: &str,
        nick_name: Option<String>,
        ext: Option<String>,
        now_ms: u64,
    ) -> Reply {
        validate::ext(ext.as_deref())?;
        validate::optional_text("nickName", nick_name.as_deref(), validate::MAX_NAME_CHARS)?;
        let grant = self
            .keys
            .verify_grant(ticket, user, confr_id, now_ms / 1000)?;
        let conf = self.find(confr_id)?;
        let role = conf
            .effective_role(user, grant.role, grant.iat_ms)
            .ok_or_else(|| {
                err(
                    ErrorCode::TicketInvalid,
                    "ticket revoked: you were kicked from this conference",
                )
            })?;
        let joining = Joining {
            role,
            nick_name,
            ext,
            ticket: Some(ticket.to_owned()),
            created: false,
        };
        self.seat(sid, user, confr_id, joining, now_ms)
            .map(Response::Joined)
    }

    fn join_room(&mut self, sid: SessionId, user: &str, room: RoomJoin, now_ms: u64) -> Reply {
        validate::room_name(&room.room_name)?;
        validate::ext(room.ext.as_deref())?;
        validate::optional_text(
            "nickName",
            room.nick_name.as_deref(),
            validate::MAX_NAME_CHARS,
        )?;
        validate::optional_text(
            "password",
            room.password.as_deref(),
            validate::MAX_NAME_CHARS,
        )?;
        let (confr_id, role, created) = match self.store.room(&room.room_name) {
            Some(id) => {
                let conf = self.find(&id)?;
                if !conf.password_matches(room.password.as_deref()) {
                    return Err(err(ErrorCode::WrongPassword, "wrong password"));
                }
                // Only the room's creator chooses ADMIN; later joiners get at most TALKER.
                let wanted = room.role.unwrap_or(conf.confr_type.default_role());
                (id, wanted.at_most(Role::Talker), false)
            }
            None => {
                validate::config(&room.config)?;
                self.room_for_a_conference()?;
                let id = ConferenceId(self.new_id('C'));
                let confr_type = room.confr_type.unwrap_or(ConfrType::Communication);
                let conf = Conference::new(
                    id.clone(),
                    confr_type,
                    Some(room.room_name.clone()),
                    room.password,
                    room.config,
                );
                self.store.insert(conf);
                tracing::info!(confr = %id, room = %room.room_name, %user, "room created");
                (id, room.role.unwrap_or(Role::Admin), true)
            }
        };
        let joining = Joining {
            role,
            nick_name: room.nick_name,
            ext: room.ext,
            ticket: None,
            created,
        };
        let joined = self.seat(sid, user, &confr_id, joining, now_ms);
        if joined.is_err() && created {
            self.store.remove(&confr_id);
        }
        joined.map(Response::Joined)
    }

    /// The common end of every join: limits, replacing an older session of the same
    /// user, seating, and the events.
    fn seat(
        &mut self,
        sid: SessionId,
        user: &str,
        confr_id: &ConferenceId,
        j: Joining,
        now_ms: u64,
    ) -> Result<Joined, ErrorBody> {
        let member_id = MemberId(self.new_id('M'));
        let role_token = self.grant_token(user, confr_id, j.role, now_ms);
        let conf = self.find(confr_id)?;
        if conf.seat_of_session(sid).is_some() {
            return Err(err(ErrorCode::BadRequest, "already in this conference"));
        }
        let previous = conf.seat_of_user(user).cloned();
        let replaces_same_kind = previous
            .as_ref()
            .is_some_and(|p| p.role.is_talker() == j.role.is_talker());
        if conf.seats().len() >= self.config.max_members && previous.is_none() {
            return Err(err(
                ErrorCode::TooManyMembers,
                format!(
                    "this server seats at most {} members in a conference",
                    self.config.max_members
                ),
            ));
        }
        if !conf.has_room_for(j.role) && !replaces_same_kind {
            return Err(if j.role.is_talker() {
                err(
                    ErrorCode::TooManyTalkers,
                    format!(
                        "the conference already has {} talkers",
                        conf.config.max_talker_count
                    ),
                )
            } else {
                err(
                    ErrorCode::TooManyMembers,
                    format!(
                        "the conference already has {} audience members",
                        conf.config.max_audience_count
                    ),
                )
            });
        }
        let member = Member {
            id: member_id.clone(),
            name: user.to_owned(),
            global_name: format!("{}#{}", self.keys.app_id(), user),
            nick_name: j.nick_name,
            ext: j.ext,
            role: j.role,
        };
        let conf = self
            .store
            .get_mut(confr_id)
            .ok_or_else(|| err(ErrorCode::ConferenceNotFound, "conference does not exist"))?;
        conf.add(Seat::new(member, sid), &mut self.out);
        if let Some(prev) = &previous {
            // One roster entry per user: the newer login wins. Seated first, so a member
            // who was alone does not end the conference by replacing itself.
            self.leave_session(
                prev.session,
                confr_id,
                MemberExitReason::Replaced,
                Some(ExitReason::LoggedInElsewhere),
                now_ms,
            );
        }
        let conf = self
            .store
            .get(confr_id)
            .ok_or_else(|| err(ErrorCode::ConferenceNotFound, "conference does not exist"))?;
        let members = conf.visible_members(j.role, Some(&member_id));
        let streams = conf.streams.live();
        let confr_type = conf.confr_type;
        let attrs = conf.attrs.clone();
        let muted = conf
            .seat_of_session(sid)
            .is_some_and(|s| conf.is_muted(&s.member));
        if muted {
            if let Some(conf) = self.store.get_mut(confr_id) {
                conf.muted_told.insert(member_id.clone());
            }
        }
        self.empty_deadlines.retain(|(_, id)| id != confr_id);
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.conferences.insert(confr_id.clone());
        }
        self.presence.touch(user);
        tracing::info!(confr = %confr_id, %user, role = j.role.code(), "member joined");
        Ok(Joined {
            confr_id: confr_id.clone(),
            confr_type,
            join_id: member_id,
            role: j.role,
            ticket: j.ticket.unwrap_or_else(|| role_token.clone()),
            role_token,
            created: j.created,
            members,
            streams,
            attrs,
            muted,
        })
    }

    fn room_for_a_conference(&self) -> Result<(), ErrorBody> {
        if self.store.len() >= self.config.max_conferences {
            return Err(err(
                ErrorCode::ClientNotSupported,
                "server limit: too many conferences",
            ));
        }
        Ok(())
    }

    fn find(&self, confr_id: &ConferenceId) -> Result<&Conference, ErrorBody> {
        self.store.get(confr_id).ok_or_else(|| {
            err(
                ErrorCode::ConferenceNotFound,
                format!("conference {confr_id} does not exist"),
            )
        })
    }

    /// The caller's seat in a conference it must be in.
    fn own_seat(&self, sid: SessionId, confr_id: &ConferenceId) -> Result<&Seat, ErrorBody> {
        self.find(confr_id)?
            .seat_of_session(sid)
            .ok_or_else(|| err(ErrorCode::MemberInvalid, "you are not in this conference"))
    }

    fn own_admin_seat(&self, sid: SessionId, confr_id: &ConferenceId) -> Result<&Seat, ErrorBody> {
        let seat = self.own_seat(sid, confr_id)?;
        if seat.role != Role::Admin {
            return Err(err(ErrorCode::IllegalRights, "only an ADMIN may do this"));
        }
        Ok(seat)
    }

    /// Removes `sid`'s member from a conference; tells the member only if `told` is set.
    fn leave_session(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        reason: MemberExitReason,
        told: Option<ExitReason>,
        now_ms: u64,
    ) {
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.conferences.remove(confr_id);
        }
        let Some(id) = self
            .store
            .get(confr_id)
            .and_then(|c| c.seat_of_session(sid))
            .map(|s| s.member.id.clone())
        else {
            return;
        };
        // The streams go first, then the member: others see them in that order.
        self.end_streams_of(confr_id, &id, false);
        self.end_subscriptions_of(confr_id, sid);
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        let Some(seat) = conf.remove(&id, reason, &mut self.out) else {
            return;
        };
        let empty = conf.is_empty();
        self.pk_member_left(confr_id, &id, &seat.member.name);
        self.presence.touch(&seat.member.name);
        if let Some(reason) = told {
            self.out.event(
                sid,
                Event::ConferenceExited {
                    confr_id: confr_id.clone(),
                    reason,
                },
            );
        }
        if empty {
            tracing::info!(confr = %confr_id, "conference ended: last member left");
            if let Some(conf) = self.store.remove(confr_id) {
                self.release_media(&conf);
                self.pk_room_gone(confr_id, conf.pk.clone());
            }
            self.conference_gone(confr_id);
        } else {
            self.promote_if_no_admin(confr_id, &[], now_ms);
        }
        self.left_call(confr_id, &seat.member.name, now_ms);
    }

    fn promote_if_no_admin(&mut self, confr_id: &ConferenceId, except: &[MemberId], now_ms: u64) {
        let Some(conf) = self.store.get(confr_id) else {
            return;
        };
        let Some(heir) = conf.successor_admin(except) else {
            return;
        };
        let user = conf
            .find(heir.as_str())
            .map(|s| s.member.name.clone())
            .unwrap_or_default();
        let token = self.grant_token(&user, confr_id, Role::Admin, now_ms);
        if let Some(conf) = self.store.get_mut(confr_id) {
            conf.set_role(&heir, Role::Admin, token, now_ms, &mut self.out);
        }
    }

    fn destroy(&mut self, sid: SessionId, confr_id: &ConferenceId) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.store.remove(confr_id).expect("checked above");
        self.release_media(&conf);
        self.pk_room_gone(confr_id, conf.pk.clone());
        self.conference_gone(confr_id);
        for seat in conf.seats() {
            self.presence.touch(&seat.member.name);
            if let Some(s) = self.sessions.get_mut(&seat.session) {
                s.conferences.remove(confr_id);
            }
            self.out.event(
                seat.session,
                Event::ConferenceExited {
                    confr_id: confr_id.clone(),
                    reason: ExitReason::Closed,
                },
            );
        }
        tracing::info!(confr = %confr_id, "conference destroyed");
        Ok(Response::Done)
    }

    /// Resolves every name in a kick or grant list, all or nothing.
    fn targets(&self, confr_id: &ConferenceId, names: &[String]) -> Result<Vec<Seat>, ErrorBody> {
        validate::targets(names)?;
        let conf = self.find(confr_id)?;
        let mut seats: Vec<Seat> = Vec::with_capacity(names.len());
        for name in names {
            let seat = conf.find(name).ok_or_else(|| {
                err(
                    ErrorCode::MemberInvalid,
                    format!("no member {name} in this conference"),
                )
            })?;
            if !seats.iter().any(|s| s.member.id == seat.member.id) {
                seats.push(seat.clone());
            }
        }
        Ok(seats)
    }

    fn kick(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        names: &[String],
        now_ms: u64,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let targets = self.targets(confr_id, names)?;
        if targets.iter().any(|t| t.session == sid) {
            return Err(err(
                ErrorCode::BadParameters,
                "you cannot kick yourself: use exitConference",
            ));
        }
        for t in targets {
            if let Some(conf) = self.store.get_mut(confr_id) {
                conf.record_kick(&t.member.name, now_ms);
            }
            self.leave_session(
                t.session,
                confr_id,
                MemberExitReason::Kicked,
                Some(ExitReason::Kicked),
                now_ms,
            );
        }
        Ok(Response::Done)
    }

    fn grant(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        names: &[String],
        role: Role,
        now_ms: u64,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let targets = self.targets(confr_id, names)?;
        let conf = self.find(confr_id)?;
        let changing = targets
            .iter()
            .filter(|t| t.role.is_talker() != role.is_talker())
            .count();
        if role.is_talker()
            && conf.talker_count() + changing > conf.config.max_talker_count as usize
        {
            return Err(err(
                ErrorCode::TooManyTalkers,
                "that many talkers exceed maxTalkerCount",
            ));
        }
        if !role.is_talker()
            && conf.audience_count() + changing > conf.config.max_audience_count as usize
        {
            return Err(err(
                ErrorCode::TooManyMembers,
                "that many audience members exceed maxAudienceCount",
            ));
        }
        let ids: Vec<MemberId> = targets.iter().map(|t| t.member.id.clone()).collect();
        for t in targets {
            let token = self.grant_token(&t.member.name, confr_id, role, now_ms);
            if role == Role::Audience {
                // The audience may not publish: its streams end (first, while everyone
                // still sees their owner), and the owner hears so too.
                self.end_streams_of(confr_id, &t.member.id, true);
            }
            if let Some(conf) = self.store.get_mut(confr_id) {
                conf.set_role(&t.member.id, role, token, now_ms, &mut self.out);
            }
        }
        // An ADMIN who demoted itself may have left the conference without one.
        self.promote_if_no_admin(confr_id, &ids, now_ms);
        // Under muteAll a new ADMIN may speak again, a former one may not.
        self.sync_mutes(confr_id);
        Ok(Response::Done)
    }

    fn info(&self, sid: SessionId, confr_id: &ConferenceId, password: Option<&str>) -> Reply {
        let conf = self.find(confr_id)?;
        let viewer = match conf.seat_of_session(sid) {
            Some(seat) => seat.role,
            None if conf.password_matches(password) => Role::Talker,
            None => return Err(err(ErrorCode::WrongPassword, "wrong password")),
        };
        Ok(Response::Info(conf.info(viewer)))
    }
}

struct Joining {
    role: Role,
    nick_name: Option<String>,
    ext: Option<String>,
    /// The ticket the member joined with; `None` for a join the server granted itself
    /// (by room name, a call), whose ticket is the role token it gets anyway.
    ticket: Option<String>,
    created: bool,
}

struct RoomJoin {
    room_name: String,
    password: Option<String>,
    role: Option<Role>,
    confr_type: Option<ConfrType>,
    config: ConferenceConfig,
    nick_name: Option<String>,
    ext: Option<String>,
}

/// Picks the reply to a frame that is not a valid request: its `rid` when one can be
/// read, -501 for what is not JSON or names no known operation, -200 for wrong fields.
fn describe_parse_error(text: &str, e: &serde_json::Error) -> (u32, ErrorBody) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return (0, err(ErrorCode::BadRequest, "malformed JSON"));
    };
    let rid = value
        .get("rid")
        .and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(0);
    let msg = e.to_string();
    // The operation is the one key of `req` (or `req` itself, for unit requests); an
    // unknown variant elsewhere (a stream type, say) is a bad field, not a bad op.
    let op = match value.get("req") {
        Some(serde_json::Value::String(op)) => Some(op.as_str()),
        Some(serde_json::Value::Object(o)) if o.len() == 1 => o.keys().next().map(String::as_str),
        _ => None,
    };
    if op.is_some_and(|op| msg.contains(&format!("unknown variant `{op}`"))) {
        (
            rid,
            err(ErrorCode::BadRequest, format!("unknown operation: {msg}")),
        )
    } else {
        (
            rid,
            err(
                ErrorCode::BadParameters,
                format!("bad request fields: {msg}"),
            ),
        )
    }
}

#[cfg(test)]
mod tests;
