//! One WebRTC peer connection in the SFU: a str0m `Rtc` and what it is for.

use crate::core::PeerId;
use std::time::Instant;
use str0m::media::{MediaKind, Mid};
use str0m::Rtc;

pub enum PeerKind {
    /// Sends a stream to the SFU; its media is forwarded to `subscribers`.
    Publisher {
        subscribers: Vec<PeerId>,
        /// The codecs it offered that the SFU forwards, for checking subscribers.
        audio_codecs: std::collections::BTreeSet<String>,
        video_codecs: std::collections::BTreeSet<String>,
    },
    /// Receives `source`'s stream.
    Subscriber { source: PeerId },
}

pub struct Peer {
    pub rtc: Rtc,
    pub kind: PeerKind,
    pub audio: Option<Mid>,
    pub video: Option<Mid>,
    pub next_timeout: Instant,
    /// When a keyframe was last asked of this publisher and none has arrived since.
    /// While one is on its way, more requests (from every subscriber that connects or
    /// loses a frame meanwhile) would only make the encoder spend bits on keyframes.
    pub keyframe_pending_since: Option<Instant>,
}

impl Peer {
    pub fn new(rtc: Rtc, kind: PeerKind, now: Instant) -> Self {
        Self {
            rtc,
            kind,
            audio: None,
            video: None,
            next_timeout: now,
            keyframe_pending_since: None,
        }
    }

    pub fn mid_for(&self, kind: MediaKind) -> Option<Mid> {
        match kind {
            MediaKind::Audio => self.audio,
            MediaKind::Video => self.video,
        }
    }

    pub fn kind_of(&self, mid: Mid) -> Option<MediaKind> {
        if Some(mid) == self.audio {
            Some(MediaKind::Audio)
        } else if Some(mid) == self.video {
            Some(MediaKind::Video)
        } else {
            None
        }
    }

    pub fn set_mid(&mut self, kind: MediaKind, mid: Mid) {
        // One audio and one video track per stream: the first of each kind counts.
        let slot = match kind {
            MediaKind::Audio => &mut self.audio,
            MediaKind::Video => &mut self.video,
        };
        slot.get_or_insert(mid);
    }
}
