//! Calls and invitations as timers and departures drive them (the integration tests
//! in `server/tests/calls.rs` cover the requests over real sockets).

use super::*;
use emedia_protocol::CallType;

fn call(h: &mut Harness, from: ConnId, to: &str, timeout_ms: Option<u64>) -> String {
    let req = Request::Call {
        user_ids: vec![to.to_owned()],
        call_type: CallType::Audio,
        timeout_ms,
        ext: None,
        group: false,
        call_id: None,
    };
    match h.req(from, req) {
        Ok(Response::Called { call_id, .. }) => call_id,
        other => panic!("call: {other:?}"),
    }
}

#[test]
fn an_unanswered_call_is_a_timer_and_ends_with_no_response() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    // The liveness check runs at most every second: a shorter ring comes first.
    h.core.handle_timeout(h.now);
    call(&mut h, a, "bob", Some(500));
    assert_eq!(names(&h.events(b)), ["invited by alice"]);
    let due = h.core.poll_timeout().expect("a ring deadline");
    assert_eq!(due, h.now + 500, "the ring deadline is the next timer");
    h.core.handle_timeout(due - 1);
    h.drain();
    assert!(h.events(a).is_empty() && h.events(b).is_empty());
    h.core.handle_timeout(due);
    h.drain();
    assert_eq!(names(&h.events(b)), ["call bob NoResponse"]);
    assert_eq!(
        names(&h.events(a)),
        ["call bob NoResponse", "call ended", "exit 1"]
    );
    assert_eq!(h.core.conference_count(), 0);
}

#[test]
fn a_caller_whose_session_ends_while_ringing_cancels_the_call() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let id = call(&mut h, a, "bob", None);
    h.events(b);
    h.core.handle_disconnect(a, true, h.now);
    h.drain();
    assert_eq!(names(&h.events(b)), ["call alice Cancelled"]);
    assert_eq!(h.core.conference_count(), 0);
    assert_eq!(
        code(h.req(b, Request::Accept { call_id: id })),
        ErrorCode::CallNotFound
    );
    assert_eq!(h.core.calls.next_deadline(), None, "nothing rings any more");
}

#[test]
fn destroying_a_conference_calls_off_its_invitations() {
    let mut h = Harness::new();
    let [a, b] = [h.login("alice"), h.login("bob")];
    let (confr_id, ticket) = h.create(a, None);
    h.join(a, &confr_id, &ticket).unwrap();
    let invite_id = match h.req(
        a,
        Request::InviteToConference {
            confr_id: confr_id.clone(),
            user_id: "bob".into(),
            ext: None,
            timeout_ms: None,
        },
    ) {
        Ok(Response::InviteSent { invite_id }) => invite_id,
        other => panic!("invite: {other:?}"),
    };
    assert_eq!(names(&h.events(a)), ["invite status 0"]);
    h.req(a, Request::Destroy { confr_id }).unwrap();
    assert_eq!(
        names(&h.events(b)),
        ["invited by alice", "call alice Cancelled"]
    );
    assert_eq!(
        code(h.req(b, Request::Accept { call_id: invite_id })),
        ErrorCode::CallNotFound
    );
}
