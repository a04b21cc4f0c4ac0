//! A real WebSocket client for the integration tests, against the real server
//! started in-process on a random loopback port.
#![allow(dead_code)] // each test file uses a different part of this helper

use emedia_protocol::{
    ClientMessage, ErrorBody, ErrorCode, Event, Joined, ReplyBody, Request, Response,
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
        rtc_listen: "127.0.0.1:0".parse().unwrap(),
        rtc_public_ip: None,
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
                    assert_eq!(r, rid, "replies come in request order");
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

    /// Makes sure every event sent so far has arrived (a ping's reply comes after them).
    pub async fn sync(&mut self) {
        self.req(Request::Ping).await.expect("ping");
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
    }
}

pub fn code<T: std::fmt::Debug>(r: Result<T, ErrorBody>) -> ErrorCode {
    r.expect_err("expected an error").code
}
