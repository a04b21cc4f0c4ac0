//! The streams of one conference: who publishes what, who subscribes, and where
//! each negotiation stands.

use super::media::PeerId;
use super::sessions::SessionId;
use emedia_protocol::{MemberId, StreamId, StreamInfo, StreamType};
use std::collections::{HashMap, VecDeque};

/// A negotiation waits for the SFU's answer before its request can be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// The request with this id is waiting for the SFU.
    Pending {
        rid: u32,
    },
    /// A mini-program's stream: its push URL is handed out, the RTMP push has not
    /// arrived yet (nothing waits for a reply; nobody has been told of it).
    AwaitingPush,
    Live,
}

/// A member's subscription to one stream, carried by its subscriber connection.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub session: SessionId,
    pub state: Negotiation,
}

/// A member's one subscribing connection in a conference, and the subscribe
/// requests waiting for the SFU's answers, oldest first (the SFU answers in order).
#[derive(Clone, Debug)]
pub struct SubscriberPeer {
    pub peer: PeerId,
    pub pending: VecDeque<PendingOffer>,
}

/// A subscribe offer sent to the SFU. `orphaned` when its subscription went away
/// meanwhile (the stream ended): the request is still answered with the SFU's answer,
/// so that the client's connection stays in step with the SFU's, and the client then
/// finds the stream gone.
#[derive(Clone, Debug)]
pub struct PendingOffer {
    pub stream_id: StreamId,
    pub rid: u32,
    pub orphaned: bool,
}

#[derive(Clone, Debug)]
pub struct Stream {
    pub info: StreamInfo,
    pub owner: SessionId,
    /// The SFU peer receiving it; none for a stream pushed over RTMP.
    pub peer: Option<PeerId>,
    pub state: Negotiation,
    pub subscribers: Vec<Subscription>,
    /// Another room's stream shown here during a PK (`pk.rs`): `peer` is not ours.
    pub mirror: bool,
}

/// What an SFU peer belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerRole {
    Publisher(StreamId),
    Subscriber(SessionId),
}

#[derive(Default, Debug)]
pub struct Streams {
    list: Vec<Stream>,
    subscriber_peers: HashMap<SessionId, SubscriberPeer>,
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

    pub fn subscriber_peer(&self, session: SessionId) -> Option<&SubscriberPeer> {
        self.subscriber_peers.get(&session)
    }

    pub fn subscriber_peer_mut(&mut self, session: SessionId) -> Option<&mut SubscriberPeer> {
        self.subscriber_peers.get_mut(&session)
    }

    pub fn insert_subscriber_peer(&mut self, session: SessionId, peer: PeerId) {
        self.subscriber_peers.insert(
            session,
            SubscriberPeer {
                peer,
                pending: VecDeque::new(),
            },
        );
    }

    pub fn remove_subscriber_peer(&mut self, session: SessionId) -> Option<SubscriberPeer> {
        self.subscriber_peers.remove(&session)
    }

    /// Each subscriber connection, with the session it belongs to.
    pub fn subscriber_peers(&self) -> impl Iterator<Item = (SessionId, &SubscriberPeer)> {
        self.subscriber_peers.iter().map(|(s, p)| (*s, p))
    }

    pub fn role_of(&self, peer: PeerId) -> Option<PeerRole> {
        if let Some(s) = self.list.iter().find(|s| s.peer == Some(peer)) {
            return Some(PeerRole::Publisher(s.info.id.clone()));
        }
        self.subscriber_peers
            .iter()
            .find(|(_, p)| p.peer == peer)
            .map(|(session, _)| PeerRole::Subscriber(*session))
    }

    pub fn all(&self) -> &[Stream] {
        &self.list
    }
}
