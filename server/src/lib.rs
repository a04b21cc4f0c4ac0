//! emedia-server as a library, so integration tests run the real server in-process.

pub mod auth;
pub mod config;
pub mod core;
pub mod http;
pub mod hub;
pub mod sfu;

use crate::auth::Keys;
use crate::config::{ServeArgs, MIN_SECRET_BYTES};
use crate::core::{Core, CoreConfig, RateLimit, RtmpUrls};
use crate::hub::Hub;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running server: where it listens and its hub (for counts in tests).
pub struct Running {
    pub addr: SocketAddr,
    /// Where peers send media (the SFU's host candidate).
    pub media_addr: SocketAddr,
    pub hub: Arc<Hub>,
    pub dev_mode: bool,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds, then serves in the background.
pub async fn start(args: ServeArgs) -> Result<Running, String> {
    let (secret, dev_mode) = match &args.app_secret {
        Some(s) if s.len() >= MIN_SECRET_BYTES => (s.as_bytes().to_vec(), false),
        Some(_) => {
            return Err(format!(
                "--app-secret must be at least {MIN_SECRET_BYTES} bytes"
            ))
        }
        None => (rand::random::<[u8; 32]>().to_vec(), true),
    };
    let core_config = CoreConfig {
        ticket_ttl_secs: args.ticket_ttl,
        empty_conference_ttl_ms: args.empty_conference_ttl * 1000,
        rtmp: match (&args.rtmp_push_url, &args.rtmp_play_url) {
            (Some(push), Some(play)) => Some(RtmpUrls {
                push: push.clone(),
                play: play.clone(),
            }),
            _ => None,
        },
        liveness_ms: args.liveness_timeout_ms.max(1),
        rate: RateLimit {
            burst: args.rate_burst.max(1),
            per_sec: args.rate_per_sec.max(1),
            ..RateLimit::default()
        },
        max_conferences: args.max_conferences,
        max_members: args.max_members,
        call_timeout_ms: args.call_timeout_ms.max(1),
    };
    let core = Core::new(
        core_config,
        Keys::new(&args.app_id, &secret),
        rand::random(),
    );
    let hub = Hub::new(core, args.max_connections_per_ip);
    let events_to = Arc::downgrade(&hub);
    let public = (args.rtc_public_ip, args.rtc_public_port);
    let sfu = sfu::runner::start(args.rtc_listen, public, move |ev| {
        if let Some(hub) = events_to.upgrade() {
            hub.media_event(ev);
        }
    })?;
    hub.attach_media(sfu.commands.clone(), sfu.peers.clone());
    tokio::spawn(hub.clone().run_timers());
    let state = http::AppState {
        hub: hub.clone(),
        dev_tokens: dev_mode,
        media_addr: sfu.candidate,
    };
    let app = http::router(state, args.demo_dir.clone(), args.pkg_dir.clone());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The writers batch their frames themselves (`http::write_queued`); Nagle would only
    // hold a reply back until the previous segment's ACK, which a client's delayed ACK
    // can keep for 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running {
        addr,
        media_addr: sfu.candidate,
        hub,
        dev_mode,
        task,
    })
}
