//! This page's own media connections and the WebRTC steps publishing and
//! subscribing share. Publishing uses one send-only connection per stream
//! (`publish.rs`); subscribing uses one receive-only connection per conference,
//! renegotiated for each stream (`subscribe.rs`). The client always offers.

use crate::core::{cat, LocalMedia, SdkError};
use crate::core::{VecMap, VecSet};
use emedia_protocol::{ConferenceId, ErrorCode, StreamId, StreamType};
use futures_channel::oneshot;
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpSender, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
};

pub struct Publication {
    pub pc: RtcPeerConnection,
    pub stream: MediaStream,
    /// The tracks the SDK opened itself (stopped on close): all of a capture, none of
    /// an app's own stream, and each camera or microphone `changeCamera` /
    /// `changeMicrophone` opened.
    pub owned: Vec<MediaStreamTrack>,
    /// The senders of the stream's audio and video on `pc`, once it is offered. After
    /// `switchToAudio` the video sender sends no track.
    pub audio: Option<RtcRtpSender>,
    pub video: Option<RtcRtpSender>,
    /// What was asked for, to publish it again after a rejoin.
    pub spec: PublishSpec,
    /// The object pubStream resolved with (`{id, rtcId, stream, confrId}`).
    pub handle: js_sys::Object,
    /// Restarts ICE when the path breaks (`ice.rs`), once the stream is live.
    pub ice_watch: Option<Closure<dyn FnMut()>>,
}

pub struct PublishSpec {
    pub rtc_id: String,
    pub stream_type: StreamType,
    pub ext: Option<String>,
    /// `videoCodec`: the codec offered first.
    pub codec: Option<String>,
}

impl Publication {
    /// Stops (or resumes) sending the microphone: an ADMIN's mute.
    pub fn silence(&self, silent: bool) {
        for t in self.stream.get_audio_tracks().iter() {
            t.unchecked_into::<MediaStreamTrack>().set_enabled(!silent);
        }
    }

    /// Closes the connection, and the tracks the SDK opened.
    pub fn release(self) {
        self.pc.close();
        for t in &self.owned {
            t.stop();
        }
    }
}

/// One conference's subscribing connection. Offers on it must not overlap, so
/// subscriptions take turns (`busy` and the queue of `waiters`).
pub struct SubscriberConnection {
    pub pc: RtcPeerConnection,
    pub busy: bool,
    pub waiters: Vec<oneshot::Sender<()>>,
    /// Restarts ICE when the path breaks (`ice.rs`); held only to stay alive.
    pub _ice_watch: Closure<dyn FnMut()>,
}

/// The connections this page holds.
#[derive(Default)]
pub struct LocalPeers {
    pub publications: VecMap<StreamId, Publication>,
    pub connections: VecMap<ConferenceId, SubscriberConnection>,
    /// Each subscribed stream's transceivers, and its conference.
    pub subscriptions: VecMap<StreamId, (ConferenceId, Vec<RtcRtpTransceiver>)>,
    /// Subscribed streams whose audio this page does not play (`muteRemoteAudio`).
    pub muted: VecSet<StreamId>,
    /// `muteAllRemoteAudio(true)` holds: new subscriptions start muted.
    pub mute_all: bool,
}

impl LocalPeers {
    /// Does what the core asks; a publication to publish again is handed back (that
    /// takes the driver, for its request).
    pub fn apply(&mut self, cmd: LocalMedia) -> Option<(ConferenceId, Publication)> {
        match cmd {
            LocalMedia::ClosePublisher(id) => {
                if let Some(p) = self.publications.remove(&id) {
                    p.release();
                }
            }
            LocalMedia::SilenceSource { stream_id, silent } => {
                if let Some(p) = self.publications.get(&stream_id) {
                    p.silence(silent);
                }
            }
            LocalMedia::Republish {
                confr_id,
                stream_id,
            } => return self.publications.remove(&stream_id).map(|p| (confr_id, p)),
            LocalMedia::CloseSubscriber(id) => {
                // Stopping ends the remote tracks now; the next offer rejects the m-lines.
                if let Some((_, transceivers)) = self.subscriptions.remove(&id) {
                    for t in transceivers {
                        t.stop();
                    }
                }
                self.muted.remove(&id);
            }
            LocalMedia::CloseSubscriberConnection(confr_id) => {
                if let Some(c) = self.connections.remove(&confr_id) {
                    c.pc.close();
                }
                self.subscriptions.retain(|_, (c, _)| *c != confr_id);
                let subscriptions = &self.subscriptions;
                self.muted.retain(|id| subscriptions.contains_key(id));
            }
        }
        None
    }
}

pub fn js_err(context: &str, e: JsValue) -> SdkError {
    let detail = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_default();
    SdkError::new(ErrorCode::NotSupported, cat(&[context, ": ", &detail]))
}

/// -554 for a stream id none of this page's conferences has.
pub fn no_stream(id: &StreamId) -> SdkError {
    SdkError::new(
        ErrorCode::PublishInactive,
        cat(&["no stream ", id.as_str(), " in your conferences"]),
    )
}

pub async fn wait(p: Promise, context: &str) -> Result<JsValue, SdkError> {
    JsFuture::from(p).await.map_err(|e| js_err(context, e))
}

pub fn transceiver_init(direction: RtcRtpTransceiverDirection) -> RtcRtpTransceiverInit {
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(direction);
    init
}

pub fn new_pc() -> Result<RtcPeerConnection, SdkError> {
    RtcPeerConnection::new().map_err(|e| js_err("no WebRTC here (RTCPeerConnection)", e))
}

/// createOffer + setLocalDescription; returns the SDP.
pub async fn offer(pc: &RtcPeerConnection) -> Result<String, SdkError> {
    let offer = wait(pc.create_offer(), "createOffer failed").await?;
    let sdp = Reflect::get(&offer, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    desc.set_sdp(&sdp);
    wait(
        pc.set_local_description(&desc),
        "setLocalDescription failed",
    )
    .await?;
    Ok(sdp)
}

pub async fn accept_answer(pc: &RtcPeerConnection, sdp: &str) -> Result<(), SdkError> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    desc.set_sdp(sdp);
    wait(
        pc.set_remote_description(&desc),
        "the server's answer was refused",
    )
    .await?;
    Ok(())
}

/// Takes back an offer the server refused, so the connection can offer again.
pub async fn rollback(pc: &RtcPeerConnection) {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
    let _ = wait(pc.set_local_description(&desc), "rollback failed").await;
}
