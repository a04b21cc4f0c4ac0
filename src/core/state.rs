//! What this client knows of a conference it is in: a mirror of the server's view.

use super::VecSet;
use emedia_protocol::{
    CallType, ConferenceId, ConfrType, Joined, Member, MemberId, Request, Role, StreamId,
    StreamInfo,
};

/// How to join again when the server has lost this member's session (it expired, or
/// the server restarted): with the role token first, which keeps the role; for a room
/// joined by name, by name again if the conference is gone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rejoin {
    pub nick_name: Option<String>,
    pub ext: Option<String>,
    /// The `joinRoom` request, when the conference was joined by name.
    pub room: Option<Request>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JoinedConference {
    pub confr_id: ConferenceId,
    pub confr_type: ConfrType,
    pub join_id: MemberId,
    pub role: Role,
    pub role_token: String,
    /// The other members this member may see, in join order.
    pub members: Vec<Member>,
    /// Every live stream, this member's own included.
    pub streams: Vec<StreamInfo>,
    /// This page's own streams, and the streams it subscribes to.
    pub published: VecSet<StreamId>,
    pub subscribed: VecSet<StreamId>,
    pub rejoin: Rejoin,
    /// The call's type when this conference is a call (or was joined by accepting an
    /// invitation): an audio call's pubStream publishes audio only by default.
    pub call_type: Option<CallType>,
    /// An ADMIN muted this page (`mute`, or `muteAll` for everyone but ADMINs).
    pub muted: bool,
    /// The room this page's ADMIN asked for a PK and has no answer from yet.
    pub pk_asked: Option<ConferenceId>,
    /// Hosts of another room whose streams a running PK shows here.
    pub guests: Vec<Member>,
}

impl JoinedConference {
    pub fn from_joined(j: &Joined) -> Self {
        Self {
            confr_id: j.confr_id.clone(),
            confr_type: j.confr_type,
            join_id: j.join_id.clone(),
            role: j.role,
            role_token: j.role_token.clone(),
            members: j.members.iter().map(|m| Member::clone(m)).collect(),
            streams: j.streams.clone(),
            published: VecSet::new(),
            subscribed: VecSet::new(),
            rejoin: Rejoin::default(),
            call_type: None,
            muted: false,
            pk_asked: None,
            guests: Vec::new(),
        }
    }

    /// The publisher of a stream, as far as this member can see: a member, or the
    /// host of the other room in a PK.
    pub fn owner_of(&self, stream: &StreamInfo) -> Option<Member> {
        (self.members.iter().chain(&self.guests))
            .find(|m| m.id == stream.mem_id)
            .cloned()
    }

    pub fn stream(&self, id: &StreamId) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| &s.id == id)
    }

    pub fn upsert_stream(&mut self, stream: StreamInfo) {
        match self.streams.iter_mut().find(|s| s.id == stream.id) {
            Some(s) => *s = stream,
            None => self.streams.push(stream),
        }
    }

    pub fn remove_stream(&mut self, id: &StreamId) {
        self.streams.retain(|s| &s.id != id);
    }

    pub fn upsert(&mut self, member: Member) {
        match self.members.iter_mut().find(|m| m.id == member.id) {
            Some(m) => *m = member,
            None => self.members.push(member),
        }
    }

    pub fn remove(&mut self, id: &MemberId) {
        self.members.retain(|m| &m.id != id);
    }
}
