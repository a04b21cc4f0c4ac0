//! Issue 8 over real sockets: room messages in order, a 20 MB transfer relayed
//! intact while another member keeps being answered, cancelling mid-transfer,
//! attributes to joiners and a request to speak. (The core's unit tests in
//! `server/src/core/tests/interaction.rs` cover mutes, PK and every refusal.)

mod common;

use common::*;
use emedia_protocol::{
    ConferenceId, DataFrame, ErrorCode, Request, Response, Role, RoomMsg, MAX_MESSAGE_BYTES,
};
use emedia_server::config::ServeArgs;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_tungstenite::tungstenite::Message;

fn join_room(room_name: &str, role: Option<Role>) -> Request {
    Request::JoinRoom {
        room_name: room_name.into(),
        password: None,
        role,
        confr_type: None,
        config: Default::default(),
        nick_name: None,
        ext: None,
    }
}

async fn joined(c: &mut Client, room: &str, role: Option<Role>) -> emedia_protocol::Joined {
    match c.req(join_room(room, role)).await.unwrap() {
        Response::Joined(j) => j,
        other => panic!("join: {other:?}"),
    }
}

fn say(confr_id: &ConferenceId, text: &str) -> Request {
    Request::SendRoomMsg {
        confr_id: confr_id.clone(),
        msg: RoomMsg::Text(text.into()),
    }
}

/// Deterministic, not constant: a shifted or repeated chunk would show.
fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 65_521) as u8).collect()
}

async fn start(c: &mut Client, to: &str, size: u64) -> (u32, u64) {
    let req = Request::SendData {
        to: to.into(),
        size,
        name: Some("big.bin".into()),
    };
    match c.req(req).await.unwrap() {
        Response::TransferStarted {
            transfer_id,
            window_bytes,
            ..
        } => (transfer_id, u64::from(window_bytes)),
        other => panic!("send_data: {other:?}"),
    }
}

fn chunk_frame(transfer: u32, offset: u64, bytes: &[u8]) -> Message {
    let header = DataFrame::Chunk { transfer, offset }.header();
    Message::Binary([header.as_slice(), bytes].concat().into())
}

/// Sends `data` within the window the server announced, reading acks as they come.
async fn send_all(c: &mut Client, transfer: u32, window: u64, data: &[u8]) -> Vec<u64> {
    let (mut sent, mut acked, mut acks) = (0u64, 0u64, vec![]);
    while acked < data.len() as u64 {
        while sent < data.len() as u64 {
            let end = (sent as usize + DataFrame::MAX_CHUNK_BYTES).min(data.len());
            if end as u64 > acked + window {
                break;
            }
            let frame = chunk_frame(transfer, sent, &data[sent as usize..end]);
            c.send_frame(frame).await.unwrap();
            sent = end as u64;
        }
        match DataFrame::parse(&c.next_data().await) {
            Some(DataFrame::Ack {
                transfer: t,
                received,
            }) if t == transfer => {
                acked = received;
                acks.push(received);
            }
            other => panic!("expected an ack, got {other:?}"),
        }
    }
    acks
}

/// Receives a whole transfer, acking every quarter window and at the end.
async fn receive_all(c: &mut Client, transfer: u32, size: u64, window: u64) -> Vec<u8> {
    let mut got = Vec::with_capacity(size as usize);
    let mut last_ack = 0;
    while (got.len() as u64) < size {
        let frame = c.next_data().await;
        match DataFrame::parse(&frame) {
            Some(DataFrame::Chunk {
                transfer: t,
                offset,
            }) if t == transfer => {
                assert_eq!(offset, got.len() as u64, "chunks arrive in order");
                got.extend_from_slice(&frame[DataFrame::HEADER_BYTES..]);
            }
            other => panic!("expected a chunk, got {other:?}"),
        }
        let have = got.len() as u64;
        if have - last_ack >= window / 4 || have == size {
            let ack = DataFrame::Ack {
                transfer,
                received: have,
            };
            c.send_frame(Message::Binary(ack.header().to_vec().into()))
                .await
                .unwrap();
            last_ack = have;
        }
    }
    got
}

