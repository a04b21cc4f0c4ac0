//! The real server on a random loopback port, driven by several real WebSocket
//! clients: every operation, every error code, and each event exactly once, in order.

mod common;

use common::*;
use emedia_protocol::{
    ConferenceConfig, ConfrType, ErrorCode, Event, MemberExitReason, Request, Response, Role,
    MAX_FRAME_BYTES,
};
use emedia_server::auth::Grant;
use emedia_server::config::ServeArgs;

#[tokio::test]
async fn a_conference_from_create_to_destroy() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;

    let (confr, admin_ticket) = alice.create(Some("pw")).await;
    let ja = alice.join(&confr, &admin_ticket).await.unwrap();
    assert_eq!(ja.role, Role::Admin);
    let jb = bob.join_pw(&confr, Some("pw")).await.unwrap();
    assert_eq!(jb.role, Role::Talker);
    assert_eq!(jb.members.len(), 1);
    assert_eq!(
        jb.members[0].ext.as_deref(),
        Some(r#"{"seat":1}"#),
        "ext reaches others as given"
    );
    carol.join_pw(&confr, Some("pw")).await.unwrap();

    assert_eq!(alice.take_events().await, ["joined bob", "joined carol"]);
    assert_eq!(bob.take_events().await, ["joined carol"]);
    assert!(carol.take_events().await.is_empty());

    // Grant: carol to audience. Bob loses sight of her; alice sees the new role.
    alice.grant(&confr, "carol", Role::Audience).await.unwrap();
    assert_eq!(alice.take_events().await, ["role carol 1"]);
    assert_eq!(bob.take_events().await, ["exited carol 13"]);
    assert_eq!(carol.take_events().await, ["my role 1"]);

    // Rights.
    let r = bob
        .req(Request::Kick {
            confr_id: confr.clone(),
            members: vec!["carol".into()],
        })
        .await;
    assert_eq!(code(r), ErrorCode::IllegalRights);
    let r = carol.grant(&confr, "carol", Role::Admin).await;
    assert_eq!(code(r), ErrorCode::IllegalRights);

    // Kick bob.
    alice
        .req(Request::Kick {
            confr_id: confr.clone(),
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    assert_eq!(bob.take_events().await, ["exit 12"]);
    assert_eq!(alice.take_events().await, ["exited bob 12"]);
    assert_eq!(
        carol.take_events().await,
        ["exited bob 12"],
        "the audience sees talkers come and go"
    );

    // Destroy: everyone left is told 11.
    alice
        .req(Request::Destroy {
            confr_id: confr.clone(),
        })
        .await
        .unwrap();
    assert_eq!(alice.take_events().await, ["exit 11"]);
    assert_eq!(carol.take_events().await, ["exit 11"]);
    assert_eq!(server.hub.stats().conferences, 0);
}

/// The server writes each seated member's JSON once and reuses it in every later
/// member list: a role change must show in the lists sent after it.
#[tokio::test]
async fn member_lists_after_a_role_change_show_the_new_role() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;
    let mut dave = Client::login(server.addr, "dave").await;
    let (confr, admin_ticket) = alice.create(None).await;
    alice.join(&confr, &admin_ticket).await.unwrap();
    bob.join_pw(&confr, None).await.unwrap();
    let role_of_bob = |members: &[emedia_protocol::SharedMember]| {
        members.iter().find(|m| m.name == "bob").map(|m| m.role)
    };
    let jc = carol.join_pw(&confr, None).await.unwrap();
    assert_eq!(role_of_bob(&jc.members), Some(Role::Talker));

    alice.grant(&confr, "bob", Role::Admin).await.unwrap();
    let jd = dave.join_pw(&confr, None).await.unwrap();
    assert_eq!(role_of_bob(&jd.members), Some(Role::Admin));
    let Ok(Response::Info(info)) = carol
        .req(Request::GetInfo {
            confr_id: confr.clone(),
            password: None,
        })
        .await
    else {
        panic!("no conference info")
    };
    assert_eq!(role_of_bob(&info.members), Some(Role::Admin));
}

#[tokio::test]
async fn join_room_creates_by_name_and_only_the_first_config_counts() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let mut b = Client::login(server.addr, "bob").await;
    let room = |config: ConferenceConfig, role| Request::JoinRoom {
        room_name: "standup".into(),
        password: Some("pw".into()),
        role,
        confr_type: Some(ConfrType::Communication),
        config,
        nick_name: Some("Ally".into()),
        ext: None,
    };
    let first = ConferenceConfig {
        max_talker_count: 1,
        ..Default::default()
    };
    let Ok(Response::Joined(ja)) = a.req(room(first, None)).await else {
        panic!()
    };
    assert!(ja.created);
    assert_eq!(ja.role, Role::Admin);
    // The second joiner's bigger limit does not count: the room is full of talkers.
    let second = ConferenceConfig {
        max_talker_count: 50,
        ..Default::default()
    };
    assert_eq!(
        code(b.req(room(second.clone(), Some(Role::Talker))).await),
        ErrorCode::TooManyTalkers
    );
    let Ok(Response::Joined(jb)) = b.req(room(second, Some(Role::Audience))).await else {
        panic!()
    };
    assert_eq!(
        (jb.confr_id.clone(), jb.role, jb.created),
        (ja.confr_id.clone(), Role::Audience, false)
    );
    assert_eq!(jb.members[0].nick_name.as_deref(), Some("Ally"));
    assert_eq!(a.take_events().await, ["joined bob"]);
}

