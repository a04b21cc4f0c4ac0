//! Unit tests of the sans-IO core: every operation, every error path, event order.

use super::*;
use emedia_protocol::{ReplyBody, RoomMsg};
use std::collections::HashMap;
use std::sync::Arc;

const T0: u64 = 1_800_000_000_000;

struct Harness {
    core: Core,
    now: u64,
    next_sid: u64,
    inbox: HashMap<ConnId, Vec<Event>>,
    /// Binary data-transfer frames each connection got.
    data: HashMap<ConnId, Vec<bytes::Bytes>>,
    rid: u32,
    /// Commands the core sent to the SFU, in order.
    media: Vec<MediaCommand>,
    /// Connections the core closed, with the close code.
    closed: Vec<(ConnId, u16)>,
}

impl Harness {
    fn new() -> Self {
        let keys = Keys::new("app", b"0123456789abcdef0123456789abcdef");
        Self {
            core: Core::new(CoreConfig::default(), keys, 7),
            now: T0,
            next_sid: 1,
            inbox: HashMap::new(),
            data: HashMap::new(),
            rid: 0,
            media: Vec::new(),
            closed: Vec::new(),
        }
    }

    fn with_config(config: CoreConfig) -> Self {
        let mut h = Self::new();
        h.core = Core::new(config, h.core.keys().clone(), 7);
        h
    }

    fn raw(&mut self) -> ConnId {
        let sid = ConnId(self.next_sid);
        self.next_sid += 1;
        self.core.handle_connect(sid, self.now);
        sid
    }

    fn login(&mut self, user: &str) -> ConnId {
        let sid = self.raw();
        let token = self
            .core
            .keys()
            .mint_user_token(user, self.now / 1000, 3600);
        self.req(
            sid,
            Request::Auth {
                token,
                protocol: PROTOCOL_VERSION,
            },
        )
        .unwrap();
        sid
    }

    fn drain(&mut self) -> Vec<(ConnId, u32, Reply)> {
        let mut replies = vec![];
        while let Some(out) = self.core.poll_output() {
            let (to, msg) = match out {
                Output::Send { to, msg } => (to, msg),
                Output::Media(cmd) => {
                    self.media.push(cmd);
                    continue;
                }
                Output::Close { conn, code, .. } => {
                    self.closed.push((conn, code));
                    continue;
                }
            };
            match msg {
                Outbound::Event(e) => self
                    .inbox
                    .entry(to)
                    .or_default()
                    .push(Arc::unwrap_or_clone(e)),
                Outbound::Data(frame) => self.data.entry(to).or_default().push(frame),
                Outbound::Reply { rid, body } => replies.push((
                    to,
                    rid,
                    match *body {
                        ReplyBody::Ok(r) => Ok(r),
                        ReplyBody::Err(e) => Err(e),
                    },
                )),
            }
        }
        replies
    }

    fn req(&mut self, sid: ConnId, req: Request) -> Reply {
        self.rid += 1;
        let rid = self.rid;
        self.core
            .handle_request(sid, ClientMessage { rid, req }, self.now);
        let mut replies = self.drain();
        assert_eq!(replies.len(), 1, "exactly one reply");
        let (to, got_rid, reply) = replies.pop().unwrap();
        assert_eq!((to, got_rid), (sid, rid));
        reply
    }

    fn text(&mut self, sid: ConnId, text: &str) -> (u32, Reply) {
        self.core.handle_text(sid, text, self.now);
        let mut replies = self.drain();
        assert_eq!(replies.len(), 1, "exactly one reply");
        let (_, rid, reply) = replies.pop().unwrap();
        (rid, reply)
    }

    fn events(&mut self, sid: ConnId) -> Vec<Event> {
        self.inbox.remove(&sid).unwrap_or_default()
    }

    fn create(&mut self, sid: ConnId, password: Option<&str>) -> (ConferenceId, String) {
        match self.req(
            sid,
            Request::CreateConference {
                confr_type: ConfrType::Communication,
                password: password.map(str::to_owned),
                config: ConferenceConfig::default(),
            },
        ) {
            Ok(Response::Created {
                confr_id, ticket, ..
            }) => (confr_id, ticket),
            other => panic!("create: {other:?}"),
        }
    }

    fn ticket(
        &mut self,
        sid: ConnId,
        confr: &ConferenceId,
        password: Option<&str>,
    ) -> Result<String, ErrorBody> {
        self.req(
            sid,
            Request::GetTicket {
                confr_id: confr.clone(),
                password: password.map(str::to_owned),
            },
        )
        .map(|r| match r {
            Response::Ticket { ticket } => ticket,
            other => panic!("ticket: {other:?}"),
        })
    }

    fn join(
        &mut self,
        sid: ConnId,
        confr: &ConferenceId,
        ticket: &str,
    ) -> Result<Joined, ErrorBody> {
        self.req(
            sid,
            Request::Join {
                confr_id: confr.clone(),
                ticket: ticket.to_owned(),
                ext: None,
                nick_name: None,
            },
        )
        .map(|r| match r {
            Response::Joined(j) => j,
            other => panic!("join: {other:?}"),
        })
    }

    fn join_pw(&mut self, sid: ConnId, confr: &ConferenceId, password: Option<&str>) -> Joined {
        let t = self.ticket(sid, confr, password).unwrap();
        self.join(sid, confr, &t).unwrap()
    }

    fn room(&mut self, sid: ConnId, name: &str, role: Option<Role>) -> Result<Joined, ErrorBody> {
        self.req(
            sid,
            Request::JoinRoom {
                room_name: name.into(),
                password: None,
                role,
                confr_type: None,
                config: ConferenceConfig::default(),
                nick_name: None,
                ext: None,
            },
        )
        .map(|r| match r {
            Response::Joined(j) => j,
            other => panic!("joinRoom: {other:?}"),
        })
    }

