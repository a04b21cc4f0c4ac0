//! Presence, calls and invitations: logging in at once, the call and invitation
//! replies, news that names no conference, onError, and logging out.

use super::*;
use emedia_protocol::{CallProgress, CallType, Invitation, InviteStatus, UserState, UserStatus};

fn call(user: &str, call_type: CallType) -> Command {
    Command::Send(Request::Call {
        user_ids: vec![user.into()],
        call_type,
        timeout_ms: Some(1500),
        ext: None,
        group: false,
        call_id: None,
    })
}

fn joined_call(confr: &str, members: Vec<Member>) -> Joined {
    let Response::Joined(j) = joined(confr, Role::Admin, members) else {
        unreachable!()
    };
    j
}

fn event(e: Event) -> ServerMessage {
    ServerMessage::Event(e)
}

fn invited(call_id: &str, confr: &str, call_type: CallType) -> ServerMessage {
    event(Event::Invited(Invitation {
        call_id: call_id.into(),
        confr_id: confr.into(),
        sponsor: "bob".into(),
        user_id_list: vec!["alice".into()],
        is_from_group: false,
        call_type,
        ext: Some("{\"k\":1}".into()),
    }))
}

/// Logged in with nothing pending, in no conference.
fn online() -> Client {
    let mut c = ready();
    c.go_online(0);
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
    c.handle_open(1);
    let msgs = sent(&mut c);
    assert_eq!(msgs.len(), 1, "only the login goes out");
    let authed = Response::Authed {
        user: "alice".into(),
        app_id: "a".into(),
        protocol: PROTOCOL_VERSION,
        session: "1.key".into(),
    };
    c.handle_message(ok(msgs[0].rid, authed), 2);
    c
}

/// Sends `cmd` as op `op` on an open link; returns its request id and request.
fn ask(c: &mut Client, op: OpId, cmd: Command) -> (u32, Request) {
    c.handle_command(op, cmd, 10);
    let mut msgs = sent(c);
    assert_eq!(msgs.len(), 1);
    let m = msgs.remove(0);
    (m.rid, m.req)
}

#[test]
fn setting_an_identity_goes_online_at_once_and_only_once() {
    let mut c = online();
    c.go_online(3);
    assert_eq!(c.poll_transport(), None, "the link is already up");
    assert!(sent(&mut c).is_empty());

    // Without a server there is nothing to connect to (yet).
    let mut c = Client::new();
    c.set_identity("alice", "tok", 0).unwrap();
    c.go_online(0);
    assert_eq!(c.poll_transport(), None);
}

#[test]
fn a_call_seats_the_caller_in_its_conference_and_remembers_an_audio_call() {
    let mut c = online();
    let (rid, req) = ask(&mut c, 1, call("bob", CallType::Audio));
    assert!(matches!(req, Request::Call { group: false, .. }));
    let j = joined_call("K1", vec![]);
    let reply = Response::Called {
        call_id: "call1".into(),
        confr_id: "K1".into(),
        joined: Some(j.clone()),
    };
    c.handle_message(ok(rid, reply), 11);
    assert_eq!(
        done(&mut c)[0].result,
        Ok(Outcome::Called {
            call_id: "call1".into(),
            confr_id: "K1".into(),
            joined: Some(j)
        })
    );
    let conf = c
        .conference(&"K1".into())
        .expect("in the call's conference");
    assert_eq!(conf.call_type, Some(CallType::Audio));
    assert_eq!(conf.role, Role::Admin);
    assert_eq!(
        c.current_conference(),
        Some(&"K1".into()),
        "pubStream's default"
    );

    // Ringing more people into it enters nothing new.
    let more = Command::Send(Request::Call {
        user_ids: vec!["carol".into(), "dave".into()],
        call_type: CallType::Audio,
        timeout_ms: None,
        ext: None,
        group: true,
        call_id: Some("call1".into()),
    });
    let (rid, _) = ask(&mut c, 2, more);
    let reply = Response::Called {
        call_id: "call1".into(),
        confr_id: "K1".into(),
        joined: None,
    };
    c.handle_message(ok(rid, reply), 12);
    assert!(matches!(
        done(&mut c)[0].result,
        Ok(Outcome::Called { joined: None, .. })
    ));
    assert_eq!(c.conferences.keys().count(), 1);
}

