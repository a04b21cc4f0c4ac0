//! Publishing and subscribing: the rules (roles, limits, one rtcId per stream), the
//! stream registry, and the SFU round trips. A publish or subscribe is answered only
//! when the SFU has answered its offer (`handle_media`), and a stream is announced
//! only once it is live.

use super::media::{MediaCommand, MediaEvent, PeerId};
use super::streams::{Negotiation, PeerRole, Stream};
use super::subscribing::SubscribeOffer;
use super::{err, validate, Conference, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{
    ConferenceId, ErrorBody, ErrorCode, Event, MemberId, Request, Response, Role, StreamId,
    StreamInfo, StreamType,
};

/// The longest SDP accepted; a real offer is a few KB.
const MAX_SDP_BYTES: usize = 32 * 1024;

/// The error for a stream id the conference does not hold.
pub(super) fn no_stream(stream_id: &StreamId) -> ErrorBody {
    err(
        ErrorCode::PublishInactive,
        format!("no stream {stream_id} in this conference"),
    )
}

pub(super) fn check_sdp(sdp: &str) -> Result<(), ErrorBody> {
    if sdp.trim().is_empty() {
        return Err(err(ErrorCode::SdpRequired, "an SDP offer is required"));
    }
    if sdp.len() > MAX_SDP_BYTES {
        return Err(err(ErrorCode::BadParameters, "the SDP offer is too large"));
    }
    Ok(())
}

impl<S: ConferenceStore> Core<S> {
    /// A stream of a conference, or the -554 a member gets for a wrong id.
    pub(super) fn find_stream(
        &self,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
    ) -> Result<&Stream, ErrorBody> {
        self.find(confr_id)?
            .streams
            .get(stream_id)
            .ok_or_else(|| no_stream(stream_id))
    }

    pub(super) fn new_peer(&mut self, confr_id: &ConferenceId) -> PeerId {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        self.peers.insert(peer, confr_id.clone());
        peer
    }

    pub(super) fn close_peer(&mut self, peer: PeerId) {
        self.drop_restart(peer);
        if self.peers.remove(&peer).is_some() {
            self.out.media(MediaCommand::Close { peer });
        }
    }

    /// Starts a publish or subscribe: checks, registers, and asks the SFU.
    pub(super) fn negotiate(
        &mut self,
        sid: SessionId,
        rid: u32,
        req: Request,
    ) -> Result<(), ErrorBody> {
        match req {
            Request::Publish {
                confr_id,
                rtc_id,
                stream_type,
                audio,
                video,
                ext,
                sdp,
            } => {
                let draft = Draft {
                    rtc_id,
                    stream_type,
                    audio,
                    video,
                    ext,
                };
                self.publish(sid, rid, &confr_id, draft, sdp)
            }
            Request::Subscribe {
                confr_id,
                stream_id,
                sdp,
                audio_mid,
                video_mid,
            } => {
                let offer = SubscribeOffer {
                    sdp,
                    audio_mid,
                    video_mid,
                };
                self.subscribe(sid, rid, &confr_id, &stream_id, offer)
            }
            _ => Err(err(ErrorCode::BadRequest, "not a negotiation")),
        }
    }

    fn publish(
        &mut self,
        sid: SessionId,
        rid: u32,
        confr_id: &ConferenceId,
        d: Draft,
        sdp: String,
    ) -> Result<(), ErrorBody> {
        let member = self.check_publish(sid, confr_id, &d, Some(&sdp))?;
        let muted = self.check_not_muted(sid, confr_id).is_err();
        let stream_id = StreamId(self.new_id('S'));
        let peer = self.new_peer(confr_id);
        let mut info = d.into_info(stream_id, member);
        // A muted member's audio starts off; its SDK keeps the track disabled.
        info.aoff = muted && info.audio;
        let stream = Stream {
            info,
            owner: sid,
            peer: Some(peer),
            state: Negotiation::Pending { rid },
            subscribers: Vec::new(),
            mirror: false,
        };
        if let Some(conf) = self.store.get_mut(confr_id) {
            conf.streams.insert(stream);
        }
        self.out.media(MediaCommand::Publish { peer, offer: sdp });
        Ok(())
    }

    /// Whether this member may publish this stream (and this offer, for WebRTC);
    /// the publisher's member id if so.
    pub(super) fn check_publish(
        &self,
        sid: SessionId,
        confr_id: &ConferenceId,
        d: &Draft,
        sdp: Option<&str>,
    ) -> Result<MemberId, ErrorBody> {
        let seat = self.own_seat(sid, confr_id)?;
        if seat.role == Role::Audience {
            return Err(err(
                ErrorCode::IllegalRights,
                "an AUDIENCE member cannot publish",
            ));
        }
        if d.rtc_id.is_empty() {
            return Err(err(ErrorCode::BadParameters, "rtcId is required"));
        }
        validate::optional_text("rtcId", Some(&d.rtc_id), validate::MAX_NAME_CHARS)?;
        validate::ext(d.ext.as_deref())?;
        if !d.audio && !d.video {
            return Err(err(
                ErrorCode::BadParameters,
                "a stream needs audio or video",
            ));
        }
        if let Some(sdp) = sdp {
            check_sdp(sdp)?;
        }
        let conf = self.find(confr_id)?;
        if conf.streams.rtc_id_taken(&seat.member.id, &d.rtc_id) {
            return Err(err(
                ErrorCode::BadRequest,
                format!("rtcId {} is already published", d.rtc_id),
            ));
        }
        limits(conf, d)?;
        Ok(seat.member.id.clone())
    }

    pub(super) fn unpublish(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
    ) -> Reply {
        self.own_stream(sid, confr_id, stream_id)?;
        self.end_stream(confr_id, stream_id, Some(sid));
        Ok(Response::Done)
    }

    pub(super) fn set_media(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        aoff: bool,
        voff: bool,
    ) -> Reply {
        self.own_stream(sid, confr_id, stream_id)?;
        if !aoff {
            self.check_not_muted(sid, confr_id)?;
        }
        let Some(conf) = self.store.get_mut(confr_id) else {
            return Err(err(
                ErrorCode::ConferenceNotFound,
                "conference does not exist",
            ));
        };
        let Some(stream) = conf.streams.get_mut(stream_id) else {
            return Err(err(ErrorCode::PublishInactive, "no such stream"));
        };
        if (stream.info.aoff, stream.info.voff) != (aoff, voff) {
            stream.info.aoff = aoff;
            stream.info.voff = voff;
            let event = Event::StreamUpdated {
                confr_id: confr_id.clone(),
                stream: stream.info.clone(),
            };
            if stream.state == Negotiation::Live {
                conf.broadcast(event, Some(sid), &mut self.out);
                self.mirror_changed(confr_id, stream_id, false);
            }
        }
        Ok(Response::Done)
    }

    fn own_stream(
        &self,
        sid: SessionId,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
    ) -> Result<(), ErrorBody> {
        let seat = self.own_seat(sid, confr_id)?;
        let stream = self.find_stream(confr_id, stream_id)?;
        if stream.info.mem_id != seat.member.id {
            return Err(err(ErrorCode::IllegalRights, "that stream is not yours"));
        }
        Ok(())
    }

    /// What the SFU says about a peer.
    pub fn handle_media(&mut self, ev: MediaEvent) {
        let Some(ev) = self.restart_answered(ev) else {
            return;
        };
        let peer = match &ev {
            MediaEvent::Answered { peer, .. }
            | MediaEvent::Refused { peer, .. }
            | MediaEvent::Closed { peer } => *peer,
        };
        let Some(confr_id) = self.peers.get(&peer).cloned() else {
            // Closed by the core already, though the SFU may have (re)built it from a
            // command still queued: make sure it goes.
            self.out.media(MediaCommand::Close { peer });
            return;
        };
        let role = self
            .store
            .get(&confr_id)
            .and_then(|c| c.streams.role_of(peer));
        match (role, ev) {
            (Some(PeerRole::Publisher(stream_id)), MediaEvent::Answered { sdp, .. }) => {
                self.publisher_answered(&confr_id, &stream_id, sdp)
            }
            (Some(PeerRole::Publisher(stream_id)), MediaEvent::Refused { code, message, .. }) => {
                self.peers.remove(&peer);
                self.end_stream_with(&confr_id, &stream_id, None, ErrorBody::new(code, message));
            }
            (Some(PeerRole::Publisher(stream_id)), MediaEvent::Closed { .. }) => {
                self.peers.remove(&peer);
                let why = ErrorBody::new(ErrorCode::PublishInactive, "the media connection failed");
                self.end_stream_with(&confr_id, &stream_id, None, why);
            }
            (Some(PeerRole::Subscriber(session)), ev) => {
                self.subscriber_media(&confr_id, session, peer, ev)
            }
            (None, _) => self.close_peer(peer),
        }
    }

    fn publisher_answered(&mut self, confr_id: &ConferenceId, stream_id: &StreamId, sdp: String) {
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        let Some(stream) = conf.streams.get_mut(stream_id) else {
            return;
        };
        let Negotiation::Pending { rid } = stream.state else {
            return;
        };
        stream.state = Negotiation::Live;
        let (owner, info) = (stream.owner, stream.info.clone());
        self.out.reply(
            owner,
            rid,
            Ok(Response::Published {
                stream: info.clone(),
                sdp,
            }),
        );
        let stream_id = info.id.clone();
        let event = Event::StreamAdded {
            confr_id: confr_id.clone(),
            stream: info,
            member: None,
        };
        conf.broadcast(event, Some(owner), &mut self.out);
        self.mirror_stream(confr_id, &stream_id);
    }

    /// Ends a stream everywhere. `except` is not told (it asked for this).
    pub(super) fn end_stream(
        &mut self,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        except: Option<SessionId>,
    ) {
        let why = err(
            ErrorCode::PublishInactive,
            "the stream ended before it was published",
        );
        self.end_stream_with(confr_id, stream_id, except, why);
    }

    fn end_stream_with(
        &mut self,
        confr_id: &ConferenceId,
        stream_id: &StreamId,
        except: Option<SessionId>,
        why: ErrorBody,
    ) {
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        let Some(stream) = conf.streams.remove(stream_id) else {
            return;
        };
        match stream.state {
            Negotiation::Pending { rid } => self.out.reply(stream.owner, rid, Err(why)),
            Negotiation::AwaitingPush => {}
            Negotiation::Live => {
                let event = Event::StreamRemoved {
                    confr_id: confr_id.clone(),
                    stream: stream.info.clone(),
                };
                conf.broadcast(event, except, &mut self.out);
            }
        }
        for sub in &stream.subscribers {
            self.settle_dropped_subscription(confr_id, stream_id, sub);
        }
        self.mirror_changed(confr_id, stream_id, true);
        // Closing the publisher also ends its routes in every subscriber connection.
        if let Some(peer) = stream.peer.filter(|_| !stream.mirror) {
            self.close_peer(peer);
        }
    }

    /// Ends every stream a member publishes; `tell_owner` when it stays in the conference.
    pub(super) fn end_streams_of(
        &mut self,
        confr_id: &ConferenceId,
        member: &MemberId,
        tell_owner: bool,
    ) {
        let Some(conf) = self.store.get(confr_id) else {
            return;
        };
        let owner = conf.find(member.as_str()).map(|s| s.session);
        for id in conf.streams.ids_of_member(member) {
            let except = if tell_owner { None } else { owner };
            let why = err(
                ErrorCode::IllegalRights,
                "you can no longer publish in this conference",
            );
            self.end_stream_with(confr_id, &id, except, why);
        }
    }

    /// A conference is gone: close its peers and settle its pending negotiations.
    pub(super) fn release_media(&mut self, conf: &Conference) {
        for stream in conf.streams.all() {
            if let Negotiation::Pending { rid } = stream.state {
                self.out.reply(
                    stream.owner,
                    rid,
                    Err(err(ErrorCode::ConferenceDisbanded, "the conference ended")),
                );
            }
            for sub in &stream.subscribers {
                if let Negotiation::Pending { rid } = sub.state {
                    self.out.reply(
                        sub.session,
                        rid,
                        Err(err(ErrorCode::ConferenceDisbanded, "the conference ended")),
                    );
                }
            }
            // A PK mirror's source belongs to the other room.
            if let Some(peer) = stream.peer.filter(|_| !stream.mirror) {
                self.close_peer(peer);
            }
        }
        for (session, sub) in conf.streams.subscriber_peers() {
            // Offers whose subscription already ended wait for the SFU's answer, which
            // closing the peer drops: they are settled here (the others were above).
            for offer in sub.pending.iter().filter(|o| o.orphaned) {
                self.out.reply(
                    session,
                    offer.rid,
                    Err(err(ErrorCode::ConferenceDisbanded, "the conference ended")),
                );
            }
            self.close_peer(sub.peer);
        }
    }
}

/// A publish request's stream fields.
pub(super) struct Draft {
    pub rtc_id: String,
    pub stream_type: StreamType,
    pub audio: bool,
    pub video: bool,
    pub ext: Option<String>,
}

impl Draft {
    pub fn into_info(self, id: StreamId, publisher: MemberId) -> StreamInfo {
        StreamInfo {
            id,
            mem_id: publisher,
            rtc_id: self.rtc_id,
            stream_type: self.stream_type,
            audio: self.audio,
            video: self.video,
            aoff: false,
            voff: false,
            ext: self.ext,
        }
    }
}

fn limits(conf: &Conference, d: &Draft) -> Result<(), ErrorBody> {
    let c = &conf.config;
    match d.stream_type {
        StreamType::Desktop if conf.streams.desktop_count() >= c.max_pub_desktop_count as usize => {
            Err(err(
                ErrorCode::TooManyVideos,
                format!(
                    "the conference already shares {} desktops (maxPubDesktopCount)",
                    c.max_pub_desktop_count
                ),
            ))
        }
        StreamType::Camera
            if d.video && conf.streams.video_count() >= c.max_video_count as usize =>
        {
            Err(err(
                ErrorCode::TooManyVideos,
                format!(
                    "the conference already has {} videos (maxVideoCount)",
                    c.max_video_count
                ),
            ))
        }
        _ => Ok(()),
    }
}