    fn grant(&mut self, sid: ConnId, confr: &ConferenceId, who: &str, role: Role) -> Reply {
        self.req(
            sid,
            Request::GrantRole {
                confr_id: confr.clone(),
                members: vec![who.into()],
                role,
            },
        )
    }
}

fn code(r: Result<impl std::fmt::Debug, ErrorBody>) -> ErrorCode {
    r.expect_err("expected an error").code
}

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::MemberJoined { member, .. } => format!("joined {}", member.name),
            Event::MemberExited { member, reason, .. } => {
                format!("exited {} {}", member.name, reason.code())
            }
            Event::MemberRoleChanged { member, .. } => {
                format!("role {} {}", member.name, member.role.code())
            }
            Event::RoleChanged { role, .. } => format!("my role {}", role.code()),
            Event::ConferenceExited { reason, .. } => format!("exit {}", reason.code()),
            Event::StreamAdded { stream, .. } => format!("stream added {}", stream.rtc_id),
            Event::StreamRemoved { stream, .. } => format!("stream removed {}", stream.rtc_id),
            Event::SubscriptionsLost { .. } => "subscriptions lost".to_string(),
            Event::StreamUpdated { stream, .. } => {
                format!(
                    "stream updated {} a{} v{}",
                    stream.rtc_id, stream.aoff as u8, stream.voff as u8
                )
            }
            Event::UserStatusChanged(s) => format!("status {} {}", s.user_id, s.status.code()),
            Event::Invited(i) => format!("invited by {}", i.sponsor),
            Event::CallProgress {
                user_id, progress, ..
            } => format!("call {user_id} {progress:?}"),
            Event::CallEnded { .. } => "call ended".to_string(),
            Event::InviteeListUpdated { user_ids, .. } => {
                format!("invitees {}", user_ids.join(","))
            }
            Event::InviteStatus { status, .. } => format!("invite status {}", status.code()),
            Event::RoomMsg { from, msg, .. } => match msg {
                RoomMsg::Text(t) => format!("text from {}: {t}", from.name),
                RoomMsg::Custom { cmd, msg } => format!("custom from {}: {cmd} {msg}", from.name),
            },
            Event::CmdData { from, data } => format!("cmd from {from}: {data}"),
            Event::DataIncoming { from, size, .. } => format!("data from {from}: {size}"),
            Event::TransferCancelled { transfer_id } => format!("transfer {transfer_id} cancelled"),
            Event::TalkerRequested { applicant, .. } => format!("asks to talk {}", applicant.name),
            Event::TalkerRequestAnswered { agree, .. } => format!("talk answer {agree}"),
            Event::Muted { muted, .. } => format!("muted {muted}"),
            Event::ConfrAttrsUpdated { attrs, .. } => format!("attrs {}", attrs.len()),
            Event::RoomPkRequested { from, .. } => format!("pk asked by {}", from.name),
            Event::RoomPkRefused { .. } => "pk refused".to_string(),
            Event::RoomPkStarted { .. } => "pk started".to_string(),
            Event::RoomPkEnded { .. } => "pk ended".to_string(),
        })
        .collect()
}

/// An ADMIN `a`, a TALKER `b` and an AUDIENCE `c` in one LIVE-less conference.
fn three() -> (Harness, ConferenceId, [ConnId; 3]) {
    let mut h = Harness::new();
    let a = h.login("alice");
    let b = h.login("bob");
    let c = h.login("carol");
    let (confr, admin_ticket) = h.create(a, Some("pw"));
    h.join(a, &confr, &admin_ticket).unwrap();
    h.join_pw(b, &confr, Some("pw"));
    h.join_pw(c, &confr, Some("pw"));
    h.grant(a, &confr, "carol", Role::Audience).unwrap();
    for s in [a, b, c] {
        h.events(s);
    }
    (h, confr, [a, b, c])
}

mod calls;
mod ice_restart;
mod interaction;
mod sessions;

#[test]
fn requests_before_auth_are_refused_and_the_session_stays_usable() {
    let mut h = Harness::new();
    let s = h.raw();
    let r = h.req(
        s,
        Request::Exit {
            confr_id: "C".into(),
        },
    );
    assert_eq!(code(r), ErrorCode::TokenInvalid);
    assert_eq!(h.req(s, Request::Ping).unwrap(), Response::Pong);
    let bad = h.req(
        s,
        Request::Auth {
            token: "x.y.z".into(),
            protocol: PROTOCOL_VERSION,
        },
    );
    assert_eq!(code(bad), ErrorCode::TokenInvalid);
    let token = h.core.keys().mint_user_token("alice", T0 / 1000, 60);
    let old = h.req(
        s,
        Request::Auth {
            token: token.clone(),
            protocol: 99,
        },
    );
    assert_eq!(code(old), ErrorCode::ClientNotSupported);
    assert!(h
        .req(
            s,
            Request::Auth {
                token,
                protocol: PROTOCOL_VERSION
            }
        )
        .is_ok());
}

#[test]
fn create_then_join_with_ticket_makes_the_creator_admin() {
    let mut h = Harness::new();
    let a = h.login("alice");
    let (confr, ticket) = h.create(a, None);
    let j = h.join(a, &confr, &ticket).unwrap();
    assert_eq!(j.role, Role::Admin);
    assert!(j.members.is_empty());
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 1);
}