#[tokio::test]
async fn room_messages_arrive_in_order_and_commands_reach_one_user() {
    // Each sender goes past the default burst of 100 frames here, as fast as the
    // replies come back: the limit has its own tests.
    let server = emedia_server::start(ServeArgs {
        rate_burst: 1000,
        ..args()
    })
    .await
    .unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;
    let room = joined(&mut alice, "chat", None).await.confr_id;
    joined(&mut bob, "chat", None).await;
    alice.take_events().await;
    for i in 0..200 {
        let from = if i % 2 == 0 { &mut alice } else { &mut bob };
        from.req(say(&room, &format!("m{i}"))).await.unwrap();
    }
    let custom = Request::SendRoomMsg {
        confr_id: room.clone(),
        msg: RoomMsg::Custom {
            cmd: "gift".into(),
            msg: "{\"n\":1}".into(),
        },
    };
    bob.req(custom).await.unwrap();
    let mut at_alice = alice.take_events().await;
    assert_eq!(at_alice.pop().unwrap(), "custom from bob: gift {\"n\":1}");
    let want: Vec<String> = (1..200)
        .step_by(2)
        .map(|i| format!("text from bob: m{i}"))
        .collect();
    assert_eq!(
        at_alice, want,
        "all of bob's messages, none of alice's own, in order"
    );
    let at_bob = bob.take_events().await;
    assert_eq!(at_bob.len(), 100);
    assert_eq!(at_bob[99], "text from alice: m198");

    let cmd = |to: &str, data: &str| Request::SendCmd {
        to: to.into(),
        data: data.into(),
    };
    alice.req(cmd("bob", "ping")).await.unwrap();
    assert_eq!(bob.take_events().await, ["cmd from alice: ping"]);
    let big = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert_eq!(code(alice.req(say(&room, &big)).await), ErrorCode::TooLarge);
    assert_eq!(
        code(alice.req(cmd("carol", "x")).await),
        ErrorCode::NotInConference
    );
    assert_eq!(
        code(alice.req(cmd("ghost", "x")).await),
        ErrorCode::NotInConference
    );
    assert_eq!(
        code(carol.req(say(&room, "hi")).await),
        ErrorCode::MemberInvalid
    );
    assert!(bob.take_events().await.is_empty(), "refusals send nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_transfer_arrives_intact_while_others_are_answered() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;
    let room = joined(&mut alice, "files", None).await.confr_id;
    joined(&mut bob, "files", None).await;
    joined(&mut carol, "files", None).await;
    alice.take_events().await;
    bob.take_events().await;

    let data = payload(20 * 1024 * 1024);
    let (id, window) = start(&mut alice, "bob", data.len() as u64).await;
    assert_eq!(
        bob.wait_for(&format!("data from alice: {}", data.len()))
            .await
            .last()
            .unwrap(),
        &format!("data from alice: {}", data.len())
    );
    let done = AtomicBool::new(false);
    let size = data.len() as u64;
    let (acks, got, answered) = tokio::join!(
        async {
            let acks = send_all(&mut alice, id, window, &data).await;
            done.store(true, Ordering::SeqCst);
            acks
        },
        receive_all(&mut bob, id, size, window),
        async {
            // Carol's requests and the events they cause keep flowing meanwhile.
            let mut answered = 0;
            while !done.load(Ordering::SeqCst) || answered == 0 {
                carol
                    .req(say(&room, &format!("c{answered}")))
                    .await
                    .unwrap();
                answered += 1;
                // Within the message rate limit (50 a second).
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            answered
        }
    );
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes arrived as sent");
    assert!(acks.windows(2).all(|w| w[0] < w[1]), "progress only rises");
    assert_eq!(acks.last(), Some(&size));
    assert!(answered > 0);
    let heard = alice.take_events().await;
    assert_eq!(
        heard.len(),
        answered,
        "alice heard each of carol's messages"
    );
    assert_eq!(
        heard[answered - 1],
        format!("text from carol: c{}", answered - 1)
    );
}

#[tokio::test]
async fn cancelling_mid_transfer_stops_it_at_both_ends() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    joined(&mut alice, "files", None).await;
    joined(&mut bob, "files", None).await;
    let data = payload(4 * DataFrame::MAX_CHUNK_BYTES);
    let (id, _) = start(&mut alice, "bob", data.len() as u64).await;
    let part = &data[..DataFrame::MAX_CHUNK_BYTES];
    alice.send_frame(chunk_frame(id, 0, part)).await.unwrap();
    let first = bob.next_data().await;
    assert_eq!(&first[DataFrame::HEADER_BYTES..], part);
    // A duplicate is refused (reply id 0) and changes nothing.
    alice.send_frame(chunk_frame(id, 0, part)).await.unwrap();
    assert_eq!(code(alice.reply(0).await), ErrorCode::BadChunk);
    alice
        .req(Request::CancelTransfer { transfer_id: id })
        .await
        .unwrap();
    assert!(bob
        .wait_for("transfer cancelled")
        .await
        .contains(&"transfer cancelled".to_string()));
    let offset = part.len() as u64;
    alice
        .send_frame(chunk_frame(id, offset, part))
        .await
        .unwrap();
    assert_eq!(code(alice.reply(0).await), ErrorCode::TransferNotFound);
    bob.sync().await;
    assert!(bob.data.is_empty(), "nothing more reached bob");
}

#[tokio::test]
async fn attributes_reach_joiners_and_a_request_to_speak_is_agreed() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut host = Client::login(server.addr, "host").await;
    let mut fan = Client::login(server.addr, "fan").await;
    let room = joined(&mut host, "show", None).await.confr_id;
    let set = Request::SetConferenceAttrs {
        confr_id: room.clone(),
        key: "title".into(),
        val: "Friday show".into(),
    };
    host.req(set).await.unwrap();
    assert_eq!(host.take_events().await, ["attrs 1"]);
    let j = joined(&mut fan, "show", Some(Role::Audience)).await;
    assert_eq!(
        j.attrs.get("title").map(String::as_str),
        Some("Friday show")
    );
    let ask = Request::RequestToTalker {
        confr_id: room.clone(),
        reason: Some("a question".into()),
    };
    fan.req(ask).await.unwrap();
    let heard = host.wait_for("asks to talk fan").await;
    assert!(heard.contains(&"joined fan".to_string()));
    let applicant = j.join_id;
    let agree = Request::AnswerTalkerRequest {
        confr_id: room.clone(),
        member_id: applicant,
        agree: true,
    };
    host.req(agree).await.unwrap();
    assert_eq!(fan.take_events().await, ["my role 3", "talk answer true"]);
}