#[test]
fn call_news_reaches_the_app_without_a_conference() {
    let mut c = online();
    let news = [
        Event::UserStatusChanged(UserStatus {
            user_id: "bob".into(),
            status: UserState::InCall,
            dnd: false,
        }),
        Event::CallProgress {
            call_id: "call1".into(),
            user_id: "bob".into(),
            progress: CallProgress::Busy,
        },
        Event::InviteeListUpdated {
            call_id: "call1".into(),
            user_ids: vec!["carol".into()],
        },
        Event::InviteStatus {
            invite_id: "inv1".into(),
            status: InviteStatus::NoAnswer,
        },
        Event::CallEnded {
            call_id: "call1".into(),
        },
    ];
    for e in news.clone() {
        c.handle_message(event(e), 5);
    }
    let got = events(&mut c);
    assert_eq!(got.len(), news.len(), "{got:?}");
    assert_eq!(
        got[1],
        SdkEvent::CallProgress {
            call_id: "call1".into(),
            user_id: "bob".into(),
            progress: CallProgress::Busy
        }
    );
    assert_eq!(
        got[3],
        SdkEvent::InviteStatus {
            invite_id: "inv1".into(),
            status: InviteStatus::NoAnswer
        }
    );
    assert_eq!(c.received, 5, "counted for the resume like any event");
}

#[test]
fn accepting_joins_with_the_invitations_type_and_hangup_leaves_by_the_exit_event() {
    let mut c = online();
    c.handle_message(invited("call1", "K1", CallType::Audio), 3);
    let [SdkEvent::Invited(inv)] = &events(&mut c)[..] else {
        panic!()
    };
    assert_eq!(inv.sponsor, "bob");
    let (rid, req) = ask(
        &mut c,
        1,
        Command::Send(Request::Accept {
            call_id: "call1".into(),
        }),
    );
    assert_eq!(
        req,
        Request::Accept {
            call_id: "call1".into()
        }
    );
    let bob = member("Mb", "bob", Role::Admin);
    c.handle_message(ok(rid, joined("K1", Role::Talker, vec![bob.clone()])), 11);
    assert!(matches!(done(&mut c)[0].result, Ok(Outcome::Joined { .. })));
    assert_eq!(
        events(&mut c),
        [SdkEvent::MemberJoined {
            confr_id: "K1".into(),
            member: bob
        }]
    );
    assert_eq!(
        c.conference(&"K1".into()).unwrap().call_type,
        Some(CallType::Audio)
    );
    assert!(c.invitations.is_empty(), "answered");

    // hangup resolves; the server's own exit event leaves the conference, once.
    let (rid, _) = ask(
        &mut c,
        2,
        Command::Send(Request::Hangup {
            call_id: "call1".into(),
        }),
    );
    c.handle_message(
        event(Event::CallEnded {
            call_id: "call1".into(),
        }),
        12,
    );
    c.handle_message(
        event(Event::ConferenceExited {
            confr_id: "K1".into(),
            reason: ExitReason::Normal,
        }),
        12,
    );
    c.handle_message(ok(rid, Response::Done), 12);
    assert_eq!(done(&mut c)[0].result, Ok(Outcome::Done));
    assert_eq!(
        events(&mut c),
        [
            SdkEvent::CallEnded {
                call_id: "call1".into()
            },
            SdkEvent::ConferenceExited {
                confr_id: "K1".into(),
                reason: ExitReason::Normal,
                failed: None
            }
        ]
    );
    assert!(c.conference(&"K1".into()).is_none());
}

#[test]
fn a_cancelled_or_rejected_invitation_is_forgotten() {
    let mut c = online();
    c.handle_message(invited("call1", "K1", CallType::Video), 3);
    c.handle_message(invited("call2", "K2", CallType::Video), 3);
    c.handle_message(
        event(Event::CallProgress {
            call_id: "call1".into(),
            user_id: "bob".into(),
            progress: CallProgress::Cancelled,
        }),
        4,
    );
    assert!(!c.invitations.contains_key(&"call1".to_string()));
    let (rid, _) = ask(
        &mut c,
        1,
        Command::Send(Request::Reject {
            call_id: "call2".into(),
        }),
    );
    c.handle_message(ok(rid, Response::Done), 5);
    assert_eq!(done(&mut c)[0].result, Ok(Outcome::Done));
    assert!(c.invitations.is_empty());
}

