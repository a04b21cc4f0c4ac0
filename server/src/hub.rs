//! The driver around the sans-IO core: one core behind a mutex, one outgoing queue per
//! connection, and a timer task. Handling a frame is short and never awaits, so a
//! plain mutex is enough, and dispatching under it keeps every member's events in order.
//!
//! A frame that finds the core busy is queued instead of waiting for it: whoever holds
//! the core handles the queue before anything else and again before letting go. In a
//! storm (hundreds of joins at once) the connection tasks never sleep on the lock, and
//! one holder handles a run of frames and sends their output in one go.

use crate::core::{ConnId, Core, MediaCommand, MediaEvent, Outbound, Output};
use axum::extract::ws::Utf8Bytes;
use emedia_protocol::{ErrorBody, Event};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
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
    /// Frames that found `inner` locked, in arrival order, for its holder to handle.
    queued: Mutex<Vec<Queued>>,
    next_conn: AtomicU64,
    max_per_ip: usize,
    /// Woken when an input may have moved the core's next deadline.
    timers_changed: Notify,
    /// The SFU's live peer count.
    media_peers: OnceLock<Arc<std::sync::atomic::AtomicUsize>>,
}

/// A frame waiting for the core.
enum Queued {
    Text(ConnId, Utf8Bytes),
    Binary(ConnId, bytes::Bytes),
}

/// The locked core. Taking it handles the queued frames first, so a connection's frames
/// and its disconnect keep their order; dropping it sends the output, lets go, and
/// takes the core again if frames were queued meanwhile (their senders did not wait).
struct Locked<'a> {
    hub: &'a Hub,
    inner: Option<MutexGuard<'a, Inner>>,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        self.inner.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        self.inner.as_mut().expect("held until dropped")
    }
}

impl<'a> Locked<'a> {
    fn new(hub: &'a Hub, guard: MutexGuard<'a, Inner>) -> Self {
        let mut locked = Self {
            hub,
            inner: Some(guard),
        };
        locked.handle_queued();
        locked
    }

    fn handle_queued(&mut self) {
        loop {
            let frames = std::mem::take(&mut *self.hub.queue());
            if frames.is_empty() {
                return;
            }
            let now = now_ms();
            for frame in frames {
                match frame {
                    Queued::Text(conn, text) => self.core.handle_text(conn, &text, now),
                    Queued::Binary(conn, frame) => self.core.handle_binary(conn, frame, now),
                }
            }
            // Out before the next run is taken: replies do not wait for the whole storm.
            self.flush();
        }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        while let Some(mut inner) = self.inner.take() {
            inner.flush();
            drop(inner);
            if self.hub.queue().is_empty() {
                return;
            }
            // Queued while we held it: handle it unless someone else now holds the core
            // (then they will).
            if let Some(guard) = self.hub.try_lock() {
                self.inner = Some(guard);
                self.handle_queued();
            }
        }
    }
}

struct Inner {
    core: Core,
    senders: FxHashMap<ConnId, mpsc::UnboundedSender<Outgoing>>,
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
                senders: FxHashMap::default(),
                per_ip: HashMap::new(),
                media: None,
            }),
            queued: Mutex::default(),
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
    }

    fn lock(&self) -> Locked<'_> {
        // A panic while holding the lock is a bug, but the state is still the best we have.
        Locked::new(self, self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, Inner>> {
        match self.inner.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Queued>> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a frame to the core: now if it is free, else to its holder.
    fn submit(&self, frame: Queued) {
        self.queue().push(frame);
        if let Some(guard) = self.try_lock() {
            drop(Locked::new(self, guard));
        }
        // An input may have moved the core's next deadline.
        self.timers_changed.notify_one();
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

    pub fn text(&self, conn: ConnId, text: Utf8Bytes) {
        self.submit(Queued::Text(conn, text));
    }

    /// A binary frame: a data transfer's chunk or ack.
    pub fn binary(&self, conn: ConnId, frame: bytes::Bytes) {
        self.submit(Queued::Binary(conn, frame));
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
        match call {
            RtmpCall::Publish => inner.core.rtmp_push_started(name, token, now_ms()),
            RtmpCall::PublishDone => inner.core.rtmp_push_ended(name, token),
            RtmpCall::Play => inner.core.rtmp_play_allowed(name, token, now_ms()),
        }
    }

    /// Runs the core's timers until the process ends.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let next = {
                let mut inner = self.lock();
                let now = now_ms();
                inner.core.handle_timeout(now);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Keys;
    use crate::core::CoreConfig;
    use emedia_protocol::ServerMessage;

    /// Frames sent from several threads at once, most finding the core busy and queued
    /// for its holder: each gets its one reply, and every connection's replies arrive
    /// in the order it sent its requests.
    #[test]
    fn concurrent_frames_are_answered_in_each_connections_order() {
        let keys = Keys::new("app", b"0123456789abcdef0123456789abcdef");
        let hub = Hub::new(Core::new(CoreConfig::default(), keys, 7), 100);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let conns: Vec<_> = (0..4).map(|_| hub.connect(ip).expect("room")).collect();
        let sent: Vec<u32> = (1..=40).collect();
        std::thread::scope(|s| {
            for (conn, _) in &conns {
                let (hub, conn, sent) = (&hub, *conn, &sent);
                s.spawn(move || {
                    for rid in sent {
                        // Refused (-100, not logged in), which is a reply like any other.
                        let frame =
                            format!(r#"{{"rid":{rid},"req":{{"get_ticket":{{"confrId":"C1"}}}}}}"#);
                        hub.text(conn, frame.into());
                    }
                });
            }
        });
        for (_, mut rx) in conns {
            let replied: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok())
                .filter_map(|out| match out {
                    Outgoing::Text(t) => serde_json::from_str::<ServerMessage>(&t).ok(),
                    _ => None,
                })
                .filter_map(|m| match m {
                    ServerMessage::Reply { rid, .. } => Some(rid),
                    ServerMessage::Event(_) => None,
                })
                .collect();
            assert_eq!(replied, sent);
        }
    }
}
