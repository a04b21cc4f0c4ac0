//! The conference model as both sides see it. Field names are camelCase so the SDK
//! can hand these objects to JavaScript in the shapes emedia users know.

use crate::codes::numeric_enum;
use crate::ids::{ConferenceId, MemberId, StreamId};
use crate::SharedMember;
use serde::{Deserialize, Serialize};

numeric_enum! {
    /// What a member may do. Ordered: a higher value may do everything a lower one may.
    Role: u8 as "u8" {
        /// Subscribe only; joins and leaves are shown to ADMINs only.
        Audience = 1,
        /// Publish and subscribe.
        Talker = 3,
        /// Everything, plus kick, change roles and destroy.
        Admin = 7,
    }
}

numeric_enum! {
    /// `emedia.mgr.ConfrType`.
    ConfrType: u8 as "u8" {
        Communication = 10,
        CommunicationMix = 11,
        Live = 12,
    }
}

impl Role {
    /// TALKER and ADMIN count against `maxTalkerCount`; AUDIENCE against `maxAudienceCount`.
    pub fn is_talker(self) -> bool {
        self != Role::Audience
    }

    /// This role, or `cap` if that is lower.
    pub fn at_most(self, cap: Role) -> Role {
        if self.code() > cap.code() {
            cap
        } else {
            self
        }
    }
}

impl ConfrType {
    /// The role a plain ticket grants: in a LIVE conference newcomers watch.
    pub fn default_role(self) -> Role {
        match self {
            ConfrType::Live => Role::Audience,
            _ => Role::Talker,
        }
    }
}

/// Limits and options fixed when a conference is created (only the first
/// joiner's config counts for `joinRoom`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConferenceConfig {
    pub max_talker_count: u32,
    pub max_video_count: u32,
    pub max_audience_count: u32,
    pub max_pub_desktop_count: u32,
    pub rec: bool,
    pub rec_merge: bool,
    /// The app's own JSON, as text; the server passes it on and never reads it.
    pub ext: Option<String>,
}

impl Default for ConferenceConfig {
    /// emedia's defaults.
    fn default() -> Self {
        Self {
            max_talker_count: 100,
            max_video_count: 9,
            max_audience_count: 600,
            max_pub_desktop_count: 2,
            rec: false,
            rec_merge: false,
            ext: None,
        }
    }
}

/// One member as other members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Unique per join: the same user joining again gets a new id.
    pub id: MemberId,
    /// The user id from the token.
    pub name: String,
    /// `appId#userId`, unique across apps.
    pub global_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// The joiner's own JSON, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    pub role: Role,
}

/// A conference as `getConferenceInfo` and joins describe it. Never holds the password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceInfo {
    pub confr_id: ConferenceId,
    #[serde(rename = "type")]
    pub confr_type: ConfrType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    pub has_password: bool,
    pub config: ConferenceConfig,
    /// The members the asker may see, in join order.
    pub members: Vec<SharedMember>,
}

/// What a stream carries: a camera (and microphone) or a shared screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamType {
    Camera,
    Desktop,
}

/// A published stream as every member of the conference sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInfo {
    pub id: StreamId,
    /// The publishing member.
    pub mem_id: MemberId,
    /// The publisher's own name for the stream, unique among its live streams.
    pub rtc_id: String,
    #[serde(rename = "type")]
    pub stream_type: StreamType,
    /// Whether the stream has an audio / a video track at all.
    pub audio: bool,
    pub video: bool,
    /// Paused by the publisher (emedia's `aoff` / `voff`).
    pub aoff: bool,
    pub voff: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
}
