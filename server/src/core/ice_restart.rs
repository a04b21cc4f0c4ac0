//! ICE restarts: a client whose media path broke (a new network, a long outage)
//! offers new ICE credentials on the same peer connection, and the SFU answers on the
//! same peer, so streams, subscriptions and ids all stay as they were.
//!
//! One offer at a time per peer: a restart is refused while the peer's own
//! negotiation is under way, and a subscribe waits for no restart (it is refused
//! while one is). The reply goes out when the SFU answers (`handle_media`).

use super::media::{MediaCommand, MediaEvent, PeerId};
use super::publishing::check_sdp;
use super::streams::Negotiation;
use super::{err, ConferenceStore, Core, SessionId};
use emedia_protocol::{ConferenceId, ErrorBody, ErrorCode, Response, StreamId};

impl<S: ConferenceStore> Core<S> {
    pub(super) fn restart_ice(
        &mut self,
        sid: SessionId,
        rid: u32,
        confr_id: &ConferenceId,
        stream_id: Option<&StreamId>,
        sdp: String,
    ) -> Result<(), ErrorBody> {
        let seat = self.own_seat(sid, confr_id)?;
        let member = seat.member.id.clone();
        check_sdp(&sdp)?;
        let peer = match stream_id {
            Some(id) => {
                let stream = self.find_stream(confr_id, id)?;
                if stream.info.mem_id != member {
                    return Err(err(ErrorCode::IllegalRights, "that stream is not yours"));
                }
                match (stream.peer, &stream.state) {
                    (Some(peer), Negotiation::Live) => peer,
                    (None, _) => {
                        return Err(err(
                            ErrorCode::BadRequest,
                            "that stream is pushed over RTMP: there is no ICE to restart",
                        ))
                    }
                    _ => return Err(busy()),
                }
            }
            None => {
                let sub = self
                    .find(confr_id)?
                    .streams
                    .subscriber_peer(sid)
                    .ok_or_else(|| {
                        err(
                            ErrorCode::BadRequest,
                            "you have no subscribing connection in this conference",
                        )
                    })?;
                if !sub.pending.is_empty() {
                    return Err(busy());
                }
                sub.peer
            }
        };
        if self.ice_restarts.contains_key(&peer) {
            return Err(busy());
        }
        self.ice_restarts.insert(peer, (sid, rid));
        self.out
            .media(MediaCommand::RestartIce { peer, offer: sdp });
        Ok(())
    }

    /// Whether an ICE restart of this peer is under way.
    pub(super) fn restarting(&self, peer: PeerId) -> bool {
        self.ice_restarts.contains_key(&peer)
    }

    /// Settles a pending restart with what the SFU said. Returns the event when it is
    /// not about a restart (or also concerns the peer as a whole: a closed peer).
    pub(super) fn restart_answered(&mut self, ev: MediaEvent) -> Option<MediaEvent> {
        let peer = match &ev {
            MediaEvent::Answered { peer, .. }
            | MediaEvent::Refused { peer, .. }
            | MediaEvent::Closed { peer } => *peer,
        };
        let Some((sid, rid)) = self.ice_restarts.remove(&peer) else {
            return Some(ev);
        };
        match ev {
            MediaEvent::Answered { sdp, .. } => {
                self.ice_restarts_done += 1;
                self.out.reply(sid, rid, Ok(Response::IceRestarted { sdp }));
                None
            }
            // A bad restart offer leaves the connection as it was.
            MediaEvent::Refused { code, message, .. } => {
                self.out.reply(sid, rid, Err(ErrorBody::new(code, message)));
                None
            }
            closed @ MediaEvent::Closed { .. } => {
                self.out.reply(sid, rid, Err(gone()));
                Some(closed)
            }
        }
    }

    /// The peer is going away with a restart pending: its asker hears so.
    pub(super) fn drop_restart(&mut self, peer: PeerId) {
        if let Some((sid, rid)) = self.ice_restarts.remove(&peer) {
            self.out.reply(sid, rid, Err(gone()));
        }
    }
}

fn busy() -> ErrorBody {
    err(
        ErrorCode::BadRequest,
        "this connection is negotiating: offer again when it is done",
    )
}

fn gone() -> ErrorBody {
    err(ErrorCode::PublishInactive, "the media connection is gone")
}
