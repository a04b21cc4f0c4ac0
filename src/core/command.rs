//! What the app asks for, already converted from JavaScript, and what it gets back.

use super::error::SdkError;
use emedia_protocol::{
    ConferenceId, ConferenceInfo, ConfrType, Joined, Request, StreamId, StreamInfo,
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
    Done,
}

impl Command {
    /// The conference this command acts on, if it names one.
    pub fn confr_id(&self) -> Option<&ConferenceId> {
        match self {
            Command::Send(req) => req.confr_id(),
            Command::JoinConference { confr_id, .. } => Some(confr_id),
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
            Command::Send(Request::JoinRoom { room_name, .. }) if room_name.trim().is_empty() => {
                Err(SdkError::bad_param("roomName is required"))
            }
            Command::Send(Request::Kick { members, .. } | Request::GrantRole { members, .. })
                if members.is_empty() || members.iter().any(String::is_empty) =>
            {
                Err(SdkError::bad_param(
                    "memberNames must list at least one member",
                ))
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
                Request::Destroy { .. } | Request::Kick { .. } | Request::GrantRole { .. }
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

    /// The request this command starts with.
    pub fn first_request(&self) -> Request {
        match self {
            Command::Send(req) => req.clone(),
            Command::JoinConference {
                confr_id, password, ..
            } => Request::GetTicket {
                confr_id: confr_id.clone(),
                password: password.clone(),
            },
        }
    }
}
