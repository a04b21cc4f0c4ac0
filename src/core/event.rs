//! Events for the app, mapped to the emedia hooks at the edge (`web/hooks.rs`).

use emedia_protocol::{ConferenceId, ErrorCode, ExitReason, Member, MemberExitReason, Role};

#[derive(Clone, Debug, PartialEq)]
pub enum SdkEvent {
    /// `onMemberJoined(member)`
    MemberJoined {
        confr_id: ConferenceId,
        member: Member,
    },
    /// `onMemberExited(member, reason)`
    MemberExited {
        confr_id: ConferenceId,
        member: Member,
        reason: MemberExitReason,
    },
    /// `onMemberRoleChanged(member)`: another member's role changed.
    MemberRoleChanged {
        confr_id: ConferenceId,
        member: Member,
    },
    /// `onRoleChanged(role)`: your own role changed.
    RoleChanged { confr_id: ConferenceId, role: Role },
    /// `onConferenceExit(reason, failed)`
    ConferenceExited {
        confr_id: ConferenceId,
        reason: ExitReason,
        failed: Option<ErrorCode>,
    },
}
