//! A real WebSocket client for the integration tests, against the real server
//! started in-process on a random loopback port.
#![allow(dead_code)] // each test file uses a different part of this helper

use emedia_protocol::{
    ClientMessage, ErrorBody, ErrorCode, Event, Joined, ReplyBody, Request, Response, RoomMsg,
    ServerMessage, PROTOCOL_VERSION,
};
use emedia_server::auth::Keys;
use emedia_server::config::ServeArgs;
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const APP: &str = "testapp";
/// Long enough for a slow CI machine, short enough that a hang fails fast.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn args() -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        app_id: APP.into(),
        app_secret: Some(SECRET.into()),
        ticket_ttl: 600,
        empty_conference_ttl: 120,
        liveness_timeout_ms: 15_000,
        rate_burst: 100,
        rate_per_sec: 50,
        max_connections_per_ip: 64,
        max_conferences: 10_000,
        max_members: 1000,
        call_timeout_ms: 30_000,
        rtc_listen: "127.0.0.1:0".parse().unwrap(),
        rtc_public_ip: None,
        rtc_public_port: None,
        rtmp_push_url: None,
        rtmp_play_url: None,
        demo_dir: "demo".into(),
        pkg_dir: "pkg".into(),
    }
}

pub fn keys() -> Keys {
    Keys::new(APP, SECRET.as_bytes())
}

pub fn now_secs() -> u64 {
    emedia_server::hub::now_ms() / 1000
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    rid: u32,
    pub events: VecDeque<Event>,
    /// Binary data-transfer frames received, in order.
    pub data: VecDeque<Vec<u8>>,
}

