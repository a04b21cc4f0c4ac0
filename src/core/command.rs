//! What the app asks for, already converted from JavaScript, and what it gets back.

use super::error::SdkError;
use emedia_protocol::{
    ConferenceConfig, ConferenceId, ConferenceInfo, ConfrType, Joined, Request, Role, StreamId,
    StreamInfo, StreamType,
};

/// One `emedia.mgr` call that talks to the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    CreateConference {
        confr_type: ConfrType,
        password: Option<String>,
        config: ConferenceConfig,
    },
    GetTicket {
        confr_id: ConferenceId,
        password: Option<String>,
    },
    /// `joinConference`: a ticket request, then a join with it.
    JoinConference {
        confr_id: ConferenceId,
        password: Option<String>,
        ext: Option<String>,
    },
    JoinWithTicket {
        confr_id: ConferenceId,
        ticket: String,
        ext: Option<String>,
    },
    JoinRoom {
        room_name: String,
        password: Option<String>,
        role: Option<Role>,
        confr_type: Option<ConfrType>,
        config: ConferenceConfig,
        nick_name: Option<String>,
    },
    Exit {
        confr_id: ConferenceId,
    },
    Destroy {
        confr_id: ConferenceId,
    },
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
        password: Option<String>,
    },
    /// pubStream, once the local offer exists.
    Publish {
        confr_id: ConferenceId,
        rtc_id: String,
        stream_type: StreamType,
        audio: bool,
        video: bool,
        ext: Option<String>,
        sdp: String,
    },
    Unpublish {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// subStream, once the subscriber connection's new offer exists.
    Subscribe {
        confr_id: ConferenceId,
        stream_id: StreamId,
        sdp: String,
        audio_mid: Option<String>,
        video_mid: Option<String>,
    },
    Unsubscribe {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// The subscriber connection applied the answer for this stream.
    SubscriptionReady {
        confr_id: ConferenceId,
        stream_id: StreamId,
    },
    /// pause/resume audio/video of your own stream.
    SetMedia {
        confr_id: ConferenceId,
        stream_id: StreamId,
        aoff: bool,
        voff: bool,
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
    Done,
}

impl Command {
    /// The conference this command acts on, if it names one.
    pub fn confr_id(&self) -> Option<&ConferenceId> {
        match self {
            Command::GetTicket { confr_id, .. }
            | Command::JoinConference { confr_id, .. }
            | Command::JoinWithTicket { confr_id, .. }
            | Command::Exit { confr_id }
            | Command::Destroy { confr_id }
            | Command::Kick { confr_id, .. }
            | Command::GrantRole { confr_id, .. }
            | Command::GetInfo { confr_id, .. }
            | Command::Publish { confr_id, .. }
            | Command::Unpublish { confr_id, .. }
            | Command::Subscribe { confr_id, .. }
            | Command::Unsubscribe { confr_id, .. }
            | Command::SubscriptionReady { confr_id, .. }
            | Command::SetMedia { confr_id, .. } => Some(confr_id),
            Command::CreateConference { .. } | Command::JoinRoom { .. } => None,
        }
    }

    /// Checks what can be checked before anything is sent.
    pub fn validate(&self) -> Result<(), SdkError> {
        if self.confr_id().is_some_and(|c| c.as_str().is_empty()) {
            return Err(SdkError::bad_param("confrId is required"));
        }
        match self {
            Command::JoinWithTicket { ticket, .. } if ticket.is_empty() => {
                Err(SdkError::bad_param("ticket is required"))
            }
            Command::JoinRoom { room_name, .. } if room_name.trim().is_empty() => {
                Err(SdkError::bad_param("roomName is required"))
            }
            Command::Kick { members, .. } | Command::GrantRole { members, .. }
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
            Command::Destroy { .. } | Command::Kick { .. } | Command::GrantRole { .. }
        )
    }

    /// The request this command starts with. `ext` travels as JSON text.
    pub fn first_request(&self) -> Request {
        match self.clone() {
            Command::CreateConference {
                confr_type,
                password,
                config,
            } => Request::CreateConference {
                confr_type,
                password,
                config,
            },
            Command::GetTicket { confr_id, password }
            | Command::JoinConference {
                confr_id, password, ..
            } => Request::GetTicket { confr_id, password },
            Command::JoinWithTicket {
                confr_id,
                ticket,
                ext,
            } => Request::Join {
                confr_id,
                ticket,
                ext,
                nick_name: None,
            },
            Command::JoinRoom {
                room_name,
                password,
                role,
                confr_type,
                mut config,
                nick_name,
            } => {
                // The joiner's ext is config.ext in emedia's joinRoom; it belongs to the
                // member, not the conference.
                let ext = config.ext.take();
                Request::JoinRoom {
                    room_name,
                    password,
                    role,
                    confr_type,
                    config,
                    nick_name,
                    ext,
                }
            }
            Command::Exit { confr_id } => Request::Exit { confr_id },
            Command::Destroy { confr_id } => Request::Destroy { confr_id },
            Command::Kick { confr_id, members } => Request::Kick { confr_id, members },
            Command::GrantRole {
                confr_id,
                members,
                role,
            } => Request::GrantRole {
                confr_id,
                members,
                role,
            },
            Command::GetInfo { confr_id, password } => Request::GetInfo { confr_id, password },
            Command::Publish {
                confr_id,
                rtc_id,
                stream_type,
                audio,
                video,
                ext,
                sdp,
            } => Request::Publish {
                confr_id,
                rtc_id,
                stream_type,
                audio,
                video,
                ext,
                sdp,
            },
            Command::Unpublish {
                confr_id,
                stream_id,
            } => Request::Unpublish {
                confr_id,
                stream_id,
            },
            Command::Subscribe {
                confr_id,
                stream_id,
                sdp,
                audio_mid,
                video_mid,
            } => Request::Subscribe {
                confr_id,
                stream_id,
                sdp,
                audio_mid,
                video_mid,
            },
            Command::Unsubscribe {
                confr_id,
                stream_id,
            } => Request::Unsubscribe {
                confr_id,
                stream_id,
            },
            Command::SubscriptionReady {
                confr_id,
                stream_id,
            } => Request::SubscriptionReady {
                confr_id,
                stream_id,
            },
            Command::SetMedia {
                confr_id,
                stream_id,
                aoff,
                voff,
            } => Request::SetMedia {
                confr_id,
                stream_id,
                aoff,
                voff,
            },
        }
    }
}
