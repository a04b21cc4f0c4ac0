//! Calls and invitations, on top of conferences.
//!
//! A call is a conference the server creates for the caller, plus the users it rings.
//! Whoever accepts is seated like any member, so publishing, subscribing and leaving
//! work as in every conference; this file only adds the ringing, the answers, and the
//! rule that a call ends when one member is left and nobody is still being rung.
//! An invitation into a running conference (`inviteToConference`) rings one user the
//! same way, and reports to the inviter instead of to a call's members.

use super::conference::Conference;
use super::sessions::SessionId;
use super::{err, validate, ConferenceStore, Core, Joining, Reply};
use emedia_protocol::{
    CallProgress, CallType, ConferenceConfig, ConferenceId, ConfrType, ErrorBody, ErrorCode, Event,
    ExitReason, Invitation, InviteStatus, MemberExitReason, Response, Role,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Users one `call` / `groupCall` may ring at once.
const MAX_INVITEES: usize = 32;
/// Ring timeouts accepted from clients.
const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u64> = 100..=600_000;

#[derive(Default)]
pub(super) struct Calls {
    calls: HashMap<String, Call>,
    by_conference: HashMap<ConferenceId, String>,
    invites: HashMap<String, Invite>,
    /// When each ringing user stops ringing: (deadline, call or invite id, user).
    deadlines: BTreeSet<(u64, String, String)>,
    /// The calls and invitations each user is being rung for.
    rung: HashMap<String, Vec<String>>,
}

struct Call {
    confr_id: ConferenceId,
    call_type: CallType,
    sponsor: String,
    group: bool,
    ext: Option<String>,
    /// Everyone ever rung, in order: `onInvited`'s `userIdList`.
    invited: Vec<String>,
    /// Rung and not answered yet, with the deadline.
    ringing: HashMap<String, u64>,
    /// Whether anyone ever accepted.
    entered: bool,
    /// How the last unanswered invitee ended: the caller's exit reason in a 1:1 call.
    last_outcome: CallProgress,
}

#[derive(Clone)]
struct Invite {
    confr_id: ConferenceId,
    inviter: String,
    inviter_session: SessionId,
    invitee: String,
    deadline: u64,
    /// Accepted: kept until the conference ends, so a second accept is told so.
    accepted: bool,
}

/// A `call` request, fields as sent.
pub(super) struct CallRequest {
    pub user_ids: Vec<String>,
    pub call_type: CallType,
    pub timeout_ms: Option<u64>,
    pub ext: Option<String>,
    pub group: bool,
    pub call_id: Option<String>,
}

/// A `inviteToConference` request.
pub(super) struct InviteRequest {
    pub confr_id: ConferenceId,
    pub user_id: String,
    pub ext: Option<String>,
    pub timeout_ms: Option<u64>,
}

impl Calls {
    pub fn is_ringing(&self, user: &str) -> bool {
        self.rung.contains_key(user)
    }

    pub fn is_call(&self, confr_id: &ConferenceId) -> bool {
        self.by_conference.contains_key(confr_id)
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|(at, _, _)| *at)
    }

    fn start_ringing(&mut self, id: &str, user: &str, deadline: u64) {
        self.rung
            .entry(user.to_owned())
            .or_default()
            .push(id.to_owned());
        self.deadlines
            .insert((deadline, id.to_owned(), user.to_owned()));
    }

    fn stop_ringing(&mut self, id: &str, user: &str, deadline: u64) {
        self.deadlines
            .remove(&(deadline, id.to_owned(), user.to_owned()));
        if let Some(ids) = self.rung.get_mut(user) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                self.rung.remove(user);
            }
        }
    }
}

fn not_found() -> ErrorBody {
    err(
        ErrorCode::CallNotFound,
        "no such call or invitation: it ended, was cancelled or expired",
    )
}

fn bad(msg: impl Into<String>) -> ErrorBody {
    err(ErrorCode::BadParameters, msg)
}

fn invitee_id(me: &str, user: &str) -> Result<(), ErrorBody> {
    if !crate::auth::valid_user_id(user) {
        return Err(bad(format!("{user:?} is not a user id")));
    }
    if user == me {
        return Err(bad("you cannot call or invite yourself"));
    }
    Ok(())
}

