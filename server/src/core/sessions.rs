//! Signaling sessions, the connections that carry them, liveness and resume.
//!
//! A session outlives its connection. When a socket drops without a goodbye (network
//! off, proxy timeout, a killed tab that never sent a close frame) the session is
//! *detached*: its seats, streams and subscriptions stay and nobody is told, until it
//! resumes on a new connection or its liveness deadline passes. The deadline is the
//! last frame heard plus the liveness timeout, attached or not, so a silent client and
//! a vanished one are both gone after the same time, with `MemberExitReason::NoResponse`.
//!
//! Events to a session are counted and kept until the client acknowledges them (in its
//! heartbeats), so a resume resends exactly what the old connection lost on the way.

use super::outbox::Queued;
use super::{err, ConferenceStore, Core, Reply};
use emedia_protocol::{
    ConferenceId, ErrorBody, ErrorCode, Event, MemberExitReason, Response, PROTOCOL_VERSION,
};
use rand::Rng;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A connection, as numbered by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A signaling session: who it is and where it sits. Numbered by the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// Close codes the core asks for. 4xxx are application codes (RFC 6455 §7.4.2).
pub mod close {
    /// Policy violation: the client kept flooding past the rate limit.
    pub const FLOODING: u16 = 1008;
    /// The client sent nothing, not even a pong, for the liveness timeout.
    pub const SILENT: u16 = 4008;
    /// The session resumed on a newer connection.
    pub const RESUMED_ELSEWHERE: u16 = 4009;
}

/// Events kept for a resume at most; a client this far behind rejoins instead.
const MAX_UNACKED: usize = 1024;

pub(super) struct Session {
    pub user: Option<String>,
    pub conferences: BTreeSet<ConferenceId>,
    /// None while detached.
    pub conn: Option<ConnId>,
    /// The secret part of the resume key.
    secret: String,
    last_heard_ms: u64,
    /// Events sent so far; the client counts the same.
    sent: u64,
    /// The last events sent, oldest first, not yet acknowledged.
    unacked: VecDeque<Arc<Event>>,
    rate: RateBucket,
}

impl Session {
    /// Event number of the oldest kept event, minus one.
    fn acked(&self) -> u64 {
        self.sent - self.unacked.len() as u64
    }

    fn record(&mut self, event: &Arc<Event>) {
        self.sent += 1;
        self.unacked.push_back(Arc::clone(event));
        if self.unacked.len() > MAX_UNACKED {
            self.unacked.pop_front();
        }
    }

    fn acknowledge(&mut self, received: u64) {
        let done = received
            .saturating_sub(self.acked())
            .min(self.unacked.len() as u64);
        self.unacked.drain(..done as usize);
    }

    /// The events after the client's `received`-th, if every one is still kept.
    fn missed(&self, received: u64) -> Option<Vec<Arc<Event>>> {
        let first = self.acked();
        if received < first || received > self.sent {
            return None;
        }
        Some(
            self.unacked
                .iter()
                .skip((received - first) as usize)
                .cloned()
                .collect(),
        )
    }
}

/// Limits on how fast one connection may send: a token bucket.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    /// Frames allowed in a burst.
    pub burst: u32,
    /// Frames per second allowed over time.
    pub per_sec: u32,
    /// Refused frames in a row after which the connection is closed with 1008.
    pub close_after: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            burst: 100,
            per_sec: 50,
            close_after: 50,
        }
    }
}

struct RateBucket {
    /// Tokens times 1000, so refilling by the millisecond stays exact.
    milli_tokens: u64,
    at_ms: u64,
    refused_in_a_row: u32,
}

impl RateBucket {
    fn full(limit: &RateLimit, now_ms: u64) -> Self {
        Self {
            milli_tokens: u64::from(limit.burst) * 1000,
            at_ms: now_ms,
            refused_in_a_row: 0,
        }
    }

    /// Takes one token if there is one.
    fn take(&mut self, limit: &RateLimit, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.at_ms);
        self.at_ms = self.at_ms.max(now_ms);
        self.milli_tokens = (self.milli_tokens + elapsed * u64::from(limit.per_sec))
            .min(u64::from(limit.burst) * 1000);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            self.refused_in_a_row = 0;
            true
        } else {
            self.refused_in_a_row += 1;
            false
        }
    }
}

