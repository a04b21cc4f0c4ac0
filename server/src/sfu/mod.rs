//! The selective forwarding unit: str0m peers on one UDP port, forwarding each
//! publisher's Opus, VP8 and H264 to its subscribers packet by packet (str0m's RTP
//! mode): a packet's payload is shared by every subscriber, each route gets its own
//! sequence numbers and the subscriber's payload type (`rtp.rs`), and str0m answers
//! NACKs from its send buffers and asks the publisher again for lost packets.
//!
//! Sans-IO like the rest: `add_publisher` / `add_subscriber` / `remove` are the
//! commands, `handle_datagram` and `handle_timeout` the inputs (`end_batch` after a
//! run of datagrams); drain `poll_transmit` (datagrams to send) and `poll_event` (what
//! the core must know) after each, then sleep until `poll_timeout`. `runner.rs` owns
//! the socket and the clock.
//!
//! Every peer connection is offered by the client (send-only media to publish,
//! receive-only to subscribe), so the SFU never renegotiates: one peer connection per
//! published or subscribed stream (see the README's design section for why).

mod peer;
mod rtp;
pub mod runner;
mod sdp;
pub mod socket;

use crate::core::{MediaEvent, PeerId};
use emedia_protocol::ErrorCode;
use peer::{Peer, PeerKind, Route};
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use str0m::change::SdpOffer;
use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{Extension, ExtensionMap, ExtensionValues, RtpPacket, RtpWrite};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

/// Why the SFU refused an offer.
pub type Refusal = (ErrorCode, String);

/// A keyframe asked for and not seen within this time is asked for again.
const KEYFRAME_RETRY: Duration = Duration::from_millis(250);

/// Video packets each subscriber connection keeps for resends (NACK). str0m's default
/// of 1000 is ~1.2 MB per connection at full size; 400 is still ~2.5 s of 1.5 Mbit/s
/// video, several times the time a receiver takes to ask for a lost packet, and
/// several keyframes' worth.
const VIDEO_RESEND_PACKETS: usize = 400;

/// Installs str0m's crypto provider; idempotent.
pub fn init_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}

/// What a new peer connection carries, which decides its codec order and extensions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carries {
    /// A published stream. str0m answers in its own codec order and the browser sends
    /// the first codec of the answer, so a publisher that prefers H264 gets it first.
    Published { h264_first: bool },
    /// Subscribed streams.
    Subscribed,
}

/// Work that crosses from one peer to another.
// Boxing the packet would cost an allocation per forwarded packet; moving it is cheaper.
#[allow(clippy::large_enum_variant)]
enum Work {
    Forward {
        from: PeerId,
        mid: Mid,
        /// The publisher's codec parameters for the packet's payload type.
        params: PayloadParams,
        packet: RtpPacket,
    },
    KeyframeFor {
        publisher: PeerId,
        kind: KeyframeRequestKind,
    },
}

pub struct Sfu {
    /// The address in our host candidate; datagrams are handed to str0m as sent to it.
    candidate: SocketAddr,
    /// FxHash: looked up for every subscriber of every packet, keyed by ids the
    /// server numbers itself.
    peers: FxHashMap<PeerId, Peer>,
    /// Which peer each remote address belongs to, learned from accepted input: media
    /// datagrams go straight to their peer instead of asking every peer in turn.
    by_address: HashMap<SocketAddr, PeerId>,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<MediaEvent>,
    /// Buffers of `run` and `forward`, kept so the forwarding path does not allocate.
    dirty: Vec<PeerId>,
    work: VecDeque<Work>,
    /// Subscriber connections written to and not drained yet (`end_batch`).
    written: Vec<PeerId>,
    fan_out: Vec<PeerId>,
}