#[test]
fn joins_are_announced_once_in_order_and_late_joiners_get_the_roster() {
    let mut h = Harness::new();
    let [a, b, c] = [h.login("alice"), h.login("bob"), h.login("carol")];
    let (confr, t) = h.create(a, None);
    h.join(a, &confr, &t).unwrap();
    let jb = h.join_pw(b, &confr, None);
    assert_eq!(jb.role, Role::Talker);
    let jc = h.join_pw(c, &confr, None);
    let roster: Vec<_> = jc.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(roster, ["alice", "bob"]);
    assert_eq!(names(&h.events(a)), ["joined bob", "joined carol"]);
    assert_eq!(names(&h.events(b)), ["joined carol"]);
    assert!(h.events(c).is_empty());
}

#[test]
fn wrong_password_unknown_conference_and_bad_tickets() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let (confr, admin_ticket) = h.create(a, Some("secret"));
    assert_eq!(
        code(h.ticket(b, &confr, Some("nope"))),
        ErrorCode::WrongPassword
    );
    assert_eq!(code(h.ticket(b, &confr, None)), ErrorCode::WrongPassword);
    assert_eq!(
        code(h.ticket(b, &"Cnone".into(), None)),
        ErrorCode::ConferenceNotFound
    );
    // Alice's ticket is not Bob's.
    assert_eq!(
        code(h.join(b, &confr, &admin_ticket)),
        ErrorCode::TicketInvalid
    );
    assert_eq!(code(h.join(b, &confr, "garbage")), ErrorCode::TicketInvalid);
    // A ticket for one conference does not open another.
    let (other, _) = h.create(a, None);
    let t = h.ticket(b, &confr, Some("secret")).unwrap();
    assert_eq!(code(h.join(b, &other, &t)), ErrorCode::TicketInvalid);
    // Expired.
    h.now += 11 * 60 * 1000 + LEEWAY_MS;
    assert_eq!(code(h.join(b, &confr, &t)), ErrorCode::TicketExpired);
}

const LEEWAY_MS: u64 = crate::auth::LEEWAY_SECS * 1000;

#[test]
fn only_admins_kick_grant_and_destroy() {
    let (mut h, confr, [_, b, c]) = three();
    assert_eq!(
        code(h.req(
            b,
            Request::Kick {
                confr_id: confr.clone(),
                members: vec!["carol".into()]
            }
        )),
        ErrorCode::IllegalRights
    );
    assert_eq!(
        code(h.grant(b, &confr, "bob", Role::Admin)),
        ErrorCode::IllegalRights
    );
    assert_eq!(
        code(h.req(
            c,
            Request::Destroy {
                confr_id: confr.clone()
            }
        )),
        ErrorCode::IllegalRights
    );
    let outsider = h.login("dave");
    assert_eq!(
        code(h.req(
            outsider,
            Request::Destroy {
                confr_id: confr.clone()
            }
        )),
        ErrorCode::MemberInvalid
    );
    assert_eq!(
        code(h.req(
            outsider,
            Request::Exit {
                confr_id: confr.clone()
            }
        )),
        ErrorCode::MemberInvalid
    );
    assert!(h.events(b).is_empty() && h.events(c).is_empty());
}

#[test]
fn audience_is_shown_to_admins_only() {
    let mut h = Harness::new();
    let [a, b, c] = [h.login("alice"), h.login("bob"), h.login("carol")];
    let (confr, t) = h.create(a, None);
    h.join(a, &confr, &t).unwrap();
    h.join_pw(b, &confr, None);
    h.events(a);
    h.grant(a, &confr, "bob", Role::Audience).unwrap();
    assert_eq!(names(&h.events(a)), ["role bob 1"]);
    assert_eq!(names(&h.events(b)), ["my role 1"]);
    let jc = h.join_pw(c, &confr, None);
    let roster: Vec<_> = jc.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(roster, ["alice"], "carol does not see audience bob");
    assert_eq!(names(&h.events(a)), ["joined carol"]);
    assert_eq!(
        names(&h.events(b)),
        ["joined carol"],
        "talkers are shown to the audience"
    );
    // Bob leaves: only the admin hears of it.
    h.req(
        b,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert_eq!(names(&h.events(a)), ["exited bob 0"]);
    assert!(h.events(c).is_empty());
}

#[test]
fn role_changes_move_members_in_and_out_of_views() {
    let (mut h, confr, [a, b, c]) = three();
    // Carol (audience) becomes talker: bob now sees her join.
    h.grant(a, &confr, "carol", Role::Talker).unwrap();
    assert_eq!(names(&h.events(a)), ["role carol 3"]);
    assert_eq!(names(&h.events(b)), ["joined carol"]);
    assert_eq!(names(&h.events(c)), ["my role 3"]);
    // Back to audience: bob sees her go, as hidden.
    h.grant(a, &confr, "carol", Role::Audience).unwrap();
    assert_eq!(names(&h.events(b)), ["exited carol 13"]);
    h.events(a);
    h.events(c);
    // Bob becomes admin: he now sees the audience.
    h.grant(a, &confr, "bob", Role::Admin).unwrap();
    assert_eq!(names(&h.events(b)), ["my role 7", "joined carol"]);
    assert_eq!(names(&h.events(a)), ["role bob 7"]);
    assert_eq!(names(&h.events(c)), ["role bob 7"]);
    // Granting the role a member already has changes nothing and tells nobody.
    h.grant(a, &confr, "bob", Role::Admin).unwrap();
    assert!(h.events(a).is_empty() && h.events(b).is_empty() && h.events(c).is_empty());
}

#[test]
fn kick_tells_the_kicked_and_the_others_and_revokes_old_tickets() {
    let (mut h, confr, [a, b, c]) = three();
    let old_ticket = h.ticket(b, &confr, Some("pw")).unwrap();
    h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec!["bob".into()],
        },
    )
    .unwrap();
    assert_eq!(names(&h.events(b)), ["exit 12"]);
    assert_eq!(names(&h.events(a)), ["exited bob 12"]);
    assert_eq!(names(&h.events(c)), ["exited bob 12"]);
    assert_eq!(
        code(h.join(b, &confr, &old_ticket)),
        ErrorCode::TicketInvalid
    );
    // A ticket issued after the kick lets the admin's decision be undone by a new invitation.
    h.now += 1;
    let fresh = h.ticket(b, &confr, Some("pw")).unwrap();
    assert!(h.join(b, &confr, &fresh).is_ok());
}

