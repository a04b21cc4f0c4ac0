//! The driver around the sans-IO core: one core behind a mutex, one outgoing queue per
//! connection, and a timer task. Handling a frame is short and never awaits, so a
//! plain mutex is enough, and dispatching under it keeps every member's events in order.

use crate::core::{Core, MediaCommand, MediaEvent, Output, SessionId};
use emedia_protocol::ErrorBody;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Notify};

/// What a connection's writer task sends.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
}

pub struct Hub {
    inner: Mutex<Inner>,
    next_session: AtomicU64,
    /// Woken when an input may have moved the core's next deadline.
    timers_changed: Notify,
    /// The SFU's live peer count.
    media_peers: OnceLock<Arc<std::sync::atomic::AtomicUsize>>,
}

struct Inner {
    core: Core,
    senders: HashMap<SessionId, mpsc::UnboundedSender<Outgoing>>,
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
    pub fn new(core: Core) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                core,
                senders: HashMap::new(),
                media: None,
            }),
            next_session: AtomicU64::new(1),
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

    pub fn connect(&self) -> (SessionId, mpsc::UnboundedReceiver<Outgoing>) {
        let sid = SessionId(self.next_session.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        inner.senders.insert(sid, tx);
        inner.core.handle_connect(sid);
        (sid, rx)
    }

    pub fn text(&self, sid: SessionId, text: &str) {
        let mut inner = self.lock();
        inner.core.handle_text(sid, text, now_ms());
        inner.flush();
        drop(inner);
        self.timers_changed.notify_one();
    }

    pub fn disconnect(&self, sid: SessionId) {
        let mut inner = self.lock();
        inner.senders.remove(&sid);
        inner.core.handle_disconnect(sid, now_ms());
        inner.flush();
    }

    pub fn stats(&self) -> Stats {
        let inner = self.lock();
        Stats {
            sessions: inner.core.session_count(),
            conferences: inner.core.conference_count(),
            streams: inner.core.stream_count(),
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
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Send { to, msg } => {
                    let Some(tx) = self.senders.get(&to) else {
                        continue;
                    };
                    match serde_json::to_string(&msg) {
                        // A closed receiver means the connection is going away; its
                        // disconnect is on its way and will clean up.
                        Ok(text) => drop(tx.send(Outgoing::Text(text))),
                        Err(e) => tracing::error!(error = %e, "cannot serialize a server message"),
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
