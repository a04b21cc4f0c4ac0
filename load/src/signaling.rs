//! One signaling client: a WebSocket speaking the emedia protocol. Requests wait for
//! their reply; events met on the way are counted (a load client has no use for them
//! beyond that, but must read them so the server never waits on a full socket).

use emedia_protocol::{
    ClientMessage, ErrorBody, Joined, ReplyBody, Request, Response, PROTOCOL_VERSION,
};
use futures_util::{SinkExt, StreamExt};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a load client reads of a server frame: a reply's id, its body left undecoded,
/// and that an event is an event. The generator shares the machine's cores with the
/// server it measures, so it decodes no more than it needs (events are scanned, not
/// built; a 200-member list is only built for a caller that asks for it).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Frame<'a> {
    Reply {
        rid: u32,
        #[serde(borrow)]
        body: &'a RawValue,
    },
    Event(IgnoredAny),
}

/// How the server's JSON writer starts every event frame (`{"event":…}`, compact). A
/// frame that starts so is an event without scanning the rest: in a 200-client join
/// storm the generator reads ~20,000 of them, and scanning each was a sixth of its CPU.
/// Anything else is decoded as a [`Frame`].
const EVENT_PREFIX: &str = r#"{"event":"#;

/// How the server's JSON writer starts a successful reply to request `rid`
/// (`{"reply":{"rid":…,"body":{"ok":…}}}`, compact): such a reply is known to have
/// succeeded without scanning the rest, which for a join in a storm is a member list
/// hundreds long. Anything else is decoded.
fn ok_reply_prefix(rid: u32) -> String {
    format!(r#"{{"reply":{{"rid":{rid},"body":{{"ok":"#)
}

fn is_event(text: &str) -> bool {
    text.starts_with(EVENT_PREFIX) || matches!(serde_json::from_str(text), Ok(Frame::Event(_)))
}

/// A reply body read only for success or the error.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Ok(IgnoredAny),
    Err(ErrorBody),
}

pub struct Client {
    socket: Socket,
    next_rid: u32,
    /// Events received so far; shared, so a scenario can watch it while a task reads.
    pub events: Arc<AtomicU64>,
}

/// Why a client stopped: the connection, or the server's refusal.
#[derive(Debug)]
pub enum Failure {
    Connection(String),
    Refused(ErrorBody),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connection(why) => write!(f, "connection: {why}"),
            Failure::Refused(e) => write!(f, "refused {}: {}", e.code.code(), e.message),
        }
    }
}

/// Most bytes one socket read asks for. tungstenite zero-fills the space a read may use
/// before each read, and a frame handed on takes its buffer with it, so the default
/// (128 KiB) costs a fresh 128 KiB allocation and memset per read: in a join storm that
/// was a quarter of the generator's CPU, taken from the server it shares the cores with.
/// A frame larger than this still arrives whole (its length is reserved up front).
const READ_BUFFER_BYTES: usize = 16 * 1024;

fn broken(e: impl std::fmt::Display) -> Failure {
    Failure::Connection(e.to_string())
}

