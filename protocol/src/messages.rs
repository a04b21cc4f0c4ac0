//! Requests, replies and events.

use crate::calls::{CallProgress, CallType, Invitation, InviteStatus, UserStatus};
use crate::codes::{ErrorCode, ExitReason, MemberExitReason};
use crate::ids::{ConferenceId, MemberId, StreamId};
use crate::interaction::{Attrs, RoomInfo, RoomMsg};
use crate::model::{
    ConferenceConfig, ConferenceInfo, ConfrType, Member, Role, StreamInfo, StreamType,
};
use crate::SharedMember;
use serde::{Deserialize, Serialize};

/// Client → server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientMessage {
    /// Chosen by the client; echoed in the one reply this request gets.
    pub rid: u32,
    pub req: Request,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Request {
    /// Must come first on a connection; everything else before it is refused with -100.
    Auth {
        token: String,
        protocol: u32,
    },
    CreateConference {
        confr_type: ConfrType,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        config: ConferenceConfig,
    },
    GetTicket {
        confr_id: ConferenceId,
        #[serde(default)]
        password: Option<String>,
    },
    /// Join with a ticket (or the roleToken a join returned).
    Join {
        confr_id: ConferenceId,
        ticket: String,
        #[serde(default)]
        ext: Option<String>,
        #[serde(default)]
        nick_name: Option<String>,
    },
    /// Join a conference by name, creating it if it does not exist.
    JoinRoom {
        room_name: String,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        role: Option<Role>,
        #[serde(default)]
        confr_type: Option<ConfrType>,
        #[serde(default)]
        config: ConferenceConfig,
        #[serde(default)]
        nick_name: Option<String>,
        #[serde(default)]
        ext: Option<String>,
    },
    Exit {
        confr_id: ConferenceId,
    },
    Destroy {
        confr_id: ConferenceId,
    },
    /// `members` holds member ids or user names.
    Kick {
        confr_id: ConferenceId,
        members: Vec<String>,
    },
    GrantRole {
        confr_id: ConferenceId,
        members: Vec<String>,
        role: Role,
    },
    GetInfo {
        confr_id: ConferenceId,
        #[serde(default)]
        password: Option<String>,
    },
    /// Publish a stream: `sdp` is the client's offer, with send-only media.
    Publish {
        confr_id: ConferenceId,
        rtc_id: String,
        stream_type: StreamType,
        audio: bool,
        video: bool,
        #[serde(default)]
        ext: Option<String>,
        sdp: String,
    },
    /// Publish from a WeChat mini-program's `<live-pusher>`: the server answers with
    /// an RTMP push URL, and announces the stream once the push arrives.
    PublishRtmp {
        confr_id: ConferenceId,
        rtc_id: String,
        stream_type: StreamType,
        audio: bool,
        video: bool,
        #[serde(default)]
        ext: Option<String>,
    },
    /// Play a stream in a mini-program's `<live-player>`: the answer is an RTMP play URL.
    PlayRtmp {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    Unpublish {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// Subscribe to a stream. A client has one subscribing connection per conference:
    /// `sdp` is that connection's new offer, and `audio_mid` / `video_mid` name the
    /// receive-only m-lines it added for this stream.
    Subscribe {
        confr_id: ConferenceId,
        stream_id: StreamId,
        sdp: String,
        #[serde(default)]
        audio_mid: Option<String>,
        #[serde(default)]
        video_mid: Option<String>,
    },
    Unsubscribe {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// The subscriber applied the answer: the SFU asks the publisher for a keyframe so
    /// that decoding can start (one sent earlier could arrive before the browser knew
    /// the new m-lines, and be dropped).
    SubscriptionReady {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// An ICE restart offer for one of this member's media connections whose path
    /// broke: the publishing connection of `stream_id`, or (without it) this member's
    /// subscribing connection in the conference. Answered with `IceRestarted`.
    RestartIce {
        confr_id: ConferenceId,
        #[serde(default)]
        stream_id: Option<StreamId>,
        sdp: String,
    },
    /// Pause or resume the audio / video of one of your streams.
    SetMedia {
        confr_id: ConferenceId,
        stream_id: StreamId,
        aoff: bool,
        voff: bool,
    },
    Ping,
    /// Sent every few seconds: keeps the session alive and tells the server how many
    /// events of this session the client has received, so it can forget them.
    Heartbeat {
        received: u64,
    },
    /// Instead of `auth` on a new connection after the old one dropped: take over the
    /// session `session` (the key `authed` gave). `received` counts the events the
    /// client got; the server resends the ones after it, right after the reply.
    Resume {
        session: String,
        received: u64,
        protocol: u32,
    },
    /// Presence of these users; without a list, of every user online.
    GetUserStatus {
        #[serde(default)]
        user_ids: Option<Vec<String>>,
    },
    /// Switches `user_status_changed` events on or off for this session.
    UserStatusNotify {
        on: bool,
    },
    /// Do not disturb: callers hear busy, and `dnd` shows in presence.
    SetDnd {
        dnd: bool,
    },
    /// Rings users. Without `call_id` this starts a call: the server creates its
    /// conference, seats the caller as ADMIN and answers `Called` with the join.
    /// With the `call_id` of a call you are in, it invites more people into it.
    Call {
        user_ids: Vec<String>,
        call_type: CallType,
        /// How long each invitee rings before `no_response`; the server's default if
        /// absent (30 s).
        #[serde(default)]
        timeout_ms: Option<u64>,
        #[serde(default)]
        ext: Option<String>,
        /// A group call (`groupCall`), even with one invitee.
        #[serde(default)]
        group: bool,
        #[serde(default)]
        call_id: Option<String>,
    },
    /// Answers an invitation (a call id or an invite id): joins its conference as a
    /// TALKER; answered with `Joined`.
    Accept {
        call_id: String,
    },
    Reject {
        call_id: String,
    },
    /// Before anyone answered, the caller cancels the call; once in, any member
    /// leaves it. Either way the hanging-up session gets `conference_exited` (0).
    Hangup {
        call_id: String,
    },
    /// Asks a user into a conference you are ADMIN or TALKER of.
    InviteToConference {
        confr_id: ConferenceId,
        user_id: String,
        #[serde(default)]
        ext: Option<String>,
        /// How long the invitee rings; the server's default if absent (30 s).
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    CancelInvite {
        invite_id: String,
    },
    /// To every other member of the conference, in send order.
    SendRoomMsg {
        confr_id: ConferenceId,
        msg: RoomMsg,
    },
    /// A small message to a user who is in a conference with you (`sendCmd`).
    SendCmd {
        to: String,
        data: String,
    },
    /// Starts a transfer of `size` bytes to a user who is in a conference with you: a
    /// file when it has a `name`. Answered with `TransferStarted`; the bytes follow in
    /// binary [`crate::DataFrame`]s.
    SendData {
        to: String,
        size: u64,
        #[serde(default)]
        name: Option<String>,
    },
    /// Either end stops a transfer; the other end gets `transfer_cancelled`.
    CancelTransfer {
        transfer_id: u32,
    },
    /// An AUDIENCE member asks the ADMINs to become a TALKER.
    RequestToTalker {
        confr_id: ConferenceId,
        #[serde(default)]
        reason: Option<String>,
    },
    /// An ADMIN answers `talker_requested`.
    AnswerTalkerRequest {
        confr_id: ConferenceId,
        member_id: MemberId,
        agree: bool,
    },
    /// An ADMIN mutes (or unmutes) one member, by member id or user name.
    Mute {
        confr_id: ConferenceId,
        member: String,
        muted: bool,
    },
    /// An ADMIN mutes (or unmutes) every member but the ADMINs, now and later joiners.
    MuteAll {
        confr_id: ConferenceId,
        muted: bool,
    },
    /// An ADMIN asks `target_user`, an ADMIN of `target_confr_id`, for a cross-room PK.
    RequestRoomPk {
        confr_id: ConferenceId,
        target_confr_id: ConferenceId,
        target_user: String,
    },
    /// The asked ADMIN answers `room_pk_requested`.
    AnswerRoomPk {
        confr_id: ConferenceId,
        from_confr_id: ConferenceId,
        agree: bool,
    },
    /// Either room's ADMIN ends the PK.
    QuitRoomPk {
        confr_id: ConferenceId,
    },
    SetConferenceAttrs {
        confr_id: ConferenceId,
        key: String,
        val: String,
    },
    DeleteConferenceAttrs {
        confr_id: ConferenceId,
        key: String,
    },
    GetRoomInfos {
        confr_ids: Vec<ConferenceId>,
    },
    /// ADMINs and TALKERs, in join order.
    GetAnchorList {
        confr_id: ConferenceId,
    },
    /// AUDIENCE members, in join order; for ADMINs only.
    GetAudienceList {
        confr_id: ConferenceId,
    },
}

impl Request {
    /// The conference a request acts on, if it names one.
    pub fn confr_id(&self) -> Option<&ConferenceId> {
        match self {
            Request::GetTicket { confr_id, .. }
            | Request::Join { confr_id, .. }
            | Request::Exit { confr_id }
            | Request::Destroy { confr_id }
            | Request::Kick { confr_id, .. }
            | Request::GrantRole { confr_id, .. }
            | Request::GetInfo { confr_id, .. }
            | Request::Publish { confr_id, .. }
            | Request::PublishRtmp { confr_id, .. }
            | Request::PlayRtmp { confr_id, .. }
            | Request::Unpublish { confr_id, .. }
            | Request::Subscribe { confr_id, .. }
            | Request::Unsubscribe { confr_id, .. }
            | Request::SubscriptionReady { confr_id, .. }
            | Request::RestartIce { confr_id, .. }
            | Request::SetMedia { confr_id, .. }
            | Request::InviteToConference { confr_id, .. }
            | Request::SendRoomMsg { confr_id, .. }
            | Request::RequestToTalker { confr_id, .. }
            | Request::AnswerTalkerRequest { confr_id, .. }
            | Request::Mute { confr_id, .. }
            | Request::MuteAll { confr_id, .. }
            | Request::RequestRoomPk { confr_id, .. }
            | Request::AnswerRoomPk { confr_id, .. }
            | Request::QuitRoomPk { confr_id }
            | Request::SetConferenceAttrs { confr_id, .. }
            | Request::DeleteConferenceAttrs { confr_id, .. }
            | Request::GetAnchorList { confr_id }
            | Request::GetAudienceList { confr_id } => Some(confr_id),
            Request::Auth { .. }
            | Request::GetUserStatus { .. }
            | Request::UserStatusNotify { .. }
            | Request::SetDnd { .. }
            | Request::Call { .. }
            | Request::Accept { .. }
            | Request::Reject { .. }
            | Request::Hangup { .. }
            | Request::CancelInvite { .. }
            | Request::SendCmd { .. }
            | Request::SendData { .. }
            | Request::CancelTransfer { .. }
            | Request::GetRoomInfos { .. }
            | Request::CreateConference { .. }
            | Request::JoinRoom { .. }
            | Request::Ping
            | Request::Heartbeat { .. }
            | Request::Resume { .. } => None,
        }
    }
}

/// Server → client.
///
/// Events are counted, not numbered: the n-th `event` a session receives is its
/// event n, on whichever connection it arrived. `heartbeat` and `resume` send that
/// count back, so a resumed session gets exactly the events it missed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMessage {
    /// The one answer to the request with id `rid`. `rid` is 0 when the request
    /// could not even be parsed far enough to read its id.
    Reply {
        rid: u32,
        body: ReplyBody,
    },
    Event(Event),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyBody {
    Ok(Response),
    Err(ErrorBody),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Response {
    Authed {
        user: String,
        app_id: String,
        protocol: u32,
        /// The key that resumes this session on a new connection: a secret, like the token.
        session: String,
    },
    /// The session is back on this connection; missed events follow the reply.
    Resumed {
        user: String,
    },
    /// createConference: the conference and an ADMIN ticket for its creator.
    Created {
        confr_id: ConferenceId,
        confr_type: ConfrType,
        ticket: String,
        role_token: String,
    },
    Ticket {
        ticket: String,
    },
    Joined(Joined),
    Info(ConferenceInfo),
    /// The SFU's answer to a publish offer.
    Published {
        stream: StreamInfo,
        sdp: String,
    },
    /// The SFU's answer to a subscribe offer.
    Subscribed {
        stream_id: StreamId,
        sdp: String,
    },
    /// The SFU's answer to an ICE restart offer.
    IceRestarted {
        sdp: String,
    },
    /// Where a mini-program pushes (PublishRtmp) or plays (PlayRtmp) a stream.
    Rtmp {
        stream: StreamInfo,
        url: String,
    },
    Done,
    Pong,
    UserStatus(Vec<UserStatus>),
    /// A call started (`joined`: the caller is in its conference) or, for a `call`
    /// into a running call, more people rung (`joined` absent).
    Called {
        call_id: String,
        confr_id: ConferenceId,
        #[serde(default)]
        joined: Option<Joined>,
    },
    InviteSent {
        invite_id: String,
    },
    /// `send_data` accepted: send chunks of at most `chunk_bytes`, never more than
    /// `window_bytes` ahead of the receiver's last ack.
    TransferStarted {
        transfer_id: u32,
        chunk_bytes: u32,
        window_bytes: u32,
    },
    RoomInfos(Vec<RoomInfo>),
    Members(Vec<Member>),
}

/// The answer to a join: who you are in the conference and who is already there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    pub confr_id: ConferenceId,
    #[serde(rename = "type")]
    pub confr_type: ConfrType,
    pub join_id: MemberId,
    pub role: Role,
    /// Proves this user's role in this conference; accepted in place of a ticket.
    pub role_token: String,
    pub ticket: String,
    /// Whether this join created the conference (joinRoom on a new name).
    pub created: bool,
    /// The members this member may see, without itself, in join order.
    pub members: Vec<SharedMember>,
    /// The streams already published, in publish order.
    #[serde(default)]
    pub streams: Vec<StreamInfo>,
    /// The conference's attributes.
    #[serde(default)]
    pub attrs: Attrs,
    /// Whether an ADMIN has muted you (`mute`, or `mute_all` for everyone but ADMINs).
    #[serde(default)]
    pub muted: bool,
}

/// A state change pushed to the members it concerns, in the order it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Event {
    MemberJoined {
        confr_id: ConferenceId,
        member: Member,
    },
    MemberExited {
        confr_id: ConferenceId,
        member: Member,
        reason: MemberExitReason,
    },
    /// Another member's role changed (and it stays visible to you).
    MemberRoleChanged {
        confr_id: ConferenceId,
        member: Member,
    },
    /// Your own role changed; `role_token` proves the new one.
    RoleChanged {
        confr_id: ConferenceId,
        role: Role,
        role_token: String,
    },
    /// You are no longer in the conference.
    ConferenceExited {
        confr_id: ConferenceId,
        reason: ExitReason,
    },
    /// `member`: the publisher, when it is a member of another room (a PK host).
    StreamAdded {
        confr_id: ConferenceId,
        stream: StreamInfo,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member: Option<Member>,
    },
    /// The stream ended: unpublished, or its publisher left or lost the right to publish,
    /// or the PK that brought it ended.
    StreamRemoved {
        confr_id: ConferenceId,
        stream: StreamInfo,
    },
    /// `aoff` / `voff` changed.
    StreamUpdated {
        confr_id: ConferenceId,
        stream: StreamInfo,
    },
    /// Your subscribing connection failed and every subscription on it ended; the
    /// next subscription opens a new one.
    SubscriptionsLost { confr_id: ConferenceId },
    /// A watched user's presence changed (`user_status_notify`).
    UserStatusChanged(UserStatus),
    /// Someone rings you, or asks you into a conference.
    Invited(Invitation),
    /// To a call's members (and its caller before anyone joined): what one user did.
    /// To an invitee, `cancelled`: the caller hung up before it answered.
    CallProgress {
        call_id: String,
        user_id: String,
        progress: CallProgress,
    },
    /// The call is over for you: you were the last one in it. `conference_exited` follows.
    CallEnded { call_id: String },
    /// To a call's members: more users are being rung.
    InviteeListUpdated {
        call_id: String,
        user_ids: Vec<String>,
    },
    /// To the inviter: what became of an invitation into a conference.
    InviteStatus {
        invite_id: String,
        status: InviteStatus,
    },
    RoomMsg {
        confr_id: ConferenceId,
        from: Member,
        msg: RoomMsg,
    },
    /// `sendCmd` from user `from`.
    CmdData { from: String, data: String },
    /// User `from` starts sending you `size` bytes (a file when it has a `name`); the
    /// chunks follow as binary frames, and you acknowledge them.
    DataIncoming {
        transfer_id: u32,
        from: String,
        size: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The other end cancelled the transfer, or left.
    TransferCancelled { transfer_id: u32 },
    /// To ADMINs: an AUDIENCE member asks to become a TALKER.
    TalkerRequested {
        confr_id: ConferenceId,
        applicant: Member,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// To the applicant: an ADMIN's answer (on agreement `role_changed` came first).
    TalkerRequestAnswered { confr_id: ConferenceId, agree: bool },
    /// An ADMIN muted or unmuted you: your audio is off (`aoff`) while muted.
    Muted { confr_id: ConferenceId, muted: bool },
    ConfrAttrsUpdated {
        confr_id: ConferenceId,
        attrs: Attrs,
    },
    /// To the asked ADMIN: `from` (an ADMIN of `from_confr_id`) asks for a PK.
    RoomPkRequested {
        confr_id: ConferenceId,
        from: Member,
        from_confr_id: ConferenceId,
    },
    /// To the asking ADMIN: `target_confr_id` refused, or its ADMIN left first.
    RoomPkRefused {
        confr_id: ConferenceId,
        target_confr_id: ConferenceId,
    },
    /// To every member of both rooms; the other host's streams follow as `stream_added`.
    RoomPkStarted {
        confr_id: ConferenceId,
        other_confr_id: ConferenceId,
    },
    /// To every member of both rooms, after the foreign streams' `stream_removed`.
    RoomPkEnded {
        confr_id: ConferenceId,
        other_confr_id: ConferenceId,
    },
}

impl Event {
    /// The conference this event is about; none for presence and call news.
    pub fn confr_id(&self) -> Option<&ConferenceId> {
        Some(match self {
            Event::MemberJoined { confr_id, .. }
            | Event::MemberExited { confr_id, .. }
            | Event::MemberRoleChanged { confr_id, .. }
            | Event::RoleChanged { confr_id, .. }
            | Event::ConferenceExited { confr_id, .. }
            | Event::StreamAdded { confr_id, .. }
            | Event::StreamRemoved { confr_id, .. }
            | Event::StreamUpdated { confr_id, .. }
            | Event::SubscriptionsLost { confr_id }
            | Event::RoomMsg { confr_id, .. }
            | Event::TalkerRequested { confr_id, .. }
            | Event::TalkerRequestAnswered { confr_id, .. }
            | Event::Muted { confr_id, .. }
            | Event::ConfrAttrsUpdated { confr_id, .. }
            | Event::RoomPkRequested { confr_id, .. }
            | Event::RoomPkRefused { confr_id, .. }
            | Event::RoomPkStarted { confr_id, .. }
            | Event::RoomPkEnded { confr_id, .. } => confr_id,
            Event::UserStatusChanged(_)
            | Event::Invited(_)
            | Event::CallProgress { .. }
            | Event::CallEnded { .. }
            | Event::InviteeListUpdated { .. }
            | Event::InviteStatus { .. }
            | Event::CmdData { .. }
            | Event::DataIncoming { .. }
            | Event::TransferCancelled { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wire_shape_is_externally_tagged_camel_case() {
        let msg = ClientMessage {
            rid: 7,
            req: Request::GetTicket {
                confr_id: "C1".into(),
                password: Some("pw".into()),
            },
        };
        let json = serde_json::to_string(&msg).unwrap();
        assert_eq!(
            json,
            r#"{"rid":7,"req":{"get_ticket":{"confrId":"C1","password":"pw"}}}"#
        );
        assert_eq!(serde_json::from_str::<ClientMessage>(&json).unwrap(), msg);
    }

    #[test]
    fn unit_requests_and_defaults_parse() {
        let ping: ClientMessage = serde_json::from_str(r#"{"rid":1,"req":"ping"}"#).unwrap();
        assert_eq!(ping.req, Request::Ping);
        let create: ClientMessage =
            serde_json::from_str(r#"{"rid":2,"req":{"create_conference":{"confrType":12}}}"#)
                .unwrap();
        match create.req {
            Request::CreateConference {
                confr_type, config, ..
            } => {
                assert_eq!(confr_type, ConfrType::Live);
                assert_eq!(config.max_audience_count, 600);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn bad_role_is_a_parse_error() {
        let r = serde_json::from_str::<ClientMessage>(
            r#"{"rid":3,"req":{"grant_role":{"confrId":"C","members":["a"],"role":5}}}"#,
        );
        assert!(r.is_err());
    }

    #[test]
    fn replies_and_events_round_trip() {
        let msgs = vec![
            ServerMessage::Reply {
                rid: 4,
                body: ReplyBody::Err(ErrorBody::new(ErrorCode::WrongPassword, "wrong password")),
            },
            ServerMessage::Event(Event::ConferenceExited {
                confr_id: "C".into(),
                reason: ExitReason::Kicked,
            }),
        ];
        for m in msgs {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<ServerMessage>(&json).unwrap(), m);
        }
        let json = serde_json::to_string(&ServerMessage::Reply {
            rid: 4,
            body: ReplyBody::Err(ErrorBody::new(ErrorCode::WrongPassword, "x")),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"reply":{"rid":4,"body":{"err":{"code":-508,"message":"x"}}}}"#
        );
    }
}
