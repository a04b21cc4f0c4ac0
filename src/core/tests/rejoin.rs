//! Joining again when the server refuses the resume.

use super::reconnect::drop_and_reopen;
use super::*;

/// Drops the link, has the resume refused, and opens the new connection; returns
/// what goes out on it (the login, then the joins).
fn refuse_resume(c: &mut Client, now: u64) -> Vec<ClientMessage> {
    let resume = drop_and_reopen(c, now);
    c.handle_message(fail(resume.rid, ErrorCode::TokenInvalid), now);
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
    c.handle_open(now);
    let msgs = sent(c);
    assert_eq!(
        msgs[0].req,
        Request::Auth {
            token: "tok".into(),
            protocol: PROTOCOL_VERSION
        }
    );
    let authed = Response::Authed {
        user: "alice".into(),
        app_id: "a".into(),
        protocol: PROTOCOL_VERSION,
        session: "2.key".into(),
    };
    c.handle_message(ok(msgs[0].rid, authed), now);
    msgs
}

fn joined_with(confr: &str, members: Vec<Member>, streams: Vec<StreamInfo>) -> Response {
    let Response::Joined(mut j) = joined(confr, Role::Talker, members) else {
        unreachable!()
    };
    j.streams = streams;
    Response::Joined(j)
}

#[test]
fn a_refused_resume_rejoins_with_the_role_token_resyncs_and_republishes() {
    let bob = member("Mb", "bob", Role::Talker);
    let carol = member("Mc", "carol", Role::Talker);
    let mut c = in_conference(Role::Talker, vec![bob.clone(), carol.clone()]);
    for s in [stream("S1", "Mb"), stream("S3", "Mc"), stream("S4", "Mc")] {
        let confr_id = "C1".into();
        c.handle_message(
            ServerMessage::Event(Event::StreamAdded {
                confr_id,
                stream: s,
                member: None,
            }),
            4,
        );
    }
    subscribe(&mut c, "S1", 5);
    subscribe(&mut c, "S3", 5);
    publish(&mut c, "S2", 6);
    events(&mut c);
    local(&mut c);

    let msgs = refuse_resume(&mut c, 10);
    assert_eq!(
        msgs[1].req,
        Request::Join {
            confr_id: "C1".into(),
            ticket: "rt".into(),
            ext: None,
            nick_name: None
        },
        "joins again with its role token"
    );
    assert!(events(&mut c).contains(&SdkEvent::Reconnecting));
    // Meanwhile bob left with his stream, dave came; carol's streams live on.
    let dave = member("Md", "dave", Role::Talker);
    let streams = vec![stream("S3", "Mc"), stream("S4", "Mc"), stream("S5", "Md")];
    let reply = joined_with("C1", vec![carol.clone(), dave.clone()], streams);
    c.handle_message(ok(msgs[1].rid, reply), 11);

    let confr_id: ConferenceId = "C1".into();
    let removed = |id: &str, owner: &Member| SdkEvent::StreamRemoved {
        confr_id: confr_id.clone(),
        owner: Some(owner.clone()),
        stream: stream(id, &owner.id.0),
    };
    let added = |id: &str, owner: &Member| SdkEvent::StreamAdded {
        confr_id: confr_id.clone(),
        owner: Some(owner.clone()),
        stream: stream(id, &owner.id.0),
    };
    assert_eq!(
        events(&mut c),
        [
            removed("S1", &bob),
            // Subscribed, so announced again: its subscription ended with the session.
            removed("S3", &carol),
            SdkEvent::MemberExited {
                confr_id: confr_id.clone(),
                member: bob,
                reason: MemberExitReason::Left
            },
            SdkEvent::MemberJoined {
                confr_id: confr_id.clone(),
                member: dave.clone()
            },
            added("S3", &carol),
            added("S5", &dave),
            SdkEvent::Reconnected,
        ],
        "S4 was not subscribed and lives on: nothing to say"
    );
    assert_eq!(
        local(&mut c),
        [
            LocalMedia::CloseSubscriber("S1".into()),
            LocalMedia::CloseSubscriber("S3".into()),
            LocalMedia::CloseSubscriberConnection(confr_id.clone()),
            LocalMedia::Republish {
                confr_id: confr_id.clone(),
                stream_id: "S2".into()
            },
        ]
    );
    let conf = c.conference(&confr_id).unwrap();
    assert!(conf.published.is_empty() && conf.subscribed.is_empty());
    assert_eq!(conf.members, [carol, dave]);
    // The new session is the one kept alive.
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert!(sent(&mut c)
        .iter()
        .any(|m| matches!(m.req, Request::Heartbeat { .. })));
}

#[test]
fn a_room_whose_conference_is_gone_is_joined_by_name_again() {
    let room = Request::JoinRoom {
        room_name: "standup".into(),
        password: Some("pw".into()),
        role: None,
        confr_type: None,
        config: ConferenceConfig::default(),
        nick_name: Some("Al".into()),
        ext: None,
    };
    let (mut c, rid) = connected_with(Command::Send(room.clone()));
    c.handle_message(ok(rid, joined("C1", Role::Admin, vec![])), 3);
    done(&mut c);
    events(&mut c);

    let msgs = refuse_resume(&mut c, 10);
    assert!(matches!(&msgs[1].req, Request::Join { nick_name: Some(n), .. } if n == "Al"));
    // The server restarted: the conference is gone, so the room opens again by name.
    c.handle_message(fail(msgs[1].rid, ErrorCode::ConferenceNotFound), 11);
    let again = sent(&mut c);
    assert_eq!(again[0].req, room);
    c.handle_message(ok(again[0].rid, joined("C9", Role::Admin, vec![])), 12);
    assert_eq!(
        events(&mut c),
        [SdkEvent::Reconnecting, SdkEvent::Reconnected]
    );
    assert_eq!(c.current_conference().map(|c| c.as_str()), Some("C9"));
    assert!(c.conference(&"C1".into()).is_none());
}

#[test]
fn a_rejoin_that_fails_ends_the_conference_with_4_9527() {
    let mut c = in_conference(Role::Talker, vec![]);
    let msgs = refuse_resume(&mut c, 10);
    // Kicked meanwhile: the role token no longer opens the conference.
    c.handle_message(fail(msgs[1].rid, ErrorCode::TicketInvalid), 11);
    assert_eq!(events(&mut c), reconnecting_then_lost());
    assert!(c.current_conference().is_none());
}

#[test]
fn a_login_refused_on_rejoin_ends_with_4_9527() {
    let mut c = in_conference(Role::Talker, vec![]);
    let resume = drop_and_reopen(&mut c, 10);
    c.handle_message(fail(resume.rid, ErrorCode::TokenInvalid), 11);
    c.handle_open(12);
    let auth = sent(&mut c).remove(0);
    // The token expired while the page was away.
    c.handle_message(fail(auth.rid, ErrorCode::TokenInvalid), 13);
    assert_eq!(events(&mut c), reconnecting_then_lost());
}
