//! What members do in a conference besides media: room messages, messages and data
//! between two users, room attributes and room information.
//!
//! Large data (`sendBuffer` / `sendFile`) travels over the signaling socket in binary
//! frames ([`DataFrame`]) with flow control: the sender may be at most the window the
//! server announced ahead of what the receiver acknowledged, so a transfer holds at
//! most one window in the server and never starves anybody else's signaling.

use crate::ids::ConferenceId;
use serde::{Deserialize, Serialize};

/// Largest text of a room message or of a `sendCmd`, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// Largest `sendBuffer` / `sendFile`, in bytes.
pub const MAX_TRANSFER_BYTES: u64 = 256 * 1024 * 1024;

/// Room attributes: at most this many keys, keys and values at most this long.
pub const MAX_ATTRS: usize = 32;
pub const MAX_ATTR_KEY_BYTES: usize = 64;
pub const MAX_ATTR_VALUE_BYTES: usize = 1024;

/// `sendRoomTextMsg` / `sendRoomCustomMsg`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomMsg {
    Text(String),
    Custom { cmd: String, msg: String },
}

impl RoomMsg {
    /// Bytes counted against [`MAX_MESSAGE_BYTES`].
    pub fn len(&self) -> usize {
        match self {
            RoomMsg::Text(t) => t.len(),
            RoomMsg::Custom { cmd, msg } => cmd.len() + msg.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One entry of `getRoomInfos`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInfo {
    pub confr_id: ConferenceId,
    #[serde(rename = "type")]
    pub confr_type: crate::model::ConfrType,
    pub member_count: u32,
    /// The user name of the earliest ADMIN present; none while there is no ADMIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    pub attrs: Attrs,
}

/// Room attributes, sorted by key.
pub type Attrs = std::collections::BTreeMap<String, String>;

/// A binary frame of a data transfer, both ways. Layout: kind (1 byte), transfer id
/// (u32, big-endian), a u64 (big-endian), then for a chunk its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFrame {
    /// Sender → server → receiver: the bytes after this header start at `offset`.
    Chunk { transfer: u32, offset: u64 },
    /// Receiver → server → sender: the receiver holds the first `received` bytes.
    Ack { transfer: u32, received: u64 },
}

impl DataFrame {
    pub const HEADER_BYTES: usize = 13;
    /// Most bytes one chunk carries: a chunk frame stays within `MAX_FRAME_BYTES`.
    pub const MAX_CHUNK_BYTES: usize = 60 * 1024;
    const CHUNK: u8 = 1;
    const ACK: u8 = 2;

    /// Reads a frame's header; `None` when it is not one of ours.
    pub fn parse(frame: &[u8]) -> Option<DataFrame> {
        let header = frame.get(..Self::HEADER_BYTES)?;
        let transfer = u32::from_be_bytes(header[1..5].try_into().ok()?);
        let value = u64::from_be_bytes(header[5..13].try_into().ok()?);
        match header[0] {
            Self::CHUNK => Some(DataFrame::Chunk {
                transfer,
                offset: value,
            }),
            Self::ACK if frame.len() == Self::HEADER_BYTES => Some(DataFrame::Ack {
                transfer,
                received: value,
            }),
            _ => None,
        }
    }

    /// The header; a chunk's bytes follow it in the same frame.
    pub fn header(self) -> [u8; Self::HEADER_BYTES] {
        let (kind, transfer, value) = match self {
            DataFrame::Chunk { transfer, offset } => (Self::CHUNK, transfer, offset),
            DataFrame::Ack { transfer, received } => (Self::ACK, transfer, received),
        };
        let mut out = [0; Self::HEADER_BYTES];
        out[0] = kind;
        out[1..5].copy_from_slice(&transfer.to_be_bytes());
        out[5..13].copy_from_slice(&value.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_frames_round_trip_and_garbage_is_refused() {
        let chunk = DataFrame::Chunk {
            transfer: 7,
            offset: 1 << 40,
        };
        let mut frame = chunk.header().to_vec();
        frame.extend_from_slice(b"payload");
        assert_eq!(DataFrame::parse(&frame), Some(chunk));
        let ack = DataFrame::Ack {
            transfer: u32::MAX,
            received: 3,
        };
        assert_eq!(DataFrame::parse(&ack.header()), Some(ack));
        // An ack carries no bytes; unknown kinds and short frames are not ours.
        assert_eq!(
            DataFrame::parse(&[ack.header().as_slice(), b"x"].concat()),
            None
        );
        assert_eq!(DataFrame::parse(&[9; 13]), None);
        assert_eq!(DataFrame::parse(&[1, 0, 0]), None);
    }

    #[test]
    fn room_messages_are_tagged_by_kind() {
        let text = serde_json::to_string(&RoomMsg::Text("hi".into())).unwrap();
        assert_eq!(text, r#"{"text":"hi"}"#);
        let custom: RoomMsg = serde_json::from_str(r#"{"custom":{"cmd":"c","msg":"m"}}"#).unwrap();
        assert_eq!(custom.len(), 2);
    }
}