impl Client {
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .expect("connect");
        Self {
            ws,
            rid: 0,
            events: VecDeque::new(),
            data: VecDeque::new(),
        }
    }

    pub async fn login(addr: std::net::SocketAddr, user: &str) -> Self {
        let mut c = Self::connect(addr).await;
        let token = keys().mint_user_token(user, now_secs(), 3600);
        c.req(Request::Auth {
            token,
            protocol: PROTOCOL_VERSION,
        })
        .await
        .expect("auth");
        c
    }

    pub async fn send_text(&mut self, text: String) {
        self.try_send_text(text).await.expect("send");
    }

    /// For frames the server may refuse while they are still being written.
    pub async fn try_send_text(&mut self, text: String) -> Result<(), String> {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next server message, or None if the socket closed.
    pub async fn next(&mut self) -> Option<Result<ServerMessage, (u16, String)>> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("server went quiet")?;
            match msg {
                Ok(Message::Text(t)) => {
                    return Some(Ok(serde_json::from_str(&t).expect("server JSON")))
                }
                Ok(Message::Binary(b)) => self.data.push_back(b.to_vec()),
                Ok(Message::Close(f)) => {
                    return Some(Err(f
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()))))
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// The next binary frame (a data transfer's chunk or ack), keeping the events
    /// that come before it.
    pub async fn next_data(&mut self) -> Vec<u8> {
        loop {
            if let Some(d) = self.data.pop_front() {
                return d;
            }
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("server went quiet")
                .expect("socket closed")
                .expect("socket failed");
            match msg {
                Message::Binary(b) => return b.to_vec(),
                Message::Text(t) => match serde_json::from_str(&t).expect("server JSON") {
                    ServerMessage::Event(e) => self.events.push_back(e),
                    ServerMessage::Reply { rid, .. } => panic!("stray reply {rid}"),
                },
                _ => {}
            }
        }
    }

    /// Waits for the reply to `rid`, keeping the events that come before it.
    pub async fn reply(&mut self, rid: u32) -> Result<Response, ErrorBody> {
        loop {
            match self
                .next()
                .await
                .expect("socket closed")
                .expect("closed by server")
            {
                ServerMessage::Event(e) => self.events.push_back(e),
                ServerMessage::Reply { rid: r, body } => {
                    assert_eq!(r, rid, "replies come in request order: {body:?}");
                    return match body {
                        ReplyBody::Ok(r) => Ok(r),
                        ReplyBody::Err(e) => Err(e),
                    };
                }
            }
        }
    }

    pub async fn req(&mut self, req: Request) -> Result<Response, ErrorBody> {
        self.rid += 1;
        let text = serde_json::to_string(&ClientMessage { rid: self.rid, req }).unwrap();
        self.send_text(text).await;
        self.reply(self.rid).await
    }

    pub async fn create(
        &mut self,
        password: Option<&str>,
    ) -> (emedia_protocol::ConferenceId, String) {
        match self
            .req(Request::CreateConference {
                confr_type: emedia_protocol::ConfrType::Communication,
                password: password.map(Into::into),
                config: Default::default(),
            })
            .await
        {
            Ok(Response::Created {
                confr_id, ticket, ..
            }) => (confr_id, ticket),
            other => panic!("create: {other:?}"),
        }
    }

    pub async fn join_pw(
        &mut self,
        confr: &emedia_protocol::ConferenceId,
        password: Option<&str>,
    ) -> Result<Joined, ErrorBody> {
        let ticket = match self
            .req(Request::GetTicket {
                confr_id: confr.clone(),
                password: password.map(Into::into),
            })
            .await?
        {
            Response::Ticket { ticket } => ticket,
            other => panic!("ticket: {other:?}"),
        };
        self.join(confr, &ticket).await
    }

    pub async fn join(
        &mut self,
        confr: &emedia_protocol::ConferenceId,
        ticket: &str,
    ) -> Result<Joined, ErrorBody> {
        self.req(Request::Join {
            confr_id: confr.clone(),
            ticket: ticket.into(),
            ext: Some(r#"{"seat":1}"#.into()),
            nick_name: None,
        })
        .await
        .map(|r| match r {
            Response::Joined(j) => j,
            other => panic!("join: {other:?}"),
        })
    }

    /// grantRole of one member.
    pub async fn grant(
        &mut self,
        confr: &emedia_protocol::ConferenceId,
        member: &str,
        role: emedia_protocol::Role,
    ) -> Result<Response, ErrorBody> {
        self.req(Request::GrantRole {
            confr_id: confr.clone(),
            members: vec![member.into()],
            role,
        })
        .await
    }

    /// Makes sure every event sent so far has arrived (a ping's reply comes after them).
    pub async fn sync(&mut self) {
        self.req(Request::Ping).await.expect("ping");
    }

    /// Reads until an event described as `want` arrives (timers fire on the server:
    /// ring timeouts); returns every event up to it, emptying the queue.
    pub async fn wait_for(&mut self, want: &str) -> Vec<String> {
        let mut seen: Vec<String> = self.events.drain(..).map(|e| describe(&e)).collect();
        while !seen.iter().any(|e| e == want) {
            match self.next().await.expect("socket closed").expect("closed") {
                ServerMessage::Event(e) => seen.push(describe(&e)),
                ServerMessage::Reply { rid, .. } => panic!("stray reply {rid} waiting for {want}"),
            }
        }
        seen
    }

    /// Every event received so far, as short strings, emptying the queue.
    pub async fn take_events(&mut self) -> Vec<String> {
        self.sync().await;
        self.events.drain(..).map(|e| describe(&e)).collect()
    }
}

pub fn describe(e: &Event) -> String {
    match e {
        Event::MemberJoined { member, .. } => format!("joined {}", member.name),
        Event::MemberExited { member, reason, .. } => {
            format!("exited {} {}", member.name, reason.code())
        }
        Event::MemberRoleChanged { member, .. } => {
            format!("role {} {}", member.name, member.role.code())
        }
        Event::RoleChanged { role, .. } => format!("my role {}", role.code()),
        Event::ConferenceExited { reason, .. } => format!("exit {}", reason.code()),
        Event::StreamAdded { stream, .. } => format!("stream added {}", stream.rtc_id),
        Event::SubscriptionsLost { .. } => "subscriptions lost".to_string(),
        Event::StreamRemoved { stream, .. } => format!("stream removed {}", stream.rtc_id),
        Event::StreamUpdated { stream, .. } => format!(
            "stream updated {} a{} v{}",
            stream.rtc_id, stream.aoff as u8, stream.voff as u8
        ),
        Event::UserStatusChanged(s) => {
            format!("status {} {} {}", s.user_id, s.status.code(), s.dnd)
        }
        Event::Invited(i) => format!(
            "invited by {} [{}]{}",
            i.sponsor,
            i.user_id_list.join(","),
            if i.is_from_group { " group" } else { "" }
        ),
        Event::CallProgress {
            user_id, progress, ..
        } => format!("call {user_id} {progress:?}"),
        Event::CallEnded { .. } => "call ended".to_string(),
        Event::InviteeListUpdated { user_ids, .. } => format!("invitees {}", user_ids.join(",")),
        Event::InviteStatus { status, .. } => format!("invite status {}", status.code()),
        Event::RoomMsg { from, msg, .. } => match msg {
            RoomMsg::Text(t) => format!("text from {}: {t}", from.name),
            RoomMsg::Custom { cmd, msg } => format!("custom from {}: {cmd} {msg}", from.name),
        },
        Event::CmdData { from, data } => format!("cmd from {from}: {data}"),
        Event::DataIncoming { from, size, .. } => format!("data from {from}: {size}"),
        Event::TransferCancelled { .. } => "transfer cancelled".to_string(),
        Event::TalkerRequested { applicant, .. } => format!("asks to talk {}", applicant.name),
        Event::TalkerRequestAnswered { agree, .. } => format!("talk answer {agree}"),
        Event::Muted { muted, .. } => format!("muted {muted}"),
        Event::ConfrAttrsUpdated { attrs, .. } => format!("attrs {}", attrs.len()),
        Event::RoomPkRequested { from, .. } => format!("pk asked by {}", from.name),
        Event::RoomPkRefused { .. } => "pk refused".to_string(),
        Event::RoomPkStarted { .. } => "pk started".to_string(),
        Event::RoomPkEnded { .. } => "pk ended".to_string(),
    }
}

pub fn code<T: std::fmt::Debug>(r: Result<T, ErrorBody>) -> ErrorCode {
    r.expect_err("expected an error").code
}

impl Client {
    /// Any frame, as is: binary frames, raw text frames with bytes that are not
    /// UTF-8, fragments. Errors are returned, since the server may close first.
    pub async fn send_frame(&mut self, msg: Message) -> Result<(), String> {
        self.ws.send(msg).await.map_err(|e| e.to_string())
    }

    /// Says goodbye with 1000, which ends the session at once (any other close may
    /// be followed by a resume, so the server would keep the session for a while).
    pub async fn close(mut self) {
        use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
        let bye = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = self.ws.close(Some(bye)).await;
        // Drain until the server's close arrives, so the goodbye is surely read.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }
}

/// A minimal HTTP GET over a real TCP socket; the body as text.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

/// The counts /healthz reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub sessions: u64,
    pub conferences: u64,
    pub streams: u64,
}

pub async fn health(addr: std::net::SocketAddr) -> Health {
    let body = http_get(addr, "/healthz").await;
    let v: serde_json::Value = serde_json::from_str(&body).expect("/healthz JSON");
    let count = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {body}"));
    Health {
        sessions: count("sessions"),
        conferences: count("conferences"),
        streams: count("streams"),
    }
}

/// Waits until /healthz shows `want`: disconnects are handled after the socket closes,
/// so counts settle a moment later. Panics with the last counts if they never do.
pub async fn settle(addr: std::net::SocketAddr, want: Health) {
    let mut last = health(addr).await;
    for _ in 0..500 {
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        last = health(addr).await;
    }
    assert_eq!(last, want, "/healthz counts never settled");
}
