//! Keeping the session through a lost connection: heartbeats, probes, and the
//! reconnect-and-resume loop.
//!
//! While the page is in a conference it sends a heartbeat every [`HEARTBEAT_MS`]
//! (which also tells the server how many events arrived). A heartbeat or probe left
//! unanswered, or a socket that closes, starts [`Link::Reconnecting`]: the first
//! attempt goes at once, later ones after [`retry_delay`], each opening a socket that
//! sends `resume` with the session key and the event count. The server then resends
//! what was missed and the others never notice. When the server no longer knows the
//! session, the page logs in and joins again (`rejoin.rs`). After [`GIVE_UP_MS`]
//! without success every conference ends with `onConferenceExit(4, -9527)`.
//!
//! A user in no conference has no session worth resuming, but a page waiting to be
//! called must stay online: its link is won back by logging in again, with the same
//! backoff and without end, and what it had asked the server for (presence
//! notifications, do-not-disturb) is asked again (`schedule_relogin`).

use super::{Client, Link, Pending, SdkError, SdkEvent, Waiting};
use emedia_protocol::{ClientMessage, ErrorCode, ExitReason, Request, PROTOCOL_VERSION};

pub const HEARTBEAT_MS: u64 = 5_000;
/// How long a heartbeat, probe or resume may go unanswered before the link counts
/// as broken. Short, because a live server answers in milliseconds.
pub const PROBE_TIMEOUT_MS: u64 = 4_000;
/// Reconnecting stops this long after it started.
pub const GIVE_UP_MS: u64 = 45_000;

/// The state of a reconnect in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconnect {
    /// Attempts made so far.
    pub attempt: u32,
    /// When the link was lost.
    pub since: u64,
    /// When the next attempt starts; None while one is under way.
    pub retry_at: Option<u64>,
}

/// Wait before attempt `attempt` (0-based): at once, then doubling from 250 ms up to
/// 4 s. A server back after a restart is found within seconds, and a long outage
/// costs one small request every 4 s.
pub fn retry_delay(attempt: u32) -> u64 {
    match attempt {
        0 => 0,
        n => (125u64 << n.min(6)).min(4_000),
    }
}

impl Client {
    /// Whether a lost link should be won back rather than given up.
    fn can_resume(&self) -> bool {
        self.session.is_some() && !self.conferences.is_empty()
    }

    /// The link is broken (closed, or silent): reconnect if there is a session worth
    /// keeping, else end everything as before.
    pub(super) fn link_lost(&mut self, why: &str, now: u64) {
        self.transport.push(super::TransportCommand::Close);
        self.drop_transfers();
        // A rejoin is one attempt: losing its connection too ends it.
        if !self.can_resume() || self.rejoining {
            self.teardown(
                ExitReason::Failed,
                Some(ErrorCode::Network),
                SdkError::network(why),
                now,
            );
            self.schedule_relogin(now);
            return;
        }
        self.fail_in_flight(why);
        self.link = Some(Link::Reconnecting(Reconnect {
            attempt: 0,
            since: now,
            retry_at: Some(now),
        }));
        self.events.push(SdkEvent::Reconnecting);
    }

    /// Requests already sent may or may not have been done: their promises fail with
    /// -9527; what they changed arrives as events after the resume. Requests not yet
    /// sent wait for the new connection.
    fn fail_in_flight(&mut self, why: &str) {
        let sent: Vec<u32> = self.pending.keys().copied().collect();
        for rid in sent {
            if self.queued.iter().any(|m| m.rid == rid) {
                continue;
            }
            if let Some(p) = self.pending.remove(&rid) {
                if let Waiting::Op(op, _) | Waiting::TicketForJoin(op, _) = p.waiting {
                    self.complete(op, Err(SdkError::network(why)));
                }
            }
        }
    }

    /// An attempt failed (its socket closed or its resume went unanswered).
    pub(super) fn attempt_failed(&mut self, mut r: Reconnect, now: u64) {
        self.transport.push(super::TransportCommand::Close);
        self.pending
            .retain(|_, p| !matches!(p.waiting, Waiting::Resume));
        self.queued
            .retain(|m| !matches!(m.req, Request::Resume { .. }));
        r.attempt += 1;
        if now.saturating_sub(r.since) >= GIVE_UP_MS {
            self.give_up("could not reconnect to the server", now);
            return;
        }
        r.retry_at = Some(now + retry_delay(r.attempt));
        self.link = Some(Link::Reconnecting(r));
    }

    pub(super) fn give_up(&mut self, why: &str, now: u64) {
        self.transport.push(super::TransportCommand::Close);
        self.session = None;
        self.teardown(
            ExitReason::Failed,
            Some(ErrorCode::Network),
            SdkError::network(why),
            now,
        );
        self.schedule_relogin(now);
    }

