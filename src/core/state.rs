//! What this client knows of a conference it is in: a mirror of the server's view.

use emedia_protocol::{ConferenceId, ConfrType, Joined, Member, MemberId, Role};

#[derive(Clone, Debug, PartialEq)]
pub struct JoinedConference {
    pub confr_id: ConferenceId,
    pub confr_type: ConfrType,
    pub join_id: MemberId,
    pub role: Role,
    pub role_token: String,
    /// The other members this member may see, in join order.
    pub members: Vec<Member>,
}

impl JoinedConference {
    pub fn from_joined(j: &Joined) -> Self {
        Self {
            confr_id: j.confr_id.clone(),
            confr_type: j.confr_type,
            join_id: j.join_id.clone(),
            role: j.role,
            role_token: j.role_token.clone(),
            members: j.members.clone(),
        }
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
