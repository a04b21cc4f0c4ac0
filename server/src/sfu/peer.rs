//! One WebRTC peer connection in the SFU: a str0m `Rtc` and what it carries.

use super::rtp::SeqShift;
use crate::core::PeerId;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use str0m::media::{MediaKind, Mid, Pt};
use str0m::rtp::Ssrc;
use str0m::Rtc;

/// A publisher's media forwarded into m-lines of a subscriber connection.
#[derive(Clone, Debug)]
pub struct Route {
    pub source: PeerId,
    pub audio: Option<Mid>,
    pub video: Option<Mid>,
    /// The route's own sequence numbers, per kind.
    pub audio_seq: SeqShift,
    pub video_seq: SeqShift,
    /// The subscriber's payload type for each of the publisher's seen so far: str0m
    /// matches codec parameters by scoring every codec the connection has, which is
    /// worth doing once per payload type, not once per packet.
    pts: Vec<(Pt, Pt)>,
}

impl Route {
    pub fn new(source: PeerId, audio: Option<Mid>, video: Option<Mid>) -> Self {
        Self {
            source,
            audio,
            video,
            audio_seq: SeqShift::default(),
            video_seq: SeqShift::default(),
            pts: Vec::new(),
        }
    }

    /// The subscriber's payload type for the publisher's `pt`, if learned.
    pub fn pt_for(&self, pt: Pt) -> Option<Pt> {
        self.pts
            .iter()
            .find(|(from, _)| *from == pt)
            .map(|(_, to)| *to)
    }

    pub fn learn_pt(&mut self, from: Pt, to: Pt) {
        self.pts.push((from, to));
    }

    /// Forgets the payload types learned: a renegotiation may have changed them.
    pub fn forget_pts(&mut self) {
        self.pts.clear();
    }

    /// The m-line that carries `kind`, and its sequence numbering.
    pub fn lane(&mut self, kind: MediaKind) -> Option<(Mid, &mut SeqShift)> {
        match kind {
            MediaKind::Audio => self.audio.map(|m| (m, &mut self.audio_seq)),
            MediaKind::Video => self.video.map(|m| (m, &mut self.video_seq)),
        }
    }
}

pub enum PeerKind {
    /// Sends one stream to the SFU; its media goes to the connections in `subscribers`.
    Publisher {
        audio: Option<Mid>,
        video: Option<Mid>,
        subscribers: Vec<PeerId>,
        /// The codecs it offered that the SFU forwards, for checking subscribers.
        audio_codecs: BTreeSet<String>,
        video_codecs: BTreeSet<String>,
        /// When a keyframe was last asked of it and none has arrived since. While one
        /// is on its way, more requests (from every subscriber that connects or loses
        /// a frame meanwhile) would only make the encoder spend bits on keyframes.
        keyframe_pending_since: Option<Instant>,
        /// Which m-line each incoming SSRC belongs to, learned from str0m once.
        ssrc_mids: Vec<(Ssrc, Mid)>,
    },
    /// One member's subscribing connection: any number of streams, one route each.
    Subscriber { routes: Vec<Route> },
}

/// How long a peer whose ICE connection dropped waits for its path to come back (by
/// itself, or by an ICE restart from the client) before it is dropped: as long as a
/// session outlives its dropped signaling connection, so a client that resumes its
/// session finds its media connections there to restart.
pub const ICE_GRACE: Duration = Duration::from_secs(15);

pub struct Peer {
    pub rtc: Rtc,
    pub kind: PeerKind,
    pub next_timeout: Instant,
    /// When its ICE connection went down, while it is down.
    pub ice_lost_since: Option<Instant>,
}

impl Peer {
    pub fn new(rtc: Rtc, kind: PeerKind, now: Instant) -> Self {
        Self {
            rtc,
            kind,
            next_timeout: now,
            ice_lost_since: None,
        }
    }

    /// When the peer is dropped unless its ICE connection comes back.
    pub fn ice_deadline(&self) -> Option<Instant> {
        self.ice_lost_since.map(|t| t + ICE_GRACE)
    }

    pub fn ice_given_up(&self, now: Instant) -> bool {
        self.ice_deadline().is_some_and(|d| d <= now)
    }

    /// For a publisher: which of its media a mid carries.
    pub fn published_kind(&self, mid: Mid) -> Option<MediaKind> {
        match &self.kind {
            PeerKind::Publisher { audio, .. } if *audio == Some(mid) => Some(MediaKind::Audio),
            PeerKind::Publisher { video, .. } if *video == Some(mid) => Some(MediaKind::Video),
            _ => None,
        }
    }

    /// For a subscriber: the route feeding this mid.
    pub fn route_of(&self, mid: Mid) -> Option<&Route> {
        match &self.kind {
            PeerKind::Subscriber { routes } => routes
                .iter()
                .find(|r| r.audio == Some(mid) || r.video == Some(mid)),
            PeerKind::Publisher { .. } => None,
        }
    }

    /// For a subscriber: the route of `source`'s media, with the connection it is
    /// written into (borrowed apart, so that one lookup serves a whole forward).
    pub fn route_from_mut(&mut self, source: PeerId) -> Option<(&mut Route, &mut Rtc)> {
        match &mut self.kind {
            PeerKind::Subscriber { routes } => routes
                .iter_mut()
                .find(|r| r.source == source)
                .map(|route| (route, &mut self.rtc)),
            PeerKind::Publisher { .. } => None,
        }
    }

    /// For a publisher: the m-line of an incoming SSRC.
    pub fn mid_of(&mut self, ssrc: Ssrc) -> Option<Mid> {
        let PeerKind::Publisher { ssrc_mids, .. } = &mut self.kind else {
            return None;
        };
        if let Some((_, mid)) = ssrc_mids.iter().find(|(s, _)| *s == ssrc) {
            return Some(*mid);
        }
        let mid = self.rtc.direct_api().stream_rx(&ssrc)?.mid();
        ssrc_mids.push((ssrc, mid));
        Some(mid)
    }

    /// A publisher learns its mids from the offer (one audio, one video: the first of each).
    pub fn media_added(&mut self, kind: MediaKind, mid: Mid) {
        if let PeerKind::Publisher { audio, video, .. } = &mut self.kind {
            let slot = match kind {
                MediaKind::Audio => audio,
                MediaKind::Video => video,
            };
            slot.get_or_insert(mid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_remembers_payload_types_until_a_renegotiation() {
        let mut route = Route::new(PeerId(1), None, None);
        let (vp8, h264) = (Pt::from(96), Pt::from(102));
        assert_eq!(route.pt_for(vp8), None);
        route.learn_pt(vp8, Pt::from(100));
        route.learn_pt(h264, Pt::from(108));
        assert_eq!(route.pt_for(vp8), Some(Pt::from(100)));
        assert_eq!(route.pt_for(h264), Some(Pt::from(108)));
        route.forget_pts();
        assert_eq!(route.pt_for(vp8), None);
    }

    #[test]
    fn a_peer_whose_ice_dropped_waits_out_the_grace_before_it_is_given_up() {
        super::super::init_crypto();
        let now = Instant::now();
        let kind = PeerKind::Subscriber { routes: Vec::new() };
        let mut p = Peer::new(Rtc::new(now), kind, now);
        let much_later = now + Duration::from_secs(3600);
        assert!(!p.ice_given_up(much_later), "connected peers stay");
        p.ice_lost_since = Some(now);
        assert_eq!(p.ice_deadline(), Some(now + ICE_GRACE));
        assert!(!p.ice_given_up(now + ICE_GRACE - Duration::from_millis(1)));
        assert!(p.ice_given_up(now + ICE_GRACE));
    }
}
