//! Wire types shared by the emedia SDK (wasm) and `emedia-server`.
//!
//! Serde types only, no IO. Enums are *externally* tagged on purpose: an
//! internally tagged enum makes serde buffer every message through its generic
//! `Content` type, which costs the wasm bundle about 18 KB (see ENVIRONMENT.md).
//!
//! A client sends [`ClientMessage`]s, each with a request id `rid`; the server
//! answers every one with exactly one [`ServerMessage::Reply`] carrying that id,
//! and pushes [`ServerMessage::Event`]s in the order the state changed.

mod calls;
mod codes;
mod ids;
mod interaction;
mod messages;
mod model;
mod shared_member;

pub use calls::{CallProgress, CallType, Invitation, InviteStatus, UserState, UserStatus};
pub use codes::{ErrorCode, ExitReason, MemberExitReason};
pub use ids::{ConferenceId, MemberId, StreamId};
pub use interaction::{
    Attrs, DataFrame, RoomInfo, RoomMsg, MAX_ATTRS, MAX_ATTR_KEY_BYTES, MAX_ATTR_VALUE_BYTES,
    MAX_MESSAGE_BYTES, MAX_TRANSFER_BYTES,
};
pub use messages::{
    ClientMessage, ErrorBody, Event, Joined, ReplyBody, Request, Response, ServerMessage,
};
pub use model::{
    ConferenceConfig, ConferenceInfo, ConfrType, Member, Role, StreamInfo, StreamType,
};
pub use shared_member::SharedMember;

/// Bumped on any incompatible change of the messages below.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest signaling frame either side accepts; larger frames close the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
