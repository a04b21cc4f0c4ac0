//! Calls, invitations and presence through the real server, with several real
//! WebSocket clients: each answer a caller can get, what every side hears, in order,
//! and the refusals.

mod common;

use common::*;
use emedia_protocol::{
    CallType, ConferenceId, ErrorCode, Joined, Request, Response, UserState, UserStatus,
};

/// What `call` / `groupCall` answered.
#[derive(Debug)]
struct Called {
    call_id: String,
    confr_id: ConferenceId,
    joined: Option<Joined>,
}

fn ring(user_ids: &[&str], group: bool, timeout_ms: Option<u64>) -> Request {
    Request::Call {
        user_ids: user_ids.iter().map(|u| u.to_string()).collect(),
        call_type: CallType::Video,
        timeout_ms,
        ext: Some(r#"{"topic":"standup"}"#.into()),
        group,
        call_id: None,
    }
}

fn invite(confr_id: &ConferenceId, user: &str, timeout_ms: Option<u64>) -> Request {
    Request::InviteToConference {
        confr_id: confr_id.clone(),
        user_id: user.into(),
        ext: None,
        timeout_ms,
    }
}

fn join_room(room_name: &str, confr_type: Option<emedia_protocol::ConfrType>) -> Request {
    Request::JoinRoom {
        room_name: room_name.into(),
        password: None,
        role: None,
        confr_type,
        config: Default::default(),
        nick_name: None,
        ext: None,
    }
}

impl Client {
    async fn call(&mut self, req: Request) -> Result<Called, emedia_protocol::ErrorBody> {
        match self.req(req).await? {
            Response::Called {
                call_id,
                confr_id,
                joined,
            } => Ok(Called {
                call_id,
                confr_id,
                joined,
            }),
            other => panic!("call: {other:?}"),
        }
    }

    async fn answer(&mut self, call_id: &str) -> Result<Joined, emedia_protocol::ErrorBody> {
        match self
            .req(Request::Accept {
                call_id: call_id.into(),
            })
            .await?
        {
            Response::Joined(j) => Ok(j),
            other => panic!("accept: {other:?}"),
        }
    }

    async fn statuses(&mut self, users: &[&str]) -> Vec<(String, u8, bool)> {
        let ids = Some(users.iter().map(|u| u.to_string()).collect());
        match self.req(Request::GetUserStatus { user_ids: ids }).await {
            Ok(Response::UserStatus(list)) => list
                .into_iter()
                .map(
                    |UserStatus {
                         user_id,
                         status,
                         dnd,
                     }| (user_id, status.code(), dnd),
                )
                .collect(),
            other => panic!("status: {other:?}"),
        }
    }

    /// The call id of the invitation this client was just rung with.
    async fn rung(&mut self) -> (String, ConferenceId) {
        self.sync().await;
        let found = self.events.iter().find_map(|e| match e {
            emedia_protocol::Event::Invited(i) => Some((i.call_id.clone(), i.confr_id.clone())),
            _ => None,
        });
        found.expect("an invitation")
    }
}

fn st(user: &str, status: UserState, dnd: bool) -> (String, u8, bool) {
    (user.to_string(), status.code(), dnd)
}

#[tokio::test]
async fn a_one_to_one_call_rings_connects_is_busy_to_others_and_ends() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;
    let mut watcher = Client::login(server.addr, "watcher").await;
    watcher
        .req(Request::UserStatusNotify { on: true })
        .await
        .unwrap();
    assert_eq!(
        watcher.statuses(&["alice", "bob", "nobody"]).await,
        [
            st("alice", UserState::Online, false),
            st("bob", UserState::Online, false),
            st("nobody", UserState::Offline, false)
        ]
    );

    let call = alice.call(ring(&["bob"], false, None)).await.unwrap();
    let joined = call.joined.expect("the caller is in the call's conference");
    assert_eq!(joined.confr_id, call.confr_id);
    assert_eq!(joined.role, emedia_protocol::Role::Admin);
    bob.sync().await;
    match bob.events.front() {
        Some(emedia_protocol::Event::Invited(i)) => {
            assert_eq!(i.call_id, call.call_id);
            assert_eq!(i.confr_id, call.confr_id);
            assert_eq!(i.sponsor, "alice");
            assert_eq!(i.user_id_list, ["bob"]);
            assert!(!i.is_from_group);
            assert_eq!(i.call_type, CallType::Video);
            assert_eq!(i.ext.as_deref(), Some(r#"{"topic":"standup"}"#));
        }
        other => panic!("bob was not rung: {other:?}"),
    }
    bob.events.clear();
    // Ringing counts as busy; so does being in the call.
    assert_eq!(
        watcher.take_events().await,
        ["status alice 2 false", "status bob 2 false"]
    );

    let j = bob.answer(&call.call_id).await.unwrap();
    assert_eq!(j.members.len(), 1, "bob sees alice");
    assert_eq!(
        alice.take_events().await,
        ["joined bob", "call bob Entered"]
    );
    assert_eq!(
        code(bob.answer(&call.call_id).await),
        ErrorCode::AlreadyAnswered
    );

    // Carol calls bob mid-call: busy at once, bob never rings, carol's call ends (3).
    let busy = carol.call(ring(&["bob"], false, None)).await.unwrap();
    assert_eq!(
        carol.take_events().await,
        ["call bob Busy", "call ended", "exit 3"]
    );
    assert!(bob.take_events().await.is_empty(), "no second ring");
    assert_eq!(
        code(
            carol
                .req(Request::Hangup {
                    call_id: busy.call_id
                })
                .await
        ),
        ErrorCode::CallNotFound
    );
    assert_eq!(
        code(
            carol
                .req(Request::Hangup {
                    call_id: call.call_id.clone()
                })
                .await
        ),
        ErrorCode::NotInCall
    );

    // Bob hangs up: alice is alone and nobody is rung, so the call ends for her too.
    bob.req(Request::Hangup {
        call_id: call.call_id.clone(),
    })
    .await
    .unwrap();
    assert_eq!(bob.take_events().await, ["exit 0"]);
    assert_eq!(
        alice.take_events().await,
        ["exited bob 0", "call bob Left", "call ended", "exit 0"]
    );
    assert_eq!(
        watcher.statuses(&["alice", "bob", "carol"]).await,
        [
            st("alice", UserState::Online, false),
            st("bob", UserState::Online, false),
            st("carol", UserState::Online, false)
        ]
    );
    // Carol was busy only inside one request (her call began and ended in it), so
    // watchers were never told: they hear changes that last.
    assert_eq!(
        watcher.take_events().await,
        ["status alice 1 false", "status bob 1 false"]
    );
    assert_eq!(
        health(server.addr).await.conferences,
        0,
        "every call's conference is gone"
    );
}

#[tokio::test]
async fn no_answer_cancel_and_the_refusals() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut dave = Client::login(server.addr, "dave").await;
    let mut erin = Client::login(server.addr, "erin").await;
    let mut frank = Client::login(server.addr, "frank").await;
    let mut grace = Client::login(server.addr, "grace").await;

    // Erin never answers: after the timeout both sides hear it; dave's exit is 1.
    let call = dave.call(ring(&["erin"], false, Some(300))).await.unwrap();
    assert_eq!(
        dave.wait_for("exit 1").await,
        ["call erin NoResponse", "call ended", "exit 1"]
    );
    assert_eq!(
        erin.wait_for("call erin NoResponse").await,
        ["invited by dave [erin]", "call erin NoResponse"]
    );
    assert_eq!(
        code(erin.answer(&call.call_id).await),
        ErrorCode::CallNotFound,
        "an expired call cannot be accepted"
    );

    // Frank hangs up before grace answers: she hears the cancel, and cannot accept.
    let call = frank.call(ring(&["grace"], false, None)).await.unwrap();
    let (rung, _) = grace.rung().await;
    assert_eq!(rung, call.call_id);
    frank
        .req(Request::Hangup {
            call_id: call.call_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(frank.take_events().await, ["exit 0"]);
    assert_eq!(
        grace.take_events().await,
        ["invited by frank [grace]", "call frank Cancelled"]
    );
    assert_eq!(
        code(grace.answer(&call.call_id).await),
        ErrorCode::CallNotFound
    );
    assert_eq!(
        code(
            grace
                .req(Request::Reject {
                    call_id: call.call_id
                })
                .await
        ),
        ErrorCode::CallNotFound
    );

    // Refusals change nothing: no conference is created by any of them.
    assert_eq!(
        code(dave.call(ring(&["dave"], false, None)).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(dave.call(ring(&["nobody-home"], false, None)).await),
        ErrorCode::UserOffline
    );
    assert_eq!(
        code(dave.call(ring(&["erin"], false, Some(0))).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(dave.call(ring(&[], true, None)).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(dave.call(ring(&["not a user id"], false, None)).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(
            dave.req(Request::Accept {
                call_id: "K-made-up".into()
            })
            .await
        ),
        ErrorCode::CallNotFound
    );
    assert_eq!(health(server.addr).await.conferences, 0);
    assert!(erin.take_events().await.is_empty());

    // Do-not-disturb: callers hear busy, presence shows it; off again, calls ring.
    erin.req(Request::SetDnd { dnd: true }).await.unwrap();
    dave.call(ring(&["erin"], false, None)).await.unwrap();
    assert_eq!(
        dave.take_events().await,
        ["call erin Busy", "call ended", "exit 3"]
    );
    assert_eq!(
        dave.statuses(&["erin"]).await,
        [st("erin", UserState::Online, true)]
    );
    erin.req(Request::SetDnd { dnd: false }).await.unwrap();
    let call = dave.call(ring(&["erin"], false, None)).await.unwrap();
    assert_eq!(erin.rung().await.0, call.call_id);
    erin.req(Request::Reject {
        call_id: call.call_id,
    })
    .await
    .unwrap();
    assert_eq!(
        dave.take_events().await,
        ["call erin Rejected", "call ended", "exit 0"]
    );
}

#[tokio::test]
async fn a_group_call_of_four_and_more_invitees_later() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut g1 = Client::login(server.addr, "g1").await;
    let mut g2 = Client::login(server.addr, "g2").await;
    let mut g3 = Client::login(server.addr, "g3").await;
    let mut g4 = Client::login(server.addr, "g4").await;
    let mut g5 = Client::login(server.addr, "g5").await;

    // Long enough for g2 and g4 to answer first, short enough to wait for.
    let call = g1
        .call(ring(&["g2", "g3", "g4", "offline-one"], true, Some(2000)))
        .await
        .unwrap();
    for c in [&mut g2, &mut g3, &mut g4] {
        assert_eq!(c.rung().await.0, call.call_id);
    }
    assert_eq!(
        g2.take_events().await,
        ["invited by g1 [g2,g3,g4,offline-one] group"]
    );
    // g2 rejects, g4 joins after that, g3 never answers.
    g2.req(Request::Reject {
        call_id: call.call_id.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        g1.wait_for("call g2 Rejected").await,
        ["call offline-one Offline", "call g2 Rejected"]
    );
    let j = g4.answer(&call.call_id).await.unwrap();
    assert_eq!(j.confr_id, call.confr_id);
    assert_eq!(
        g1.wait_for("call g3 NoResponse").await,
        ["joined g4", "call g4 Entered", "call g3 NoResponse"]
    );
    assert_eq!(
        g4.wait_for("call g3 NoResponse").await,
        [
            "invited by g1 [g2,g3,g4,offline-one] group",
            "call g3 NoResponse"
        ]
    );

    // More people into the running call: the members hear the new list.
    let more = g4
        .call(Request::Call {
            user_ids: vec!["g5".into()],
            call_type: CallType::Video,
            timeout_ms: None,
            ext: None,
            group: true,
            call_id: Some(call.call_id.clone()),
        })
        .await
        .unwrap();
    assert!(more.joined.is_none());
    assert_eq!(more.call_id, call.call_id);
    let list = "invitees g2,g3,g4,offline-one,g5";
    assert_eq!(g1.take_events().await, [list]);
    assert_eq!(g5.rung().await.0, call.call_id);
    g5.answer(&call.call_id).await.unwrap();

    // Two leave; the last one is alone and the call ends for it.
    g1.req(Request::Hangup {
        call_id: call.call_id.clone(),
    })
    .await
    .unwrap();
    g5.req(Request::Hangup {
        call_id: call.call_id.clone(),
    })
    .await
    .unwrap();
    let g4_heard = g4.take_events().await;
    assert_eq!(
        g4_heard,
        [
            list,
            "joined g5",
            "call g5 Entered",
            "exited g1 0",
            "my role 7",
            "call g1 Left",
            "exited g5 0",
            "call g5 Left",
            "call ended",
            "exit 0"
        ]
    );
    assert_eq!(health(server.addr).await.conferences, 0);
}

#[tokio::test]
async fn invitations_into_a_running_conference_report_each_status() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut host = Client::login(server.addr, "host").await;
    let mut x = Client::login(server.addr, "x").await;
    let mut y = Client::login(server.addr, "y").await;
    let mut z = Client::login(server.addr, "z").await;
    let mut w = Client::login(server.addr, "w").await;
    let mut viewer = Client::login(server.addr, "viewer").await;
    let (confr_id, ticket) = host.create(None).await;
    host.join(&confr_id, &ticket).await.unwrap();
    async fn sent(c: &mut Client, req: Request) -> String {
        match c.req(req).await {
            Ok(Response::InviteSent { invite_id }) => invite_id,
            other => panic!("invite: {other:?}"),
        }
    }

    let to_x = sent(&mut host, invite(&confr_id, "x", None)).await;
    let (id, confr) = x.rung().await;
    assert_eq!((id.as_str(), &confr), (to_x.as_str(), &confr_id));
    assert_eq!(
        x.statuses(&["x"]).await,
        [st("x", UserState::InCall, false)]
    );
    x.answer(&to_x).await.unwrap();
    assert_eq!(
        x.statuses(&["x"]).await,
        [st("x", UserState::InConference, false)]
    );
    assert_eq!(code(x.answer(&to_x).await), ErrorCode::AlreadyAnswered);

    let to_y = sent(&mut host, invite(&confr_id, "y", None)).await;
    y.req(Request::Reject { call_id: to_y }).await.unwrap();
    sent(&mut host, invite(&confr_id, "z", Some(200))).await;
    let mut host_heard = host.wait_for("invite status 3").await;
    let to_w = sent(&mut host, invite(&confr_id, "w", None)).await;
    assert_eq!(
        code(
            w.req(Request::CancelInvite {
                invite_id: to_w.clone()
            })
            .await
        ),
        ErrorCode::NotInCall,
        "only the inviter cancels"
    );
    host.req(Request::CancelInvite {
        invite_id: to_w.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        w.take_events().await,
        ["invited by host [w]", "call host Cancelled"]
    );
    assert_eq!(code(w.answer(&to_w).await), ErrorCode::CallNotFound);
    assert_eq!(
        z.take_events().await,
        ["invited by host [z]", "call z NoResponse"]
    );
    // x: ringing, accepted; y: ringing, rejected; z: ringing, no answer; w: ringing,
    // hung up.
    host_heard.extend(host.take_events().await);
    let statuses: Vec<String> = host_heard
        .into_iter()
        .filter(|e| e.starts_with("invite status"))
        .collect();
    assert_eq!(
        statuses,
        [
            "invite status 0",
            "invite status 1",
            "invite status 0",
            "invite status 2",
            "invite status 0",
            "invite status 3",
            "invite status 0",
            "invite status 4"
        ]
    );

    // Refused: inviting as AUDIENCE, someone already in, the offline, yourself, and
    // into a conference you are not in.
    viewer
        .req(join_room("stage", Some(emedia_protocol::ConfrType::Live)))
        .await
        .unwrap();
    let mut audience = Client::login(server.addr, "audience").await;
    let stage = match audience.req(join_room("stage", None)).await {
        Ok(Response::Joined(j)) => j.confr_id,
        other => panic!("join: {other:?}"),
    };
    assert_eq!(
        code(audience.req(invite(&stage, "y", None)).await),
        ErrorCode::IllegalRights
    );
    assert_eq!(
        code(host.req(invite(&confr_id, "x", None)).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(host.req(invite(&confr_id, "ghost", None)).await),
        ErrorCode::UserOffline
    );
    assert_eq!(
        code(host.req(invite(&confr_id, "host", None)).await),
        ErrorCode::BadParameters
    );
    assert_eq!(
        code(host.req(invite(&stage, "y", None)).await),
        ErrorCode::MemberInvalid
    );

    // Someone in a call is busy: the inviter hears "rejected" at once.
    y.take_events().await;
    let call = y.call(ring(&["z"], false, None)).await.unwrap();
    sent(&mut host, invite(&confr_id, "y", None)).await;
    assert_eq!(host.take_events().await, ["invite status 2"]);
    y.req(Request::Hangup {
        call_id: call.call_id,
    })
    .await
    .unwrap();
    assert!(
        !y.take_events()
            .await
            .iter()
            .any(|e| e.starts_with("invited")),
        "a busy user is never rung"
    );
}

#[tokio::test]
async fn presence_follows_logins_conferences_and_logouts() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut watcher = Client::login(server.addr, "watcher").await;
    watcher
        .req(Request::UserStatusNotify { on: true })
        .await
        .unwrap();
    let mut kim = Client::login(server.addr, "kim").await;
    kim.req(join_room("lobby", None)).await.unwrap();
    kim.req(Request::SetDnd { dnd: true }).await.unwrap();
    // Without a list: everyone online.
    match watcher.req(Request::GetUserStatus { user_ids: None }).await {
        Ok(Response::UserStatus(all)) => {
            let all: Vec<_> = all
                .into_iter()
                .map(|s| (s.user_id, s.status.code(), s.dnd))
                .collect();
            assert_eq!(
                all,
                [
                    st("kim", UserState::InConference, true),
                    st("watcher", UserState::Online, false)
                ]
            );
        }
        other => panic!("status: {other:?}"),
    }
    kim.close().await;
    assert_eq!(
        watcher.wait_for("status kim 0 false").await,
        [
            "status kim 1 false",
            "status kim 3 false",
            "status kim 3 true",
            "status kim 0 false"
        ]
    );
    watcher
        .req(Request::UserStatusNotify { on: false })
        .await
        .unwrap();
    let again = Client::login(server.addr, "kim").await;
    assert!(watcher.take_events().await.is_empty(), "notify is off");
    assert_eq!(
        watcher.statuses(&["kim"]).await,
        [st("kim", UserState::Online, false)],
        "do-not-disturb ended with the login"
    );
    drop(again);
}
