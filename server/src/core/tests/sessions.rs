//! Sessions: liveness, resume after a dropped connection, rate and size limits.

use super::*;

const LIVENESS: u64 = 15_000;

/// Logs in and returns the connection and the session key for a resume.
fn login_keyed(h: &mut Harness, user: &str) -> (ConnId, String) {
    let conn = h.raw();
    let token = h.core.keys().mint_user_token(user, h.now / 1000, 3600);
    match h.req(
        conn,
        Request::Auth {
            token,
            protocol: PROTOCOL_VERSION,
        },
    ) {
        Ok(Response::Authed { session, .. }) => (conn, session),
        other => panic!("auth: {other:?}"),
    }
}

fn resume(h: &mut Harness, key: &str, received: u64) -> (ConnId, Reply) {
    let conn = h.raw();
    let reply = h.req(
        conn,
        Request::Resume {
            session: key.to_owned(),
            received,
            protocol: PROTOCOL_VERSION,
        },
    );
    (conn, reply)
}

/// Alice and Bob in one room; Bob's connection and key.
fn pair() -> (Harness, ConferenceId, ConnId, ConnId, String) {
    let mut h = Harness::new();
    let a = h.login("alice");
    let (b, key) = login_keyed(&mut h, "bob");
    let confr = h.room(a, "r", None).unwrap().confr_id;
    h.room(b, "r", None).unwrap();
    h.events(a);
    h.events(b);
    (h, confr, a, b, key)
}

fn advance(h: &mut Harness, ms: u64) {
    h.now += ms;
    h.core.handle_timeout(h.now);
    h.drain();
}

#[test]
fn a_dropped_connection_resumes_unnoticed_with_the_events_it_missed() {
    let (mut h, confr, a, b, key) = pair();
    let bob_id = h.core.conference(&confr).unwrap().seats()[1]
        .member
        .id
        .clone();
    // Bob has seen nothing yet: his first event is Carol's join, which is lost with
    // the connection, like the one after it.
    h.core.handle_disconnect(b, false, h.now);
    let c = h.login("carol");
    h.room(c, "r", None).unwrap();
    h.grant(a, &confr, "carol", Role::Admin).unwrap();
    h.events(c);
    advance(&mut h, LIVENESS - 1);
    assert_eq!(names(&h.events(a)), ["joined carol", "role carol 7"]);

    let (b2, reply) = resume(&mut h, &key, 0);
    assert!(matches!(reply, Ok(Response::Resumed { user }) if user == "bob"));
    assert_eq!(names(&h.events(b2)), ["joined carol", "role carol 7"]);
    // Same member, and nobody saw Bob leave or come back.
    let seats = h.core.conference(&confr).unwrap().seats();
    assert_eq!(seats[1].member.id, bob_id);
    assert_eq!(names(&h.events(a)), [] as [&str; 0]);
    assert_eq!(names(&h.events(c)), [] as [&str; 0]);
    // Requests work on the new connection and events follow it.
    h.req(b2, Request::Exit { confr_id: confr }).unwrap();
    assert_eq!(names(&h.events(a)), ["exited bob 0"]);
}

#[test]
fn resume_resends_only_what_was_not_received_and_closes_the_old_socket() {
    let (mut h, confr, a, b, key) = pair();
    let c = h.login("carol");
    h.room(c, "r", None).unwrap();
    h.grant(a, &confr, "carol", Role::Admin).unwrap();
    assert_eq!(h.events(b).len(), 2);
    // The old socket is still open on the server's side; the client got event 1 only.
    let (b2, reply) = resume(&mut h, &key, 1);
    assert!(reply.is_ok());
    assert_eq!(names(&h.events(b2)), ["role carol 7"]);
    assert_eq!(h.closed, [(b, close::RESUMED_ELSEWHERE)]);
    // Frames still arriving on the old socket are ignored.
    h.core.handle_text(b, r#"{"rid":9,"req":"ping"}"#, h.now);
    assert!(h.drain().is_empty());
    h.core.handle_disconnect(b, true, h.now);
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 3);
}

#[test]
fn resume_is_refused_for_bad_keys_acknowledged_events_and_ended_sessions() {
    let (mut h, _confr, _a, b, key) = pair();
    let c = h.login("carol");
    h.room(c, "r", None).unwrap();
    let bad_keys = [
        "nonsense".to_owned(),
        format!("{}.", key.split('.').next().unwrap()),
        format!("{}x", key),
        format!("999.{}", key.split('.').nth(1).unwrap()),
    ];
    for bad in &bad_keys {
        assert_eq!(code(resume(&mut h, bad, 0).1), ErrorCode::TokenInvalid);
    }
    // A count from the future, or events the client said it had and were dropped.
    assert_eq!(code(resume(&mut h, &key, 5).1), ErrorCode::TokenInvalid);
    h.req(b, Request::Heartbeat { received: 1 }).unwrap();
    assert_eq!(code(resume(&mut h, &key, 0).1), ErrorCode::TokenInvalid);
    // A session that ended cannot come back.
    h.core.handle_disconnect(b, true, h.now);
    assert_eq!(code(resume(&mut h, &key, 1).1), ErrorCode::TokenInvalid);
    // An authenticated connection cannot take over another session.
    let (d, key_d) = login_keyed(&mut h, "dave");
    h.core.handle_disconnect(d, false, h.now);
    let e = h.login("erin");
    let reply = h.req(
        e,
        Request::Resume {
            session: key_d,
            received: 0,
            protocol: PROTOCOL_VERSION,
        },
    );
    assert_eq!(code(reply), ErrorCode::BadRequest);
}