impl<S: ConferenceStore> Core<S> {
    /// Whether any of the user's sessions sits in a call's conference.
    pub(super) fn in_a_call(&self, user: &str) -> bool {
        self.presence.sessions(user).iter().any(|sid| {
            self.sessions
                .get(sid)
                .is_some_and(|s| s.conferences.iter().any(|c| self.calls.is_call(c)))
        })
    }

    /// Callers hear busy from a user in a call, being rung, or not to be disturbed.
    fn is_busy(&self, user: &str) -> bool {
        self.presence.is_dnd(user) || self.in_a_call(user) || self.calls.is_ringing(user)
    }

    fn ring_timeout(&self, asked: Option<u64>) -> Result<u64, ErrorBody> {
        match asked {
            None => Ok(self.config.call_timeout_ms),
            Some(t) if TIMEOUT_RANGE_MS.contains(&t) => Ok(t),
            Some(t) => Err(bad(format!(
                "timeout must be between {} and {} ms, not {t}",
                TIMEOUT_RANGE_MS.start(),
                TIMEOUT_RANGE_MS.end()
            ))),
        }
    }

    /// Sends one event to every session of a user.
    fn tell_user(&mut self, user: &str, event: Event) {
        let event = Arc::new(event);
        for &sid in self.presence.sessions(user) {
            self.out.shared_event(sid, Arc::clone(&event));
        }
    }

    /// Sends one event to every member of a call's conference but `except`.
    fn tell_members(&mut self, confr_id: &ConferenceId, event: Event, except: Option<SessionId>) {
        if let Some(conf) = self.store.get(confr_id) {
            conf.broadcast(event, except, &mut self.out);
        }
    }

    fn progress(call_id: &str, user: &str, progress: CallProgress) -> Event {
        Event::CallProgress {
            call_id: call_id.to_owned(),
            user_id: user.to_owned(),
            progress,
        }
    }

