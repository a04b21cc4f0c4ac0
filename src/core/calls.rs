//! Presence, calls and invitations.
//!
//! A call is a conference whose members were invited: starting one (`call`) or
//! answering one (`accept`) enters its conference exactly like a join, and from then
//! on it is an ordinary conference (media, members, `conferenceExited` at the end).
//! What is particular to calls is news that names no conference (presence, ringing,
//! what each invitee did), and the call's type, remembered so that pubStream in an
//! audio call publishes audio only.
//!
//! Being reachable needs a session: the page logs in when the identity is set
//! ([`Client::go_online`]), not at its first call, and [`Client::logout`] ends the
//! session at once.

use super::{
    Client, Command, Link, OpId, Outcome, Rejoin, SdkError, SdkEvent, TransportCommand, Waiting,
};
use emedia_protocol::{CallProgress, Event, ExitReason, Request, Response, UserState};

impl Client {
    /// Logs in now rather than at the first call, so that this user is online for
    /// presence and can be rung. Nothing happens without a server or an identity, or
    /// when the link is already up.
    pub fn go_online(&mut self, now: u64) {
        if self.link() == Link::Down {
            self.connect(now);
        }
    }

    /// The server or the socket factory changed after logging in: a link that only
    /// keeps this user online is opened again with them (the old session ends at
    /// once). One that carries conferences or requests goes on as it is; the new
    /// settings apply from its next connection.
    pub fn relink(&mut self, now: u64) {
        let in_use = !self.conferences.is_empty()
            || self
                .pending
                .values()
                .any(|p| !matches!(p.waiting, Waiting::Auth | Waiting::Keepalive));
        if self.link() == Link::Down || in_use {
            return;
        }
        self.transport.push(TransportCommand::End);
        self.link = Some(Link::Down);
        self.pending = Default::default();
        self.queued.clear();
        self.go_online(now);
    }

    /// `logout()`: the socket closes normally, so the server ends the session at once
    /// (the user goes offline; its calls and conferences go on without it). This page
    /// forgets the identity, releases its media, fails what is pending with -9527 and
    /// ends each conference with `onConferenceExit(0)`.
    pub fn logout(&mut self, now: u64) {
        if self.link() != Link::Down {
            self.transport.push(TransportCommand::End);
        }
        self.relogin = None;
        (self.watching_presence, self.dnd) = (false, false);
        self.teardown(
            ExitReason::Normal,
            None,
            SdkError::network("logged out"),
            now,
        );
        self.identity = None;
        self.invitations = Default::default();
    }

    /// An event that names no conference: presence and call news, passed on as they
    /// came; the invitations this user may still answer are kept up to date.
    pub(super) fn call_event(&mut self, event: Event) {
        let out = match event {
            Event::UserStatusChanged(status) => SdkEvent::UserStatusChanged(status),
            Event::Invited(inv) => {
                self.invitations.insert(inv.call_id.clone(), inv.call_type);
                SdkEvent::Invited(inv)
            }
            Event::CallProgress {
                call_id,
                user_id,
                progress,
            } => {
                // An invitee hears `cancelled` only of its own ringing, and nobody else
                // hears of what became of it: either way nothing is left to answer.
                let mine = self.identity.as_ref().is_some_and(|i| i.user == user_id);
                if progress == CallProgress::Cancelled || mine {
                    self.invitations.remove(&call_id);
                }
                SdkEvent::CallProgress {
                    call_id,
                    user_id,
                    progress,
                }
            }
            Event::CallEnded { call_id } => {
                self.invitations.remove(&call_id);
                SdkEvent::CallEnded { call_id }
            }
            Event::InviteeListUpdated { call_id, user_ids } => {
                SdkEvent::InviteeListUpdated { call_id, user_ids }
            }
            Event::InviteStatus { invite_id, status } => {
                SdkEvent::InviteStatus { invite_id, status }
            }
            // Conference events name their conference and never come here.
            _ => return,
        };
        self.events.push(out);
    }

    /// The replies to the presence, call and invitation requests.
    pub(super) fn finish_call(&mut self, op: OpId, cmd: Command, resp: Response) {
        let out = match (cmd, resp) {
            (
                Command::Send(Request::Call { call_type, .. }),
                Response::Called {
                    call_id,
                    confr_id,
                    joined,
                },
            ) => {
                // A new call seats the caller in its conference; more people rung
                // into a running call change nothing here.
                if let Some(j) = &joined {
                    self.enter(j, Rejoin::default(), Some(call_type));
                }
                Outcome::Called {
                    call_id,
                    confr_id,
                    joined,
                }
            }
            (Command::Send(Request::Accept { call_id }), Response::Joined(joined)) => {
                let call_type = self.invitations.remove(&call_id);
                self.enter(&joined, Rejoin::default(), call_type);
                Outcome::Joined {
                    joined,
                    password: None,
                }
            }
            (Command::Send(Request::Reject { call_id }), Response::Done) => {
                self.invitations.remove(&call_id);
                Outcome::Done
            }
            // Hanging up ends with `conferenceExited` (0), which leaves the conference.
            (
                Command::Send(Request::Hangup { .. } | Request::CancelInvite { .. }),
                Response::Done,
            ) => Outcome::Done,
            (Command::Send(Request::UserStatusNotify { on }), Response::Done) => {
                self.watching_presence = on;
                Outcome::Done
            }
            (Command::Send(Request::SetDnd { dnd }), Response::Done) => {
                self.dnd = dnd;
                Outcome::Done
            }
            (Command::Send(Request::GetUserStatus { .. }), Response::UserStatus(list)) => {
                Outcome::UserStatus(list)
            }
            (Command::IsBusy, Response::UserStatus(list)) => {
                Outcome::Busy(list.iter().any(|s| s.status == UserState::InCall))
            }
            (
                Command::Send(Request::InviteToConference { .. }),
                Response::InviteSent { invite_id },
            ) => Outcome::InviteSent(invite_id),
            _ => return self.unexpected(op),
        };
        self.complete(op, Ok(out));
    }
}
