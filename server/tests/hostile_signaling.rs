//! The signaling matrix: a hostile connection sends everything a client should not,
//! in every state a connection can be in, to the real server while a bystander
//! conference runs on other connections.
//!
//! Every frame must get exactly one reply with the right code (or the close it
//! deserves), leave the connection usable, and change nothing anyone else can see:
//! the bystanders receive no event and the /healthz counts stay where they were.

mod common;

use common::*;
use emedia_protocol::{
    ClientMessage, ConferenceId, ErrorCode, ReplyBody, Request, Response, Role, ServerMessage,
    StreamType, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};
use emedia_server::auth::{Grant, Keys};
use emedia_server::hub::RtmpCall;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::Message;

/// The rid of every hostile request that has one; the follow-up ping uses the next.
const RID: u32 = 7;

/// Where the hostile connection stands when it sends its frame.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    /// Connected, not authenticated.
    Fresh,
    /// Authenticated as mallory, in no conference.
    Authed,
    /// Also seated, alone and ADMIN, in a room of its own (`$MINE`, named `$ROOM`).
    Seated,
    /// Seated in its own room, then left it; an accomplice keeps the room open.
    Exited,
    /// Seated alone in its own room, then left it, which ended the room.
    Left,
    /// A TALKER in the bystanders' conference, reaching for more.
    Member,
}

/// What the hostile connection sends. Text may name things with `$` variables, filled
/// in when the case runs (see `world` and `enter`).
enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// A text frame carrying these bytes, UTF-8 or not.
    RawText(Vec<u8>),
    /// One text message sent as two fragments, cut at this byte.
    Fragmented(Vec<u8>, usize),
}

/// What must come back.
#[derive(Clone, Debug)]
enum Want {
    /// Exactly one reply, this error, for this rid.
    Error(u32, ErrorCode),
    /// Exactly one reply, a success (the input is odd but harmless).
    Success,
    /// No reply: the server closes the connection with this code.
    Closed(u16),
}

struct Case {
    name: String,
    stage: Stage,
    frame: Frame,
    want: Want,
}

fn case(name: impl Into<String>, stage: Stage, frame: Frame, want: Want) -> Case {
    Case {
        name: name.into(),
        stage,
        frame,
        want,
    }
}

fn text(s: impl Into<String>) -> Frame {
    Frame::Text(s.into())
}

/// A well-formed request with rid [`RID`].
fn req(r: Request) -> Frame {
    Frame::Text(serde_json::to_string(&ClientMessage { rid: RID, req: r }).unwrap())
}

fn err(code: ErrorCode) -> Want {
    Want::Error(RID, code)
}

/// An error for a frame whose rid could not be read.
fn err0(code: ErrorCode) -> Want {
    Want::Error(0, code)
}

/// Every request that needs a seat in `confr`, in a valid shape.
fn member_ops(confr: &str) -> Vec<(&'static str, Request)> {
    let c = || ConferenceId::from(confr);
    vec![
        ("exit", Request::Exit { confr_id: c() }),
        ("destroy", Request::Destroy { confr_id: c() }),
        (
            "kick",
            Request::Kick {
                confr_id: c(),
                members: vec!["bob".into()],
            },
        ),
        (
            "grant_role",
            Request::GrantRole {
                confr_id: c(),
                members: vec!["bob".into()],
                role: Role::Admin,
            },
        ),
        (
            "publish",
            Request::Publish {
                confr_id: c(),
                rtc_id: "cam".into(),
                stream_type: StreamType::Camera,
                audio: true,
                video: true,
                ext: None,
                sdp: "v=0".into(),
            },
        ),
        (
            "publish_rtmp",
            Request::PublishRtmp {
                confr_id: c(),
                rtc_id: "cam".into(),
                stream_type: StreamType::Camera,
                audio: true,
                video: true,
                ext: None,
            },
        ),
        (
            "play_rtmp",
            Request::PlayRtmp {
                confr_id: c(),
                stream_id: "$STREAM".into(),
            },
        ),
        (
            "unpublish",
            Request::Unpublish {
                confr_id: c(),
                stream_id: "$STREAM".into(),
            },
        ),
        (
            "subscribe",
            Request::Subscribe {
                confr_id: c(),
                stream_id: "$STREAM".into(),
                sdp: "v=0".into(),
                audio_mid: Some("0".into()),
                video_mid: None,
            },
        ),
        (
            "unsubscribe",
            Request::Unsubscribe {
                confr_id: c(),
                stream_id: "$STREAM".into(),
            },
        ),
        (
            "subscription_ready",
            Request::SubscriptionReady {
                confr_id: c(),
                stream_id: "$STREAM".into(),
            },
        ),
        (
            "set_media",
            Request::SetMedia {
                confr_id: c(),
                stream_id: "$STREAM".into(),
                aoff: true,
                voff: true,
            },
        ),
    ]
}

