//! The streams of one conference: who publishes what, who subscribes, and where
//! each negotiation stands.

use super::media::PeerId;
use super::outbox::SessionId;
use emedia_protocol::{MemberId, StreamId, StreamInfo, StreamType};

/// A negotiation waits for the SFU's answer before its request can be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// The request with this id is waiting for the SFU.
    Pending {
        rid: u32,
    },
    Live,
}

#[derive(Clone, Debug)]
pub struct Subscription {
    pub session: SessionId,
    pub peer: PeerId,
    pub state: Negotiation,
}

#[derive(Clone, Debug)]
pub struct Stream {
    pub info: StreamInfo,
    pub owner: SessionId,
    pub peer: PeerId,
    pub state: Negotiation,
    pub subscribers: Vec<Subscription>,
}

impl Stream {
    /// Every SFU peer this stream holds: its publisher and its subscribers.
    pub fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        std::iter::once(self.peer).chain(self.subscribers.iter().map(|s| s.peer))
    }
}

/// What an SFU peer belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerRole {
    Publisher(StreamId),
    Subscriber(StreamId, SessionId),
}

#[derive(Default, Debug)]
pub struct Streams {
    list: Vec<Stream>,
}

impl Streams {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Live streams, in publish order: what members are told about.
    pub fn live(&self) -> Vec<StreamInfo> {
        self.list
            .iter()
            .filter(|s| s.state == Negotiation::Live)
            .map(|s| s.info.clone())
            .collect()
    }

    pub fn get(&self, id: &StreamId) -> Option<&Stream> {
        self.list.iter().find(|s| &s.info.id == id)
    }

    pub fn get_mut(&mut self, id: &StreamId) -> Option<&mut Stream> {
        self.list.iter_mut().find(|s| &s.info.id == id)
    }

    /// Streams counting against maxVideoCount / maxPubDesktopCount, pending ones included
    /// so two racing publishes cannot both take the last place.
    pub fn count(&self, pred: impl Fn(&StreamInfo) -> bool) -> usize {
        self.list.iter().filter(|s| pred(&s.info)).count()
    }

    pub fn video_count(&self) -> usize {
        self.count(|i| i.video && i.stream_type == StreamType::Camera)
    }

    pub fn desktop_count(&self) -> usize {
        self.count(|i| i.stream_type == StreamType::Desktop)
    }

    pub fn rtc_id_taken(&self, member: &MemberId, rtc_id: &str) -> bool {
        self.list
            .iter()
            .any(|s| &s.info.mem_id == member && s.info.rtc_id == rtc_id)
    }

    pub fn insert(&mut self, stream: Stream) {
        self.list.push(stream);
    }

    pub fn remove(&mut self, id: &StreamId) -> Option<Stream> {
        let idx = self.list.iter().position(|s| &s.info.id == id)?;
        Some(self.list.remove(idx))
    }

    pub fn ids_of_member(&self, member: &MemberId) -> Vec<StreamId> {
        self.list
            .iter()
            .filter(|s| &s.info.mem_id == member)
            .map(|s| s.info.id.clone())
            .collect()
    }

    /// Removes `session`'s subscriptions, returning them with their streams.
    pub fn take_subscriptions_of(&mut self, session: SessionId) -> Vec<(StreamId, Subscription)> {
        let mut taken = Vec::new();
        for s in &mut self.list {
            let (gone, kept): (Vec<_>, Vec<_>) = s
                .subscribers
                .drain(..)
                .partition(|sub| sub.session == session);
            s.subscribers = kept;
            taken.extend(gone.into_iter().map(|sub| (s.info.id.clone(), sub)));
        }
        taken
    }

    pub fn role_of(&self, peer: PeerId) -> Option<PeerRole> {
        self.list.iter().find_map(|s| {
            if s.peer == peer {
                return Some(PeerRole::Publisher(s.info.id.clone()));
            }
            s.subscribers
                .iter()
                .find(|sub| sub.peer == peer)
                .map(|sub| PeerRole::Subscriber(s.info.id.clone(), sub.session))
        })
    }

    pub fn all(&self) -> &[Stream] {
        &self.list
    }
}