/// What to do with a frame after the rate check.
pub(super) enum Admit {
    Handle(SessionId),
    /// Over the limit: refuse it with an error.
    Refuse(SessionId),
    /// Over the limit for too long, or from a connection the core no longer knows.
    Drop,
}

impl<S: ConferenceStore> Core<S> {
    pub fn handle_connect(&mut self, conn: ConnId, now_ms: u64) {
        let sid = SessionId(self.next_session);
        self.next_session += 1;
        let secret = format!("{:032x}", self.rng.random::<u128>());
        self.sessions.insert(
            sid,
            Session {
                user: None,
                conferences: BTreeSet::new(),
                conn: Some(conn),
                secret,
                last_heard_ms: now_ms,
                sent: 0,
                unacked: VecDeque::new(),
                rate: RateBucket::full(&self.config.rate, now_ms),
            },
        );
        self.conns.insert(conn, sid);
    }

    /// A sign of life that is not a frame (a pong).
    pub fn handle_alive(&mut self, conn: ConnId, now_ms: u64) {
        if let Some(s) = self.conns.get(&conn).and_then(|s| self.sessions.get_mut(s)) {
            s.last_heard_ms = s.last_heard_ms.max(now_ms);
        }
    }

    /// The connection is gone. `ends_session` when the client said goodbye with a
    /// normal close (1000 / 1001) or the driver refused it: its members leave at once,
    /// as network failures. Otherwise a session with seats waits, detached, for a
    /// resume until its deadline.
    pub fn handle_disconnect(&mut self, conn: ConnId, ends_session: bool, now_ms: u64) {
        let Some(sid) = self.conns.remove(&conn) else {
            return;
        };
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        session.conn = None;
        // Transfer bytes are not kept for a resume.
        self.cancel_transfers_of(sid);
        let Some(session) = self.sessions.get(&sid) else {
            return;
        };
        if ends_session || session.conferences.is_empty() {
            self.end_session(sid, MemberExitReason::Network, now_ms);
        } else {
            tracing::info!(
                session = sid.0,
                "connection lost; session held for a resume"
            );
        }
    }

    /// Rate check and liveness for one incoming frame.
    pub(super) fn admit(&mut self, conn: ConnId, now_ms: u64) -> Admit {
        let Some(&sid) = self.conns.get(&conn) else {
            return Admit::Drop;
        };
        let Some(session) = self.sessions.get_mut(&sid) else {
            return Admit::Drop;
        };
        session.last_heard_ms = session.last_heard_ms.max(now_ms);
        let limit = self.config.rate;
        if session.rate.take(&limit, now_ms) {
            return Admit::Handle(sid);
        }
        if session.rate.refused_in_a_row > limit.close_after {
            tracing::warn!(session = sid.0, "closing a flooding connection");
            self.close_conn(conn, close::FLOODING, "message rate limit exceeded");
            self.end_session(sid, MemberExitReason::Network, now_ms);
            return Admit::Drop;
        }
        Admit::Refuse(sid)
    }

    pub(super) fn rate_refusal() -> ErrorBody {
        err(
            ErrorCode::ClientNotSupported,
            "message rate limit exceeded: slow down",
        )
    }

    /// The session key `auth` hands out: the session's number and its secret.
    pub(super) fn session_key(&self, sid: SessionId) -> String {
        let secret = self.sessions.get(&sid).map_or("", |s| s.secret.as_str());
        format!("{}.{secret}", sid.0)
    }

