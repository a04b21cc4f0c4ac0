//! Subscribing: each member has one subscriber connection per conference, created by
//! its first subscription and renegotiated (by the client's new offer) for each
//! further one, so a subscription after the first needs no new ICE or DTLS handshake.

use super::media::{MediaCommand, MediaEvent, PeerId};
use super::publishing::{check_sdp, no_stream};
use super::streams::{Negotiation, PendingOffer, Subscription};
use super::{err, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{ConferenceId, ErrorBody, ErrorCode, Event, Response, StreamId};

/// The client's offer for its subscriber connection, and the m-lines it added.
pub struct SubscribeOffer {
    pub sdp: String,
    pub audio_mid: Option<String>,
    pub video_mid: Option<String>,
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn subscribe(
        &mut self,
        sid: SessionId,
        rid: u32,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        offer: SubscribeOffer,
    ) -> Result<(), ErrorBody> {
        self.own_seat(sid, confr_id)?;
        check_sdp(&offer.sdp)?;
        let stream = self.find_stream(confr_id, stream_id)?;
        if stream.state != Negotiation::Live {
            return Err(err(
                ErrorCode::PublishInactive,
                "that stream is not published yet",
            ));
        }
        if stream.subscribers.iter().any(|s| s.session == sid) {
            return Err(err(
                ErrorCode::BadRequest,
                "already subscribed to this stream",
            ));
        }
        if offer.audio_mid.is_none() && offer.video_mid.is_none() {
            return Err(err(
                ErrorCode::BadParameters,
                "name the m-lines added for the stream (audioMid, videoMid)",
            ));
        }
        let Some(source) = stream.peer else {
            return Err(err(
                ErrorCode::NotSupported,
                "that stream is pushed over RTMP by a mini-program: play it with subStream in a mini-program",
            ));
        };
        let existing = self
            .find(confr_id)?
            .streams
            .subscriber_peer(sid)
            .map(|p| p.peer);
        let peer = match existing {
            Some(p) if self.restarting(p) => {
                return Err(err(
                    ErrorCode::BadRequest,
                    "the subscribing connection is restarting ICE: subscribe when it is done",
                ))
            }
            Some(p) => p,
            None => {
                let p = self.new_peer(confr_id);
                if let Some(conf) = self.store.get_mut(confr_id) {
                    conf.streams.insert_subscriber_peer(sid, p);
                }
                p
            }
        };
        let Some(conf) = self.store.get_mut(confr_id) else {
            return Err(err(
                ErrorCode::ConferenceNotFound,
                "conference does not exist",
            ));
        };
        if let Some(stream) = conf.streams.get_mut(stream_id) {
            stream.subscribers.push(Subscription {
                session: sid,
                state: Negotiation::Pending { rid },
            });
        }
        if let Some(sub) = conf.streams.subscriber_peer_mut(sid) {
            sub.pending.push_back(PendingOffer {
                stream_id: stream_id.clone(),
                rid,
                orphaned: false,
            });
        }
        self.out.media(MediaCommand::Subscribe {
            peer,
            source,
            offer: offer.sdp,
            audio_mid: offer.audio_mid,
            video_mid: offer.video_mid,
        });
        Ok(())
    }

    pub(super) fn unsubscribe(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
    ) -> Reply {
        self.own_seat(sid, confr_id)?;
        let conf = self
            .store
            .get_mut(confr_id)
            .ok_or_else(|| err(ErrorCode::ConferenceNotFound, "conference does not exist"))?;
        let stream = conf
            .streams
            .get_mut(stream_id)
            .ok_or_else(|| no_stream(stream_id))?;
        let idx = stream
            .subscribers
            .iter()
            .position(|s| s.session == sid)
            .ok_or_else(|| err(ErrorCode::BadRequest, "not subscribed to this stream"))?;
        let sub = stream.subscribers.remove(idx);
        let source = stream.peer;
        let peer = conf.streams.subscriber_peer(sid).map(|p| p.peer);
        self.settle_dropped_subscription(confr_id, stream_id, &sub);
        if let (Some(peer), Some(source)) = (peer, source) {
            self.out.media(MediaCommand::Unroute { peer, source });
        }
        Ok(Response::Done)
    }

    pub(super) fn subscription_ready(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
    ) -> Reply {
        self.own_seat(sid, confr_id)?;
        let stream = self.find_stream(confr_id, stream_id)?;
        if !stream
            .subscribers
            .iter()
            .any(|s| s.session == sid && s.state == Negotiation::Live)
        {
            return Err(err(ErrorCode::BadRequest, "not subscribed to this stream"));
        }
        if let Some(source) = stream.peer {
            self.out.media(MediaCommand::RequestKeyframe { source });
        }
        Ok(Response::Done)
    }

    /// The SFU about a subscriber connection: answers come in the order of the offers.
    pub(super) fn subscriber_media(
        &mut self,
        confr_id: &ConferenceId,
        session: SessionId,
        peer: PeerId,
        ev: MediaEvent,
    ) {
        if let MediaEvent::Closed { .. } = ev {
            // The whole connection failed: every subscription it carried ends, and the
            // client learns it must start a new connection.
            self.peers.remove(&peer);
            self.end_subscriptions_of(confr_id, session);
            let lost = Event::SubscriptionsLost {
                confr_id: confr_id.clone(),
            };
            self.out.event(session, lost);
            return;
        }
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        let Some(offer) = conf
            .streams
            .subscriber_peer_mut(session)
            .and_then(|p| p.pending.pop_front())
        else {
            return;
        };
        if offer.orphaned {
            let reply = match ev {
                MediaEvent::Answered { sdp, .. } => Ok(Response::Subscribed {
                    stream_id: offer.stream_id,
                    sdp,
                }),
                MediaEvent::Refused { code, message, .. } => Err(ErrorBody::new(code, message)),
                MediaEvent::Closed { .. } => unreachable!("handled above"),
            };
            self.out.reply(session, offer.rid, reply);
            return;
        }
        let Some(stream) = conf.streams.get_mut(&offer.stream_id) else {
            return;
        };
        let Some(idx) = stream.subscribers.iter().position(|s| s.session == session) else {
            return;
        };
        match ev {
            MediaEvent::Answered { sdp, .. } => {
                stream.subscribers[idx].state = Negotiation::Live;
                let reply = Response::Subscribed {
                    stream_id: offer.stream_id,
                    sdp,
                };
                self.out.reply(session, offer.rid, Ok(reply));
            }
            MediaEvent::Refused { code, message, .. } => {
                stream.subscribers.remove(idx);
                self.out
                    .reply(session, offer.rid, Err(ErrorBody::new(code, message)));
            }
            MediaEvent::Closed { .. } => unreachable!("handled above"),
        }
    }

    /// A subscription that goes away before the SFU answered still gets its one reply.
    pub(super) fn settle_dropped_subscription(
        &mut self,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        sub: &Subscription,
    ) {
        let Negotiation::Pending { rid } = sub.state else {
            return;
        };
        let pending = self
            .store
            .get_mut(confr_id)
            .and_then(|c| c.streams.subscriber_peer_mut(sub.session))
            .and_then(|p| p.pending.iter_mut().find(|o| o.rid == rid));
        match pending {
            // Answered when the SFU answers (see `subscriber_media`).
            Some(offer) => offer.orphaned = true,
            None => {
                let why = err(
                    ErrorCode::PublishInactive,
                    format!("stream {stream_id} ended before the subscription completed"),
                );
                self.out.reply(sub.session, rid, Err(why));
            }
        }
    }

    /// The member leaves (or its connection failed): its subscriptions end, requests
    /// still waiting for the SFU are refused now, and the connection closes.
    pub(super) fn end_subscriptions_of(&mut self, confr_id: &ConferenceId, session: SessionId) {
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        conf.streams.take_subscriptions_of(session);
        let Some(sub) = conf.streams.remove_subscriber_peer(session) else {
            return;
        };
        for offer in &sub.pending {
            let why = err(
                ErrorCode::PublishInactive,
                "the subscription ended before it completed",
            );
            self.out.reply(session, offer.rid, Err(why));
        }
        self.close_peer(sub.peer);
    }
}
