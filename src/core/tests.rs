//! Unit tests of the SDK core: queuing and login order, every reply kind, every
//! event, failures of the link, and local checks.

use super::*;
use emedia_protocol::{ConferenceConfig, ConfrType, ErrorBody, Joined, Member, MemberExitReason};

fn member(id: &str, name: &str, role: Role) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        global_name: format!("app#{name}"),
        nick_name: None,
        ext: None,
        role,
    }
}

fn ready() -> Client {
    let mut c = Client::new();
    c.set_server("http://127.0.0.1:8080").unwrap();
    c.set_identity("alice", "tok", 0).unwrap();
    c
}

fn sent(c: &mut Client) -> Vec<ClientMessage> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

fn done(c: &mut Client) -> Vec<Completion> {
    std::iter::from_fn(|| c.poll_completion()).collect()
}

fn events(c: &mut Client) -> Vec<SdkEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn ok(rid: u32, r: Response) -> ServerMessage {
    ServerMessage::Reply {
        rid,
        body: ReplyBody::Ok(r),
    }
}

fn fail(rid: u32, code: ErrorCode) -> ServerMessage {
    ServerMessage::Reply {
        rid,
        body: ReplyBody::Err(ErrorBody::new(code, "nope")),
    }
}

fn joined(confr: &str, role: Role, members: Vec<Member>) -> Response {
    Response::Joined(Joined {
        confr_id: confr.into(),
        confr_type: ConfrType::Communication,
        join_id: "Mme".into(),
        role,
        role_token: "rt".into(),
        ticket: "t".into(),
        created: false,
        members: members.into_iter().map(Into::into).collect(),
        streams: vec![],
        attrs: Default::default(),
        muted: false,
    })
}

/// Opens the link and answers the login; returns the client with nothing pending.
fn connected_with(cmd: Command) -> (Client, u32) {
    let mut c = ready();
    c.handle_command(1, cmd, 0);
    assert_eq!(
        c.poll_transport(),
        Some(TransportCommand::Open {
            url: "ws://127.0.0.1:8080/ws".into()
        })
    );
    assert!(
        sent(&mut c).is_empty(),
        "nothing goes out before the socket opens"
    );
    c.handle_open(1);
    let msgs = sent(&mut c);
    assert!(matches!(msgs[0].req, Request::Auth { .. }), "login first");
    c.handle_message(
        ok(
            msgs[0].rid,
            Response::Authed {
                user: "alice".into(),
                app_id: "a".into(),
                protocol: 1,
                session: "1.key".into(),
            },
        ),
        2,
    );
    (c, msgs[1].rid)
}

/// joinConferenceWithTicket into C1.
fn join_c1() -> Command {
    Command::Send(Request::Join {
        confr_id: "C1".into(),
        ticket: "t".into(),
        ext: None,
        nick_name: None,
    })
}

fn in_conference(role: Role, members: Vec<Member>) -> Client {
    let (mut c, rid) = connected_with(join_c1());
    c.handle_message(ok(rid, joined("C1", role, members)), 3);
    done(&mut c);
    events(&mut c);
    c
}

#[test]
fn server_urls() {
    assert_eq!(signaling_url("http://h:1").unwrap(), "ws://h:1/ws");
    assert_eq!(signaling_url("https://h/").unwrap(), "wss://h/ws");
    assert_eq!(signaling_url("wss://h/custom").unwrap(), "wss://h/custom");
    assert_eq!(
        signaling_url("ftp://h").unwrap_err().code,
        ErrorCode::BadParameters
    );
    assert!(signaling_url("localhost").is_err());
    assert!(signaling_url("http://").is_err());
    assert_eq!(signaling_url(" WS://h:2 ").unwrap(), "ws://h:2/ws");
    assert_eq!(
        signaling_url("h:80").unwrap_err().message,
        "server must be an http(s) or ws(s) URL, not \"h:80\""
    );
}

#[test]
fn calls_before_set_identity_or_config_fail_locally() {
    let mut c = Client::new();
    c.set_server("http://h").unwrap();
    c.handle_command(
        1,
        Command::Send(Request::Exit {
            confr_id: "C".into(),
        }),
        0,
    );
    let r = done(&mut c).pop().unwrap().result.unwrap_err();
    assert_eq!(r.code, ErrorCode::TokenInvalid);
    assert!(c.poll_transport().is_none());

    let mut c = Client::new();
    c.set_identity("a", "t", 0).unwrap();
    c.handle_command(
        2,
        Command::Send(Request::Exit {
            confr_id: "C".into(),
        }),
        0,
    );
    assert_eq!(
        done(&mut c).pop().unwrap().result.unwrap_err().code,
        ErrorCode::BadParameters
    );
    assert!(c.set_identity("", "t", 0).is_err());
}