    /// `call` / `groupCall`. Answers the request itself: the reply goes out before
    /// the news about each invitee (busy, offline) that follows it.
    pub(super) fn call(
        &mut self,
        sid: SessionId,
        rid: u32,
        user: &str,
        mut req: CallRequest,
        now_ms: u64,
    ) -> Result<(), ErrorBody> {
        let mut invitees: Vec<String> = Vec::with_capacity(req.user_ids.len());
        for u in std::mem::take(&mut req.user_ids) {
            invitee_id(user, &u)?;
            if !invitees.contains(&u) {
                invitees.push(u);
            }
        }
        if invitees.is_empty() || invitees.len() > MAX_INVITEES {
            return Err(bad(format!("userIds must list 1 to {MAX_INVITEES} users")));
        }
        validate::ext(req.ext.as_deref())?;
        let timeout = self.ring_timeout(req.timeout_ms)?;
        match req.call_id {
            Some(call_id) => self.ring_more(sid, rid, &call_id, invitees, timeout, now_ms),
            None => self.start_call(sid, rid, user, req, invitees, timeout, now_ms),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start_call(
        &mut self,
        sid: SessionId,
        rid: u32,
        user: &str,
        req: CallRequest,
        invitees: Vec<String>,
        timeout: u64,
        now_ms: u64,
    ) -> Result<(), ErrorBody> {
        if self.in_a_call(user) {
            return Err(err(
                ErrorCode::BadRequest,
                "you are already in a call: hang up first",
            ));
        }
        if !req.group && invitees.len() == 1 && !self.presence.is_online(&invitees[0]) {
            // A 1:1 call to nobody: refused before anything exists. The caller's SDK
            // reports it as onNoResp with this code.
            return Err(err(
                ErrorCode::UserOffline,
                format!("{} is offline", invitees[0]),
            ));
        }
        self.room_for_a_conference()?;
        let confr_id = ConferenceId(self.new_id('C'));
        let config = ConferenceConfig {
            max_talker_count: (MAX_INVITEES + 1) as u32,
            ..ConferenceConfig::default()
        };
        self.store.insert(Conference::new(
            confr_id.clone(),
            ConfrType::Communication,
            None,
            None,
            config,
        ));
        let joining = Joining {
            role: Role::Admin,
            nick_name: None,
            ext: None,
            ticket: None,
            created: true,
        };
        let joined = match self.seat(sid, user, &confr_id, joining, now_ms) {
            Ok(j) => j,
            Err(e) => {
                self.store.remove(&confr_id);
                return Err(e);
            }
        };
        let call_id = self.new_id('K');
        tracing::info!(call = %call_id, confr = %confr_id, caller = %user, invitees = invitees.len(), "call started");
        self.calls
            .by_conference
            .insert(confr_id.clone(), call_id.clone());
        self.calls.calls.insert(
            call_id.clone(),
            Call {
                confr_id: confr_id.clone(),
                call_type: req.call_type,
                sponsor: user.to_owned(),
                group: req.group,
                ext: req.ext,
                invited: Vec::new(),
                ringing: HashMap::new(),
                entered: false,
                last_outcome: CallProgress::Cancelled,
            },
        );
        self.out.reply(
            sid,
            rid,
            Ok(Response::Called {
                call_id: call_id.clone(),
                confr_id,
                joined: Some(joined),
            }),
        );
        self.ring_all(&call_id, invitees, timeout, now_ms);
        self.end_call_if_over(&call_id, now_ms);
        Ok(())
    }

    /// `groupCall` with the id of a running call: rings more people into it.
    fn ring_more(
        &mut self,
        sid: SessionId,
        rid: u32,
        call_id: &str,
        invitees: Vec<String>,
        timeout: u64,
        now_ms: u64,
    ) -> Result<(), ErrorBody> {
        let call = self.calls.calls.get(call_id).ok_or_else(not_found)?;
        let confr_id = call.confr_id.clone();
        let conf = self.find(&confr_id)?;
        if conf.seat_of_session(sid).is_none() {
            return Err(err(ErrorCode::NotInCall, "you are not in this call"));
        }
        let fresh: Vec<String> = invitees
            .into_iter()
            .filter(|u| conf.seat_of_user(u).is_none() && !call.ringing.contains_key(u))
            .collect();
        if fresh.is_empty() {
            return Err(bad("everyone listed is in the call or being rung already"));
        }
        self.out.reply(
            sid,
            rid,
            Ok(Response::Called {
                call_id: call_id.to_owned(),
                confr_id: confr_id.clone(),
                joined: None,
            }),
        );
        self.ring_all(call_id, fresh, timeout, now_ms);
        if let Some(call) = self.calls.calls.get(call_id) {
            let event = Event::InviteeListUpdated {
                call_id: call_id.to_owned(),
                user_ids: call.invited.clone(),
            };
            self.tell_members(&confr_id, event, None);
        }
        self.end_call_if_over(call_id, now_ms);
        Ok(())
    }

    /// Rings each invitee, or tells the call's members at once why it cannot be rung.
    fn ring_all(&mut self, call_id: &str, invitees: Vec<String>, timeout: u64, now_ms: u64) {
        let Some(call) = self.calls.calls.get_mut(call_id) else {
            return;
        };
        call.invited.extend(invitees.iter().cloned());
        let deadline = now_ms + timeout;
        for user in invitees {
            let outcome = if !self.presence.is_online(&user) {
                Some(CallProgress::Offline)
            } else if self.is_busy(&user) {
                Some(CallProgress::Busy)
            } else {
                None
            };
            let Some(call) = self.calls.calls.get_mut(call_id) else {
                return;
            };
            let confr_id = call.confr_id.clone();
            match outcome {
                Some(outcome) => {
                    call.last_outcome = outcome;
                    self.tell_members(&confr_id, Self::progress(call_id, &user, outcome), None);
                }
                None => {
                    call.ringing.insert(user.clone(), deadline);
                    let invitation = Invitation {
                        call_id: call_id.to_owned(),
                        confr_id,
                        sponsor: call.sponsor.clone(),
                        user_id_list: call.invited.clone(),
                        is_from_group: call.group,
                        call_type: call.call_type,
                        ext: call.ext.clone(),
                    };
                    self.calls.start_ringing(call_id, &user, deadline);
                    self.presence.touch(&user);
                    self.tell_user(&user, Event::Invited(invitation));
                }
            }
        }
    }

    /// `accept`: seats the invitee in the call's (or invitation's) conference.
    pub(super) fn accept(&mut self, sid: SessionId, user: &str, id: &str, now_ms: u64) -> Reply {
        let (confr_id, deadline) = self.ringing_for(user, id)?;
        let is_call = self.calls.calls.contains_key(id);
        if is_call && self.in_a_call(user) {
            return Err(err(
                ErrorCode::BadRequest,
                "you are in another call: hang up first",
            ));
        }
        let joining = Joining {
            role: Role::Talker,
            nick_name: None,
            ext: None,
            ticket: None,
            created: false,
        };
        // Seated first: if the conference is full, the invitee is still rung.
        let joined = self.seat(sid, user, &confr_id, joining, now_ms)?;
        self.calls.stop_ringing(id, user, deadline);
        self.presence.touch(user);
        // The user's other devices stop ringing: answered elsewhere.
        self.tell_other_sessions(user, sid, Self::progress(id, user, CallProgress::Cancelled));
        if let Some(call) = self.calls.calls.get_mut(id) {
            call.ringing.remove(user);
            call.entered = true;
            tracing::info!(call = %id, %user, "call accepted");
            self.tell_members(
                &confr_id,
                Self::progress(id, user, CallProgress::Entered),
                Some(sid),
            );
        } else if let Some(invite) = self.calls.invites.get_mut(id) {
            tracing::info!(invite = %id, %user, "invitation accepted");
            invite.accepted = true;
            let invite = invite.clone();
            self.tell_inviter(&invite, id, InviteStatus::Accepted);
        }
        Ok(Response::Joined(joined))
    }

    /// `reject`
    pub(super) fn reject(&mut self, sid: SessionId, user: &str, id: &str, now_ms: u64) -> Reply {
        let (confr_id, deadline) = self.ringing_for(user, id)?;
        self.calls.stop_ringing(id, user, deadline);
        self.presence.touch(user);
        self.tell_other_sessions(user, sid, Self::progress(id, user, CallProgress::Cancelled));
        if let Some(call) = self.calls.calls.get_mut(id) {
            call.ringing.remove(user);
            call.last_outcome = CallProgress::Rejected;
            self.tell_members(
                &confr_id,
                Self::progress(id, user, CallProgress::Rejected),
                None,
            );
            self.end_call_if_over(id, now_ms);
        } else if let Some(invite) = self.calls.invites.remove(id) {
            self.tell_inviter(&invite, id, InviteStatus::Rejected);
        }
        Ok(Response::Done)
    }

    /// The conference and deadline of an invitation ringing for `user`, or why not.
    fn ringing_for(&self, user: &str, id: &str) -> Result<(ConferenceId, u64), ErrorBody> {
        let (confr_id, deadline) = if let Some(call) = self.calls.calls.get(id) {
            (call.confr_id.clone(), call.ringing.get(user).copied())
        } else if let Some(invite) = self.calls.invites.get(id) {
            let ringing = invite.invitee == user && !invite.accepted;
            (invite.confr_id.clone(), ringing.then_some(invite.deadline))
        } else {
            return Err(not_found());
        };
        match deadline {
            Some(d) => Ok((confr_id, d)),
            None if self
                .store
                .get(&confr_id)
                .is_some_and(|c| c.seat_of_user(user).is_some()) =>
            {
                Err(err(ErrorCode::AlreadyAnswered, "you answered this already"))
            }
            None => Err(not_found()),
        }
    }

    fn tell_other_sessions(&mut self, user: &str, except: SessionId, event: Event) {
        let event = Arc::new(event);
        for &s in self.presence.sessions(user) {
            if s != except {
                self.out.shared_event(s, Arc::clone(&event));
            }
        }
    }

    fn tell_inviter(&mut self, invite: &Invite, id: &str, status: InviteStatus) {
        if self.sessions.contains_key(&invite.inviter_session) {
            self.out.event(
                invite.inviter_session,
                Event::InviteStatus {
                    invite_id: id.to_owned(),
                    status,
                },
            );
        }
    }

    /// `hangup`: the caller cancelling before anyone answered, or a member leaving.
    pub(super) fn hangup(&mut self, sid: SessionId, user: &str, id: &str, now_ms: u64) -> Reply {
        let call = self.calls.calls.get(id).ok_or_else(not_found)?;
        let confr_id = call.confr_id.clone();
        let conf = self.find(&confr_id)?;
        if conf.seat_of_session(sid).is_none() {
            return Err(err(ErrorCode::NotInCall, "you are not in this call"));
        }
        if call.sponsor == user && conf.seats().len() == 1 {
            self.cancel_ringing(id);
        }
        self.leave_session(
            sid,
            &confr_id,
            MemberExitReason::Left,
            Some(ExitReason::Normal),
            now_ms,
        );
        Ok(Response::Done)
    }

    /// Stops every invitee of a call ringing: each hears the caller cancelled.
    fn cancel_ringing(&mut self, id: &str) {
        let Some(call) = self.calls.calls.get_mut(id) else {
            return;
        };
        let ringing: Vec<(String, u64)> = call.ringing.drain().collect();
        let sponsor = call.sponsor.clone();
        for (user, deadline) in ringing {
            self.calls.stop_ringing(id, &user, deadline);
            self.presence.touch(&user);
            self.tell_user(&user, Self::progress(id, &sponsor, CallProgress::Cancelled));
        }
    }

    /// After a member left a call's conference (hung up, exited, was kicked or timed
    /// out): the others hear it, and the call may be over.
    pub(super) fn left_call(&mut self, confr_id: &ConferenceId, user: &str, now_ms: u64) {
        let Some(id) = self.calls.by_conference.get(confr_id).cloned() else {
            return;
        };
        self.tell_members(
            confr_id,
            Self::progress(&id, user, CallProgress::Left),
            None,
        );
        self.end_call_if_over(&id, now_ms);
    }

    /// A call is over when nobody is left in it, or one member is and nobody is still
    /// being rung: that member hears `call_ended` and leaves.
    fn end_call_if_over(&mut self, id: &str, now_ms: u64) {
        let Some(call) = self.calls.calls.get(id) else {
            return;
        };
        let seats: Vec<SessionId> = self
            .store
            .get(&call.confr_id)
            .map(|c| c.seats().iter().map(|s| s.session).collect())
            .unwrap_or_default();
        if seats.is_empty() {
            self.cancel_ringing(id);
            self.forget_call(id);
            return;
        }
        if seats.len() > 1 || !call.ringing.is_empty() {
            return;
        }
        let reason = match (call.group || call.entered, call.last_outcome) {
            (false, CallProgress::Busy) => ExitReason::PeerBusy,
            (false, CallProgress::NoResponse | CallProgress::Offline) => ExitReason::NoResponse,
            _ => ExitReason::Normal,
        };
        let confr_id = call.confr_id.clone();
        tracing::info!(call = %id, "call ended");
        // Forgotten first: the last member's leaving must not come back here.
        self.forget_call(id);
        self.out.event(
            seats[0],
            Event::CallEnded {
                call_id: id.to_owned(),
            },
        );
        self.leave_session(
            seats[0],
            &confr_id,
            MemberExitReason::Left,
            Some(reason),
            now_ms,
        );
    }

    fn forget_call(&mut self, id: &str) {
        if let Some(call) = self.calls.calls.remove(id) {
            self.calls.by_conference.remove(&call.confr_id);
            for user in call.ringing.keys() {
                self.presence.touch(user);
            }
        }
    }

    /// A conference ended (destroyed, or its last member left): its call, and
    /// invitations into it, are off.
    pub(super) fn conference_gone(&mut self, confr_id: &ConferenceId) {
        if let Some(id) = self.calls.by_conference.get(confr_id).cloned() {
            self.cancel_ringing(&id);
            self.forget_call(&id);
        }
        let gone: Vec<String> = self
            .calls
            .invites
            .iter()
            .filter(|(_, i)| &i.confr_id == confr_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            if let Some(invite) = self.calls.invites.remove(&id) {
                self.calls
                    .stop_ringing(&id, &invite.invitee, invite.deadline);
                self.presence.touch(&invite.invitee);
                let event = Self::progress(&id, &invite.inviter, CallProgress::Cancelled);
                self.tell_user(&invite.invitee, event);
            }
        }
    }

    /// Invitees who did not answer in time.
    pub(super) fn ring_timeouts(&mut self, now_ms: u64) {
        while let Some((at, id, user)) = self.calls.deadlines.first().cloned() {
            if at > now_ms {
                break;
            }
            self.calls.stop_ringing(&id, &user, at);
            self.presence.touch(&user);
            self.tell_user(&user, Self::progress(&id, &user, CallProgress::NoResponse));
            if let Some(call) = self.calls.calls.get_mut(&id) {
                call.ringing.remove(&user);
                call.last_outcome = CallProgress::NoResponse;
                let confr_id = call.confr_id.clone();
                let event = Self::progress(&id, &user, CallProgress::NoResponse);
                self.tell_members(&confr_id, event, None);
                self.end_call_if_over(&id, now_ms);
            } else if let Some(invite) = self.calls.invites.remove(&id) {
                self.tell_inviter(&invite, &id, InviteStatus::NoAnswer);
            }
        }
    }

    /// `inviteToConference`. Answers the request itself, so the reply (with the
    /// invite id) comes before the first `invite_status`.
    pub(super) fn invite_to_conference(
        &mut self,
        sid: SessionId,
        rid: u32,
        user: &str,
        req: InviteRequest,
        now_ms: u64,
    ) -> Result<(), ErrorBody> {
        let seat = self.own_seat(sid, &req.confr_id)?;
        if !seat.role.is_talker() {
            return Err(err(
                ErrorCode::IllegalRights,
                "only an ADMIN or TALKER may invite",
            ));
        }
        invitee_id(user, &req.user_id)?;
        validate::ext(req.ext.as_deref())?;
        let timeout = self.ring_timeout(req.timeout_ms)?;
        let conf = self.find(&req.confr_id)?;
        if conf.seat_of_user(&req.user_id).is_some() {
            return Err(bad(format!(
                "{} is in this conference already",
                req.user_id
            )));
        }
        if !self.presence.is_online(&req.user_id) {
            return Err(err(
                ErrorCode::UserOffline,
                format!("{} is offline", req.user_id),
            ));
        }
        let invite_id = self.new_id('I');
        self.out.reply(
            sid,
            rid,
            Ok(Response::InviteSent {
                invite_id: invite_id.clone(),
            }),
        );
        let deadline = now_ms + timeout;
        let invite = Invite {
            confr_id: req.confr_id.clone(),
            inviter: user.to_owned(),
            inviter_session: sid,
            invitee: req.user_id.clone(),
            deadline,
            accepted: false,
        };
        if self.is_busy(&req.user_id) {
            self.tell_inviter(&invite, &invite_id, InviteStatus::Rejected);
            return Ok(());
        }
        self.calls.start_ringing(&invite_id, &req.user_id, deadline);
        self.presence.touch(&req.user_id);
        let invitation = Invitation {
            call_id: invite_id.clone(),
            confr_id: req.confr_id,
            sponsor: user.to_owned(),
            user_id_list: vec![req.user_id.clone()],
            is_from_group: false,
            call_type: CallType::Video,
            ext: req.ext,
        };
        self.tell_user(&req.user_id, Event::Invited(invitation));
        self.tell_inviter(&invite, &invite_id, InviteStatus::Ringing);
        self.calls.invites.insert(invite_id, invite);
        Ok(())
    }

    /// `cancelInvite`: only the inviter may.
    pub(super) fn cancel_invite(&mut self, user: &str, id: &str) -> Reply {
        let invite = self
            .calls
            .invites
            .get(id)
            .filter(|i| !i.accepted)
            .ok_or_else(not_found)?;
        if invite.inviter != user {
            return Err(err(
                ErrorCode::NotInCall,
                "only the inviter may cancel an invitation",
            ));
        }
        let invite = self.calls.invites.remove(id).expect("looked up above");
        self.calls
            .stop_ringing(id, &invite.invitee, invite.deadline);
        self.presence.touch(&invite.invitee);
        self.tell_user(
            &invite.invitee,
            Self::progress(id, user, CallProgress::Cancelled),
        );
        self.tell_inviter(&invite, id, InviteStatus::HungUp);
        Ok(Response::Done)
    }
}
