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

/// Room attributes: at most [`MAX_ATTRS`] keys, kept sorted by key; a JSON object on
/// the wire.
///
/// A sorted vector rather than a `BTreeMap`: the SDK decodes attributes, and B-tree
/// code costs its wasm ~4 KB for a map of a few dozen entries (BENCHMARKS.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs(Vec<(String, String)>);

impl Attrs {
    pub fn new() -> Self {
        Self::default()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`; returns the value it replaced.
    pub fn insert(&mut self, key: String, val: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, val)),
            Err(i) => {
                self.0.insert(i, (key, val));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<const N: usize> From<[(String, String); N]> for Attrs {
    fn from(pairs: [(String, String); N]) -> Self {
        let mut attrs = Attrs::new();
        for (k, v) in pairs {
            attrs.insert(k, v);
        }
        attrs
    }
}

impl Serialize for Attrs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attrs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Attrs;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of string values")
            }

            // A key given twice keeps its last value, as in a JSON object.
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Attrs, A::Error> {
                let mut attrs = Attrs::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    attrs.insert(k, v);
                }
                Ok(attrs)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

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
    fn attrs_are_a_sorted_json_object() {
        let attrs: Attrs = serde_json::from_str(r#"{"b":"2","a":"1","b":"3"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&attrs).unwrap(),
            r#"{"a":"1","b":"3"}"#
        );
        let mut attrs = attrs;
        assert_eq!(attrs.insert("a".into(), "x".into()), Some("1".into()));
        assert_eq!(attrs.remove("b"), Some("3".into()));
        assert_eq!(attrs.remove("b"), None);
        assert_eq!(attrs.iter().collect::<Vec<_>>(), vec![("a", "x")]);
        assert!(serde_json::from_str::<Attrs>(r#"{"a":1}"#).is_err());
    }

    #[test]
    fn room_messages_are_tagged_by_kind() {
        let text = serde_json::to_string(&RoomMsg::Text("hi".into())).unwrap();
        assert_eq!(text, r#"{"text":"hi"}"#);
        let custom: RoomMsg = serde_json::from_str(r#"{"custom":{"cmd":"c","msg":"m"}}"#).unwrap();
        assert_eq!(custom.len(), 2);
    }
}