#[test]
fn invalid_arguments_reject_with_200_before_anything_is_sent() {
    let mut c = ready();
    for cmd in [
        Command::Send(Request::Exit {
            confr_id: "".into(),
        }),
        Command::Send(Request::Join {
            confr_id: "C".into(),
            ticket: "".into(),
            ext: None,
            nick_name: None,
        }),
        Command::Send(Request::Kick {
            confr_id: "C".into(),
            members: vec![],
        }),
        Command::Send(Request::JoinRoom {
            room_name: " ".into(),
            password: None,
            role: None,
            confr_type: None,
            config: Default::default(),
            nick_name: None,
            ext: None,
        }),
    ] {
        c.handle_command(9, cmd, 0);
        assert_eq!(
            done(&mut c).pop().unwrap().result.unwrap_err().code,
            ErrorCode::BadParameters
        );
    }
    assert!(c.poll_transport().is_none());
}

#[test]
fn create_resolves_the_conference_object() {
    let cmd = Command::Send(Request::CreateConference {
        confr_type: ConfrType::Live,
        password: Some("pw".into()),
        config: ConferenceConfig::default(),
    });
    let (mut c, rid) = connected_with(cmd);
    c.handle_message(
        ok(
            rid,
            Response::Created {
                confr_id: "C9".into(),
                confr_type: ConfrType::Live,
                ticket: "t".into(),
                role_token: "r".into(),
            },
        ),
        3,
    );
    let got = done(&mut c).pop().unwrap();
    assert_eq!(got.op, 1);
    assert_eq!(
        got.result.unwrap(),
        Outcome::Created {
            confr_id: "C9".into(),
            confr_type: ConfrType::Live,
            password: Some("pw".into()),
            ticket: "t".into(),
            role_token: "r".into()
        }
    );
}

#[test]
fn join_conference_asks_for_a_ticket_then_joins_and_reports_the_roster() {
    let cmd = Command::JoinConference {
        confr_id: "C1".into(),
        password: Some("pw".into()),
        ext: Some("{}".into()),
    };
    let (mut c, rid) = connected_with(cmd);
    c.handle_message(ok(rid, Response::Ticket { ticket: "T".into() }), 3);
    assert!(done(&mut c).is_empty());
    let msgs = sent(&mut c);
    let Request::Join { ticket, ext, .. } = &msgs[0].req else {
        panic!("{msgs:?}")
    };
    assert_eq!((ticket.as_str(), ext.as_deref()), ("T", Some("{}")));
    let bob = member("Mb", "bob", Role::Admin);
    c.handle_message(
        ok(msgs[0].rid, joined("C1", Role::Talker, vec![bob.clone()])),
        4,
    );
    let Outcome::Joined { joined, password } = done(&mut c).pop().unwrap().result.unwrap() else {
        panic!()
    };
    assert_eq!(
        (joined.role, password.as_deref()),
        (Role::Talker, Some("pw"))
    );
    assert_eq!(
        events(&mut c),
        [SdkEvent::MemberJoined {
            confr_id: "C1".into(),
            member: bob
        }]
    );
    assert_eq!(c.conference(&"C1".into()).unwrap().members.len(), 1);
}

#[test]
fn a_failed_ticket_rejects_join_conference() {
    let cmd = Command::JoinConference {
        confr_id: "C1".into(),
        password: Some("x".into()),
        ext: None,
    };
    let (mut c, rid) = connected_with(cmd);
    c.handle_message(fail(rid, ErrorCode::WrongPassword), 3);
    let e = done(&mut c).pop().unwrap().result.unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongPassword);
    assert!(sent(&mut c).is_empty());
}