impl Client {
    /// Connects to `ws_url` and logs in with `token`.
    pub async fn login(ws_url: &str, token: String) -> Result<Self, Failure> {
        let (socket, _) = tokio_tungstenite::connect_async_with_config(
            ws_url,
            Some(WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES)),
            // TCP_NODELAY, as browsers set it: with Nagle a request could wait for the
            // ACK of an earlier segment, which the server may delay by 40 ms.
            true,
        )
        .await
        .map_err(broken)?;
        let mut client = Self {
            socket,
            next_rid: 0,
            events: Arc::default(),
        };
        let auth = Request::Auth {
            token,
            protocol: PROTOCOL_VERSION,
        };
        client.request_ok(auth).await?;
        Ok(client)
    }

    /// Sends `req` and reads until its reply.
    pub async fn request(&mut self, req: Request) -> Result<Response, Failure> {
        let rid = self.send(req).await?;
        let body = self.reply(rid, |_| false).await?.unwrap_or_default();
        match serde_json::from_str(&body).map_err(broken)? {
            ReplyBody::Ok(resp) => Ok(resp),
            ReplyBody::Err(e) => Err(Failure::Refused(e)),
        }
    }

    /// Like `request`, for a caller that only needs to know it succeeded: the reply's
    /// contents (a joiner's member list, hundreds long in a storm) are not decoded, nor
    /// even scanned when the reply starts as a success does.
    pub async fn request_ok(&mut self, req: Request) -> Result<(), Failure> {
        let rid = self.send(req).await?;
        let ok = ok_reply_prefix(rid);
        let Some(body) = self.reply(rid, |text| text.starts_with(&ok)).await? else {
            return Ok(());
        };
        match serde_json::from_str(&body).map_err(broken)? {
            Outcome::Ok(_) => Ok(()),
            Outcome::Err(e) => Err(Failure::Refused(e)),
        }
    }

    pub async fn join(&mut self, req: Request) -> Result<Joined, Failure> {
        match self.request(req).await? {
            Response::Joined(j) => Ok(j),
            other => Err(Failure::Connection(format!("unexpected reply {other:?}"))),
        }
    }

    /// Sends `req` under the next request id, which it returns.
    async fn send(&mut self, req: Request) -> Result<u32, Failure> {
        self.next_rid += 1;
        let rid = self.next_rid;
        let text = serde_json::to_string(&ClientMessage { rid, req }).map_err(broken)?;
        self.socket
            .send(Message::text(text))
            .await
            .map_err(broken)?;
        Ok(rid)
    }

    /// Reads until the reply to `rid`: None if `known` recognises it from its text
    /// alone, else its body, undecoded.
    async fn reply(
        &mut self,
        rid: u32,
        known: impl Fn(&str) -> bool,
    ) -> Result<Option<String>, Failure> {
        loop {
            let text = self.next_text().await?;
            if text.starts_with(EVENT_PREFIX) {
                self.events.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if known(&text) {
                return Ok(None);
            }
            match serde_json::from_str(&text).map_err(broken)? {
                Frame::Reply { rid: r, body } if r == rid => {
                    return Ok(Some(body.get().to_owned()))
                }
                Frame::Reply { .. } => {}
                Frame::Event(_) => {
                    self.events.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    async fn next_text(&mut self) -> Result<Utf8Bytes, Failure> {
        loop {
            let frame = self
                .socket
                .next()
                .await
                .ok_or_else(|| broken("closed by the server"))?
                .map_err(broken)?;
            if let Message::Text(text) = frame {
                return Ok(text);
            }
        }
    }

    /// Reads (and counts) events until the connection ends or `stop` fires.
    pub async fn drain_until(&mut self, stop: &tokio::sync::watch::Receiver<bool>) {
        let mut stop = stop.clone();
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                text = self.next_text() => match text {
                    Ok(text) => {
                        if is_event(&text) {
                            self.events.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => return,
                },
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emedia_protocol::{ErrorCode, Event, ExitReason, ServerMessage};

    /// The shortcut holds for events as the protocol writes them, and a reply is never
    /// taken for one, even a reply whose body mentions an event.
    #[test]
    fn events_are_told_from_replies_by_their_first_bytes() {
        let event = ServerMessage::Event(Event::ConferenceExited {
            confr_id: "C1".into(),
            reason: ExitReason::Kicked,
        });
        let event = serde_json::to_string(&event).unwrap();
        assert!(event.starts_with(EVENT_PREFIX), "{event}");
        assert!(is_event(&event));

        let reply = ServerMessage::Reply {
            rid: 7,
            body: ReplyBody::Err(ErrorBody::new(ErrorCode::BadParameters, r#"{"event":"#)),
        };
        let reply = serde_json::to_string(&reply).unwrap();
        assert!(!is_event(&reply));
        // Spaced out, an event is still recognised, by decoding it.
        assert!(is_event(&event.replacen(':', " : ", 1)));
    }

    /// The success shortcut holds for replies as the protocol writes them, and never
    /// takes a refusal, or another request's reply, for a success.
    #[test]
    fn a_success_is_told_by_its_first_bytes_and_only_for_its_request() {
        let reply = |rid, body| serde_json::to_string(&ServerMessage::Reply { rid, body }).unwrap();
        let ticket = Response::Ticket { ticket: "t".into() };
        for ok in [
            reply(7, ReplyBody::Ok(Response::Done)),
            reply(7, ReplyBody::Ok(ticket)),
        ] {
            assert!(ok.starts_with(&ok_reply_prefix(7)), "{ok}");
            assert!(!ok.starts_with(&ok_reply_prefix(71)));
        }
        assert!(!reply(71, ReplyBody::Ok(Response::Done)).starts_with(&ok_reply_prefix(7)));
        let refused = reply(
            7,
            ReplyBody::Err(ErrorBody::new(ErrorCode::BadParameters, "no")),
        );
        assert!(!refused.starts_with(&ok_reply_prefix(7)));
    }
}
