//! Presence, calls and invitations: who is online, ringing someone, and asking someone
//! into a running conference. A call is a conference whose members were invited; an
//! invitation to a conference is a one-person call into a conference that exists.

use crate::codes::numeric_enum;
use crate::ids::ConferenceId;
use serde::{Deserialize, Serialize};

numeric_enum! {
    /// `getUserStatus` / `onUserStatusChanged`: `status`.
    UserState: u8 as "u8" {
        Offline = 0,
        /// Logged in, in no call and no conference.
        Online = 1,
        /// In a call (its conference), or being rung for one.
        InCall = 2,
        /// In a conference that is not a call.
        InConference = 3,
    }
}

numeric_enum! {
    /// `onInviteStatus(inviteId, status)`.
    InviteStatus: u8 as "u8" {
        /// The invitation reached the invitee, whose devices ring.
        Ringing = 0,
        Accepted = 1,
        /// Rejected, or refused at once because the invitee was busy.
        Rejected = 2,
        /// Not answered in time, or the invitee is offline.
        NoAnswer = 3,
        /// The inviter cancelled it (`cancelInvite`).
        HungUp = 4,
    }
}

/// One user's presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserStatus {
    pub user_id: String,
    pub status: UserState,
    /// Do not disturb: callers hear busy.
    pub dnd: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    Video,
    Audio,
}

/// `onInvited(...)`: someone asks this user into a call or a conference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// What `accept` / `reject` take: a call id, or an invite id for a conference.
    pub call_id: String,
    pub confr_id: ConferenceId,
    /// The user who invited.
    pub sponsor: String,
    /// Everyone invited with you (a group call), you included.
    pub user_id_list: Vec<String>,
    pub is_from_group: bool,
    pub call_type: CallType,
    #[serde(default)]
    pub ext: Option<String>,
}

/// What happened to one user of a call, as the call's members (or an invitee) hear it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallProgress {
    /// `onUserEnter`: an invitee accepted and joined.
    Entered,
    /// `onReject`
    Rejected,
    /// `onLineBusy`: in another call, being rung for one, or do-not-disturb.
    Busy,
    /// `onNoResp`: no answer before the timeout.
    NoResponse,
    /// `onNoResp` at once, with code -601: the user is not logged in.
    Offline,
    /// `onUserLeave`: a member hung up or left the call's conference.
    Left,
    /// `onCallingCancel` at an invitee: the caller hung up before it answered.
    Cancelled,
}