#[test]
fn events_update_the_roster_and_reach_the_app_in_order() {
    let bob = member("Mb", "bob", Role::Talker);
    let mut c = in_conference(Role::Talker, vec![]);
    let confr_id: ConferenceId = "C1".into();
    let mut bob_admin = bob.clone();
    bob_admin.role = Role::Admin;
    for e in [
        Event::MemberJoined {
            confr_id: confr_id.clone(),
            member: bob.clone(),
        },
        Event::MemberRoleChanged {
            confr_id: confr_id.clone(),
            member: bob_admin.clone(),
        },
        Event::RoleChanged {
            confr_id: confr_id.clone(),
            role: Role::Audience,
            role_token: "r2".into(),
        },
        Event::MemberExited {
            confr_id: confr_id.clone(),
            member: bob_admin.clone(),
            reason: MemberExitReason::Left,
        },
        Event::ConferenceExited {
            confr_id: confr_id.clone(),
            reason: ExitReason::Kicked,
        },
        // After the exit, late news is dropped.
        Event::MemberJoined {
            confr_id: confr_id.clone(),
            member: bob.clone(),
        },
    ] {
        c.handle_message(ServerMessage::Event(e), 5);
    }
    assert_eq!(
        events(&mut c),
        [
            SdkEvent::MemberJoined {
                confr_id: confr_id.clone(),
                member: bob
            },
            SdkEvent::MemberRoleChanged {
                confr_id: confr_id.clone(),
                member: bob_admin.clone()
            },
            SdkEvent::RoleChanged {
                confr_id: confr_id.clone(),
                role: Role::Audience
            },
            SdkEvent::MemberExited {
                confr_id: confr_id.clone(),
                member: bob_admin,
                reason: MemberExitReason::Left
            },
            SdkEvent::ConferenceExited {
                confr_id: confr_id.clone(),
                reason: ExitReason::Kicked,
                failed: None
            },
        ]
    );
    assert!(c.conference(&confr_id).is_none());
}

#[test]
fn exit_resolves_then_reports_a_normal_exit() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_command(
        2,
        Command::Send(Request::Exit {
            confr_id: "C1".into(),
        }),
        10,
    );
    let rid = sent(&mut c)[0].rid;
    c.handle_message(ok(rid, Response::Done), 11);
    assert_eq!(done(&mut c)[0].result, Ok(Outcome::Done));
    assert_eq!(
        events(&mut c),
        [SdkEvent::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Normal,
            failed: None
        }]
    );
}

#[test]
fn admin_only_calls_are_refused_locally_for_non_admins() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_command(
        2,
        Command::Send(Request::Kick {
            confr_id: "C1".into(),
            members: vec!["bob".into()],
        }),
        10,
    );
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::IllegalRights
    );
    assert!(sent(&mut c).is_empty());
    c.handle_command(
        3,
        Command::Send(Request::Join {
            confr_id: "C1".into(),
            ticket: "t".into(),
            ext: None,
            nick_name: None,
        }),
        10,
    );
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::BadRequest
    );
}

/// `getConferenceInfo("C1")`: a plain call to have in flight.
fn get_info() -> Command {
    Command::Send(Request::GetInfo {
        confr_id: "C1".into(),
        password: None,
    })
}

/// Fails every reconnect attempt from `now` on, until the SDK gives up; returns when.
/// Every attempt fails until the conferences are given up (the login is then tried
/// again without end: see `reconnect::an_idle_login_is_won_back`).
fn lose_for_good(c: &mut Client, mut now: u64) -> u64 {
    c.handle_closed(now);
    while let Some(at) = c.poll_timeout() {
        if c.conferences.is_empty() {
            break;
        }
        now = now.max(at);
        c.handle_timeout(now);
        while let Some(t) = c.poll_transport() {
            if matches!(t, TransportCommand::Open { .. }) {
                c.handle_closed(now);
            }
        }
    }
    now
}

mod calls;
mod interaction;
mod reconnect;
mod rejoin;

#[test]
fn a_lost_link_fails_pending_calls_and_exits_with_4_9527() {
    let mut c = in_conference(Role::Admin, vec![]);
    c.handle_command(2, get_info(), 10);
    let gave_up = lose_for_good(&mut c, 11);
    assert!(gave_up >= 11 + GIVE_UP_MS);
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::Network
    );
    assert_eq!(events(&mut c), reconnecting_then_lost());
    // The next call reconnects.
    c.handle_command(3, get_info(), 12);
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
}

#[test]
fn a_refused_login_fails_everything_queued_with_its_reason() {
    let mut c = ready();
    c.handle_command(1, get_info(), 0);
    c.handle_command(
        2,
        Command::Send(Request::GetInfo {
            confr_id: "C2".into(),
            password: None,
        }),
        0,
    );
    c.poll_transport();
    c.handle_open(1);
    let auth_rid = sent(&mut c)[0].rid;
    c.handle_message(fail(auth_rid, ErrorCode::TokenInvalid), 2);
    let results = done(&mut c);
    assert_eq!(results.len(), 2);
    assert!(results
        .iter()
        .all(|r| r.result.as_ref().unwrap_err().code == ErrorCode::TokenInvalid));
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
}