#[test]
fn call_failures_also_go_to_on_error_and_other_failures_do_not() {
    let mut c = online();
    let (rid, _) = ask(&mut c, 1, call("alice", CallType::Video));
    c.handle_message(fail(rid, ErrorCode::BadParameters), 11);
    let e = done(&mut c)[0].result.clone().unwrap_err();
    assert_eq!(e.code, ErrorCode::BadParameters);
    assert_eq!(events(&mut c), [SdkEvent::CallError(e)]);

    for (op, code) in [(2, ErrorCode::AlreadyAnswered), (3, ErrorCode::NotInCall)] {
        let (rid, _) = ask(
            &mut c,
            op,
            Command::Send(Request::Hangup {
                call_id: "x".into(),
            }),
        );
        c.handle_message(fail(rid, code), 12);
        assert_eq!(done(&mut c)[0].op, op);
        assert!(matches!(&events(&mut c)[..], [SdkEvent::CallError(e)] if e.code == code));
    }

    // Refused locally: still reported.
    c.handle_command(4, Command::Send(Request::Accept { call_id: "".into() }), 13);
    assert!(sent(&mut c).is_empty());
    assert!(matches!(
        &events(&mut c)[..],
        [SdkEvent::CallError(e)] if e.code == ErrorCode::BadParameters
    ));

    // Presence is not a call method.
    let (rid, _) = ask(
        &mut c,
        5,
        Command::Send(Request::GetUserStatus { user_ids: None }),
    );
    c.handle_message(fail(rid, ErrorCode::BadRequest), 14);
    assert!(done(&mut c)[0].result.is_err());
    assert!(events(&mut c).is_empty());
    // A call that succeeds reports nothing, and its op is forgotten.
    assert!(c.error_ops.is_empty());
}

#[test]
fn bad_call_arguments_are_refused_before_anything_is_sent() {
    let mut c = online();
    let mut no_one = call("bob", CallType::Video);
    if let Command::Send(Request::Call { user_ids, .. }) = &mut no_one {
        user_ids.clear();
    }
    let mut no_time = call("bob", CallType::Video);
    if let Command::Send(Request::Call { timeout_ms, .. }) = &mut no_time {
        *timeout_ms = Some(0);
    }
    let invite = Command::Send(Request::InviteToConference {
        confr_id: "C1".into(),
        user_id: "".into(),
        ext: None,
        timeout_ms: None,
    });
    for (op, cmd) in [(1, no_one), (2, no_time), (3, invite)] {
        c.handle_command(op, cmd, 5);
        assert_eq!(
            done(&mut c)[0].result.as_ref().unwrap_err().code,
            ErrorCode::BadParameters
        );
    }
    assert!(sent(&mut c).is_empty());
}

#[test]
fn presence_is_busy_and_invitations_resolve_what_the_app_needs() {
    let mut c = online();
    let (rid, req) = ask(&mut c, 1, Command::IsBusy);
    assert_eq!(
        req,
        Request::GetUserStatus {
            user_ids: Some(vec!["alice".into()])
        },
        "isBusy asks for this user only"
    );
    let me = |status| {
        Response::UserStatus(vec![UserStatus {
            user_id: "alice".into(),
            status,
            dnd: false,
        }])
    };
    c.handle_message(ok(rid, me(UserState::InCall)), 11);
    assert_eq!(done(&mut c)[0].result, Ok(Outcome::Busy(true)));
    let (rid, _) = ask(&mut c, 2, Command::IsBusy);
    c.handle_message(ok(rid, me(UserState::InConference)), 12);
    assert_eq!(done(&mut c)[0].result, Ok(Outcome::Busy(false)));

    let (rid, _) = ask(
        &mut c,
        3,
        Command::Send(Request::GetUserStatus {
            user_ids: Some(vec!["alice".into()]),
        }),
    );
    c.handle_message(ok(rid, me(UserState::Online)), 13);
    let Ok(Outcome::UserStatus(list)) = &done(&mut c)[0].result else {
        panic!()
    };
    assert_eq!(list[0].status, UserState::Online);

    for req in [
        Request::UserStatusNotify { on: true },
        Request::SetDnd { dnd: true },
        Request::CancelInvite {
            invite_id: "inv1".into(),
        },
    ] {
        let (rid, _) = ask(&mut c, 4, Command::Send(req));
        c.handle_message(ok(rid, Response::Done), 14);
        assert_eq!(done(&mut c)[0].result, Ok(Outcome::Done));
    }

    let invite = Command::Send(Request::InviteToConference {
        confr_id: "C1".into(),
        user_id: "bob".into(),
        ext: None,
        timeout_ms: Some(2000),
    });
    let (rid, _) = ask(&mut c, 5, invite);
    let reply = Response::InviteSent {
        invite_id: "inv1".into(),
    };
    c.handle_message(ok(rid, reply), 15);
    assert_eq!(
        done(&mut c)[0].result,
        Ok(Outcome::InviteSent("inv1".into()))
    );
    // A reply of the wrong kind is an error, not a panic.
    let (rid, _) = ask(&mut c, 6, Command::IsBusy);
    c.handle_message(ok(rid, Response::Done), 16);
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::BadRequest
    );
}

