//! HTTP surface: /ws signaling, /healthz, /metrics, /dev/token, the RTMP server's
//! callbacks (/rtmp/...), the demo and the package.

use crate::core::ConnId;
use crate::hub::{Hub, Outgoing, RtmpCall};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use emedia_protocol::MAX_FRAME_BYTES;
use futures_util::stream::SplitStream;
use futures_util::{Sink, SinkExt, StreamExt};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tower_http::services::ServeDir;

/// Close code for a frame over [`MAX_FRAME_BYTES`] (RFC 6455: message too big).
const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for a text frame that is not UTF-8 (RFC 6455: invalid frame payload data).
const CLOSE_BAD_DATA: u16 = 1007;

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// Only in dev mode: lets /dev/token mint tokens for anyone.
    pub dev_tokens: bool,
    /// The SFU's UDP address, as every SDP answer announces it.
    pub media_addr: SocketAddr,
}

pub fn router(state: AppState, demo_dir: PathBuf, pkg_dir: PathBuf) -> Router {
    Router::new()
        .route("/ws", get(ws_upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/dev/token", get(dev_token))
        .route("/rtmp/{call}", post(rtmp_callback))
        .nest_service("/pkg", ServeDir::new(pkg_dir))
        .fallback_service(ServeDir::new(demo_dir))
        .with_state(state)
}

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    let stats = s.hub.stats();
    Json(serde_json::json!({
        "status": "ok",
        "sessions": stats.sessions,
        "conferences": stats.conferences,
        "streams": stats.streams,
        "peers": stats.peers,
        "iceRestarts": stats.ice_restarts,
        "media": s.media_addr.to_string(),
    }))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let stats = s.hub.stats();
    let body = format!(
        "# HELP emedia_sessions Open signaling connections.\n# TYPE emedia_sessions gauge\nemedia_sessions {}\n\
         # HELP emedia_conferences Conferences held in memory.\n# TYPE emedia_conferences gauge\nemedia_conferences {}\n\
         # HELP emedia_streams Published streams, pending ones included.\n# TYPE emedia_streams gauge\nemedia_streams {}\n\
         # HELP emedia_peer_connections WebRTC peer connections in the SFU.\n# TYPE emedia_peer_connections gauge\nemedia_peer_connections {}\n\
         # HELP emedia_ice_restarts_total ICE restarts answered.\n# TYPE emedia_ice_restarts_total counter\nemedia_ice_restarts_total {}\n",
        stats.sessions, stats.conferences, stats.streams, stats.peers, stats.ice_restarts
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

#[derive(Deserialize)]
struct TokenQuery {
    user: String,
}

async fn dev_token(
    State(s): State<AppState>,
    q: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    if !s.dev_tokens {
        return (
            StatusCode::NOT_FOUND,
            "dev tokens are off: the server has an app secret",
        )
            .into_response();
    }
    let Some(Query(q)) = q.ok().filter(|q| crate::auth::valid_user_id(&q.user)) else {
        return (
            StatusCode::BAD_REQUEST,
            "user= must be 1-64 letters, digits or _-.@",
        )
            .into_response();
    };
    let token = s.hub.mint_user_token(&q.user, 24 * 3600);
    (
        // Dev mode only: pages on other loopback ports (test runners) fetch tokens too.
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(serde_json::json!({ "user": q.user, "token": token })),
    )
        .into_response()
}

/// What nginx-rtmp posts: the stream name, and the push or play URL's query
/// arguments (our token among them).
#[derive(Deserialize)]
struct RtmpForm {
    name: String,
    #[serde(default)]
    token: String,
}

/// 2xx lets the push or play go on; anything else makes the RTMP server drop it.
async fn rtmp_callback(
    State(s): State<AppState>,
    Path(call): Path<String>,
    form: Result<Form<RtmpForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let call = match call.as_str() {
        "on_publish" => RtmpCall::Publish,
        "on_publish_done" => RtmpCall::PublishDone,
        "on_play" => RtmpCall::Play,
        _ => return (StatusCode::NOT_FOUND, "unknown RTMP callback").into_response(),
    };
    let Ok(Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            "expected name= and token= form fields",
        )
            .into_response();
    };
    match s.hub.rtmp(call, &form.name, &form.token) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::info!(?call, stream = %form.name, code = e.code.code(), msg = %e.message, "RTMP callback refused");
            (StatusCode::FORBIDDEN, e.message).into_response()
        }
    }
}

/// Initial size of each connection's WebSocket read and write buffers.
const WS_BUFFER_BYTES: usize = 4 * 1024;

async fn ws_upgrade(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some((conn, outgoing)) = s.hub.connect(peer.ip()) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address",
        )
            .into_response();
    };
    let hub = s.hub.clone();
    // tungstenite's own limit sits above ours, so an oversized frame reaches us and is
    // answered with a proper 1009 close rather than a dropped connection.
    ws.max_message_size(MAX_FRAME_BYTES * 16)
        .max_frame_size(MAX_FRAME_BYTES * 16)
        // tungstenite starts every connection with 128 KiB read and write buffers: most
        // of a LIVE audience member's memory, all of it idle. Signaling frames are a
        // few hundred bytes; the buffers still grow for a larger one.
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(WS_BUFFER_BYTES)
        .on_failed_upgrade({
            let hub = hub.clone();
            move |_| hub.disconnect(conn, peer.ip(), false)
        })
        .on_upgrade(move |socket| serve_socket(hub, conn, peer.ip(), outgoing, socket))
}