#[test]
fn a_silent_server_times_out() {
    let mut c = ready();
    c.handle_command(1, get_info(), 0);
    c.poll_transport();
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, REQUEST_TIMEOUT_MS);
    c.handle_timeout(at - 1);
    assert!(done(&mut c).is_empty());
    c.handle_timeout(at);
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::Network
    );
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    // The user stays logged in: the login is tried again at once.
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
}

#[test]
fn a_new_user_drops_the_old_users_conferences() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.set_identity("alice", "fresh-token", 5).unwrap();
    assert!(
        c.poll_transport().is_none(),
        "a new token for the same user keeps the link"
    );
    c.set_identity("bob", "tok", 6).unwrap();
    assert_eq!(c.poll_transport(), Some(TransportCommand::End));
    assert_eq!(
        events(&mut c),
        [SdkEvent::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Normal,
            failed: None
        }]
    );
}

fn stream(id: &str, owner: &str) -> emedia_protocol::StreamInfo {
    emedia_protocol::StreamInfo {
        id: id.into(),
        mem_id: owner.into(),
        rtc_id: "RTC1".into(),
        stream_type: emedia_protocol::StreamType::Camera,
        audio: true,
        video: true,
        aoff: false,
        voff: false,
        ext: None,
    }
}

/// What the app hears when C1's connection is lost for good: `onReconnecting()`,
/// then `onConferenceExit(4, -9527)`.
fn reconnecting_then_lost() -> [SdkEvent; 2] {
    [
        SdkEvent::Reconnecting,
        SdkEvent::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Failed,
            failed: Some(ErrorCode::Network),
        },
    ]
}

/// Subscribes to stream `id` of conference C1 (answered at once).
fn subscribe(c: &mut Client, id: &str, now: u64) {
    let cmd = Command::Send(Request::Subscribe {
        confr_id: "C1".into(),
        stream_id: id.into(),
        sdp: "o".into(),
        audio_mid: None,
        video_mid: Some("1".into()),
    });
    c.handle_command(90, cmd, now);
    let rid = sent(c)[0].rid;
    let reply = Response::Subscribed {
        stream_id: id.into(),
        sdp: "a".into(),
    };
    c.handle_message(ok(rid, reply), now);
    done(c);
}

/// Publishes this page's stream `id` into conference C1 (answered at once).
fn publish(c: &mut Client, id: &str, now: u64) {
    let cmd = Command::Send(Request::Publish {
        confr_id: "C1".into(),
        rtc_id: "RTC1".into(),
        stream_type: emedia_protocol::StreamType::Camera,
        audio: true,
        video: true,
        ext: None,
        sdp: "o".into(),
    });
    c.handle_command(91, cmd, now);
    let rid = sent(c)[0].rid;
    let reply = Response::Published {
        stream: stream(id, "Mme"),
        sdp: "a".into(),
    };
    c.handle_message(ok(rid, reply), now);
    done(c);
}

fn local(c: &mut Client) -> Vec<LocalMedia> {
    std::iter::from_fn(|| c.poll_local_media()).collect()
}

#[test]
fn a_late_joiner_hears_of_members_then_streams_with_their_owners() {
    let bob = member("Mb", "bob", Role::Talker);
    let cmd = Command::Send(Request::Join {
        confr_id: "C1".into(),
        ticket: "t".into(),
        ext: None,
        nick_name: None,
    });
    let (mut c, rid) = connected_with(cmd);
    let Response::Joined(mut j) = joined("C1", Role::Talker, vec![bob.clone()]) else {
        unreachable!()
    };
    j.streams = vec![stream("S1", "Mb")];
    c.handle_message(ok(rid, Response::Joined(j)), 3);
    let evs = events(&mut c);
    assert_eq!(
        evs[0],
        SdkEvent::MemberJoined {
            confr_id: "C1".into(),
            member: bob.clone()
        }
    );
    assert_eq!(
        evs[1],
        SdkEvent::StreamAdded {
            confr_id: "C1".into(),
            owner: Some(bob),
            stream: stream("S1", "Mb")
        }
    );
    assert_eq!(
        c.find_stream(&"S1".into()).map(|(cid, _)| cid.as_str()),
        Some("C1")
    );
    assert_eq!(c.current_conference().map(|c| c.as_str()), Some("C1"));
}