/// The requests that need no seat, in a valid shape.
fn seatless_ops() -> Vec<(&'static str, Request)> {
    vec![
        (
            "create_conference",
            Request::CreateConference {
                confr_type: emedia_protocol::ConfrType::Communication,
                password: None,
                config: Default::default(),
            },
        ),
        (
            "get_ticket",
            Request::GetTicket {
                confr_id: "$CONF".into(),
                password: Some("pw".into()),
            },
        ),
        (
            "join",
            Request::Join {
                confr_id: "$CONF".into(),
                ticket: "$TICKET".into(),
                ext: None,
                nick_name: None,
            },
        ),
        ("join_room", join_room("bystanders", Some("pw"))),
        (
            "get_info",
            Request::GetInfo {
                confr_id: "$CONF".into(),
                password: Some("pw".into()),
            },
        ),
    ]
}

fn join_room(name: &str, password: Option<&str>) -> Request {
    Request::JoinRoom {
        room_name: name.into(),
        password: password.map(Into::into),
        role: None,
        confr_type: None,
        config: Default::default(),
        nick_name: None,
        ext: None,
    }
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// The matrix. Each row: what the case is, the stage it runs in, the frame, and what
/// must come back. Laid out by hand as a table, one row per case.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use ErrorCode::*;
    use Stage::*;
    let bin = |b: &[u8]| Frame::Binary(b.to_vec());
    let raw = |b: &[u8]| Frame::RawText(b.to_vec());
    let deep = nested(10_000, "[", "]");
    let mut t = vec![
        // Not JSON: no rid can be read, so the reply carries rid 0.
        case("not JSON", Authed, text("{{{"), err0(BadRequest)),
        case("truncated JSON", Authed, text(r#"{"rid":7,"req":"pi"#), err0(BadRequest)),
        case("an empty text frame", Authed, text(""), err0(BadRequest)),
        case("only whitespace", Authed, text(" \r\n\t "), err0(BadRequest)),
        case("NUL bytes", Authed, text("\0\0\0"), err0(BadRequest)),
        case("two requests in one frame", Authed, text(r#"{"rid":7,"req":"ping"}{"rid":8,"req":"ping"}"#), err0(BadRequest)),
        case("a lone surrogate escape", Authed, text(r#"{"rid":7,"req":{"get_info":{"confrId":"\ud800"}}}"#), err0(BadRequest)),
        case("10k nested arrays", Authed, text(&deep), err0(BadRequest)),
        case("5k nested objects", Authed, text(nested(5_000, r#"{"a":"#, "}")), err0(BadRequest)),
        case("10k nested arrays as the request", Authed, text(format!(r#"{{"rid":7,"req":{deep}}}"#)), err0(BadRequest)),
        // serde skips unknown fields without recursing, so depth there costs nothing.
        case("10k nested arrays in an unknown field", Authed, text(format!(r#"{{"rid":7,"req":{{"get_info":{{"confrId":"Cnope","x":{deep}}}}}}}"#)), err(ConferenceNotFound)),
        case("rid 1e400, past f64", Authed, text(r#"{"rid":1e400,"req":"ping"}"#), err0(BadRequest)),

        // JSON of the wrong shape or types: the rid is echoed when it can be read.
        case("JSON null", Authed, text("null"), err0(BadParameters)),
        case("a bare number", Authed, text("42"), err0(BadParameters)),
        case("an array", Authed, text("[]"), err0(BadParameters)),
        case("no rid", Authed, text(r#"{"req":"ping"}"#), err0(BadParameters)),
        case("no req", Authed, text(r#"{"rid":7}"#), err(BadParameters)),
        case("rid as a string", Authed, text(r#"{"rid":"7","req":"ping"}"#), err0(BadParameters)),
        case("a negative rid", Authed, text(r#"{"rid":-7,"req":"ping"}"#), err0(BadParameters)),
        case("rid past u32", Authed, text(r#"{"rid":4294967296,"req":"ping"}"#), err0(BadParameters)),
        case("rid 1e10", Authed, text(r#"{"rid":1e10,"req":"ping"}"#), err0(BadParameters)),
        case("a 30-digit rid", Authed, text(format!(r#"{{"rid":{},"req":"ping"}}"#, "9".repeat(30))), err0(BadParameters)),
        case("members as a number", Authed, text(r#"{"rid":7,"req":{"kick":{"confrId":"$CONF","members":5}}}"#), err(BadParameters)),
        case("role 7 as a string", Authed, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$CONF","members":["bob"],"role":"7"}}}"#), err(BadParameters)),
        case("role 2, no such role", Authed, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$CONF","members":["bob"],"role":2}}}"#), err(BadParameters)),
        case("role 256", Authed, text(r#"{"rid":7,"req":{"join_room":{"roomName":"bystanders","password":"pw","role":256}}}"#), err(BadParameters)),
        case("role 7 (ADMIN) granted by a non-member", Authed, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$CONF","members":["bob"],"role":7}}}"#), err(MemberInvalid)),
        case(r#"confrType "x""#, Authed, text(r#"{"rid":7,"req":{"create_conference":{"confrType":"x"}}}"#), err(BadParameters)),
        case("confrType 99", Authed, text(r#"{"rid":7,"req":{"create_conference":{"confrType":99}}}"#), err(BadParameters)),
        case("maxTalkerCount past u32", Authed, text(r#"{"rid":7,"req":{"create_conference":{"confrType":10,"config":{"maxTalkerCount":99999999999}}}}"#), err(BadParameters)),
        case("maxTalkerCount u32::MAX", Authed, text(r#"{"rid":7,"req":{"create_conference":{"confrType":10,"config":{"maxTalkerCount":4294967295}}}}"#), err(BadParameters)),
        case("a float where an id goes", Authed, text(r#"{"rid":7,"req":{"get_info":{"confrId":1e308}}}"#), err(BadParameters)),
        case("a bool where an id goes", Authed, text(r#"{"rid":7,"req":{"exit":{"confrId":true}}}"#), err(BadParameters)),
        case("an unknown stream type", Seated, text(r#"{"rid":7,"req":{"publish":{"confrId":"$MINE","rtcId":"c","streamType":"hologram","audio":true,"video":true,"sdp":"v=0"}}}"#), err(BadParameters)),
        case("an ext that is not JSON", Authed, text(r#"{"rid":7,"req":{"join_room":{"roomName":"bystanders","password":"pw","ext":"{not json"}}}"#), err(BadParameters)),
        case("a room name of control characters", Authed, text(r#"{"rid":7,"req":{"join_room":{"roomName":"\u0007\u0000"}}}"#), err(BadParameters)),
        case("a blank room name", Authed, text(r#"{"rid":7,"req":{"join_room":{"roomName":"  "}}}"#), err(BadParameters)),
        case("two ops in one request", Authed, text(r#"{"rid":7,"req":{"ping":null,"exit":{"confrId":"$CONF"}}}"#), err(BadParameters)),
        case("a unit op with fields", Authed, text(r#"{"rid":7,"req":{"ping":{"x":1}}}"#), err(BadParameters)),
        case("an op with fields given none", Authed, text(r#"{"rid":7,"req":"exit"}"#), err(BadParameters)),

        // Unknown operations.
        case("an unknown op", Authed, text(r#"{"rid":7,"req":{"teleport":{}}}"#), err(BadRequest)),
        case("an unknown unit op", Authed, text(r#"{"rid":7,"req":"teleport"}"#), err(BadRequest)),
        case("an op in the wrong case", Authed, text(r#"{"rid":7,"req":"Ping"}"#), err(BadRequest)),

        // Unknown fields are ignored (older servers meet newer clients): the request is
        // handled as if they were not there.
        case("extra unknown fields", Authed, text(r#"{"rid":7,"req":{"get_info":{"confrId":"Cnope","evil":{"__proto__":1}}},"extra":[1,2]}"#), err(ConferenceNotFound)),
        case("an extra top-level field", Authed, text(r#"{"rid":7,"req":"ping","admin":true}"#), Want::Success),
        case("a 60 KiB id, under the frame limit", Authed, text(format!(r#"{{"rid":7,"req":{{"get_info":{{"confrId":"C{}"}}}}}}"#, "x".repeat(60 * 1024))), err(ConferenceNotFound)),

        // Binary frames carry data transfers only: anything else is refused like a bad
        // request, and the connection stays.
        case("a binary frame holding a valid request", Authed, bin(br#"{"rid":7,"req":"ping"}"#), err0(BadRequest)),
        case("an empty binary frame", Authed, bin(b""), err0(BadRequest)),
        case("binary garbage", Authed, bin(&[0xff, 0x00, 0xfe, 0x80]), err0(BadRequest)),
        case("a binary frame before auth", Fresh, bin(b"hello"), err0(TokenInvalid)),
        case("a chunk of a transfer that does not exist", Authed, bin(&[1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 42]), err0(TransferNotFound)),
        case("an ack of a transfer that does not exist", Authed, bin(&[2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1]), err0(TransferNotFound)),

        // Text frames that are not UTF-8 break the WebSocket protocol: closed with 1007.
        case("a 0xff byte in a text frame", Authed, raw(b"{\"rid\":7,\"req\":\"p\xffng\"}"), Want::Closed(1007)),
        case("an overlong encoding", Authed, raw(b"{\"rid\":7,\"req\":\"\xc0\xafping\"}"), Want::Closed(1007)),
        case("an encoded surrogate", Authed, raw(b"{\"rid\":7,\"req\":\"\xed\xa0\x80\"}"), Want::Closed(1007)),
        case("a truncated sequence at the end", Authed, raw(b"{\"rid\":7,\"req\":\"ping\"}\xe2\x82"), Want::Closed(1007)),
        case("invalid UTF-8 before auth", Fresh, raw(b"\xff\xff"), Want::Closed(1007)),
        case("invalid UTF-8 in a second fragment", Authed, Frame::Fragmented(b"{\"rid\":7,\"req\":\"pi\xffng\"}".to_vec(), 10), Want::Closed(1007)),
        // A character cut in two by fragmentation (after the first of the three bytes of
        // "€", at byte 41) is still one valid character.
        case("a character split across fragments", Authed, Frame::Fragmented(r#"{"rid":7,"req":{"get_info":{"confrId":"C€"}}}"#.into(), 41), err(ConferenceNotFound)),
        case("a frame over 64 KiB", Authed, text(format!(r#"{{"rid":7,"req":{{"ping":"{}"}}}}"#, "x".repeat(MAX_FRAME_BYTES))), Want::Closed(1009)),

        // Authentication and sessions.
        case("auth with garbage", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"x.y.z","protocol":1}}}"#), err(TokenInvalid)),
        case("auth with a token of another secret", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"$FORGED_TOKEN","protocol":1}}}"#), err(TokenInvalid)),
        case("auth with a token of another app", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"$FOREIGN_TOKEN","protocol":1}}}"#), err(TokenInvalid)),
        case("auth with an expired token", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"$OLD_TOKEN","protocol":1}}}"#), err(TokenInvalid)),
        case("auth with a ticket", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"$TICKET","protocol":1}}}"#), err(TokenInvalid)),
        case("auth with protocol 0", Fresh, text(r#"{"rid":7,"req":{"auth":{"token":"$TOKEN","protocol":0}}}"#), err(ClientNotSupported)),
        case("a second auth", Authed, text(r#"{"rid":7,"req":{"auth":{"token":"$TOKEN","protocol":1}}}"#), err(BadRequest)),
        case("a second auth as someone else", Authed, text(r#"{"rid":7,"req":{"auth":{"token":"$ALICES_TOKEN","protocol":1}}}"#), err(BadRequest)),
        case("a heartbeat before auth", Fresh, text(r#"{"rid":7,"req":{"heartbeat":{"received":0}}}"#), err(TokenInvalid)),
        case("a heartbeat acking more than was sent", Authed, text(r#"{"rid":7,"req":{"heartbeat":{"received":18446744073709551615}}}"#), Want::Success),
        case("a negative heartbeat", Authed, text(r#"{"rid":7,"req":{"heartbeat":{"received":-1}}}"#), err(BadParameters)),
        case("resuming a made-up session", Fresh, text(r#"{"rid":7,"req":{"resume":{"session":"1.00000000000000000000000000000000","received":0,"protocol":1}}}"#), err(TokenInvalid)),
        case("resuming a malformed session key", Fresh, text(r#"{"rid":7,"req":{"resume":{"session":"..","received":0,"protocol":1}}}"#), err(TokenInvalid)),
        case("resuming after auth", Authed, text(r#"{"rid":7,"req":{"resume":{"session":"1.x","received":0,"protocol":1}}}"#), err(BadRequest)),

        // Tickets that do not open the bystanders' door, and wrong passwords.
        case("join with a garbage ticket", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"nope"}}}"#), err(TicketInvalid)),
        case("join with bob's ticket", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$BOBS_TICKET"}}}"#), err(TicketInvalid)),
        case("join with a ticket of another conference", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$ELSEWHERE_TICKET"}}}"#), err(TicketInvalid)),
        case("join with a ticket of another secret", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$FORGED_TICKET"}}}"#), err(TicketInvalid)),
        case("join with a login token as the ticket", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$TOKEN"}}}"#), err(TicketInvalid)),
        case("join with an expired ticket", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$OLD_TICKET"}}}"#), err(TicketExpired)),
        case("join an unknown conference, good ticket", Authed, text(r#"{"rid":7,"req":{"join":{"confrId":"Cnowhere","ticket":"$NOWHERE_TICKET"}}}"#), err(ConferenceNotFound)),
        case("get_ticket with the wrong password", Authed, text(r#"{"rid":7,"req":{"get_ticket":{"confrId":"$CONF","password":"guess"}}}"#), err(WrongPassword)),
        case("get_info with no password", Authed, text(r#"{"rid":7,"req":{"get_info":{"confrId":"$CONF"}}}"#), err(WrongPassword)),
        case("join_room with the wrong password", Authed, text(r#"{"rid":7,"req":{"join_room":{"roomName":"bystanders","password":"guess"}}}"#), err(WrongPassword)),

        // Seated in a room of its own: in twice, bad arguments, names from elsewhere.
        case("join_room the same room again", Seated, text(r#"{"rid":7,"req":{"join_room":{"roomName":"$ROOM"}}}"#), err(BadRequest)),
        case("join the same conference again", Seated, text(r#"{"rid":7,"req":{"join":{"confrId":"$MINE","ticket":"$REJOIN"}}}"#), err(BadRequest)),
        case("kick nobody", Seated, text(r#"{"rid":7,"req":{"kick":{"confrId":"$MINE","members":["nobody"]}}}"#), err(MemberInvalid)),
        case("kick a bystander's member id", Seated, text(r#"{"rid":7,"req":{"kick":{"confrId":"$MINE","members":["$ALICE"]}}}"#), err(MemberInvalid)),
        case("kick myself", Seated, text(r#"{"rid":7,"req":{"kick":{"confrId":"$MINE","members":["mallory"]}}}"#), err(BadParameters)),
        case("kick an empty list", Seated, text(r#"{"rid":7,"req":{"kick":{"confrId":"$MINE","members":[]}}}"#), err(BadParameters)),
        case("kick 1001 names", Seated, req(Request::Kick { confr_id: "$MINE".into(), members: (0..1001).map(|i| format!("u{i}")).collect() }), err(BadParameters)),
        case("grant a role to a bystander", Seated, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$MINE","members":["alice"],"role":1}}}"#), err(MemberInvalid)),
        case("subscribe to my own stream, not published", Seated, text(r#"{"rid":7,"req":{"subscribe":{"confrId":"$MINE","streamId":"Smine","sdp":"v=0","audioMid":"0"}}}"#), err(PublishInactive)),
        case("subscribe with an empty offer", Seated, text(r#"{"rid":7,"req":{"subscribe":{"confrId":"$MINE","streamId":"$STREAM","sdp":" "}}}"#), err(SdpRequired)),
        case("publish with no rtcId", Seated, text(r#"{"rid":7,"req":{"publish":{"confrId":"$MINE","rtcId":"","streamType":"camera","audio":true,"video":true,"sdp":"v=0"}}}"#), err(BadParameters)),
        case("publish neither audio nor video", Seated, text(r#"{"rid":7,"req":{"publish":{"confrId":"$MINE","rtcId":"c","streamType":"camera","audio":false,"video":false,"sdp":"v=0"}}}"#), err(BadParameters)),
        case("publish with an empty offer", Seated, text(r#"{"rid":7,"req":{"publish":{"confrId":"$MINE","rtcId":"c","streamType":"camera","audio":true,"video":true,"sdp":""}}}"#), err(SdpRequired)),
        case("publish_rtmp with an ext that is not JSON", Seated, text(r#"{"rid":7,"req":{"publish_rtmp":{"confrId":"$MINE","rtcId":"c","streamType":"camera","audio":true,"video":true,"ext":"{"}}}"#), err(BadParameters)),

        // A TALKER among the bystanders: no rights beyond its own, no second seat.
        case("a talker kicks the admin", Member, text(r#"{"rid":7,"req":{"kick":{"confrId":"$CONF","members":["alice"]}}}"#), err(IllegalRights)),
        case("a talker kicks itself", Member, text(r#"{"rid":7,"req":{"kick":{"confrId":"$CONF","members":["mallory"]}}}"#), err(IllegalRights)),
        case("a talker makes itself admin", Member, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$CONF","members":["mallory"],"role":7}}}"#), err(IllegalRights)),
        case("a talker demotes the admin", Member, text(r#"{"rid":7,"req":{"grant_role":{"confrId":"$CONF","members":["$ALICE"],"role":1}}}"#), err(IllegalRights)),
        case("a talker destroys the conference", Member, text(r#"{"rid":7,"req":{"destroy":{"confrId":"$CONF"}}}"#), err(IllegalRights)),
        case("unpublish someone else's stream", Member, text(r#"{"rid":7,"req":{"unpublish":{"confrId":"$CONF","streamId":"$STREAM"}}}"#), err(IllegalRights)),
        case("mute someone else's stream", Member, text(r#"{"rid":7,"req":{"set_media":{"confrId":"$CONF","streamId":"$STREAM","aoff":true,"voff":true}}}"#), err(IllegalRights)),
        case("subscribe over WebRTC to an RTMP push", Member, text(r#"{"rid":7,"req":{"subscribe":{"confrId":"$CONF","streamId":"$STREAM","sdp":"v=0","audioMid":"0"}}}"#), err(NotSupported)),
        case("subscribe naming no m-line", Member, text(r#"{"rid":7,"req":{"subscribe":{"confrId":"$CONF","streamId":"$STREAM","sdp":"v=0"}}}"#), err(BadParameters)),
        case("unsubscribe, never subscribed", Member, text(r#"{"rid":7,"req":{"unsubscribe":{"confrId":"$CONF","streamId":"$STREAM"}}}"#), err(BadRequest)),
        case("subscription_ready, never subscribed", Member, text(r#"{"rid":7,"req":{"subscription_ready":{"confrId":"$CONF","streamId":"$STREAM"}}}"#), err(BadRequest)),
        case("join_room the same room again", Member, text(r#"{"rid":7,"req":{"join_room":{"roomName":"bystanders","password":"pw"}}}"#), err(BadRequest)),
        case("join again with a good ticket", Member, text(r#"{"rid":7,"req":{"join":{"confrId":"$CONF","ticket":"$TICKET"}}}"#), err(BadRequest)),

        // After leaving a room that ended.
        case("get_info of my ended room", Left, text(r#"{"rid":7,"req":{"get_info":{"confrId":"$MINE"}}}"#), err(ConferenceNotFound)),
        case("rejoin my ended room with its ticket", Left, text(r#"{"rid":7,"req":{"join":{"confrId":"$MINE","ticket":"$REJOIN"}}}"#), err(ConferenceNotFound)),
    ];

    // Every operation, each in a valid shape, in each state it does not belong to.
    for (op, r) in seatless_ops().into_iter().chain(member_ops("$CONF")) {
        t.push(case(format!("{op} before auth"), Fresh, req(r), err(TokenInvalid)));
    }
    for (op, r) in member_ops("$CONF") {
        t.push(case(format!("{op} as a non-member"), Authed, req(r), err(MemberInvalid)));
    }
    for (op, r) in member_ops("Cnowhere") {
        t.push(case(format!("{op} in an unknown conference"), Authed, req(r), err(ConferenceNotFound)));
    }
    for (op, r) in member_ops("$MINE") {
        // In its own room, naming the bystanders' stream and members.
        let want = match op {
            "exit" | "destroy" | "publish" | "publish_rtmp" => continue, // would succeed
            "kick" | "grant_role" => err(MemberInvalid),
            _ => err(PublishInactive),
        };
        t.push(case(format!("{op} of ids from elsewhere"), Seated, req(r), want));
    }
    for (op, r) in member_ops("$MINE") {
        t.push(case(format!("{op} after exit"), Exited, req(r.clone()), err(MemberInvalid)));
        t.push(case(format!("{op} after exit, room ended"), Left, req(r), err(ConferenceNotFound)));
    }
    t
}

/// The bystanders and the names the cases use.
struct World {
    server: emedia_server::Running,
    alice: Client,
    bob: Client,
    /// `$` variables common to every case.
    vars: Vec<(&'static str, String)>,
    baseline: Health,
}

async fn world() -> World {
    let mut a = args();
    a.rtmp_push_url = Some("rtmp://127.0.0.1/live/{streamId}?token={token}".into());
    a.rtmp_play_url = Some("rtmp://127.0.0.1/play/{streamId}?token={token}".into());
    // The bystanders answer a ping after every case, far above the default rate.
    a.rate_burst = 100_000;
    a.rate_per_sec = 100_000;
    let server = emedia_server::start(a).await.unwrap();

    let mut alice = Client::login(server.addr, "alice").await;
    let mut bob = Client::login(server.addr, "bob").await;
    let Ok(Response::Joined(ja)) = alice.req(join_room("bystanders", Some("pw"))).await else {
        panic!("alice joins")
    };
    let Ok(Response::Joined(_)) = bob.req(join_room("bystanders", Some("pw"))).await else {
        panic!("bob joins")
    };
    // Bob publishes from a mini-program; the RTMP server's callback makes it live.
    let Ok(Response::Rtmp { stream, url }) = bob
        .req(Request::PublishRtmp {
            confr_id: ja.confr_id.clone(),
            rtc_id: "cam".into(),
            stream_type: StreamType::Camera,
            audio: true,
            video: true,
            ext: None,
        })
        .await
    else {
        panic!("bob publishes")
    };
    let token = url.split("token=").nth(1).expect("token in the push URL");
    server
        .hub
        .rtmp(RtmpCall::Publish, stream.id.as_str(), token)
        .unwrap();
    assert_eq!(
        alice.take_events().await,
        ["joined bob", "stream added cam"]
    );
    assert!(bob.take_events().await.is_empty());

    let confr = ja.confr_id.clone();
    let grant = |sub: &str, cid: &str, exp: u64| Grant {
        sub: sub.into(),
        cid: cid.into(),
        role: Role::Talker,
        iat_ms: now_secs() * 1000,
        exp,
    };
    let later = now_secs() + 600;
    let other_secret = Keys::new(APP, b"another secret of at least 32 bytes");
    let vars = vec![
        ("$CONF", confr.to_string()),
        ("$ALICE", ja.join_id.to_string()),
        ("$STREAM", stream.id.to_string()),
        ("$TOKEN", keys().mint_user_token("mallory", now_secs(), 600)),
        (
            "$ALICES_TOKEN",
            keys().mint_user_token("alice", now_secs(), 600),
        ),
        (
            "$OLD_TOKEN",
            keys().mint_user_token("mallory", now_secs() - 7200, 600),
        ),
        (
            "$FORGED_TOKEN",
            other_secret.mint_user_token("mallory", now_secs(), 600),
        ),
        (
            "$FOREIGN_TOKEN",
            Keys::new("otherapp", SECRET.as_bytes()).mint_user_token("mallory", now_secs(), 600),
        ),
        (
            "$TICKET",
            keys().mint_grant(&grant("mallory", confr.as_str(), later)),
        ),
        (
            "$BOBS_TICKET",
            keys().mint_grant(&grant("bob", confr.as_str(), later)),
        ),
        (
            "$OLD_TICKET",
            keys().mint_grant(&grant("mallory", confr.as_str(), now_secs() - 3600)),
        ),
        (
            "$FORGED_TICKET",
            other_secret.mint_grant(&grant("mallory", confr.as_str(), later)),
        ),
        (
            "$ELSEWHERE_TICKET",
            keys().mint_grant(&grant("mallory", "Celsewhere", later)),
        ),
        (
            "$NOWHERE_TICKET",
            keys().mint_grant(&grant("mallory", "Cnowhere", later)),
        ),
    ];
    let baseline = health(server.addr).await;
    assert_eq!(
        baseline,
        Health {
            sessions: 2,
            conferences: 1,
            streams: 1
        }
    );
    World {
        server,
        alice,
        bob,
        vars,
        baseline,
    }
}

/// The hostile connection in its stage, and what it owns.
struct Hostile {
    conn: Client,
    /// Keeps the hostile room open after mallory leaves it (stage `Exited`).
    accomplice: Option<Client>,
    vars: Vec<(&'static str, String)>,
}

async fn enter(w: &mut World, stage: Stage, n: usize) -> Hostile {
    let addr = w.server.addr;
    let mut h = Hostile {
        conn: match stage {
            Stage::Fresh => Client::connect(addr).await,
            _ => Client::login(addr, "mallory").await,
        },
        accomplice: None,
        vars: Vec::new(),
    };
    if matches!(stage, Stage::Fresh | Stage::Authed) {
        return h;
    }
    if stage == Stage::Member {
        let r = h.conn.req(join_room("bystanders", Some("pw"))).await;
        assert!(matches!(r, Ok(Response::Joined(_))), "mallory joins: {r:?}");
        for b in [&mut w.alice, &mut w.bob] {
            assert_eq!(b.take_events().await, ["joined mallory"]);
        }
        return h;
    }
    let room = format!("mallory-{n}");
    let Ok(Response::Joined(j)) = h.conn.req(join_room(&room, None)).await else {
        panic!("mallory joins her room")
    };
    if stage == Stage::Exited {
        let mut trudy = Client::login(addr, "trudy").await;
        trudy
            .req(join_room(&room, None))
            .await
            .expect("trudy joins");
        h.accomplice = Some(trudy);
    }
    if matches!(stage, Stage::Exited | Stage::Left) {
        let exit = Request::Exit {
            confr_id: j.confr_id.clone(),
        };
        h.conn.req(exit).await.expect("mallory leaves");
    }
    h.conn.events.clear();
    h.vars = vec![
        ("$MINE", j.confr_id.to_string()),
        ("$ROOM", room),
        ("$REJOIN", j.ticket),
    ];
    h
}

/// Fills in the `$` variables, longest name first so none eats a longer one's prefix.
fn fill(text: &str, vars: &[(&'static str, String)]) -> String {
    let mut vars: Vec<_> = vars.iter().collect();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    vars.iter()
        .fold(text.to_owned(), |t, (k, v)| t.replace(k, v))
}

async fn send(c: &mut Client, frame: &Frame, vars: &[(&'static str, String)]) {
    let raw_text = |bytes: Vec<u8>, last| WsFrame::message(bytes, OpCode::Data(Data::Text), last);
    // The server may close while a frame is still being written; the reply or close
    // that follows is what the case checks.
    let _ = match frame {
        Frame::Text(t) => c.send_frame(Message::Text(fill(t, vars).into())).await,
        Frame::Binary(b) => c.send_frame(Message::Binary(b.clone().into())).await,
        Frame::RawText(b) => {
            c.send_frame(Message::Frame(raw_text(b.clone(), true)))
                .await
        }
        Frame::Fragmented(b, at) => {
            let (head, tail) = b.split_at(*at);
            let _ = c
                .send_frame(Message::Frame(raw_text(head.to_vec(), false)))
                .await;
            let cont = WsFrame::message(tail.to_vec(), OpCode::Data(Data::Continue), true);
            c.send_frame(Message::Frame(cont)).await
        }
    };
}

/// The next reply, or the close code if the server closed instead (1006: dropped).
async fn next_reply(c: &mut Client) -> Result<(u32, ReplyBody), u16> {
    loop {
        match c.next().await {
            Some(Ok(ServerMessage::Event(e))) => c.events.push_back(e),
            Some(Ok(ServerMessage::Reply { rid, body })) => return Ok((rid, body)),
            Some(Err((code, _))) => return Err(code),
            None => return Err(1006),
        }
    }
}

/// Runs one case and always cleans up after it, so a failure does not leak into the
/// next case; the failure comes back as its message.
async fn run(w: &mut World, n: usize, case: &Case) -> Result<(), String> {
    let mut h = enter(w, case.stage, n).await;
    let checked = AssertUnwindSafe(check(w, &mut h, case))
        .catch_unwind()
        .await;
    h.conn.close().await;
    if let Some(trudy) = h.accomplice {
        trudy.close().await;
    }
    settle(w.server.addr, w.baseline).await;
    // A member that said goodbye leaves as if its network failed (4).
    let left: &[&str] = match case.stage {
        Stage::Member => &["exited mallory 4"],
        _ => &[],
    };
    for b in [&mut w.alice, &mut w.bob] {
        assert_eq!(b.take_events().await, left, "{}: after cleanup", case.name);
    }
    checked.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

async fn check(w: &mut World, h: &mut Hostile, case: &Case) {
    let name = &case.name;
    let vars: Vec<_> = w.vars.iter().chain(&h.vars).cloned().collect();
    let before = health(w.server.addr).await;

    send(&mut h.conn, &case.frame, &vars).await;
    let got = next_reply(&mut h.conn).await;
    match (&case.want, &got) {
        (Want::Error(rid, code), Ok((r, ReplyBody::Err(e)))) => {
            assert_eq!((r, e.code), (rid, *code), "{name}: {}", e.message)
        }
        (Want::Success, Ok((r, ReplyBody::Ok(_)))) => assert_eq!(*r, RID, "{name}"),
        (Want::Closed(code), Err(c)) => assert_eq!(c, code, "{name}"),
        (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
    }

    // Nobody noticed, and nothing changed.
    assert!(h.conn.events.is_empty(), "{name}: {:?}", h.conn.events);
    assert_eq!(w.alice.take_events().await, Vec::<String>::new(), "{name}");
    assert_eq!(w.bob.take_events().await, Vec::<String>::new(), "{name}");
    if let Want::Closed(_) = case.want {
        // Only the hostile session is gone.
        let want = Health {
            sessions: before.sessions - 1,
            ..before
        };
        settle(w.server.addr, want).await;
    } else {
        assert_eq!(health(w.server.addr).await, before, "{name}");
        still_usable(h, case.stage, name, &vars).await;
    }
}

/// Exactly one reply came: the next frame answers the next request. Then a real
/// request for the stage still works.
async fn still_usable(h: &mut Hostile, stage: Stage, name: &str, vars: &[(&'static str, String)]) {
    let ping = format!(r#"{{"rid":{},"req":"ping"}}"#, RID + 1);
    h.conn.send_text(ping).await;
    match next_reply(&mut h.conn).await {
        Ok((rid, ReplyBody::Ok(Response::Pong))) if rid == RID + 1 => {}
        other => panic!("{name}: a second reply, or none to the ping: {other:?}"),
    }
    let var = |k: &str| fill(k, vars);
    let (check, members) = match stage {
        Stage::Fresh => {
            let r = h
                .conn
                .req(Request::Auth {
                    token: var("$TOKEN"),
                    protocol: PROTOCOL_VERSION,
                })
                .await;
            assert!(matches!(r, Ok(Response::Authed { .. })), "{name}: {r:?}");
            return;
        }
        Stage::Authed | Stage::Left => (
            Request::GetInfo {
                confr_id: var("$CONF").as_str().into(),
                password: Some("pw".into()),
            },
            ["alice", "bob"].as_slice(),
        ),
        Stage::Member => (
            Request::GetInfo {
                confr_id: var("$CONF").as_str().into(),
                password: None,
            },
            ["alice", "bob", "mallory"].as_slice(),
        ),
        Stage::Seated => (
            Request::GetInfo {
                confr_id: var("$MINE").as_str().into(),
                password: None,
            },
            ["mallory"].as_slice(),
        ),
        Stage::Exited => (
            Request::GetInfo {
                confr_id: var("$MINE").as_str().into(),
                password: None,
            },
            ["trudy"].as_slice(),
        ),
    };
    let Ok(Response::Info(info)) = h.conn.req(check).await else {
        panic!("{name}: get_info after the case")
    };
    let names: Vec<_> = info.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, members, "{name}");
}

#[tokio::test]
async fn the_signaling_matrix() {
    let mut w = world().await;
    let cases = cases();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        // Every case runs, so one report shows every failure.
        if let Err(msg) = run(&mut w, n, case).await {
            failures.push(format!("- {}: {msg}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
