//! Heartbeats, lost links, reconnecting and resuming.

use super::*;

fn joined_event(name: &str) -> ServerMessage {
    ServerMessage::Event(Event::MemberJoined {
        confr_id: "C1".into(),
        member: member(&format!("M{name}"), name, Role::Talker),
    })
}

/// Drops the link at `now` and lets the first attempt open a socket; returns the
/// resume it sends.
pub(super) fn drop_and_reopen(c: &mut Client, now: u64) -> ClientMessage {
    c.handle_closed(now);
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    assert_eq!(
        c.poll_timeout(),
        Some(now),
        "the first attempt goes at once"
    );
    c.handle_timeout(now);
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
    c.handle_open(now);
    let mut msgs = sent(c);
    assert_eq!(
        msgs.len(),
        1,
        "only the resume goes out before it is answered"
    );
    msgs.remove(0)
}

#[test]
fn a_dropped_socket_resumes_the_session_with_the_count_of_events_received() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_message(joined_event("bob"), 4);
    events(&mut c);
    // A call made while the link is down waits for it.
    let resume = drop_and_reopen(&mut c, 10);
    assert_eq!(events(&mut c), [SdkEvent::Reconnecting]);
    c.handle_command(7, get_info(), 11);
    assert!(sent(&mut c).is_empty());
    assert_eq!(
        resume.req,
        Request::Resume {
            session: "1.key".into(),
            received: 1,
            protocol: PROTOCOL_VERSION
        }
    );
    c.handle_message(
        ok(
            resume.rid,
            Response::Resumed {
                user: "alice".into(),
            },
        ),
        12,
    );
    // The waiting call goes out, and the missed event arrives as an ordinary one.
    assert!(matches!(
        sent(&mut c)[..],
        [ClientMessage {
            req: Request::GetInfo { .. },
            ..
        }]
    ));
    c.handle_message(joined_event("carol"), 13);
    let evs = events(&mut c);
    assert_eq!(evs[0], SdkEvent::Reconnected);
    assert!(matches!(&evs[1], SdkEvent::MemberJoined { member, .. } if member.name == "carol"));
    assert_eq!(c.conference(&"C1".into()).unwrap().members.len(), 2);
    // The next heartbeat acknowledges both events.
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert!(sent(&mut c)
        .iter()
        .any(|m| m.req == Request::Heartbeat { received: 2 }));
}

#[test]
fn requests_in_flight_when_the_link_drops_fail_with_9527() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_command(8, get_info(), 5);
    sent(&mut c);
    c.handle_closed(6);
    let failed = done(&mut c);
    assert_eq!(failed[0].op, 8);
    assert_eq!(
        failed[0].result.as_ref().unwrap_err().code,
        ErrorCode::Network
    );
    // The conference itself is still there.
    assert!(c.conference(&"C1".into()).is_some());
}

#[test]
fn failed_attempts_back_off_and_online_tries_at_once() {
    let mut c = in_conference(Role::Talker, vec![]);
    drop_and_reopen(&mut c, 100);
    c.handle_closed(100);
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    assert_eq!(c.poll_timeout(), Some(100 + retry_delay(1)));
    c.handle_timeout(100 + retry_delay(1));
    c.poll_transport();
    c.handle_closed(400);
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    assert_eq!(c.poll_timeout(), Some(400 + retry_delay(2)));
    // The browser says the network is back: no waiting for the backoff.
    c.handle_online(410);
    assert_eq!(c.poll_timeout(), Some(410));
    c.handle_timeout(410);
    assert!(c
        .poll_transport()
        .is_some_and(|t| matches!(t, TransportCommand::Open { .. })));
}

#[test]
fn an_unanswered_heartbeat_breaks_the_link_and_reconnects() {
    let mut c = in_conference(Role::Talker, vec![]);
    let beat = c.poll_timeout().unwrap();
    c.handle_timeout(beat);
    assert!(matches!(
        sent(&mut c)[..],
        [ClientMessage {
            req: Request::Heartbeat { received: 0 },
            ..
        }]
    ));
    let silence = c.poll_timeout().unwrap();
    c.handle_timeout(silence);
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    assert_eq!(events(&mut c), [SdkEvent::Reconnecting]);
}

/// Out of every conference there is no session to resume: no `onReconnecting`, but
/// the user stays online, logging in again (with the backoff) and asking again for
/// what it had asked the server to keep.
#[test]
fn outside_conferences_the_login_is_won_back_without_a_resume() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_message(
        ServerMessage::Event(Event::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Kicked,
        }),
        5,
    );
    events(&mut c);
    c.handle_command(7, Command::Send(Request::UserStatusNotify { on: true }), 5);
    let rid = sent(&mut c)[0].rid;
    c.handle_message(ok(rid, Response::Done), 5);
    done(&mut c);
    c.handle_closed(6);
    assert!(events(&mut c).is_empty(), "no onReconnecting");
    assert_eq!(c.poll_transport(), Some(TransportCommand::Close));
    // Attempt 1 failed at once; the next waits its backoff.
    assert_eq!(c.poll_timeout(), Some(6));
    c.handle_timeout(6);
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
    c.handle_closed(7);
    c.poll_transport();
    assert_eq!(c.poll_timeout(), Some(7 + retry_delay(1)));
    c.handle_timeout(7 + retry_delay(1));
    assert!(matches!(
        c.poll_transport(),
        Some(TransportCommand::Open { .. })
    ));
    c.handle_open(300);
    let reqs: Vec<Request> = sent(&mut c).into_iter().map(|m| m.req).collect();
    assert!(
        matches!(reqs[0], Request::Auth { .. }),
        "a login, not a resume"
    );
    assert_eq!(reqs[1], Request::UserStatusNotify { on: true });
    // Logging out stops it.
    c.logout(301);
    c.handle_closed(302);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn a_probe_on_online_or_visible_checks_an_open_link() {
    let mut c = in_conference(Role::Talker, vec![]);
    c.handle_visible(20);
    let probe = sent(&mut c);
    assert!(matches!(
        probe[..],
        [ClientMessage {
            req: Request::Ping,
            ..
        }]
    ));
    c.handle_message(ok(probe[0].rid, Response::Pong), 21);
    c.handle_online(22);
    assert_eq!(sent(&mut c).len(), 1);
    // Unanswered, it counts as a broken link.
    let at = c.poll_timeout().unwrap();
    assert!(at <= 22 + 4_000);
    c.handle_timeout(22 + 4_000);
    assert_eq!(events(&mut c), [SdkEvent::Reconnecting]);
}