#[tokio::test]
async fn every_error_code_of_the_core_slice() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let mut b = Client::login(server.addr, "bob").await;
    let (confr, ticket) = a.create(Some("pw")).await;
    a.join(&confr, &ticket).await.unwrap();

    assert_eq!(
        code(b.join_pw(&confr, Some("wrong")).await),
        ErrorCode::WrongPassword
    );
    assert_eq!(
        code(b.join_pw(&"Cmissing".into(), None).await),
        ErrorCode::ConferenceNotFound
    );
    assert_eq!(
        code(b.join(&confr, "not-a-ticket").await),
        ErrorCode::TicketInvalid
    );
    let expired = keys().mint_grant(&Grant {
        sub: "bob".into(),
        cid: confr.clone(),
        role: Role::Talker,
        iat_ms: 0,
        exp: now_secs() - 3600,
    });
    assert_eq!(
        code(b.join(&confr, &expired).await),
        ErrorCode::TicketExpired
    );
    // A ticket for conference A does not open conference B.
    let (other, _) = a.create(None).await;
    let t = match b
        .req(Request::GetTicket {
            confr_id: confr.clone(),
            password: Some("pw".into()),
        })
        .await
    {
        Ok(Response::Ticket { ticket }) => ticket,
        r => panic!("{r:?}"),
    };
    assert_eq!(code(b.join(&other, &t).await), ErrorCode::TicketInvalid);
    // Not a member.
    assert_eq!(
        code(
            b.req(Request::Exit {
                confr_id: confr.clone()
            })
            .await
        ),
        ErrorCode::MemberInvalid
    );
    // A second join of the same conference.
    b.join(&confr, &t).await.unwrap();
    assert_eq!(code(b.join(&confr, &t).await), ErrorCode::BadRequest);
    assert_eq!(
        code(
            b.req(Request::Destroy {
                confr_id: confr.clone()
            })
            .await
        ),
        ErrorCode::IllegalRights
    );
    let r = a
        .req(Request::Kick {
            confr_id: confr.clone(),
            members: vec!["nobody".into()],
        })
        .await;
    assert_eq!(code(r), ErrorCode::MemberInvalid);
    // Alice noticed bob's join and nothing of bob's failures.
    assert_eq!(a.take_events().await, ["joined bob"]);
}