    /// The link of a logged-in user is gone and nothing will resume it: log in again
    /// after the backoff (a refused login is not retried: it ends in `teardown`
    /// without coming here).
    fn schedule_relogin(&mut self, now: u64) {
        if self.identity.is_some() {
            self.relogin = Some(now + retry_delay(self.relogin_attempts));
        }
    }

    /// Logs in again; the presence watch and do-not-disturb go out behind the login.
    fn relogin(&mut self, now: u64) {
        self.relogin = None;
        if self.link() != Link::Down {
            return; // a call opened the link meanwhile
        }
        self.relogin_attempts += 1;
        self.connect(now);
        if self.watching_presence {
            self.send(
                Request::UserStatusNotify { on: true },
                Waiting::Keepalive,
                now,
            );
        }
        if self.dnd {
            self.send(Request::SetDnd { dnd: true }, Waiting::Keepalive, now);
        }
    }

    /// Opens a socket that will carry the resume.
    fn retry(&mut self, mut r: Reconnect, now: u64) {
        let (Some(url), Some(key)) = (self.server_url.clone(), self.session.clone()) else {
            return self.give_up("nothing to reconnect with", now);
        };
        r.retry_at = None;
        self.link = Some(Link::Reconnecting(r));
        self.transport.push(super::TransportCommand::Open { url });
        let rid = self.new_rid();
        self.pending.insert(
            rid,
            Pending {
                waiting: Waiting::Resume,
                deadline: now + PROBE_TIMEOUT_MS,
            },
        );
        let req = Request::Resume {
            session: key,
            received: self.received,
            protocol: PROTOCOL_VERSION,
        };
        self.queued.insert(0, ClientMessage { rid, req });
    }

    /// The server took the session back: what waited goes out, and the events it
    /// missed follow the reply.
    pub(super) fn resumed(&mut self, now: u64) {
        self.link = Some(Link::Open);
        self.transmit.append(&mut self.queued);
        self.next_heartbeat = now + HEARTBEAT_MS;
        self.events.push(SdkEvent::Reconnected);
    }

    /// The browser says the network is back: try at once rather than at the next
    /// backoff step, or make sure an open link still works.
    pub fn handle_online(&mut self, now: u64) {
        match self.link() {
            Link::Reconnecting(mut r) if r.retry_at.is_some() => {
                r.retry_at = Some(now);
                self.link = Some(Link::Reconnecting(r));
            }
            Link::Open => self.probe(now),
            Link::Down if self.relogin.is_some() => self.relogin = Some(now),
            _ => {}
        }
    }

    /// The page became visible again: its timers may have been throttled while
    /// hidden, so check the link (hiding alone never disconnects).
    pub fn handle_visible(&mut self, now: u64) {
        if self.link() == Link::Open {
            self.probe(now);
        }
    }

    /// An open link that only keeps the user online is checked too: a dead one
    /// would otherwise go unnoticed until the next call fails.
    fn probe(&mut self, now: u64) {
        if self.session.is_some() {
            self.send_keepalive(Request::Ping, now);
        }
    }

    fn send_keepalive(&mut self, req: Request, now: u64) {
        let rid = self.new_rid();
        self.pending.insert(
            rid,
            Pending {
                waiting: Waiting::Keepalive,
                deadline: now + PROBE_TIMEOUT_MS,
            },
        );
        self.transmit.push(ClientMessage { rid, req });
    }

    /// Timers of the link: retries, heartbeats.
    pub(super) fn link_timers(&mut self, now: u64) {
        if self.relogin.is_some_and(|at| at <= now) {
            self.relogin(now);
        }
        match self.link() {
            Link::Reconnecting(r) if r.retry_at.is_some_and(|at| at <= now) => self.retry(r, now),
            Link::Open if self.can_resume() && self.next_heartbeat <= now => {
                self.next_heartbeat = now + HEARTBEAT_MS;
                let received = self.received;
                self.send_keepalive(Request::Heartbeat { received }, now);
            }
            _ => {}
        }
    }

    /// When the link needs `handle_timeout` next.
    pub(super) fn link_deadline(&self) -> Option<u64> {
        match self.link() {
            Link::Reconnecting(r) => r.retry_at,
            Link::Open if self.can_resume() => Some(self.next_heartbeat),
            Link::Down => self.relogin,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_once_and_levels_off_at_four_seconds() {
        let delays: Vec<u64> = (0..9).map(retry_delay).collect();
        assert_eq!(delays, [0, 250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
        // Enough attempts fit in the give-up window to ride out a server restart.
        let mut t = 0;
        let mut attempts = 0;
        while t < GIVE_UP_MS {
            t += retry_delay(attempts);
            attempts += 1;
        }
        assert!(attempts >= 12, "{attempts}");
    }
}
