//! The core's side of the SFU: what it asks the SFU to do and what the SFU reports.
//! The core decides who may publish or subscribe; the SFU only handles SDP and packets.

use emedia_protocol::ErrorCode;

/// One WebRTC peer connection in the SFU, numbered by the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaCommand {
    /// Answer a publisher's offer (send-only media from the client).
    Publish { peer: PeerId, offer: String },
    /// Answer a subscriber connection's (re)offer and forward `source`'s media to the
    /// m-lines `audio_mid` / `video_mid`. The connection is created on its first offer.
    Subscribe {
        peer: PeerId,
        source: PeerId,
        offer: String,
        audio_mid: Option<String>,
        video_mid: Option<String>,
    },
    /// Answer an ICE restart offer of an existing peer (publisher or subscriber).
    RestartIce { peer: PeerId, offer: String },
    /// Stop forwarding `source` to the subscriber connection `peer`.
    Unroute { peer: PeerId, source: PeerId },
    /// Ask the publisher `source` for a keyframe.
    RequestKeyframe { source: PeerId },
    /// Tear the peer down and free everything it holds.
    Close { peer: PeerId },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    Answered {
        peer: PeerId,
        sdp: String,
    },
    Refused {
        peer: PeerId,
        code: ErrorCode,
        message: String,
    },
    /// The peer's connection failed or timed out; the SFU has already dropped it.
    Closed {
        peer: PeerId,
    },
}