impl Sfu {
    pub fn new(candidate: SocketAddr) -> Self {
        init_crypto();
        Self {
            candidate,
            peers: FxHashMap::default(),
            by_address: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            dirty: Vec::new(),
            work: VecDeque::new(),
            written: Vec::new(),
            fan_out: Vec::new(),
        }
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Answers an ICE restart offer on an existing peer: new credentials, same media.
    pub fn restart_ice(
        &mut self,
        id: PeerId,
        offer: &str,
        now: Instant,
    ) -> Result<String, Refusal> {
        let Some(peer) = self.peers.get_mut(&id) else {
            return Err((
                ErrorCode::PublishInactive,
                "the media connection is gone".into(),
            ));
        };
        let answer = Self::answer(&mut peer.rtc, offer)?;
        tracing::debug!(peer = id.0, "ICE restarted");
        self.run(&[id], now);
        Ok(answer)
    }

    fn new_rtc(&self, now: Instant, carries: Carries) -> Result<Rtc, Refusal> {
        // RTP mode: packets are forwarded as they come, each payload shared by every
        // subscriber (no reassembly into frames and packetizing again per subscriber).
        let mut config = Rtc::builder();
        if carries == Carries::Subscribed {
            // The SFU estimates no downlink bandwidth (it forwards what the publisher
            // sends), so transport-wide sequence numbers and send times on its
            // downlinks would only cost a header extension, a record and feedback
            // RTCP per packet. Publishers keep them: their browser's congestion
            // control runs on the SFU's feedback.
            let mut downlink = ExtensionMap::empty();
            for (id, ext) in ExtensionMap::standard().iter() {
                if !matches!(
                    ext,
                    Extension::TransportSequenceNumber | Extension::AbsoluteSendTime
                ) {
                    downlink.set(id, ext.clone());
                }
            }
            config = config.set_extension_map(downlink);
        }
        let config = config
            .set_rtp_mode(true)
            .set_ice_lite(true)
            .set_send_buffer_video(VIDEO_RESEND_PACKETS)
            .clear_codecs()
            .enable_opus(true, false);
        let config = if carries == (Carries::Published { h264_first: true }) {
            config.enable_h264(true).enable_vp8(true)
        } else {
            config.enable_vp8(true).enable_h264(true)
        };
        let mut rtc = config.build(now);
        let candidate = Candidate::host(self.candidate, "udp")
            .map_err(|e| (ErrorCode::NotSupported, format!("bad SFU address: {e}")))?;
        rtc.add_local_candidate(candidate);
        Ok(rtc)
    }

    fn parse(offer: &str) -> Result<SdpOffer, Refusal> {
        SdpOffer::from_sdp_string(offer).map_err(|e| {
            (
                ErrorCode::BadParameters,
                format!("malformed SDP offer: {e}"),
            )
        })
    }

    /// Parsed before anything else, so malformed SDP is a -200 whatever it lacks.
    fn answer(rtc: &mut Rtc, offer: &str) -> Result<String, Refusal> {
        let offer = Self::parse(offer)?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| (ErrorCode::BadParameters, format!("SDP offer refused: {e}")))?;
        Ok(answer.to_sdp_string())
    }

    /// Answers a publisher's offer.
    pub fn add_publisher(
        &mut self,
        id: PeerId,
        offer: &str,
        now: Instant,
    ) -> Result<String, Refusal> {
        Self::parse(offer)?;
        let codecs = sdp::offered_codecs(offer);
        if let Some(why) = codecs.unusable() {
            return Err((ErrorCode::SubscribeNoCodec, why.to_owned()));
        }
        let h264_first = codecs.preferred_video.as_deref() == Some("h264");
        let mut rtc = self.new_rtc(now, Carries::Published { h264_first })?;
        let answer = Self::answer(&mut rtc, offer)?;
        let kind = PeerKind::Publisher {
            audio: None,
            video: None,
            subscribers: Vec::new(),
            audio_codecs: codecs.forwardable_audio(),
            video_codecs: codecs.forwardable_video(),
            keyframe_pending_since: None,
            ssrc_mids: Vec::new(),
        };
        self.peers.insert(id, Peer::new(rtc, kind, now));
        self.run(&[id], now);
        Ok(answer)
    }

