//! HTTP surface: /ws signaling, /healthz, /metrics, /dev/token, the RTMP server's
//! callbacks (/rtmp/...), the demo and the package.

use crate::hub::{Hub, Outgoing, RtmpCall};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use emedia_protocol::MAX_FRAME_BYTES;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::services::ServeDir;

/// Close code for a frame over [`MAX_FRAME_BYTES`] (RFC 6455: message too big).
const CLOSE_TOO_BIG: u16 = 1009;

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// Only in dev mode: lets /dev/token mint tokens for anyone.
    pub dev_tokens: bool,
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
    }))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let stats = s.hub.stats();
    let body = format!(
        "# HELP emedia_sessions Open signaling connections.\n# TYPE emedia_sessions gauge\nemedia_sessions {}\n\
         # HELP emedia_conferences Conferences held in memory.\n# TYPE emedia_conferences gauge\nemedia_conferences {}\n\
         # HELP emedia_streams Published streams, pending ones included.\n# TYPE emedia_streams gauge\nemedia_streams {}\n\
         # HELP emedia_peer_connections WebRTC peer connections in the SFU.\n# TYPE emedia_peer_connections gauge\nemedia_peer_connections {}\n",
        stats.sessions, stats.conferences, stats.streams, stats.peers
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

async fn ws_upgrade(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    // tungstenite's own limit sits above ours, so an oversized frame reaches us and is
    // answered with a proper 1009 close rather than a dropped connection.
    ws.max_message_size(MAX_FRAME_BYTES * 16)
        .max_frame_size(MAX_FRAME_BYTES * 16)
        .on_upgrade(move |socket| serve_socket(s.hub, socket))
}

async fn serve_socket(hub: Arc<Hub>, socket: WebSocket) {
    let (sid, mut outgoing) = hub.connect();
    let (mut tx, mut rx) = socket.split();
    let (close_tx, mut close_rx) = tokio::sync::oneshot::channel::<(u16, &'static str)>();
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                // A requested close wins over a queue that closed because we are leaving.
                biased;
                close = &mut close_rx => {
                    if let Ok((code, reason)) = close {
                        let frame = CloseFrame { code, reason: reason.into() };
                        let _ = tx.send(Message::Close(Some(frame))).await;
                    }
                    break;
                }
                msg = outgoing.recv() => match msg {
                    Some(Outgoing::Text(t)) => if tx.send(Message::Text(t.into())).await.is_err() { break },
                    None => break,
                },
            }
        }
    });
    let mut close_tx = Some(close_tx);
    let mut close = |code, reason| {
        if let Some(tx) = close_tx.take() {
            let _ = tx.send((code, reason));
        }
    };
    while let Some(msg) = rx.next().await {
        let text = match msg {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Message::Close(_)) => break,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Err(e) => {
                tracing::debug!(session = sid.0, error = %e, "signaling read failed");
                close(CLOSE_TOO_BIG, "frame too large");
                break;
            }
        };
        if text.len() > MAX_FRAME_BYTES {
            close(CLOSE_TOO_BIG, "frame too large");
            break;
        }
        hub.text(sid, &text);
    }
    hub.disconnect(sid);
    // The writer sends a requested close frame, or stops once the hub has dropped
    // this connection's queue.
    drop(close_tx);
    let _ = writer.await;
}