/// How a connection ended, as far as the session is concerned.
enum End {
    /// The client closed with 1000 / 1001: it is gone for good.
    Goodbye,
    /// Dropped, or closed in a way that may be followed by a resume.
    Lost,
    /// We close it, with this code.
    Refused(u16, &'static str),
}

async fn serve_socket(
    hub: Arc<Hub>,
    conn: ConnId,
    ip: IpAddr,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    socket: WebSocket,
) {
    let (mut tx, mut rx) = socket.split();
    let (close_tx, mut close_rx) = oneshot::channel::<(u16, &'static str)>();
    let mut ping = tokio::time::interval(hub.ping_interval());
    let writer = tokio::spawn(async move {
        loop {
            let frame = tokio::select! {
                // A requested close wins over a queue that closed because we are leaving.
                biased;
                close = &mut close_rx => match close {
                    Ok((code, reason)) => close_frame(code, reason),
                    Err(_) => break,
                },
                msg = outgoing.recv() => match msg {
                    Some(out) => message_of(out),
                    None => break,
                },
                // Browsers answer pings by themselves: a pong proves the client is there
                // even while its page has nothing to say.
                _ = ping.tick() => Message::Ping(Default::default()),
            };
            match write_queued(&mut tx, frame, &mut outgoing).await {
                Ok(Written::More) => {}
                Ok(Written::Closed) | Err(_) => break,
            }
        }
    });
    let end = read_frames(&hub, conn, &mut rx).await;
    // Asked for before the hub drops this connection's queue, which would otherwise
    // let the writer stop without sending it.
    let ends = matches!(end, End::Goodbye | End::Refused(..));
    if let End::Refused(code, reason) = end {
        let _ = close_tx.send((code, reason));
    } else {
        drop(close_tx);
    }
    // A goodbye, or a close of ours, ends the session; a lost connection may resume.
    hub.disconnect(conn, ip, ends);
    // The writer sends a requested close frame, or stops once the hub has dropped
    // this connection's queue.
    let _ = writer.await;
}

/// Most frames a connection writes before one flush.
const WRITE_BATCH: usize = 64;

enum Written {
    More,
    Closed,
}

/// Writes `first` and whatever else is already queued (a burst of events, say, when
/// many members join at once) with one flush, so a burst costs one write, not one
/// per frame.
async fn write_queued<S: Sink<Message> + Unpin>(
    tx: &mut S,
    first: Message,
    queued: &mut mpsc::UnboundedReceiver<Outgoing>,
) -> Result<Written, S::Error> {
    let mut next = Some(first);
    let mut fed = 0;
    while let Some(frame) = next.take() {
        let closing = matches!(frame, Message::Close(_));
        tx.feed(frame).await?;
        fed += 1;
        if closing {
            tx.flush().await?;
            return Ok(Written::Closed);
        }
        if fed < WRITE_BATCH {
            next = queued.try_recv().ok().map(message_of);
        }
    }
    tx.flush().await?;
    Ok(Written::More)
}

fn message_of(out: Outgoing) -> Message {
    match out {
        Outgoing::Text(t) => Message::Text(t),
        Outgoing::Binary(b) => Message::Binary(b),
        Outgoing::Close(code, reason) => close_frame(code, reason),
    }
}

fn close_frame(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

async fn read_frames(hub: &Hub, conn: ConnId, rx: &mut SplitStream<WebSocket>) -> End {
    while let Some(msg) = rx.next().await {
        let text = match msg {
            Ok(Message::Text(t)) => t,
            Ok(Message::Binary(frame)) => {
                if frame.len() > MAX_FRAME_BYTES {
                    return End::Refused(CLOSE_TOO_BIG, "frame too large");
                }
                hub.binary(conn, frame);
                continue;
            }
            Ok(Message::Close(frame)) => {
                let goodbye = frame.is_some_and(|f| matches!(f.code, 1000 | 1001));
                return if goodbye { End::Goodbye } else { End::Lost };
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {
                hub.alive(conn);
                continue;
            }
            Err(e) => return read_error(conn, e),
        };
        if text.len() > MAX_FRAME_BYTES {
            return End::Refused(CLOSE_TOO_BIG, "frame too large");
        }
        hub.text(conn, text);
    }
    End::Lost
}

/// Frames the WebSocket layer refused get the close code RFC 6455 gives them.
fn read_error(conn: ConnId, e: axum::Error) -> End {
    tracing::debug!(conn = conn.0, error = %e, "signaling read failed");
    match e.into_inner().downcast::<tungstenite::Error>().map(|e| *e) {
        Ok(tungstenite::Error::Capacity(_)) => End::Refused(CLOSE_TOO_BIG, "frame too large"),
        Ok(tungstenite::Error::Utf8(_)) => End::Refused(CLOSE_BAD_DATA, "text frame is not UTF-8"),
        _ => End::Lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A burst longer than one batch arrives whole and in order, over several batches.
    #[tokio::test]
    async fn queued_frames_are_all_written_in_order() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut sink = Box::pin(futures_util::sink::unfold(
            written.clone(),
            |w, m| async move {
                if let Message::Text(t) = m {
                    w.lock().unwrap().push(t.to_string());
                }
                Ok::<_, std::convert::Infallible>(w)
            },
        ));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sent: Vec<String> = (0..3 * WRITE_BATCH + 5).map(|i| i.to_string()).collect();
        for t in &sent[1..] {
            tx.send(Outgoing::Text(t.clone().into())).unwrap();
        }
        let mut first = Some(Message::Text(sent[0].clone().into()));
        let mut batches = 0;
        while let Some(frame) = first.take().or_else(|| rx.try_recv().ok().map(message_of)) {
            assert!(matches!(
                write_queued(&mut sink, frame, &mut rx).await,
                Ok(Written::More)
            ));
            batches += 1;
        }
        assert_eq!(*written.lock().unwrap(), sent);
        assert_eq!(batches, 4);
    }
}