    /// Answers a subscriber connection's offer (its first, or a renegotiation that adds
    /// m-lines) and routes `source` into `audio_mid` / `video_mid`.
    pub fn add_subscriber(
        &mut self,
        id: PeerId,
        source: PeerId,
        offer: &str,
        audio_mid: Option<&str>,
        video_mid: Option<&str>,
        now: Instant,
    ) -> Result<String, Refusal> {
        let Some(Peer {
            kind:
                PeerKind::Publisher {
                    audio_codecs,
                    video_codecs,
                    ..
                },
            ..
        }) = self.peers.get(&source)
        else {
            return Err((
                ErrorCode::PublishInactive,
                "the stream's media connection is gone".into(),
            ));
        };
        Self::parse(offer)?;
        let codecs = sdp::offered_codecs(offer);
        let no_common = |asked: bool, theirs: &BTreeSet<String>, ours: BTreeSet<String>| {
            asked && !theirs.is_empty() && theirs.intersection(&ours).next().is_none()
        };
        if no_common(
            audio_mid.is_some(),
            audio_codecs,
            codecs.forwardable_audio(),
        ) || no_common(
            video_mid.is_some(),
            video_codecs,
            codecs.forwardable_video(),
        ) {
            return Err((
                ErrorCode::SubscribeNoCodec,
                "no codec in common with the publisher".into(),
            ));
        }
        let route = Route::new(source, audio_mid.map(Mid::from), video_mid.map(Mid::from));
        let renegotiation = match self.peers.get_mut(&id) {
            Some(
                peer @ Peer {
                    kind: PeerKind::Subscriber { .. },
                    ..
                },
            ) => {
                let answer = Self::answer(&mut peer.rtc, offer)?;
                if let PeerKind::Subscriber { routes } = &mut peer.kind {
                    routes.retain(|r| r.source != source);
                    routes.iter_mut().for_each(Route::forget_pts);
                    routes.push(route.clone());
                }
                Some(answer)
            }
            Some(_) => return Err((ErrorCode::BadRequest, "that connection publishes".into())),
            None => None,
        };
        let answer = match renegotiation {
            Some(found) => found,
            None => {
                let mut rtc = self.new_rtc(now, Carries::Subscribed)?;
                let answer = Self::answer(&mut rtc, offer)?;
                let kind = PeerKind::Subscriber {
                    routes: vec![route],
                };
                self.peers.insert(id, Peer::new(rtc, kind, now));
                answer
            }
        };
        if let Some(Peer {
            kind: PeerKind::Publisher { subscribers, .. },
            ..
        }) = self.peers.get_mut(&source)
        {
            if !subscribers.contains(&id) {
                subscribers.push(id);
            }
        }
        // The keyframe for this route is asked for when the subscriber connects (a new
        // connection) or says it applied the answer (`request_keyframe_now`).
        self.run(&[id], now);
        Ok(answer)
    }

    /// Stops forwarding `source` to the subscriber connection `id`.
    pub fn unroute(&mut self, id: PeerId, source: PeerId) {
        if let Some(Peer {
            kind: PeerKind::Subscriber { routes },
            ..
        }) = self.peers.get_mut(&id)
        {
            routes.retain(|r| r.source != source);
        }
        if let Some(Peer {
            kind: PeerKind::Publisher { subscribers, .. },
            ..
        }) = self.peers.get_mut(&source)
        {
            subscribers.retain(|s| *s != id);
        }
    }

    /// Drops a peer and everything it holds: a publisher's routes into every subscriber
    /// connection, or a subscriber's place in every publisher's list.
    pub fn remove(&mut self, id: PeerId) {
        let Some(mut peer) = self.peers.remove(&id) else {
            return;
        };
        self.by_address.retain(|_, p| *p != id);
        peer.rtc.disconnect();
        match peer.kind {
            PeerKind::Publisher { subscribers, .. } => {
                for sub in subscribers {
                    if let Some(Peer {
                        kind: PeerKind::Subscriber { routes },
                        ..
                    }) = self.peers.get_mut(&sub)
                    {
                        routes.retain(|r| r.source != id);
                    }
                }
            }
            PeerKind::Subscriber { routes } => {
                for r in routes {
                    self.unroute(id, r.source);
                }
            }
        }
    }