    pub(super) fn heartbeat(&mut self, sid: SessionId, received: u64) -> Reply {
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.acknowledge(received);
        }
        Ok(Response::Pong)
    }

    /// Moves the session named by `key` onto the connection `conn`, which carried the
    /// fresh session `fresh` until now. The reply and the missed events are queued here.
    pub(super) fn resume(
        &mut self,
        conn: ConnId,
        fresh: SessionId,
        rid: u32,
        key: &str,
        received: u64,
        protocol: u32,
    ) {
        let result = self.take_over(conn, fresh, key, received, protocol);
        match result {
            Ok((sid, user, missed)) => {
                self.out.reply(sid, rid, Ok(Response::Resumed { user }));
                for event in missed {
                    self.out.queue(Queued::Resend { to: sid, event });
                }
            }
            Err(e) => self.out.reply(fresh, rid, Err(e)),
        }
    }

    fn take_over(
        &mut self,
        conn: ConnId,
        fresh: SessionId,
        key: &str,
        received: u64,
        protocol: u32,
    ) -> Result<(SessionId, String, Vec<Arc<Event>>), ErrorBody> {
        if protocol != PROTOCOL_VERSION {
            return Err(err(ErrorCode::ClientNotSupported, "protocol not supported"));
        }
        let fresh_session = self.sessions.get(&fresh);
        if fresh_session.is_some_and(|s| s.user.is_some()) {
            return Err(err(ErrorCode::BadRequest, "already authenticated"));
        }
        let gone = || err(ErrorCode::TokenInvalid, "session expired: join again");
        let (num, secret) = key.split_once('.').ok_or_else(gone)?;
        let sid = SessionId(num.parse().map_err(|_| gone())?);
        let session = self.sessions.get(&sid).ok_or_else(gone)?;
        let matches: bool = session.secret.as_bytes().ct_eq(secret.as_bytes()).into();
        if !matches || sid == fresh {
            return Err(gone());
        }
        let user = session.user.clone().ok_or_else(gone)?;
        let missed = session.missed(received).ok_or_else(|| {
            err(
                ErrorCode::TokenInvalid,
                "too many missed events: join again",
            )
        })?;
        if let Some(old) = session.conn {
            // The old socket is still open on our side (its drop not noticed yet).
            self.conns.remove(&old);
            self.close_conn(old, close::RESUMED_ELSEWHERE, "session resumed elsewhere");
        }
        self.sessions.remove(&fresh);
        self.conns.insert(conn, sid);
        let session = self.sessions.get_mut(&sid).expect("looked up above");
        session.conn = Some(conn);
        session.acknowledge(received);
        tracing::info!(session = sid.0, %user, missed = missed.len(), "session resumed");
        Ok((sid, user, missed))
    }

    fn close_conn(&mut self, conn: ConnId, code: u16, reason: &'static str) {
        self.conns.remove(&conn);
        self.out.queue(Queued::Close { conn, code, reason });
    }

    /// Ends a session: its members leave every conference with `reason`.
    pub(super) fn end_session(&mut self, sid: SessionId, reason: MemberExitReason, now_ms: u64) {
        let Some(session) = self.sessions.remove(&sid) else {
            return;
        };
        if let Some(conn) = session.conn {
            self.conns.remove(&conn);
        }
        self.cancel_transfers_of(sid);
        for confr_id in session.conferences {
            self.leave_session(sid, &confr_id, reason, None, now_ms);
        }
        if let Some(user) = &session.user {
            self.presence.logout(user, sid);
        }
    }

    /// Ends the sessions whose deadline passed; closes their connections if open.
    pub(super) fn expire_sessions(&mut self, now_ms: u64) {
        let ttl = self.config.liveness_ms;
        let mut due: Vec<(SessionId, Option<ConnId>)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.last_heard_ms + ttl <= now_ms)
            .map(|(id, s)| (*id, s.conn))
            .collect();
        // Oldest session first, so runs repeat exactly.
        due.sort_unstable_by_key(|(sid, _)| *sid);
        for (sid, conn) in due {
            tracing::info!(session = sid.0, "session timed out");
            if let Some(conn) = conn {
                self.close_conn(conn, close::SILENT, "no heartbeat");
            }
            self.end_session(sid, MemberExitReason::NoResponse, now_ms);
        }
        self.next_liveness_check = now_ms + (ttl / 4).clamp(1, 1000);
    }

    /// Counts an event on its way to a session, for resume.
    pub(super) fn record_event(&mut self, to: SessionId, event: &Arc<Event>) -> Option<ConnId> {
        let session = self.sessions.get_mut(&to)?;
        session.record(event);
        session.conn
    }

    pub(super) fn conn_of(&self, sid: SessionId) -> Option<ConnId> {
        self.sessions.get(&sid).and_then(|s| s.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_sustained_rate() {
        let limit = RateLimit {
            burst: 3,
            per_sec: 2,
            close_after: 5,
        };
        let mut b = RateBucket::full(&limit, 0);
        assert!((0..3).all(|_| b.take(&limit, 0)));
        assert!(!b.take(&limit, 0));
        assert!(!b.take(&limit, 499), "half a token is not a token");
        assert!(b.take(&limit, 500));
        assert!(!b.take(&limit, 500));
        assert_eq!(b.refused_in_a_row, 1);
        // A long pause refills up to the burst, not beyond.
        assert!((0..3).all(|_| b.take(&limit, 60_000)));
        assert!(!b.take(&limit, 60_000));
    }
}
