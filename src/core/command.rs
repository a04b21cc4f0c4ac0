//! What the app asks for, already converted from JavaScript, and what it gets back.

use super::error::SdkError;
use emedia_protocol::{
    ConferenceId, ConferenceInfo, ConfrType, Joined, Member, Request, RoomInfo, StreamId,
    StreamInfo, UserStatus,
};

/// One `emedia.mgr` call that talks to the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A call that is one request, sent as it is.
    Send(Request),
    /// `joinConference`: a ticket request, then a join with it.
    JoinConference {
        confr_id: ConferenceId,
        password: Option<String>,
        ext: Option<String>,
    },
    /// `isBusy()`: the presence of this page's own user (the core knows who that is).
    IsBusy,
}

/// What a resolved promise carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// createConference: the emedia conference object.
    Created {
        confr_id: ConferenceId,
        confr_type: ConfrType,
        password: Option<String>,
        ticket: String,
        role_token: String,
    },
    Ticket(String),
    Joined {
        joined: Joined,
        password: Option<String>,
    },
    Info(ConferenceInfo),
    Published {
        stream: StreamInfo,
        sdp: String,
    },
    Subscribed {
        stream_id: StreamId,
        sdp: String,
    },
    /// A mini-program's push or play URL.
    Rtmp {
        stream: StreamInfo,
        url: String,
    },
    /// The SFU's answer to an ICE restart offer.
    IceRestarted(String),
    /// getUserStatus
    UserStatus(Vec<UserStatus>),
    /// isBusy: in a call, or being rung for one.
    Busy(bool),
    /// call / groupCall: `joined` when the call started (the caller is in its
    /// conference), absent when more people were rung into a running call.
    Called {
        call_id: String,
        confr_id: ConferenceId,
        joined: Option<Joined>,
    },
    /// inviteToConference: the invite id.
    InviteSent(String),
    /// sendBuffer / sendFile accepted: the taskId, and how to send its bytes.
    TransferStarted {
        transfer_id: u32,
        chunk_bytes: u32,
        window_bytes: u32,
    },
    /// getRoomInfos
    RoomInfos(Vec<RoomInfo>),
    /// getAnchorList / getAudienceList
    Members {
        confr_id: ConferenceId,
        members: Vec<Member>,
    },
    Done,
}

impl Command {
    /// The conference this command acts on, if it names one.
    pub fn confr_id(&self) -> Option<&ConferenceId> {
        match self {
            Command::Send(req) => req.confr_id(),
            Command::JoinConference { confr_id, .. } => Some(confr_id),
            Command::IsBusy => None,
        }
    }

    /// Checks what can be checked before anything is sent.
    pub fn validate(&self) -> Result<(), SdkError> {
        if self.confr_id().is_some_and(|c| c.as_str().is_empty()) {
            return Err(SdkError::bad_param("confrId is required"));
        }
        match self {
            Command::Send(Request::Join { ticket, .. }) if ticket.is_empty() => {
                Err(SdkError::bad_param("ticket is required"))
            }
            Command::Send(Request::JoinRoom { room_name, .. })
                if room_name.trim_ascii().is_empty() =>
            {
                Err(SdkError::bad_param("roomName is required"))
            }
            Command::Send(Request::Kick { members, .. } | Request::GrantRole { members, .. })
                if members.is_empty() || members.iter().any(String::is_empty) =>
            {
                Err(SdkError::bad_param(
                    "memberNames must list at least one member",
                ))
            }
            Command::Send(Request::Call {
                user_ids,
                timeout_ms,
                call_id,
                ..
            }) if user_ids.is_empty()
                || user_ids.iter().any(String::is_empty)
                || *timeout_ms == Some(0)
                || call_id.as_ref().is_some_and(String::is_empty) =>
            {
                Err(SdkError::bad_param(
                    "a call needs at least one userId and a timeout above 0",
                ))
            }
            Command::Send(
                Request::Accept { call_id }
                | Request::Reject { call_id }
                | Request::Hangup { call_id }
                | Request::CancelInvite { invite_id: call_id },
            ) if call_id.is_empty() => Err(SdkError::bad_param("callId is required")),
            Command::Send(Request::InviteToConference {
                user_id,
                timeout_ms,
                ..
            }) if user_id.is_empty() || *timeout_ms == Some(0) => Err(SdkError::bad_param(
                "an invitation needs a userId and a timeout above 0",
            )),
            Command::Send(Request::SendCmd { to, .. } | Request::SendData { to, .. })
                if to.is_empty() =>
            {
                Err(SdkError::bad_param("userId is required"))
            }
            Command::Send(Request::SendData { size: 0, .. }) => {
                Err(SdkError::bad_param("nothing to send: the data is empty"))
            }
            _ => Ok(()),
        }
    }

    /// Whether only an ADMIN may do this (checked locally for a friendly error;
    /// the server enforces it regardless).
    pub fn needs_admin(&self) -> bool {
        matches!(
            self,
            Command::Send(
                Request::Destroy { .. }
                    | Request::Kick { .. }
                    | Request::GrantRole { .. }
                    | Request::AnswerTalkerRequest { .. }
                    | Request::Mute { .. }
                    | Request::MuteAll { .. }
                    | Request::RequestRoomPk { .. }
                    | Request::AnswerRoomPk { .. }
                    | Request::QuitRoomPk { .. }
                    | Request::SetConferenceAttrs { .. }
                    | Request::DeleteConferenceAttrs { .. }
                    | Request::GetAudienceList { .. }
            )
        )
    }

    /// Whether this joins a conference.
    pub fn is_join(&self) -> bool {
        matches!(
            self,
            Command::JoinConference { .. } | Command::Send(Request::Join { .. })
        )
    }

    /// Whether a failure also calls `onError(code, message)`: the call and invitation
    /// methods, whose failures an app handles in one place (TRTC calling's habit).
    pub fn reports_errors(&self) -> bool {
        matches!(
            self,
            Command::Send(
                Request::Call { .. }
                    | Request::Accept { .. }
                    | Request::Reject { .. }
                    | Request::Hangup { .. }
                    | Request::InviteToConference { .. }
                    | Request::CancelInvite { .. }
            )
        )
    }

    /// The request this command starts with; `me` is the logged-in user.
    pub fn first_request(&self, me: &str) -> Request {
        match self {
            Command::Send(req) => req.clone(),
            Command::IsBusy => Request::GetUserStatus {
                user_ids: Some(vec![me.to_owned()]),
            },
            Command::JoinConference {
                confr_id, password, ..
            } => Request::GetTicket {
                confr_id: confr_id.clone(),
                password: password.clone(),
            },
        }
    }
}