#[test]
fn kick_and_grant_lists_are_all_or_nothing() {
    let (mut h, confr, [a, b, c]) = three();
    let r = h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec!["bob".into(), "nobody".into()],
        },
    );
    assert_eq!(code(r), ErrorCode::MemberInvalid);
    let r = h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec![],
        },
    );
    assert_eq!(code(r), ErrorCode::BadParameters);
    let r = h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec!["alice".into()],
        },
    );
    assert_eq!(code(r), ErrorCode::BadParameters);
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 3);
    assert!(h.events(b).is_empty() && h.events(c).is_empty());
}

#[test]
fn kick_by_member_id_works_too() {
    let (mut h, confr, [a, b, _]) = three();
    let bob_id = h
        .core
        .conference(&confr)
        .unwrap()
        .seat_of_session(h.core.conns[&b])
        .unwrap()
        .member
        .id
        .clone();
    h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec![bob_id.0],
        },
    )
    .unwrap();
    assert_eq!(names(&h.events(b)), ["exit 12"]);
}

#[test]
fn destroy_closes_the_conference_for_everyone() {
    let (mut h, confr, [a, b, c]) = three();
    h.req(
        a,
        Request::Destroy {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    for s in [a, b, c] {
        assert_eq!(names(&h.events(s)), ["exit 11"]);
    }
    assert_eq!(h.core.conference_count(), 0);
    assert_eq!(
        code(h.ticket(b, &confr, Some("pw"))),
        ErrorCode::ConferenceNotFound
    );
}

#[test]
fn last_admin_leaving_promotes_the_earliest_talker() {
    let (mut h, confr, [a, b, c]) = three();
    h.req(
        a,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert!(
        h.events(a).is_empty(),
        "the leaver's own SDK reports its exit"
    );
    assert_eq!(
        names(&h.events(b)),
        ["exited alice 0", "my role 7", "joined carol"]
    );
    assert_eq!(names(&h.events(c)), ["exited alice 0", "role bob 7"]);
}

#[test]
fn admin_demoting_itself_hands_over() {
    let (mut h, confr, [a, b, _]) = three();
    h.grant(a, &confr, "alice", Role::Talker).unwrap();
    let ea = names(&h.events(a));
    assert_eq!(ea[..2], ["my role 3", "exited carol 13"]);
    assert_eq!(ea[2], "role bob 7");
    assert_eq!(names(&h.events(b))[..2], ["role alice 3", "my role 7"]);
}

#[test]
fn conference_ends_with_its_last_member() {
    let mut h = Harness::new();
    let a = h.login("alice");
    let (confr, t) = h.create(a, None);
    h.join(a, &confr, &t).unwrap();
    h.req(
        a,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert_eq!(h.core.conference_count(), 0);
    assert_eq!(code(h.join(a, &confr, &t)), ErrorCode::ConferenceNotFound);
}

#[test]
fn an_unjoined_conference_expires() {
    let mut h = Harness::new();
    let a = h.login("alice");
    let (_c1, _) = h.create(a, None);
    // Without sessions, the only timer left is the conference's.
    h.core.handle_disconnect(a, true, h.now);
    let deadline = h.core.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + 120_000);
    h.core.handle_timeout(deadline - 1);
    assert_eq!(h.core.conference_count(), 1);
    h.core.handle_timeout(deadline);
    assert_eq!(h.core.conference_count(), 0);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn join_room_creates_once_and_caps_later_roles() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let ja = h.room(a, "lobby", None).unwrap();
    assert!(ja.created);
    assert_eq!(ja.role, Role::Admin);
    let jb = h.room(b, "lobby", Some(Role::Admin)).unwrap();
    assert!(!jb.created);
    assert_eq!(jb.confr_id, ja.confr_id);
    assert_eq!(jb.role, Role::Talker, "only the creator may pick ADMIN");
    // The ticket a joinRoom returns works for joinConferenceWithTicket.
    h.req(
        b,
        Request::Exit {
            confr_id: jb.confr_id.clone(),
        },
    )
    .unwrap();
    assert!(h.join(b, &jb.confr_id, &jb.ticket).is_ok());
    // The room name frees up when the room ends.
    h.req(
        a,
        Request::Destroy {
            confr_id: ja.confr_id.clone(),
        },
    )
    .unwrap();
    assert!(h.room(b, "lobby", Some(Role::Audience)).unwrap().created);
    assert_eq!(code(h.room(a, "  ", None)), ErrorCode::BadParameters);
}

#[test]
fn join_room_checks_the_password_of_an_existing_room() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let first = Request::JoinRoom {
        room_name: "vault".into(),
        password: Some("pw".into()),
        role: None,
        confr_type: None,
        config: ConferenceConfig::default(),
        nick_name: Some("Al".into()),
        ext: Some(r#"{"k":1}"#.into()),
    };
    h.req(a, first).unwrap();
    assert_eq!(code(h.room(b, "vault", None)), ErrorCode::WrongPassword);
}

#[test]
fn limits_refuse_extra_talkers_and_audience() {
    let mut h = Harness::new();
    let [a, b, c] = [h.login("alice"), h.login("bob"), h.login("carol")];
    let config = ConferenceConfig {
        max_talker_count: 2,
        max_audience_count: 0,
        ..Default::default()
    };
    let r = h.req(
        a,
        Request::CreateConference {
            confr_type: ConfrType::Communication,
            password: None,
            config,
        },
    );
    let Ok(Response::Created {
        confr_id, ticket, ..
    }) = r
    else {
        panic!("{r:?}")
    };
    h.join(a, &confr_id, &ticket).unwrap();
    h.join_pw(b, &confr_id, None);
    let t = h.ticket(c, &confr_id, None).unwrap();
    assert_eq!(code(h.join(c, &confr_id, &t)), ErrorCode::TooManyTalkers);
    assert_eq!(
        code(h.grant(a, &confr_id, "bob", Role::Audience)),
        ErrorCode::TooManyMembers
    );
    let bad = ConferenceConfig {
        max_talker_count: 0,
        ..Default::default()
    };
    let r = h.req(
        a,
        Request::CreateConference {
            confr_type: ConfrType::Live,
            password: None,
            config: bad,
        },
    );
    assert_eq!(code(r), ErrorCode::BadParameters);
}

#[test]
fn live_conferences_seat_ticket_holders_as_audience() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let r = h.req(
        a,
        Request::CreateConference {
            confr_type: ConfrType::Live,
            password: None,
            config: Default::default(),
        },
    );
    let Ok(Response::Created {
        confr_id, ticket, ..
    }) = r
    else {
        panic!("{r:?}")
    };
    h.join(a, &confr_id, &ticket).unwrap();
    assert_eq!(h.join_pw(b, &confr_id, None).role, Role::Audience);
}

#[test]
fn a_second_join_is_refused_and_a_second_login_replaces_the_first() {
    let (mut h, confr, [a, b, _]) = three();
    let t = h.ticket(b, &confr, Some("pw")).unwrap();
    assert_eq!(code(h.join(b, &confr, &t)), ErrorCode::BadRequest);
    let b2 = h.login("bob");
    let j = h.join_pw(b2, &confr, Some("pw"));
    assert_eq!(j.role, Role::Talker);
    assert_eq!(names(&h.events(b)), ["exit 10"]);
    assert_eq!(names(&h.events(a)), ["joined bob", "exited bob 10"]);
    let bobs = h
        .core
        .conference(&confr)
        .unwrap()
        .seats()
        .iter()
        .filter(|s| s.member.name == "bob")
        .count();
    assert_eq!(bobs, 1);
}

#[test]
fn grant_role_outranks_an_older_ticket() {
    let (mut h, confr, [a, b, _]) = three();
    let t = h.ticket(b, &confr, Some("pw")).unwrap();
    h.now += 5;
    h.grant(a, &confr, "bob", Role::Audience).unwrap();
    h.req(
        b,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert_eq!(h.join(b, &confr, &t).unwrap().role, Role::Audience);
}

#[test]
fn a_dropped_connection_leaves_as_a_network_failure() {
    let (mut h, confr, [a, b, c]) = three();
    h.core.handle_disconnect(b, true, h.now);
    h.drain();
    assert_eq!(names(&h.events(a)), ["exited bob 4"]);
    assert_eq!(names(&h.events(c)), ["exited bob 4"]);
    assert_eq!(h.core.session_count(), 2);
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 2);
}

#[test]
fn get_info_respects_password_and_visibility() {
    let (mut h, confr, [a, b, _]) = three();
    let outsider = h.login("dave");
    let r = h.req(
        outsider,
        Request::GetInfo {
            confr_id: confr.clone(),
            password: None,
        },
    );
    assert_eq!(code(r), ErrorCode::WrongPassword);
    let Ok(Response::Info(info)) = h.req(
        outsider,
        Request::GetInfo {
            confr_id: confr.clone(),
            password: Some("pw".into()),
        },
    ) else {
        panic!()
    };
    assert!(info.has_password);
    assert_eq!(info.members.len(), 2, "outsiders do not see the audience");
    let Ok(Response::Info(info)) = h.req(
        a,
        Request::GetInfo {
            confr_id: confr.clone(),
            password: None,
        },
    ) else {
        panic!()
    };
    assert_eq!(info.members.len(), 3);
    let Ok(Response::Info(info)) = h.req(
        b,
        Request::GetInfo {
            confr_id: confr.clone(),
            password: None,
        },
    ) else {
        panic!()
    };
    assert_eq!(info.members.len(), 2);
}

#[test]
fn malformed_frames_get_one_error_reply_each() {
    let mut h = Harness::new();
    let s = h.login("alice");
    let (rid, r) = h.text(s, "{not json");
    assert_eq!((rid, code(r)), (0, ErrorCode::BadRequest));
    let (rid, r) = h.text(s, r#"{"rid":5,"req":{"fly_to_moon":{}}}"#);
    assert_eq!((rid, code(r)), (5, ErrorCode::BadRequest));
    let (rid, r) = h.text(s, r#"{"rid":6,"req":{"exit":{"confrId":42}}}"#);
    assert_eq!((rid, code(r)), (6, ErrorCode::BadParameters));
    let (rid, r) = h.text(
        s,
        r#"{"rid":7,"req":{"grant_role":{"confrId":"C","members":["x"],"role":5}}}"#,
    );
    assert_eq!((rid, code(r)), (7, ErrorCode::BadParameters));
    let (rid, r) = h.text(
        s,
        r#"{"rid":8,"req":{"join":{"confrId":"C","ticket":"t","ext":"{oops"}}}"#,
    );
    assert_eq!((rid, code(r)), (8, ErrorCode::BadParameters));
    // Still usable.
    let (rid, r) = h.text(s, r#"{"rid":9,"req":"ping"}"#);
    assert_eq!((rid, r.unwrap()), (9, Response::Pong));
}

// ---- media: publishing, subscribing and the SFU round trips ----

impl Harness {
    /// Sends a publish or subscribe, which is answered only after the SFU answers.
    fn negotiate(&mut self, sid: ConnId, req: Request) -> (u32, Option<Reply>) {
        self.rid += 1;
        let rid = self.rid;
        self.core
            .handle_request(sid, ClientMessage { rid, req }, self.now);
        let reply = self.drain().pop().map(|(_, _, r)| r);
        (rid, reply)
    }

    fn last_peer(&self) -> PeerId {
        match self.media.last() {
            Some(MediaCommand::Publish { peer, .. } | MediaCommand::Subscribe { peer, .. }) => {
                *peer
            }
            other => panic!("no negotiation sent: {other:?}"),
        }
    }

    fn sfu_answers(&mut self, peer: PeerId) -> Reply {
        self.core.handle_media(MediaEvent::Answered {
            peer,
            sdp: "answer".into(),
        });
        let mut replies = self.drain();
        assert_eq!(replies.len(), 1, "the negotiation gets its one reply");
        replies.pop().unwrap().2
    }

    fn publish(
        &mut self,
        sid: ConnId,
        confr: &ConferenceId,
        rtc_id: &str,
        stream_type: StreamType,
    ) -> Result<StreamInfo, ErrorBody> {
        let (_, early) = self.negotiate(sid, publish_req(confr, rtc_id, stream_type));
        if let Some(reply) = early {
            return reply.map(|r| panic!("answered before the SFU: {r:?}"));
        }
        let peer = self.last_peer();
        match self.sfu_answers(peer)? {
            Response::Published { stream, sdp } => {
                assert_eq!(sdp, "answer");
                Ok(stream)
            }
            other => panic!("publish: {other:?}"),
        }
    }

    fn subscribe(
        &mut self,
        sid: ConnId,
        confr: &ConferenceId,
        stream: &StreamInfo,
    ) -> Result<PeerId, ErrorBody> {
        let req = Request::Subscribe {
            confr_id: confr.clone(),
            stream_id: stream.id.clone(),
            sdp: "offer".into(),
            audio_mid: Some("0".into()),
            video_mid: Some("1".into()),
        };
        if let (_, Some(reply)) = self.negotiate(sid, req) {
            return reply.map(|r| panic!("answered before the SFU: {r:?}"));
        }
        let peer = self.last_peer();
        match self.sfu_answers(peer)? {
            Response::Subscribed { stream_id, .. } => {
                assert_eq!(stream_id, stream.id);
                Ok(peer)
            }
            other => panic!("subscribe: {other:?}"),
        }
    }
}

fn publish_req(confr: &ConferenceId, rtc_id: &str, stream_type: StreamType) -> Request {
    Request::Publish {
        confr_id: confr.clone(),
        rtc_id: rtc_id.into(),
        stream_type,
        audio: true,
        video: true,
        ext: None,
        sdp: "offer".into(),
    }
}

fn closes(media: &[MediaCommand]) -> usize {
    media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Close { .. }))
        .count()
}

use emedia_protocol::{StreamInfo, StreamType};

#[test]
fn a_published_stream_is_announced_once_live_and_subscribed() {
    let (mut h, confr, [a, b, c]) = three();
    let (_, early) = h.negotiate(b, publish_req(&confr, "cam", StreamType::Camera));
    assert!(early.is_none());
    assert!(
        h.events(a).is_empty(),
        "nothing is announced before the SFU answers"
    );
    let peer = h.last_peer();
    let Ok(Response::Published { stream, .. }) = h.sfu_answers(peer) else {
        panic!()
    };
    assert_eq!(names(&h.events(a)), ["stream added cam"]);
    assert_eq!(
        names(&h.events(c)),
        ["stream added cam"],
        "the audience sees streams"
    );
    assert!(h.events(b).is_empty(), "the publisher has its reply");
    assert_eq!(
        stream.mem_id,
        h.core
            .conference(&confr)
            .unwrap()
            .seat_of_session(h.core.conns[&b])
            .unwrap()
            .member
            .id
    );

    let sub = h.subscribe(c, &confr, &stream).unwrap();
    assert!(
        matches!(&h.media[h.media.len() - 1], MediaCommand::Subscribe { source, .. } if *source == peer)
    );
    assert_eq!(h.core.peer_count(), 2);
    assert_ne!(sub, peer);
    // A late joiner hears of the stream in its join reply.
    let d = h.login("dave");
    let j = h.join_pw(d, &confr, Some("pw"));
    assert_eq!(
        j.streams
            .iter()
            .map(|s| s.rtc_id.as_str())
            .collect::<Vec<_>>(),
        ["cam"]
    );
}

#[test]
fn publish_rules_refuse_without_leaving_a_trace() {
    let (mut h, confr, [a, b, c]) = three();
    assert_eq!(
        code(h.publish(c, &confr, "cam", StreamType::Camera)),
        ErrorCode::IllegalRights
    );
    let (_, r) = h.negotiate(
        b,
        Request::Publish {
            confr_id: confr.clone(),
            rtc_id: "x".into(),
            stream_type: StreamType::Camera,
            audio: true,
            video: true,
            ext: None,
            sdp: " ".into(),
        },
    );
    assert_eq!(code(r.unwrap()), ErrorCode::SdpRequired);
    h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    assert_eq!(
        code(h.publish(b, &confr, "cam", StreamType::Camera)),
        ErrorCode::BadRequest,
        "same rtcId twice"
    );
    let outsider = h.login("eve");
    assert_eq!(
        code(h.publish(outsider, &confr, "cam", StreamType::Camera)),
        ErrorCode::MemberInvalid
    );
    // The SFU refuses an offer: one error reply, no announcement, nothing held.
    for s in [a, b, c] {
        h.events(s);
    }
    let (_, early) = h.negotiate(a, publish_req(&confr, "bad", StreamType::Camera));
    assert!(early.is_none());
    let peer = h.last_peer();
    h.core.handle_media(MediaEvent::Refused {
        peer,
        code: ErrorCode::SubscribeNoCodec,
        message: "no codec".into(),
    });
    let replies = h.drain();
    assert_eq!(replies.len(), 1);
    assert_eq!(code(replies[0].2.clone()), ErrorCode::SubscribeNoCodec);
    assert!(h.events(b).is_empty() && h.events(c).is_empty());
    assert_eq!((h.core.stream_count(), h.core.peer_count()), (1, 1));
}

#[test]
fn video_and_desktop_limits() {
    let mut h = Harness::new();
    let a = h.login("alice");
    let config = ConferenceConfig {
        max_video_count: 1,
        max_pub_desktop_count: 1,
        ..Default::default()
    };
    let Ok(Response::Created {
        confr_id, ticket, ..
    }) = h.req(
        a,
        Request::CreateConference {
            confr_type: ConfrType::Communication,
            password: None,
            config,
        },
    )
    else {
        panic!()
    };
    h.join(a, &confr_id, &ticket).unwrap();
    h.publish(a, &confr_id, "cam1", StreamType::Camera).unwrap();
    assert_eq!(
        code(h.publish(a, &confr_id, "cam2", StreamType::Camera)),
        ErrorCode::TooManyVideos
    );
    h.publish(a, &confr_id, "screen1", StreamType::Desktop)
        .unwrap();
    assert_eq!(
        code(h.publish(a, &confr_id, "screen2", StreamType::Desktop)),
        ErrorCode::TooManyVideos
    );
}

#[test]
fn subscribing_to_unknown_or_pending_streams_is_refused() {
    let (mut h, confr, [_, b, c]) = three();
    let ghost = StreamInfo {
        id: "Snope".into(),
        mem_id: "M".into(),
        rtc_id: "x".into(),
        stream_type: StreamType::Camera,
        audio: true,
        video: true,
        aoff: false,
        voff: false,
        ext: None,
    };
    assert_eq!(
        code(h.subscribe(c, &confr, &ghost)),
        ErrorCode::PublishInactive
    );
    h.negotiate(b, publish_req(&confr, "cam", StreamType::Camera));
    let pending_id = h.core.conference(&confr).unwrap().streams.all()[0]
        .info
        .clone();
    assert_eq!(
        code(h.subscribe(c, &confr, &pending_id)),
        ErrorCode::PublishInactive
    );
}

#[test]
fn pause_and_resume_reach_everyone_else() {
    let (mut h, confr, [a, b, c]) = three();
    let s = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    h.events(a);
    h.events(c);
    let set = |aoff, voff| Request::SetMedia {
        confr_id: confr.clone(),
        stream_id: s.id.clone(),
        aoff,
        voff,
    };
    h.req(b, set(false, true)).unwrap();
    assert_eq!(names(&h.events(a)), ["stream updated cam a0 v1"]);
    assert_eq!(names(&h.events(c)), ["stream updated cam a0 v1"]);
    assert!(h.events(b).is_empty());
    h.req(b, set(false, false)).unwrap();
    assert_eq!(names(&h.events(a)), ["stream updated cam a0 v0"]);
    assert_eq!(
        code(h.req(a, set(true, true))),
        ErrorCode::IllegalRights,
        "not a's stream"
    );
}

#[test]
fn unpublish_kick_and_demotion_end_streams_and_free_every_peer() {
    let (mut h, confr, [a, b, c]) = three();
    let s1 = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    let s2 = h.publish(b, &confr, "screen", StreamType::Desktop).unwrap();
    h.subscribe(a, &confr, &s1).unwrap();
    h.subscribe(c, &confr, &s1).unwrap();
    h.subscribe(c, &confr, &s2).unwrap();
    // Two publishers, and one subscriber connection each for alice and carol.
    assert_eq!(h.core.peer_count(), 4);
    let c_subs: Vec<_> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Subscribe { peer, .. } => Some(*peer),
            _ => None,
        })
        .collect();
    assert_eq!(
        c_subs[1], c_subs[2],
        "carol's second subscription renegotiates her connection"
    );
    for s in [a, b, c] {
        h.events(s);
    }
    // Unpublish: the publisher's peer closes (and with it its routes in the SFU).
    h.media.clear();
    h.req(
        b,
        Request::Unpublish {
            confr_id: confr.clone(),
            stream_id: s1.id.clone(),
        },
    )
    .unwrap();
    assert_eq!(closes(&h.media), 1);
    assert_eq!(names(&h.events(a)), ["stream removed cam"]);
    assert_eq!(names(&h.events(c)), ["stream removed cam"]);
    assert!(h.events(b).is_empty());
    // Demotion to AUDIENCE ends the rest, and the owner hears it too.
    h.media.clear();
    h.grant(a, &confr, "bob", Role::Audience).unwrap();
    assert_eq!(closes(&h.media), 1);
    assert_eq!(names(&h.events(b)), ["stream removed screen", "my role 1"]);
    assert_eq!(
        names(&h.events(c)),
        ["stream removed screen", "exited bob 13"]
    );
    // Only the subscriber connections remain, ready for the next stream.
    assert_eq!((h.core.stream_count(), h.core.peer_count()), (0, 2));
    // Kick a publisher: its streams go, then it does.
    h.grant(a, &confr, "carol", Role::Talker).unwrap();
    let s3 = h.publish(c, &confr, "cam", StreamType::Camera).unwrap();
    h.subscribe(a, &confr, &s3).unwrap();
    h.events(a);
    h.req(
        a,
        Request::Kick {
            confr_id: confr.clone(),
            members: vec!["carol".into()],
        },
    )
    .unwrap();
    assert_eq!(
        names(&h.events(a)),
        ["stream removed cam", "exited carol 12"]
    );
    assert_eq!((h.core.stream_count(), h.core.peer_count()), (0, 1));
    // Alice leaves too: nothing is held.
    h.req(
        a,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    h.req(
        b,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert_eq!((h.core.stream_count(), h.core.peer_count()), (0, 0));
}

#[test]
fn a_subscriber_leaving_frees_its_peers_and_a_failed_publisher_ends_its_stream() {
    let (mut h, confr, [a, b, c]) = three();
    let s = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    h.subscribe(c, &confr, &s).unwrap();
    h.req(
        c,
        Request::Exit {
            confr_id: confr.clone(),
        },
    )
    .unwrap();
    assert_eq!(h.core.peer_count(), 1);
    let publisher = match h
        .media
        .iter()
        .find(|m| matches!(m, MediaCommand::Publish { .. }))
    {
        Some(MediaCommand::Publish { peer, .. }) => *peer,
        _ => unreachable!(),
    };
    h.events(a);
    h.core.handle_media(MediaEvent::Closed { peer: publisher });
    h.drain();
    assert_eq!(names(&h.events(a)), ["stream removed cam"]);
    assert_eq!(
        names(&h.events(b)),
        ["stream removed cam"],
        "the owner learns its media failed"
    );
    assert_eq!((h.core.stream_count(), h.core.peer_count()), (0, 0));
}

#[test]
fn destroy_settles_pending_negotiations() {
    let (mut h, confr, [a, b, _]) = three();
    let (rid, _) = h.negotiate(b, publish_req(&confr, "cam", StreamType::Camera));
    h.core.handle_request(
        a,
        ClientMessage {
            rid: 99,
            req: Request::Destroy {
                confr_id: confr.clone(),
            },
        },
        h.now,
    );
    let replies = h.drain();
    let to_b: Vec<_> = replies
        .iter()
        .filter(|(to, r, _)| *to == b && *r == rid)
        .collect();
    assert_eq!(to_b.len(), 1);
    assert_eq!(code(to_b[0].2.clone()), ErrorCode::ConferenceDisbanded);
    assert_eq!(h.core.peer_count(), 0);
}

#[test]
fn unsubscribe_unroutes_and_a_stream_ending_mid_offer_still_replies_once() {
    let (mut h, confr, [a, b, c]) = three();
    let s = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    h.subscribe(c, &confr, &s).unwrap();
    h.media.clear();
    h.req(
        c,
        Request::Unsubscribe {
            confr_id: confr.clone(),
            stream_id: s.id.clone(),
        },
    )
    .unwrap();
    assert!(matches!(h.media[..], [MediaCommand::Unroute { .. }]));
    // A subscription in flight when the stream ends: one error reply, and the SFU's
    // later answer is dropped rather than replied a second time.
    let (rid, early) = h.negotiate(
        a,
        Request::Subscribe {
            confr_id: confr.clone(),
            stream_id: s.id.clone(),
            sdp: "o".into(),
            audio_mid: None,
            video_mid: Some("0".into()),
        },
    );
    assert!(early.is_none());
    let sub_peer = h.last_peer();
    h.core.handle_request(
        b,
        ClientMessage {
            rid: 500,
            req: Request::Unpublish {
                confr_id: confr.clone(),
                stream_id: s.id.clone(),
            },
        },
        h.now,
    );
    let replies = h.drain();
    assert!(
        !replies.iter().any(|(to, r, _)| *to == a && *r == rid),
        "the reply waits for the SFU's answer"
    );
    assert_eq!(
        names(&h.events(a)),
        ["stream added cam", "stream removed cam"]
    );
    // The answer still reaches the client, which applies it to stay in step with the
    // SFU and then finds the stream gone; exactly one reply.
    h.core.handle_media(MediaEvent::Answered {
        peer: sub_peer,
        sdp: "late".into(),
    });
    let replies = h.drain();
    assert_eq!(replies.len(), 1);
    assert_eq!((replies[0].0, replies[0].1), (a, rid));
    assert!(matches!(replies[0].2, Ok(Response::Subscribed { .. })));
}

#[test]
fn a_failed_subscriber_connection_ends_its_subscriptions_and_says_so() {
    let (mut h, confr, [_, b, c]) = three();
    let s = h.publish(b, &confr, "cam", StreamType::Camera).unwrap();
    let peer = h.subscribe(c, &confr, &s).unwrap();
    h.events(c);
    h.core.handle_media(MediaEvent::Closed { peer });
    h.drain();
    assert_eq!(names(&h.events(c)), ["subscriptions lost"]);
    assert_eq!(h.core.peer_count(), 1);
    // An answer for the gone connection (from a command the SFU still had queued)
    // is met with a Close, so nothing leaks in the SFU.
    h.media.clear();
    h.core.handle_media(MediaEvent::Answered {
        peer,
        sdp: "x".into(),
    });
    h.drain();
    assert_eq!(h.media, [MediaCommand::Close { peer }]);
}

#[test]
fn a_lone_member_rejoining_from_a_new_session_keeps_the_conference() {
    let mut h = Harness::new();
    let a1 = h.login("alice");
    let (confr, ticket) = h.create(a1, None);
    h.join(a1, &confr, &ticket).unwrap();
    let a2 = h.login("alice");
    let j = h.join(a2, &confr, &ticket).unwrap();
    assert_eq!(j.role, Role::Admin);
    assert_eq!(names(&h.events(a1)), ["exit 10"]);
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 1);
}