    /// One datagram from `source` on our socket. What it makes the SFU send to other
    /// peers is ready after `end_batch`, called once the read batch is over.
    pub fn handle_datagram(&mut self, source: SocketAddr, contents: &[u8], now: Instant) {
        // RFC 7983: a first byte below 4 is STUN.
        let contents_first_byte = contents.first().copied().unwrap_or(0);
        let Ok(contents) = contents.try_into() else {
            return; // not STUN, DTLS, RTP or RTCP
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.candidate,
                contents,
            },
        );
        // STUN is always matched by its credentials (a restart may bring new ones, a
        // new address starts with STUN); everything else by the address it came from.
        let stun = contents_first_byte < 4;
        let known = self.by_address.get(&source).filter(|_| !stun);
        let found = match known {
            Some(id) => self.peers.get_mut(id).map(|p| (*id, p)),
            None => self
                .peers
                .iter_mut()
                .find(|(_, p)| p.rtc.accepts(&input))
                .map(|(id, p)| (*id, p)),
        };
        let Some((id, peer)) = found else {
            return;
        };
        if known.is_none() {
            self.by_address.insert(source, id);
        }
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(peer = id.0, error = %e, "peer input failed");
            peer.rtc.disconnect();
        }
        // Drained now: in RTP mode str0m holds one received packet until polled.
        self.process(&[id], now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<PeerId> = self
            .peers
            .iter_mut()
            .filter(|(_, p)| p.next_timeout <= now || p.ice_given_up(now))
            .map(|(id, p)| {
                if p.ice_given_up(now) {
                    tracing::debug!(peer = id.0, "ICE did not come back");
                    p.rtc.disconnect();
                } else if let Err(e) = p.rtc.handle_input(Input::Timeout(now)) {
                    tracing::debug!(peer = id.0, error = %e, "peer timeout failed");
                    p.rtc.disconnect();
                }
                *id
            })
            .collect();
        self.run(&due, now);
    }

    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.peers
            .values()
            .flat_map(|p| [Some(p.next_timeout), p.ice_deadline()])
            .flatten()
            .min()
    }

    /// Drains the given peers, and every peer their output touches, until quiet.
    fn run(&mut self, start: &[PeerId], now: Instant) {
        self.process(start, now);
        self.end_batch(now);
    }

    /// Drains the given peers and does what their output asks, except draining the
    /// subscriber connections packets were written to: those wait in `written` for
    /// `end_batch`, so a frame's packets read in one batch leave each subscriber in
    /// one drain instead of one per packet.
    fn process(&mut self, start: &[PeerId], now: Instant) {
        let mut dirty = std::mem::take(&mut self.dirty);
        let mut work = std::mem::take(&mut self.work);
        let mut written = std::mem::take(&mut self.written);
        dirty.extend_from_slice(start);
        loop {
            while let Some(id) = dirty.pop() {
                self.drain(id, &mut work, now);
            }
            let Some(w) = work.pop_front() else { break };
            match w {
                Work::Forward {
                    from,
                    mid,
                    params,
                    packet,
                } => self.forward(from, mid, params, &packet, &mut written),
                Work::KeyframeFor { publisher, kind } => {
                    if self.request_keyframe(publisher, kind, now) {
                        dirty.push(publisher);
                    }
                }
            }
        }
        self.dirty = dirty;
        self.work = work;
        self.written = written;
    }

    /// Drains every connection written to since the last call, once each (and what
    /// that leads to), until quiet. The runner calls it after each read batch.
    pub fn end_batch(&mut self, now: Instant) {
        while !self.written.is_empty() {
            let mut written = std::mem::take(&mut self.written);
            written.sort_unstable();
            written.dedup();
            self.process(&written, now);
            // Anything written meanwhile is in `self.written`; keep the larger buffer.
            written.clear();
            if self.written.is_empty() {
                self.written = written;
            }
        }
    }

    /// Takes everything one peer has to say.
    fn drain(&mut self, id: PeerId, work: &mut VecDeque<Work>, now: Instant) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        // str0m asks for a timeout that has already passed when a write leaves its send
        // queue wanting a turn; given here, that costs no trip round the runner's loop
        // (half of its turns in the 10 × 4 mesh). Once per drain, so it cannot spin.
        let mut timed_out = false;
        loop {
            if !peer.rtc.is_alive() {
                break;
            }
            let output = match peer.rtc.poll_output() {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(peer = id.0, error = %e, "peer failed");
                    peer.rtc.disconnect();
                    break;
                }
            };
            match output {
                Output::Timeout(t) if t <= now && !timed_out => {
                    timed_out = true;
                    if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                        tracing::debug!(peer = id.0, error = %e, "peer timeout failed");
                        peer.rtc.disconnect();
                    }
                }
                Output::Timeout(t) => {
                    peer.next_timeout = t;
                    break;
                }
                Output::Transmit(t) => self.transmits.push_back((t.destination, t.contents.into())),
                Output::Event(e) => match e {
                    Event::MediaAdded(m) => peer.media_added(m.kind, m.mid),
                    Event::Connected => {
                        tracing::debug!(peer = id.0, "peer connected");
                        if let PeerKind::Subscriber { routes } = &peer.kind {
                            // New subscribers need a keyframe to start decoding.
                            for r in routes {
                                work.push_back(Work::KeyframeFor {
                                    publisher: r.source,
                                    kind: KeyframeRequestKind::Pli,
                                });
                            }
                        }
                    }
                    // A lost path may come back (the client's checks get through
                    // again, or it restarts ICE): the peer waits `ICE_GRACE` for that.
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        peer.ice_lost_since.get_or_insert(now);
                    }
                    Event::IceConnectionStateChange(
                        IceConnectionState::Connected | IceConnectionState::Completed,
                    ) => peer.ice_lost_since = None,
                    Event::RtpPacket(packet) => {
                        let Some(mid) = peer.mid_of(packet.header.ssrc) else {
                            continue;
                        };
                        let pt = packet.header.payload_type;
                        let Some(params) =
                            (peer.rtc.codec_config()).find(|p| p.pt() == pt).copied()
                        else {
                            continue;
                        };
                        if let PeerKind::Publisher {
                            keyframe_pending_since: pending @ Some(_),
                            ..
                        } = &mut peer.kind
                        {
                            if rtp::starts_keyframe(params.spec().codec, &packet.payload) {
                                *pending = None;
                            }
                        }
                        // Lost packets are asked for again by str0m (NACK); a subscriber
                        // that cannot decode asks for a keyframe itself (PLI), forwarded.
                        work.push_back(Work::Forward {
                            from: id,
                            mid,
                            params,
                            packet,
                        });
                    }
                    Event::KeyframeRequest(req) => {
                        if let Some(route) = peer.route_of(req.mid) {
                            work.push_back(Work::KeyframeFor {
                                publisher: route.source,
                                kind: req.kind,
                            });
                        }
                    }
                    _ => {}
                },
            }
        }
        if !peer.rtc.is_alive() {
            tracing::info!(peer = id.0, "peer connection closed");
            self.remove(id);
            self.events.push_back(MediaEvent::Closed { peer: id });
        }
    }

    /// Writes one publisher packet into every subscriber connection routed to it: the
    /// payload is shared, the payload type is the subscriber's own for the same codec,
    /// the sequence number the route's own.
    fn forward(
        &mut self,
        from: PeerId,
        mid: Mid,
        params: PayloadParams,
        packet: &RtpPacket,
        written: &mut Vec<PeerId>,
    ) {
        let Some(publisher) = self.peers.get(&from) else {
            return;
        };
        let Some(kind) = publisher.published_kind(mid) else {
            return;
        };
        let PeerKind::Publisher { subscribers, .. } = &publisher.kind else {
            return;
        };
        let mut fan_out = std::mem::take(&mut self.fan_out);
        fan_out.clone_from(subscribers);
        let ext = &packet.header.ext_vals;
        // Only what describes the media itself; transport extensions are per hop.
        let ext_vals = ExtensionValues {
            audio_level: ext.audio_level,
            voice_activity: ext.voice_activity,
            video_orientation: ext.video_orientation,
            ..Default::default()
        };
        for &sub_id in &fan_out {
            let Some(sub) = self.peers.get_mut(&sub_id) else {
                continue;
            };
            let Some((route, rtc)) = sub.route_from_mut(from) else {
                continue;
            };
            let local_pt = match route.pt_for(params.pt()) {
                Some(pt) => pt,
                None => {
                    let Some(pt) = rtc.codec_config().match_params(params).map(|p| p.pt()) else {
                        continue;
                    };
                    route.learn_pt(params.pt(), pt);
                    pt
                }
            };
            let Some((sub_mid, seq)) = route
                .lane(kind)
                .and_then(|(m, shift)| shift.map(packet.seq_no).map(|s| (m, s)))
            else {
                continue;
            };
            let mut api = rtc.direct_api();
            let Some(tx) = api.stream_tx_by_mid(sub_mid, None) else {
                continue;
            };
            let write = RtpWrite::new(
                local_pt,
                seq,
                packet.header.timestamp,
                packet.timestamp,
                packet.payload.clone(),
            )
            .marker(packet.header.marker)
            .ext_vals(ext_vals.clone())
            .nackable(kind == MediaKind::Video);
            tx.write_rtp(write);
            written.push(sub_id);
        }
        self.fan_out = fan_out;
    }

    /// A subscriber is ready for `source`'s media: ask it for a keyframe.
    pub fn request_keyframe_now(&mut self, source: PeerId, now: Instant) {
        if self.request_keyframe(source, KeyframeRequestKind::Pli, now) {
            self.run(&[source], now);
        }
    }

    fn request_keyframe(
        &mut self,
        publisher: PeerId,
        kind: KeyframeRequestKind,
        now: Instant,
    ) -> bool {
        let Some(peer) = self.peers.get_mut(&publisher) else {
            return false;
        };
        let PeerKind::Publisher {
            video: Some(mid),
            keyframe_pending_since,
            ..
        } = &mut peer.kind
        else {
            return false;
        };
        // One keyframe on its way serves every subscriber waiting for it.
        if keyframe_pending_since.is_some_and(|t| now.duration_since(t) < KEYFRAME_RETRY) {
            return false;
        }
        let mid = *mid;
        *keyframe_pending_since = Some(now);
        let mut api = peer.rtc.direct_api();
        let Some(rx) = api.stream_rx_by_mid(mid, None) else {
            return false;
        };
        rx.request_keyframe(kind);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::media::Direction;

    /// An offer from a str0m client: audio and video in `dir`, with their mids.
    fn offer(dir: Direction) -> (String, Mid, Mid) {
        let mut client = Rtc::new(Instant::now());
        let mut api = client.sdp_api();
        let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
        let video = api.add_media(MediaKind::Video, dir, None, None, None);
        let (offer, _pending) = api.apply().expect("an offer");
        (offer.to_sdp_string(), audio, video)
    }

    #[test]
    fn downlinks_carry_no_congestion_control_extensions_and_uplinks_do() {
        let now = Instant::now();
        let mut sfu = Sfu::new("127.0.0.1:40000".parse().unwrap());
        let (publish, ..) = offer(Direction::SendOnly);
        let answer = sfu.add_publisher(PeerId(1), &publish, now).unwrap();
        assert!(answer.contains("transport-wide-cc"), "{answer}");

        let (subscribe, audio, video) = offer(Direction::RecvOnly);
        let (audio, video) = (audio.to_string(), video.to_string());
        let answer = sfu
            .add_subscriber(
                PeerId(2),
                PeerId(1),
                &subscribe,
                Some(&audio),
                Some(&video),
                now,
            )
            .unwrap();
        assert!(
            answer.contains("a=extmap:"),
            "media extensions stay: {answer}"
        );
        assert!(!answer.contains("transport-wide-cc"), "{answer}");
        assert!(!answer.contains("abs-send-time"), "{answer}");
    }
}