#[test]
fn removed_streams_close_this_pages_connections() {
    let mut c = in_conference(Role::Talker, vec![member("Mb", "bob", Role::Talker)]);
    // Subscribe to bob's stream, publish one of our own.
    c.handle_message(
        ServerMessage::Event(Event::StreamAdded {
            confr_id: "C1".into(),
            stream: stream("S1", "Mb"),
            member: None,
        }),
        4,
    );
    subscribe(&mut c, "S1", 5);
    publish(&mut c, "S2", 7);
    events(&mut c);
    // Bob unpublishes: our subscription closes.
    c.handle_message(
        ServerMessage::Event(Event::StreamRemoved {
            confr_id: "C1".into(),
            stream: stream("S1", "Mb"),
        }),
        9,
    );
    assert_eq!(local(&mut c), [LocalMedia::CloseSubscriber("S1".into())]);
    assert!(matches!(
        &events(&mut c)[..],
        [SdkEvent::StreamRemoved { owner: Some(_), .. }]
    ));
    // We are demoted and lose our stream: our publication closes.
    c.handle_message(
        ServerMessage::Event(Event::StreamRemoved {
            confr_id: "C1".into(),
            stream: stream("S2", "Mme"),
        }),
        10,
    );
    assert_eq!(local(&mut c), [LocalMedia::ClosePublisher("S2".into())]);
}

#[test]
fn leaving_closes_every_connection_and_audience_cannot_publish() {
    let mut c = in_conference(Role::Audience, vec![]);
    c.handle_command(
        2,
        Command::Send(Request::Publish {
            confr_id: "C1".into(),
            rtc_id: "RTC1".into(),
            stream_type: emedia_protocol::StreamType::Camera,
            audio: true,
            video: false,
            ext: None,
            sdp: "o".into(),
        }),
        5,
    );
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::IllegalRights
    );
    assert!(sent(&mut c).is_empty());
    c.handle_message(
        ServerMessage::Event(Event::StreamAdded {
            confr_id: "C1".into(),
            stream: stream("S1", "Mb"),
            member: None,
        }),
        6,
    );
    c.handle_command(
        3,
        Command::Send(Request::Subscribe {
            confr_id: "C1".into(),
            stream_id: "S1".into(),
            sdp: "o".into(),
            audio_mid: None,
            video_mid: Some("1".into()),
        }),
        7,
    );
    let rid = sent(&mut c)[0].rid;
    c.handle_message(
        ok(
            rid,
            Response::Subscribed {
                stream_id: "S1".into(),
                sdp: "a".into(),
            },
        ),
        8,
    );
    lose_for_good(&mut c, 9);
    assert_eq!(
        local(&mut c),
        [
            LocalMedia::CloseSubscriber("S1".into()),
            LocalMedia::CloseSubscriberConnection("C1".into())
        ]
    );
}

#[test]
fn a_lost_subscriber_connection_closes_it_and_forgets_its_subscriptions() {
    let mut c = in_conference(Role::Talker, vec![member("Mb", "bob", Role::Talker)]);
    c.handle_message(
        ServerMessage::Event(Event::StreamAdded {
            confr_id: "C1".into(),
            stream: stream("S1", "Mb"),
            member: None,
        }),
        4,
    );
    let sub = Command::Send(Request::Subscribe {
        confr_id: "C1".into(),
        stream_id: "S1".into(),
        sdp: "o".into(),
        audio_mid: None,
        video_mid: Some("1".into()),
    });
    c.handle_command(2, sub.clone(), 5);
    let rid = sent(&mut c)[0].rid;
    c.handle_message(
        ok(
            rid,
            Response::Subscribed {
                stream_id: "S1".into(),
                sdp: "a".into(),
            },
        ),
        6,
    );
    events(&mut c);
    c.handle_message(
        ServerMessage::Event(Event::SubscriptionsLost {
            confr_id: "C1".into(),
        }),
        7,
    );
    assert_eq!(
        local(&mut c),
        [
            LocalMedia::CloseSubscriber("S1".into()),
            LocalMedia::CloseSubscriberConnection("C1".into())
        ]
    );
    assert!(events(&mut c).is_empty());
    assert!(c.conference(&"C1".into()).unwrap().subscribed.is_empty());
}