#[test]
fn a_detached_member_times_out_and_the_others_are_told_why() {
    let (mut h, confr, a, b, key) = pair();
    h.core.handle_disconnect(b, false, h.now);
    advance(&mut h, LIVENESS - 1);
    assert!(
        h.events(a).is_empty(),
        "held for a resume until the deadline"
    );
    h.core.handle_alive(a, h.now);
    advance(&mut h, 1000);
    assert_eq!(names(&h.events(a)), ["exited bob 1"]);
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 1);
    assert_eq!(code(resume(&mut h, &key, 0).1), ErrorCode::TokenInvalid);
    assert_eq!(h.core.session_count(), 2, "alice's and the failed resume's");
}

#[test]
fn a_silent_connection_is_closed_and_a_talking_one_is_not() {
    let (mut h, _confr, a, b, _key) = pair();
    for _ in 0..4 {
        advance(&mut h, LIVENESS / 2);

        h.req(a, Request::Heartbeat { received: 0 }).unwrap();
        h.core.handle_alive(b, h.now);
    }
    assert!(h.closed.is_empty());
    advance(&mut h, LIVENESS);
    assert_eq!(h.closed, [(a, close::SILENT), (b, close::SILENT)]);
    assert_eq!(h.core.conference_count(), 0);
    assert_eq!(h.core.session_count(), 0);
}

#[test]
fn a_goodbye_or_a_connection_without_seats_ends_the_session_at_once() {
    let (mut h, _confr, a, b, _key) = pair();
    h.core.handle_disconnect(b, true, h.now);
    h.drain();
    assert_eq!(names(&h.events(a)), ["exited bob 4"]);
    let idle = h.login("idle");
    h.core.handle_disconnect(idle, false, h.now);
    assert_eq!(h.core.session_count(), 1);
}

#[test]
fn a_flooding_connection_is_refused_then_closed_and_others_carry_on() {
    let limit = RateLimit {
        burst: 10,
        per_sec: 5,
        close_after: 20,
    };
    let mut h = Harness::with_config(CoreConfig {
        rate: limit,
        ..CoreConfig::default()
    });
    let a = h.login("alice");
    let f = h.login("flood");
    h.room(a, "r", None).unwrap();
    h.room(f, "r", None).unwrap();
    h.events(a);
    let mut refused = 0;
    for _ in 0..40 {
        h.core.handle_text(f, r#"{"rid":1,"req":"ping"}"#, h.now);
        for (_, _, reply) in h.drain() {
            if reply.is_err_and(|e| e.code == ErrorCode::ClientNotSupported) {
                refused += 1;
            }
        }
    }
    assert_eq!(
        refused, limit.close_after,
        "refused after the burst, until closed"
    );
    assert_eq!(h.closed, [(f, close::FLOODING)]);
    assert_eq!(names(&h.events(a)), ["exited flood 4"]);
    assert!(h.req(a, Request::Ping).is_ok());
}

#[test]
fn server_wide_caps_on_conferences_and_members() {
    let mut h = Harness::with_config(CoreConfig {
        max_conferences: 1,
        max_members: 2,
        ..CoreConfig::default()
    });
    let [a, b, c] = [h.login("a"), h.login("b"), h.login("c")];
    h.room(a, "r", None).unwrap();
    assert_eq!(
        code(h.room(b, "other", None)),
        ErrorCode::ClientNotSupported
    );
    assert_eq!(
        code(h.req(
            b,
            Request::CreateConference {
                confr_type: ConfrType::Communication,
                password: None,
                config: ConferenceConfig::default(),
            }
        )),
        ErrorCode::ClientNotSupported
    );
    h.room(b, "r", None).unwrap();
    assert_eq!(code(h.room(c, "r", None)), ErrorCode::TooManyMembers);
    // The same user again replaces its seat rather than needing a new one.
    let b2 = h.login("b");
    assert!(h.room(b2, "r", None).is_ok());
}

#[test]
fn binary_frames_that_are_no_transfer_are_refused_and_change_nothing() {
    let (mut h, confr, a, b, _key) = pair();
    h.core
        .handle_binary(b, bytes::Bytes::from_static(b"\x01garbage"), h.now);
    let replies = h.drain();
    assert_eq!(replies.len(), 1);
    assert_eq!(code(replies[0].2.clone()), ErrorCode::BadRequest);
    assert!(h.events(a).is_empty());
    assert_eq!(h.core.conference(&confr).unwrap().seats().len(), 2);
}