#[tokio::test]
async fn bad_input_gets_an_error_and_disturbs_nobody() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let mut b = Client::login(server.addr, "bob").await;
    let (confr, ticket) = a.create(None).await;
    a.join(&confr, &ticket).await.unwrap();
    b.join_pw(&confr, None).await.unwrap();
    a.take_events().await;

    let mut raw = Client::connect(server.addr).await;
    raw.send_text(r#"{"rid":1,"req":{"create_conference":{"confrType":10}}}"#.into())
        .await;
    assert_eq!(
        code(raw.reply(1).await),
        ErrorCode::TokenInvalid,
        "before setIdentity"
    );

    for (rid, text, want) in [
        (0, "{{{".to_string(), ErrorCode::BadRequest),
        (0, "[]".to_string(), ErrorCode::BadParameters),
        (
            3,
            r#"{"rid":3,"req":{"teleport":{}}}"#.to_string(),
            ErrorCode::BadRequest,
        ),
        (
            4,
            r#"{"rid":4,"req":{"exit":{"confrId":["x"]}}}"#.to_string(),
            ErrorCode::BadParameters,
        ),
        (
            5,
            r#"{"rid":5,"req":{"grant_role":{"confrId":"C","members":["bob"],"role":2}}}"#
                .to_string(),
            ErrorCode::BadParameters,
        ),
    ] {
        b.send_text(text).await;
        assert_eq!(code(b.reply(rid).await), want);
    }
    // Still usable, and alice noticed nothing.
    b.sync().await;
    assert!(a.take_events().await.is_empty());

    // An oversized frame closes that socket with 1009, and only that one.
    b.send_text(format!(
        r#"{{"rid":9,"req":{{"ping":"{}"}}}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    ))
    .await;
    let closed = loop {
        match b.next().await {
            Some(Err(close)) => break Some(close),
            Some(Ok(_)) => continue,
            None => break None,
        }
    };
    assert_eq!(closed.map(|c| c.0), Some(1009));
    assert_eq!(a.take_events().await, ["exited bob 4"]);

    // Far over the limit (past the WebSocket library's own cap) is refused the same way.
    let mut c = Client::login(server.addr, "carol").await;
    let _ = c.try_send_text("y".repeat(4 * 1024 * 1024)).await;
    let closed = loop {
        match c.next().await {
            Some(Err(close)) => break Some(close),
            Some(Ok(_)) => continue,
            None => break None,
        }
    };
    // The 1009 close is sent while the client is still writing megabytes, so the
    // client's TCP stack may reset before it reads the close frame: either way the
    // connection is refused, and alice carries on.
    assert!(
        matches!(closed.as_ref().map(|c| c.0), Some(1009) | None),
        "{closed:?}"
    );
    a.req(Request::GetInfo {
        confr_id: confr.clone(),
        password: None,
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_second_login_replaces_the_first_and_disconnects_leave() {
    let server = emedia_server::start(ServeArgs {
        liveness_timeout_ms: 300,
        ..args()
    })
    .await
    .unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let mut b1 = Client::login(server.addr, "bob").await;
    let (confr, ticket) = a.create(None).await;
    a.join(&confr, &ticket).await.unwrap();
    b1.join_pw(&confr, None).await.unwrap();
    let mut b2 = Client::login(server.addr, "bob").await;
    b2.join_pw(&confr, None).await.unwrap();
    assert_eq!(b1.take_events().await, ["exit 10"]);
    assert_eq!(
        a.take_events().await,
        ["joined bob", "joined bob", "exited bob 10"]
    );
    let Ok(Response::Info(info)) = a
        .req(Request::GetInfo {
            confr_id: confr.clone(),
            password: None,
        })
        .await
    else {
        panic!()
    };
    assert_eq!(info.members.iter().filter(|m| m.name == "bob").count(), 1);

    drop(b2);
    // A socket dropped without a close frame may come back: bob is held until the
    // liveness timeout, then the others see him time out. Alice is alone and leaves,
    // which ends the conference.
    loop {
        a.sync().await;
        if let Some(e) = a.events.pop_front() {
            assert!(
                matches!(&e, Event::MemberExited { member, reason: MemberExitReason::NoResponse, .. } if member.name == "bob"),
                "{e:?}"
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    a.req(Request::Exit {
        confr_id: confr.clone(),
    })
    .await
    .unwrap();
    assert_eq!(server.hub.stats().conferences, 0);
}

#[tokio::test]
async fn tokens_from_the_cli_work_and_bad_tokens_do_not() {
    let server = emedia_server::start(args()).await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emedia-server"))
        .args([
            "token",
            "--app-secret",
            SECRET,
            "--app-id",
            APP,
            "--user",
            "dora",
            "--ttl",
            "60",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut c = Client::connect(server.addr).await;
    let r = c
        .req(Request::Auth {
            token,
            protocol: emedia_protocol::PROTOCOL_VERSION,
        })
        .await;
    assert!(
        matches!(r, Ok(Response::Authed { ref user, .. }) if user == "dora"),
        "{r:?}"
    );

    let mut d = Client::connect(server.addr).await;
    let forged = emedia_server::auth::Keys::new(APP, b"some other secret of 32 bytes...")
        .mint_user_token("dora", now_secs(), 60);
    let r = d
        .req(Request::Auth {
            token: forged,
            protocol: emedia_protocol::PROTOCOL_VERSION,
        })
        .await;
    assert_eq!(code(r), ErrorCode::TokenInvalid);
}

#[tokio::test]
async fn a_short_secret_is_refused_and_dev_mode_serves_tokens() {
    let mut bad = args();
    bad.app_secret = Some("short".into());
    assert!(emedia_server::start(bad).await.is_err());

    let mut dev = args();
    dev.app_secret = None;
    let server = emedia_server::start(dev).await.unwrap();
    assert!(server.dev_mode);
    let body = http_get(server.addr, "/dev/token?user=erin").await;
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("token in body")
        .to_owned();
    let mut c = Client::connect(server.addr).await;
    let r = c
        .req(Request::Auth {
            token,
            protocol: emedia_protocol::PROTOCOL_VERSION,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    let health = http_get(server.addr, "/healthz").await;
    assert!(health.contains("\"sessions\":1"), "{health}");
}