#[test]
fn logout_closes_normally_releases_media_and_forgets_the_user() {
    let mut c = in_conference(Role::Talker, vec![]);
    publish(&mut c, "S1", 4);
    c.handle_command(7, get_info(), 5);
    sent(&mut c);
    c.logout(6);
    assert_eq!(c.poll_transport(), Some(TransportCommand::End));
    assert_eq!(c.poll_transport(), None);
    let failed = done(&mut c);
    assert_eq!(failed[0].op, 7);
    assert_eq!(
        failed[0].result.as_ref().unwrap_err().code,
        ErrorCode::Network
    );
    assert_eq!(
        events(&mut c),
        [SdkEvent::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Normal,
            failed: None
        }]
    );
    assert!(local(&mut c).contains(&LocalMedia::ClosePublisher("S1".into())));
    assert_eq!(c.poll_timeout(), None, "no heartbeat, no retry");
    c.handle_closed(7);
    assert!(
        events(&mut c).is_empty(),
        "the closed socket is not a lost link"
    );

    // Forgotten: calls need an identity again, and logging out twice is harmless.
    c.handle_command(8, get_info(), 8);
    assert_eq!(
        done(&mut c)[0].result.as_ref().unwrap_err().code,
        ErrorCode::TokenInvalid
    );
    c.logout(9);
    assert_eq!(c.poll_transport(), None);
    c.set_identity("bob", "tok", 10).unwrap();
    c.go_online(10);
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
}

#[test]
fn a_rejoined_call_stays_an_audio_call() {
    let mut c = online();
    let (rid, _) = ask(&mut c, 1, call("bob", CallType::Audio));
    let reply = Response::Called {
        call_id: "call1".into(),
        confr_id: "C1".into(),
        joined: Some(joined_call("C1", vec![])),
    };
    c.handle_message(ok(rid, reply), 11);
    done(&mut c);
    let resume = super::reconnect::drop_and_reopen(&mut c, 20);
    c.handle_message(fail(resume.rid, ErrorCode::TokenInvalid), 21);
    c.handle_open(21);
    let msgs = sent(&mut c);
    let authed = Response::Authed {
        user: "alice".into(),
        app_id: "a".into(),
        protocol: PROTOCOL_VERSION,
        session: "2.key".into(),
    };
    c.handle_message(ok(msgs[0].rid, authed), 22);
    let Request::Join { ticket, .. } = &msgs[1].req else {
        panic!("{msgs:?}")
    };
    assert_eq!(ticket, "rt", "rejoined with the role token");
    c.handle_message(ok(msgs[1].rid, joined("C1", Role::Admin, vec![])), 23);
    assert_eq!(
        c.conference(&"C1".into()).unwrap().call_type,
        Some(CallType::Audio)
    );
}

#[test]
fn new_settings_reopen_a_link_that_only_keeps_the_user_online() {
    let mut c = online();
    c.set_server("http://other:1").unwrap();
    c.relink(5);
    assert_eq!(c.poll_transport(), Some(TransportCommand::End));
    assert_eq!(
        c.poll_transport(),
        Some(TransportCommand::Open {
            url: "ws://other:1/ws".into()
        })
    );
    c.handle_open(6);
    assert!(matches!(
        sent(&mut c)[..],
        [ClientMessage {
            req: Request::Auth { .. },
            ..
        }]
    ));

    // A link in use goes on: a conference, or a request waiting for its answer.
    let mut c = in_conference(Role::Talker, vec![]);
    c.relink(5);
    assert_eq!(c.poll_transport(), None);
    let mut c = online();
    c.handle_command(1, get_info(), 5);
    c.relink(5);
    assert_eq!(c.poll_transport(), None);
    assert_eq!(sent(&mut c).len(), 1);
}