/// Benchmark, not a test: `scripts/bench-transfer.sh`. A 20 MB transfer's speed, and
/// another member's request round trip alone and while the transfer runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench-transfer.sh"]
async fn bench_transfer() {
    let server = emedia_server::start(args()).await.unwrap();
    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let mut carol = Client::login(server.addr, "carol").await;
    let room = joined(&mut alice, "bench", None).await.confr_id;
    joined(&mut bob, "bench", None).await;
    joined(&mut carol, "bench", None).await;
    let info = Request::GetInfo {
        confr_id: room.clone(),
        password: None,
    };
    let mut idle = vec![];
    for _ in 0..100 {
        let t = std::time::Instant::now();
        carol.req(info.clone()).await.unwrap();
        idle.push(t.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let data = payload(20 * 1024 * 1024);
    let (id, window) = start(&mut alice, "bob", data.len() as u64).await;
    bob.wait_for(&format!("data from alice: {}", data.len()))
        .await;
    let done = AtomicBool::new(false);
    let size = data.len() as u64;
    let began = std::time::Instant::now();
    let (_, _, mut busy, took) = tokio::join!(
        async {
            send_all(&mut alice, id, window, &data).await;
            done.store(true, Ordering::SeqCst);
        },
        receive_all(&mut bob, id, size, window),
        async {
            let mut busy = vec![];
            while !done.load(Ordering::SeqCst) {
                let t = std::time::Instant::now();
                carol.req(info.clone()).await.unwrap();
                busy.push(t.elapsed());
                // Often enough for many samples, within the message rate limit.
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            busy
        },
        async {
            while !done.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            began.elapsed()
        }
    );
    idle.sort();
    busy.sort();
    let median = |v: &[std::time::Duration]| v[v.len() / 2].as_secs_f64() * 1000.0;
    let mb_s = size as f64 / 1e6 / took.as_secs_f64();
    println!(
        "transfer 20 MiB: {:.0} ms, {mb_s:.0} MB/s; other member's request: median {:.3} ms idle, {:.3} ms during ({} samples), ratio {:.2}",
        took.as_secs_f64() * 1000.0,
        median(&idle),
        median(&busy),
        busy.len(),
        median(&busy) / median(&idle)
    );
    println!(
        "{{\"transfer_ms\":{:.0},\"mb_per_s\":{mb_s:.1},\"rtt_idle_ms\":{:.3},\"rtt_during_ms\":{:.3}}}",
        took.as_secs_f64() * 1000.0,
        median(&idle),
        median(&busy)
    );
}
