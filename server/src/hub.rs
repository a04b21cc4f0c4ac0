//! The driver around the sans-IO core: one core behind a mutex, one outgoing queue per
//! connection, and a timer task. Handling a frame is short and never awaits, so a
//! plain mutex is enough, and dispatching under it keeps every member's events in order.

use crate::core::{ConnId, Core, MediaCommand, MediaEvent, Outbound, Output};
use axum::extract::ws::Utf8Bytes;
use emedia_protocol::{ErrorBody, Event};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Notify};

/// What a connection's writer task sends.
#[derive(Debug)]
pub enum Outgoing {
    /// Shared: one broadcast event is the same bytes for every member.
    Text(Utf8Bytes),
    /// A data-transfer chunk or ack.
    Binary(bytes::Bytes),
    /// Send a close frame and stop.
    Close(u16, &'static str),
}

pub struct Hub {
    inner: Mutex<Inner>,
    next_conn: AtomicU64,
    max_per_ip: usize,
    /// Woken when an input may have moved the core's next deadline.
    timers_changed: Notify,
    /// The SFU's live peer count.
    media_peers: OnceLock<Arc<std::sync::atomic::AtomicUsize>>,
}

struct Inner {
    core: Core,
    senders: HashMap<ConnId, mpsc::UnboundedSender<Outgoing>>,
    /// Open connections per client address, for the per-IP limit.
    per_ip: HashMap<IpAddr, usize>,
    media: Option<mpsc::UnboundedSender<MediaCommand>>,
}

/// Counts for /healthz and /metrics.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    pub sessions: usize,
    pub conferences: usize,
    /// Streams the conference state holds.
    pub streams: usize,
    /// Peer connections the SFU holds.
    pub peers: usize,
    /// ICE restarts answered since the start.
    pub ice_restarts: u64,
}

