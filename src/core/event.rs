//! Events for the app, mapped to the emedia hooks at the edge (`web/hooks.rs`).

use super::SdkError;
use emedia_protocol::{
    CallProgress, ConferenceId, ErrorCode, Event, ExitReason, Invitation, InviteStatus, Member,
    MemberExitReason, Role, StreamId, StreamInfo, UserStatus,
};

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
    /// `onStreamAdded(member, stream)`; `owner` is None if its publisher is not in view.
    StreamAdded {
        confr_id: ConferenceId,
        owner: Option<Member>,
        stream: StreamInfo,
    },
    /// `onStreamRemoved(member, stream)`
    StreamRemoved {
        confr_id: ConferenceId,
        owner: Option<Member>,
        stream: StreamInfo,
    },
    /// `onReconnecting()`: the connection dropped; the SDK is getting it back.
    Reconnecting,
    /// `onReconnected()`: the session is back, resumed as if nothing happened or
    /// (after a refused resume) joined again, with the roster resynced by events.
    Reconnected,
    /// `onMediaChanaged(stream)` (and its alias `onMediaChanged`)
    StreamUpdated {
        confr_id: ConferenceId,
        owner: Option<Member>,
        stream: StreamInfo,
    },
    /// `onUserStatusChanged({userId, status, dnd})`
    UserStatusChanged(UserStatus),
    /// `onInvited({callId, confrId, sponsor, userIdList, isFromGroup, callType, ext})`
    Invited(Invitation),
    /// What one user of a call did: `onUserEnter`, `onReject`, `onLineBusy`,
    /// `onNoResp`, `onUserLeave` or `onCallingCancel`.
    CallProgress {
        call_id: String,
        user_id: String,
        progress: CallProgress,
    },
    /// `onCallEnd(callId)`
    CallEnded { call_id: String },
    /// `onGroupCallInviteeListUpdate(userIds)`
    InviteeListUpdated {
        call_id: String,
        user_ids: Vec<String>,
    },
    /// `onInviteStatus(inviteId, status)`
    InviteStatus {
        invite_id: String,
        status: InviteStatus,
    },
    /// `onError(code, message)`: a call or invitation method failed (its promise
    /// rejects too).
    CallError(SdkError),
    /// In-conference interaction as the server told it (`interaction.rs`): room
    /// messages, `sendCmd` data, requests to speak and their answers, being muted,
    /// attributes, PK requests, starts and ends.
    Interaction(Event),
    /// `onRequestRoomPKReply(agree, targetConfrId)`: the answer to this page's PK request.
    RoomPkAnswered {
        confr_id: ConferenceId,
        target_confr_id: ConferenceId,
        agree: bool,
    },
    /// `onSendProgress(taskId, sentBytes, totalBytes)`: the receiver holds `sent` bytes.
    SendProgress {
        transfer: u32,
        sent: u64,
        total: u64,
    },
    /// `onNotifyBufferData` / `onNotifyFileData` (a file has a `name`): all `size`
    /// bytes arrived; the driver holds them.
    DataReceived {
        transfer: u32,
        from: String,
        name: Option<String>,
        size: u64,
    },
    /// `onNotifyCancelSend(taskId)`: the other end cancelled, or the connection dropped.
    TransferCancelled { transfer: u32 },
}

/// What the driver must do with this page's own peer connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalMedia {
    /// Close the publishing connection of this stream (and stop tracks the SDK opened).
    ClosePublisher(StreamId),
    /// Stop receiving this stream (its m-lines in the subscriber connection).
    CloseSubscriber(StreamId),
    /// Close this conference's subscriber connection: the page left it.
    CloseSubscriberConnection(ConferenceId),
    /// An ADMIN muted (or unmuted) this page: its audio tracks on this stream stop
    /// (or resume) at the source.
    SilenceSource { stream_id: StreamId, silent: bool },
    /// Publish this stream's media again, into `confr_id`, under a new stream id: the
    /// server lost the session that published it and the page joined again.
    Republish {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
}
