//! One conference: its roster, its rules and who sees whom.
//!
//! Visibility rule (emedia's): audience members are shown only to ADMINs; everyone
//! else is shown to everyone. Every roster change goes through this file, which emits
//! the events that keep each member's view equal to [`Conference::visible_to`].

use super::outbox::Outbox;
use super::sessions::SessionId;
use super::streams::Streams;
use emedia_protocol::{
    Attrs, ConferenceConfig, ConferenceId, ConferenceInfo, ConfrType, Event, Member,
    MemberExitReason, MemberId, Role, SharedMember,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A member and the connection it joined from.
#[derive(Clone, Debug)]
pub struct Seat {
    /// Shared with the member lists of join replies and `getConferenceInfo`, which
    /// serialize it once between them (`SharedMember`).
    pub member: SharedMember,
    /// The member's role, kept beside it: rosters are scanned by role on every join,
    /// and reading it through the shared member is a cache miss per seat, which a
    /// 10,000-member LIVE conference feels (BENCHMARKS.md). Changed only with it
    /// (`set_role`).
    pub role: Role,
    pub session: SessionId,
}

impl Seat {
    pub fn new(member: Member, session: SessionId) -> Self {
        Self {
            role: member.role,
            member: member.into(),
            session,
        }
    }

    /// A new shared member: the old one's JSON (and any reply holding it) keeps the
    /// old role.
    fn set_role(&mut self, role: Role) {
        let mut member = Member::clone(&self.member);
        member.role = role;
        self.member = member.into();
        self.role = role;
    }
}

#[derive(Debug)]
pub struct Conference {
    pub id: ConferenceId,
    pub confr_type: ConfrType,
    pub room_name: Option<String>,
    password: Option<String>,
    pub config: ConferenceConfig,
    /// In join order: the earliest TALKER is promoted when the last ADMIN leaves.
    seats: Vec<Seat>,
    /// User → the session of its newest seat: joins look users up, and a LIVE
    /// conference has thousands of seats to compare names with.
    users: HashMap<String, SessionId>,
    /// User → when it was kicked; grants issued before that no longer open the door.
    kicked: HashMap<String, u64>,
    /// User → (role, when) of the last grantRole, which outranks older tickets.
    grants: HashMap<String, (Role, u64)>,
    pub streams: Streams,
    /// `setConferenceAttrs`: every member sees them, joiners get them.
    pub attrs: Attrs,
    /// Members an ADMIN muted one by one (`moderation.rs`).
    pub muted: HashSet<MemberId>,
    /// `muteAll`: every member but the ADMINs is muted, later joiners too.
    pub mute_all: bool,
    /// The members who were last told they are muted.
    pub muted_told: HashSet<MemberId>,
    /// AUDIENCE members waiting for an answer to `requestToTalker`, oldest first.
    pub talker_requests: Vec<MemberId>,
    /// The room this one is in a PK with (`pk.rs`).
    pub pk: Option<super::pk::Pk>,
}

fn can_see(viewer: Role, subject: Role) -> bool {
    viewer == Role::Admin || subject != Role::Audience
}

impl Conference {
    pub fn new(
        id: ConferenceId,
        confr_type: ConfrType,
        room_name: Option<String>,
        password: Option<String>,
        config: ConferenceConfig,
    ) -> Self {
        Self {
            id,
            confr_type,
            room_name,
            password: password.filter(|p| !p.is_empty()),
            config,
            seats: Vec::new(),
            users: HashMap::new(),
            kicked: HashMap::new(),
            grants: HashMap::new(),
            streams: Streams::default(),
            attrs: Attrs::new(),
            muted: HashSet::new(),
            mute_all: false,
            muted_told: HashSet::new(),
            talker_requests: Vec::new(),
            pk: None,
        }
    }

    /// Constant-time, so the comparison leaks nothing about the password but its length.
    pub fn password_matches(&self, given: Option<&str>) -> bool {
        match &self.password {
            None => true,
            Some(p) => bool::from(p.as_bytes().ct_eq(given.unwrap_or("").as_bytes())),
        }
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Members whose role passes `pred`, in join order.
    pub fn members_where(&self, pred: impl Fn(Role) -> bool) -> Vec<Member> {
        self.seats
            .iter()
            .filter(|s| pred(s.role))
            .map(|s| Member::clone(&s.member))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.seats.is_empty()
    }

    pub fn seats(&self) -> &[Seat] {
        &self.seats
    }

    pub fn seat_of_session(&self, session: SessionId) -> Option<&Seat> {
        self.seats.iter().find(|s| s.session == session)
    }

    pub fn seat_of_user(&self, user: &str) -> Option<&Seat> {
        let session = *self.users.get(user)?;
        self.seat_of_session(session)
    }

    /// A kick or grant list names members by member id or by user name.
    pub fn find(&self, key: &str) -> Option<&Seat> {
        self.seats
            .iter()
            .find(|s| s.member.id.as_str() == key || s.member.name == key)
    }

    fn index_of(&self, id: &MemberId) -> Option<usize> {
        self.seats.iter().position(|s| &s.member.id == id)
    }

    /// Whether an ADMIN's mute holds for this member now.
    pub fn is_muted(&self, member: &Member) -> bool {
        self.muted.contains(&member.id) || (self.mute_all && member.role != Role::Admin)
    }

    /// The earliest ADMIN present.
    pub fn owner(&self) -> Option<&Seat> {
        self.seats.iter().find(|s| s.role == Role::Admin)
    }

    pub fn talker_count(&self) -> usize {
        self.seats.iter().filter(|s| s.role.is_talker()).count()
    }

    pub fn audience_count(&self) -> usize {
        self.seats.len() - self.talker_count()
    }

    /// Whether one more member with `role` fits, as the limits say.
    pub fn has_room_for(&self, role: Role) -> bool {
        if role.is_talker() {
            self.talker_count() < self.config.max_talker_count as usize
        } else {
            self.audience_count() < self.config.max_audience_count as usize
        }
    }

    /// The role a grant issued at `iat_ms` with `role` really opens the door with,
    /// or `None` when the user was kicked after it was issued.
    pub fn effective_role(&self, user: &str, role: Role, iat_ms: u64) -> Option<Role> {
        if self.kicked.get(user).is_some_and(|&at| iat_ms <= at) {
            return None;
        }
        match self.grants.get(user) {
            Some(&(granted, at)) if iat_ms <= at => Some(granted),
            _ => Some(role),
        }
    }

    /// The members `viewer_role` may see, without `except`.
    pub fn visible_members(
        &self,
        viewer_role: Role,
        except: Option<&MemberId>,
    ) -> Vec<SharedMember> {
        self.seats
            .iter()
            .filter(|s| can_see(viewer_role, s.role) && Some(&s.member.id) != except)
            .map(|s| s.member.clone())
            .collect()
    }

    pub fn info(&self, viewer_role: Role) -> ConferenceInfo {
        ConferenceInfo {
            confr_id: self.id.clone(),
            confr_type: self.confr_type,
            room_name: self.room_name.clone(),
            has_password: self.password.is_some(),
            config: self.config.clone(),
            members: self.visible_members(viewer_role, None),
        }
    }

    /// Sends `event` to every member but `except`.
    pub fn broadcast(&self, event: Event, except: Option<SessionId>, out: &mut Outbox) {
        let event = Arc::new(event);
        for seat in &self.seats {
            if Some(seat.session) != except {
                out.shared_event(seat.session, Arc::clone(&event));
            }
        }
    }

    /// Seats a new member and tells those who may see it (but not an older session of
    /// the same user, which the new one is about to replace).
    pub fn add(&mut self, seat: Seat, out: &mut Outbox) {
        let event = Arc::new(Event::MemberJoined {
            confr_id: self.id.clone(),
            member: Member::clone(&seat.member),
        });
        for other in &self.seats {
            if can_see(other.role, seat.role) && other.member.name != seat.member.name {
                out.shared_event(other.session, Arc::clone(&event));
            }
        }
        self.users.insert(seat.member.name.clone(), seat.session);
        self.seats.push(seat);
    }

    /// Removes a member and tells those who could see it. The member itself is told
    /// by the caller, which knows why (kick, destroy, replaced, or its own exit).
    pub fn remove(
        &mut self,
        id: &MemberId,
        reason: MemberExitReason,
        out: &mut Outbox,
    ) -> Option<Seat> {
        let seat = self.seats.remove(self.index_of(id)?);
        self.muted.remove(id);
        self.muted_told.remove(id);
        self.talker_requests.retain(|m| m != id);
        // A user's newer seat (it replaced this one) keeps its entry.
        if self.users.get(&seat.member.name) == Some(&seat.session) {
            self.users.remove(&seat.member.name);
        }
        let event = Arc::new(Event::MemberExited {
            confr_id: self.id.clone(),
            member: Member::clone(&seat.member),
            reason,
        });
        for other in &self.seats {
            if can_see(other.role, seat.role) {
                out.shared_event(other.session, Arc::clone(&event));
            }
        }
        Some(seat)
    }

    pub fn record_kick(&mut self, user: &str, now_ms: u64) {
        self.kicked.insert(user.to_owned(), now_ms);
    }

    /// Changes a member's role and sends every view change it causes: the member gets
    /// `RoleChanged`; others see it appear, disappear or change role; and a member that
    /// gains or loses ADMIN sees the audience appear or disappear.
    pub fn set_role(
        &mut self,
        id: &MemberId,
        role: Role,
        role_token: String,
        now_ms: u64,
        out: &mut Outbox,
    ) {
        let Some(idx) = self.index_of(id) else { return };
        let old = self.seats[idx].role;
        if old == role {
            return;
        }
        self.seats[idx].set_role(role);
        self.grants
            .insert(self.seats[idx].member.name.clone(), (role, now_ms));
        let subject = &self.seats[idx];
        out.event(
            subject.session,
            Event::RoleChanged {
                confr_id: self.id.clone(),
                role,
                role_token,
            },
        );
        for (i, other) in self.seats.iter().enumerate() {
            if i == idx {
                continue;
            }
            let viewer = other.role;
            // How `other` sees the subject...
            let change = view_change(can_see(viewer, old), can_see(viewer, role));
            self.emit(other.session, &subject.member, change, true, out);
            // ...and how the subject sees `other`.
            let change = view_change(can_see(old, viewer), can_see(role, viewer));
            self.emit(subject.session, &other.member, change, false, out);
        }
    }

    fn emit(
        &self,
        to: SessionId,
        member: &Member,
        change: ViewChange,
        role_news: bool,
        out: &mut Outbox,
    ) {
        let confr_id = self.id.clone();
        let member = member.clone();
        let event = match change {
            ViewChange::Appeared => Event::MemberJoined { confr_id, member },
            ViewChange::Disappeared => Event::MemberExited {
                confr_id,
                member,
                reason: MemberExitReason::Hidden,
            },
            ViewChange::Stayed if role_news => Event::MemberRoleChanged { confr_id, member },
            ViewChange::Stayed | ViewChange::Unseen => return,
        };
        out.event(to, event);
    }

    /// emedia's rule: when the last ADMIN has gone, the earliest TALKER becomes ADMIN.
    /// Returns the member to promote, if any, passing over `except` (members who were
    /// just demoted: an ADMIN that steps down must not be handed the role straight back).
    pub fn successor_admin(&self, except: &[MemberId]) -> Option<MemberId> {
        if self.seats.iter().any(|s| s.role == Role::Admin) {
            return None;
        }
        self.seats
            .iter()
            .find(|s| s.role == Role::Talker && !except.contains(&s.member.id))
            .map(|s| s.member.id.clone())
    }
}

enum ViewChange {
    Appeared,
    Disappeared,
    Stayed,
    Unseen,
}

fn view_change(before: bool, after: bool) -> ViewChange {
    match (before, after) {
        (false, true) => ViewChange::Appeared,
        (true, false) => ViewChange::Disappeared,
        (true, true) => ViewChange::Stayed,
        (false, false) => ViewChange::Unseen,
    }
}
