//! Sessions over real sockets: a silent client times out, a dropped one resumes, and
//! limits hold (connections per IP, a flooding client) while the others carry on.

mod common;

use common::*;
use emedia_protocol::{ErrorCode, Request, Response, PROTOCOL_VERSION};
use emedia_server::config::ServeArgs;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

async fn login_keyed(addr: SocketAddr, user: &str) -> (Client, String) {
    let mut c = Client::connect(addr).await;
    let token = keys().mint_user_token(user, now_secs(), 3600);
    match c
        .req(Request::Auth {
            token,
            protocol: PROTOCOL_VERSION,
        })
        .await
    {
        Ok(Response::Authed { session, .. }) => (c, session),
        other => panic!("auth: {other:?}"),
    }
}

async fn join_room(c: &mut Client, room: &str) {
    c.req(Request::JoinRoom {
        room_name: room.into(),
        password: None,
        role: None,
        confr_type: None,
        config: Default::default(),
        nick_name: None,
        ext: None,
    })
    .await
    .expect("joinRoom");
}

#[tokio::test]
async fn a_dropped_socket_resumes_and_nobody_notices() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let (mut b, key) = login_keyed(server.addr, "bob").await;
    join_room(&mut a, "r").await;
    join_room(&mut b, "r").await;
    assert_eq!(a.take_events().await, ["joined bob"]);
    // Bob's TCP connection vanishes without a close frame; carol joins meanwhile.
    drop(b);
    let mut c = Client::login(server.addr, "carol").await;
    join_room(&mut c, "r").await;
    let mut b2 = Client::connect(server.addr).await;
    let resumed = b2
        .req(Request::Resume {
            session: key,
            received: 0,
            protocol: PROTOCOL_VERSION,
        })
        .await;
    assert!(matches!(resumed, Ok(Response::Resumed { user }) if user == "bob"));
    // The event bob missed arrives; alice saw carol come and bob neither go nor return.
    assert_eq!(b2.take_events().await, ["joined carol"]);
    assert_eq!(a.take_events().await, ["joined carol"]);
    assert_eq!(c.take_events().await, Vec::<String>::new());
    assert_eq!(server.hub.stats().sessions, 3);
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_times_out() {
    let server = emedia_server::start(ServeArgs {
        liveness_timeout_ms: 400,
        ..args()
    })
    .await
    .unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    let mut b = Client::login(server.addr, "bob").await;
    join_room(&mut a, "r").await;
    join_room(&mut b, "r").await;
    // Bob's process hangs: his socket stays open but nothing reads it, so the
    // server's pings go unanswered. Alice keeps reading (and so answering pings).
    let started = Instant::now();
    let exit = loop {
        let events = a.take_events().await;
        if let Some(e) = events.into_iter().find(|e| e.starts_with("exited")) {
            break e;
        }
        assert!(started.elapsed() < WAIT, "bob was never timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(exit, "exited bob 1", "1: timed out");
    drop(b);
}

#[tokio::test]
async fn connections_per_ip_are_capped() {
    let server = emedia_server::start(ServeArgs {
        max_connections_per_ip: 3,
        ..args()
    })
    .await
    .unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Client::connect(server.addr).await);
    }
    let url = format!("ws://{}/ws", server.addr);
    let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(refused.to_string().contains("429"), "{refused}");
    // A closed connection frees its place.
    open.pop().unwrap().close().await;
    let mut again = Client::login(server.addr, "late").await;
    again.sync().await;
}

#[tokio::test]
async fn a_flooding_client_is_closed_and_the_others_are_answered_meanwhile() {
    let server = emedia_server::start(ServeArgs {
        // Alice's own requests stay inside the burst.
        rate_burst: 50,
        rate_per_sec: 10,
        ..args()
    })
    .await
    .unwrap();
    let mut a = Client::login(server.addr, "alice").await;
    join_room(&mut a, "r").await;
    let mut flood = Client::login(server.addr, "flood").await;
    join_room(&mut flood, "r").await;
    a.take_events().await;

    let flooding = tokio::spawn(async move {
        let ping = r#"{"rid":1,"req":"ping"}"#;
        let mut refused = 0;
        for _ in 0..5000 {
            if flood.try_send_text(ping.into()).await.is_err() {
                break;
            }
        }
        loop {
            match flood.next().await {
                Some(Ok(emedia_protocol::ServerMessage::Reply {
                    body: emedia_protocol::ReplyBody::Err(e),
                    ..
                })) => {
                    assert_eq!(e.code, ErrorCode::ClientNotSupported);
                    refused += 1;
                }
                Some(Ok(_)) => {}
                Some(Err((code, _))) => return (Some(code), refused),
                None => return (None, refused),
            }
        }
    });
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        a.sync().await;
        latencies.push(t.elapsed());
    }
    let (closed, refused) = flooding.await.unwrap();
    assert_eq!(closed, Some(1008), "closed for flooding");
    assert!(refused > 0, "refused with -510 before the close");
    assert_eq!(a.take_events().await, ["exited flood 4"]);
    latencies.sort();
    println!(
        "alice's ping under flood: median {:?}, max {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}