/// The RTMP server's callbacks (nginx-rtmp's on_publish, on_publish_done, on_play).
#[derive(Clone, Copy, Debug)]
pub enum RtmpCall {
    Publish,
    PublishDone,
    Play,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Hub {
    pub fn new(core: Core, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                core,
                senders: HashMap::new(),
                per_ip: HashMap::new(),
                media: None,
            }),
            next_conn: AtomicU64::new(1),
            max_per_ip,
            timers_changed: Notify::new(),
            media_peers: OnceLock::new(),
        })
    }

    /// Connects the SFU: the core's media commands go to `commands`.
    pub fn attach_media(
        &self,
        commands: mpsc::UnboundedSender<MediaCommand>,
        peers: Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let _ = self.media_peers.set(peers);
        self.lock().media = Some(commands);
    }

    /// What the SFU reports about a peer.
    pub fn media_event(&self, ev: MediaEvent) {
        let mut inner = self.lock();
        inner.core.handle_media(ev);
        inner.flush();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is a bug, but the state is still the best we have.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection from `ip`, unless that address has too many open already.
    pub fn connect(&self, ip: IpAddr) -> Option<(ConnId, mpsc::UnboundedReceiver<Outgoing>)> {
        let mut inner = self.lock();
        let open = inner.per_ip.entry(ip).or_default();
        if *open >= self.max_per_ip {
            return None;
        }
        *open += 1;
        let conn = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::unbounded_channel();
        inner.senders.insert(conn, tx);
        inner.core.handle_connect(conn, now_ms());
        drop(inner);
        // A new session may move the next liveness check.
        self.timers_changed.notify_one();
        Some((conn, rx))
    }

    pub fn text(&self, conn: ConnId, text: &str) {
        let mut inner = self.lock();
        inner.core.handle_text(conn, text, now_ms());
        inner.flush();
        drop(inner);
        self.timers_changed.notify_one();
    }

    /// A binary frame: a data transfer's chunk or ack.
    pub fn binary(&self, conn: ConnId, frame: bytes::Bytes) {
        let mut inner = self.lock();
        inner.core.handle_binary(conn, frame, now_ms());
        inner.flush();
    }

    /// A pong (or a ping) from the client: it is alive even when it has nothing to say.
    pub fn alive(&self, conn: ConnId) {
        self.lock().core.handle_alive(conn, now_ms());
    }

    /// See [`Core::handle_disconnect`] for what `ends_session` changes.
    pub fn disconnect(&self, conn: ConnId, ip: IpAddr, ends_session: bool) {
        let mut inner = self.lock();
        inner.senders.remove(&conn);
        if let Some(open) = inner.per_ip.get_mut(&ip) {
            *open -= 1;
            if *open == 0 {
                inner.per_ip.remove(&ip);
            }
        }
        inner.core.handle_disconnect(conn, ends_session, now_ms());
        inner.flush();
    }

    /// How often the server pings each client: often enough that a live client is
    /// heard from several times per liveness timeout.
    pub fn ping_interval(&self) -> Duration {
        let liveness = self.lock().core.liveness_ms();
        Duration::from_millis((liveness / 3).clamp(10, 5000))
    }

    pub fn stats(&self) -> Stats {
        let inner = self.lock();
        Stats {
            sessions: inner.core.session_count(),
            conferences: inner.core.conference_count(),
            streams: inner.core.stream_count(),
            ice_restarts: inner.core.ice_restart_count(),
            peers: self
                .media_peers
                .get()
                .map_or(0, |p| p.load(Ordering::Relaxed)),
        }
    }

    pub fn mint_user_token(&self, user: &str, ttl_secs: u64) -> String {
        self.lock()
            .core
            .keys()
            .mint_user_token(user, now_ms() / 1000, ttl_secs)
    }

    /// A callback of the RTMP server about a mini-program's push or play.
    pub fn rtmp(&self, call: RtmpCall, name: &str, token: &str) -> Result<(), ErrorBody> {
        let mut inner = self.lock();
        let result = match call {
            RtmpCall::Publish => inner.core.rtmp_push_started(name, token, now_ms()),
            RtmpCall::PublishDone => inner.core.rtmp_push_ended(name, token),
            RtmpCall::Play => inner.core.rtmp_play_allowed(name, token, now_ms()),
        };
        inner.flush();
        result
    }

    /// Runs the core's timers until the process ends.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let next = {
                let mut inner = self.lock();
                let now = now_ms();
                inner.core.handle_timeout(now);
                inner.flush();
                inner.core.poll_timeout().map(|at| at.saturating_sub(now))
            };
            let wait = Duration::from_millis(next.unwrap_or(60_000));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.timers_changed.notified() => {}
            }
        }
    }
}

impl Inner {
    fn flush(&mut self) {
        // The last event serialized: a broadcast's copies come one after another.
        let mut last: Option<(Arc<Event>, Utf8Bytes)> = None;
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Send { to, msg } => {
                    let Some(tx) = self.senders.get(&to) else {
                        continue;
                    };
                    if let Outbound::Data(frame) = msg {
                        drop(tx.send(Outgoing::Binary(frame)));
                        continue;
                    }
                    let text = match (&msg, &last) {
                        (Outbound::Event(e), Some((seen, text))) if Arc::ptr_eq(e, seen) => {
                            Ok(text.clone())
                        }
                        _ => msg
                            .to_json()
                            .expect("binary frames are sent above")
                            .map(Utf8Bytes::from),
                    };
                    match text {
                        Ok(text) => {
                            if let Outbound::Event(e) = msg {
                                last = Some((e, text.clone()));
                            }
                            // A closed receiver means the connection is going away; its
                            // disconnect is on its way and will clean up.
                            drop(tx.send(Outgoing::Text(text)));
                        }
                        Err(e) => tracing::error!(error = %e, "cannot serialize a server message"),
                    }
                }
                Output::Close { conn, code, reason } => {
                    if let Some(tx) = self.senders.remove(&conn) {
                        drop(tx.send(Outgoing::Close(code, reason)));
                    }
                }
                Output::Media(cmd) => match &self.media {
                    Some(tx) => drop(tx.send(cmd)),
                    None => tracing::error!("no SFU attached for {cmd:?}"),
                },
            }
        }
    }
}
