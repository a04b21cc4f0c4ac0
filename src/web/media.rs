//! This page's own media: local capture, one RTCPeerConnection per published or
//! subscribed stream (the client always offers), and their teardown.

use super::convert;
use super::driver::{self, Shared};
use crate::core::{Command, LocalMedia, Outcome, SdkError};
use emedia_protocol::{ConferenceId, ErrorCode, StreamId, StreamType};
use js_sys::{Array, Object, Promise, Reflect};
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DisplayMediaStreamConstraints, MediaDevices, MediaStream, MediaStreamConstraints,
    MediaStreamTrack, RtcPeerConnection, RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
    RtcSdpType, RtcSessionDescriptionInit,
};

struct Publication {
    pc: RtcPeerConnection,
    stream: MediaStream,
    /// Tracks the SDK opened itself (stopped on close); an app's own stream is left alone.
    owns_tracks: bool,
}

struct Subscription {
    pc: RtcPeerConnection,
}

/// The connections this page holds, by stream.
#[derive(Default)]
pub struct LocalPeers {
    publications: HashMap<StreamId, Publication>,
    subscriptions: HashMap<StreamId, Subscription>,
}

impl LocalPeers {
    pub fn apply(&mut self, cmd: LocalMedia) {
        match cmd {
            LocalMedia::ClosePublisher(id) => {
                if let Some(p) = self.publications.remove(&id) {
                    p.pc.close();
                    if p.owns_tracks {
                        for t in p.stream.get_tracks().iter() {
                            t.unchecked_into::<MediaStreamTrack>().stop();
                        }
                    }
                }
            }
            LocalMedia::CloseSubscriber(id) => {
                if let Some(s) = self.subscriptions.remove(&id) {
                    s.pc.close();
                }
            }
        }
    }

    fn pc(&self, id: &StreamId) -> Option<&RtcPeerConnection> {
        self.publications
            .get(id)
            .map(|p| &p.pc)
            .or_else(|| self.subscriptions.get(id).map(|s| &s.pc))
    }
}

fn js_err(context: &str, e: JsValue) -> SdkError {
    let detail = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_default();
    SdkError::new(ErrorCode::NotSupported, format!("{context}: {detail}"))
}

async fn wait(p: Promise, context: &str) -> Result<JsValue, SdkError> {
    JsFuture::from(p).await.map_err(|e| js_err(context, e))
}

fn media_devices() -> Result<MediaDevices, SdkError> {
    let navigator = convert::get(&js_sys::global(), "navigator");
    let devices = convert::get(&navigator, "mediaDevices");
    if devices.is_undefined() {
        return Err(SdkError::new(
            ErrorCode::NotSupported,
            "no camera or microphone access here (navigator.mediaDevices)",
        ));
    }
    Ok(devices.unchecked_into())
}

fn or_default(v: JsValue, default: bool) -> JsValue {
    if v.is_undefined() || v.is_null() {
        default.into()
    } else {
        v
    }
}

/// The stream to publish: the app's own, the screen, or camera and microphone.
async fn capture(options: &JsValue, screen: bool) -> Result<(MediaStream, bool), SdkError> {
    if options.is_instance_of::<MediaStream>() {
        return Ok((options.clone().unchecked_into(), false));
    }
    let given = convert::get(options, "stream");
    if given.is_instance_of::<MediaStream>() {
        return Ok((given.unchecked_into(), false));
    }
    let devices = media_devices()?;
    let promise = if screen {
        let c = DisplayMediaStreamConstraints::new();
        c.set_video(&true.into());
        c.set_audio(&or_default(convert::get(options, "audio"), false));
        devices.get_display_media_with_constraints(&c)
    } else {
        let c = MediaStreamConstraints::new();
        c.set_audio(&or_default(convert::get(options, "audio"), true));
        c.set_video(&or_default(convert::get(options, "video"), true));
        devices.get_user_media_with_constraints(&c)
    }
    .map_err(|e| js_err("could not open the camera or microphone", e))?;
    let stream = wait(promise, "could not open the camera or microphone").await?;
    Ok((stream.unchecked_into(), true))
}

fn first_track(tracks: Array) -> Option<MediaStreamTrack> {
    let t = tracks.get(0);
    (!t.is_undefined()).then(|| t.unchecked_into())
}

fn transceiver_init(direction: RtcRtpTransceiverDirection) -> RtcRtpTransceiverInit {
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(direction);
    init
}

/// createOffer + setLocalDescription; returns the SDP.
async fn offer(pc: &RtcPeerConnection) -> Result<String, SdkError> {
    let offer = wait(pc.create_offer(), "createOffer failed").await?;
    let sdp = convert::get(&offer, "sdp").as_string().unwrap_or_default();
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    desc.set_sdp(&sdp);
    wait(
        pc.set_local_description(&desc),
        "setLocalDescription failed",
    )
    .await?;
    Ok(sdp)
}

async fn accept_answer(pc: &RtcPeerConnection, sdp: &str) -> Result<(), SdkError> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    desc.set_sdp(sdp);
    wait(
        pc.set_remote_description(&desc),
        "the server's answer was refused",
    )
    .await?;
    Ok(())
}

fn new_pc() -> Result<RtcPeerConnection, SdkError> {
    RtcPeerConnection::new().map_err(|e| js_err("no WebRTC here (RTCPeerConnection)", e))
}

/// Which conference: the one named in the options, else the one joined last.
fn conference_for(shared: &Shared, options: &JsValue) -> Result<ConferenceId, SdkError> {
    let named = convert::get(options, "confrId");
    if !named.is_undefined() {
        return convert::confr_id(&named);
    }
    shared
        .borrow()
        .core
        .current_conference()
        .cloned()
        .ok_or_else(|| {
            SdkError::new(
                ErrorCode::MemberInvalid,
                "join a conference before publishing",
            )
        })
}

/// `pubStream(options)`: resolves `{id, rtcId, stream, confrId}`.
pub async fn publish(shared: Shared, options: JsValue) -> Result<JsValue, SdkError> {
    // emedia's mini-program form: pubStream(rtcId).
    let options = match options.as_string() {
        Some(rtc_id) => {
            let o = Object::new();
            let _ = Reflect::set(&o, &"rtcId".into(), &rtc_id.into());
            o.into()
        }
        None => options,
    };
    let confr_id = conference_for(&shared, &options)?;
    let screen = convert::get(&options, "screen").is_truthy()
        || convert::get(&options, "type").as_string().as_deref() == Some("desktop");
    let rtc_id = match convert::opt_string(&convert::get(&options, "rtcId"), "rtcId")? {
        Some(id) => id,
        None => shared.borrow_mut().core.next_rtc_id(),
    };
    let ext = convert::ext(&convert::get(&options, "ext"))?;
    if let Some(conf) = shared.borrow().core.conference(&confr_id) {
        if conf.role == emedia_protocol::Role::Audience {
            return Err(SdkError::new(
                ErrorCode::IllegalRights,
                "an AUDIENCE member cannot publish",
            ));
        }
    }
    let (stream, owns_tracks) = capture(&options, screen).await?;
    let stop = |owns: bool| {
        if owns {
            for t in stream.get_tracks().iter() {
                t.unchecked_into::<MediaStreamTrack>().stop();
            }
        }
    };
    let audio = first_track(stream.get_audio_tracks());
    let video = first_track(stream.get_video_tracks());
    let pc = new_pc()?;
    let init = transceiver_init(RtcRtpTransceiverDirection::Sendonly);
    init.set_streams(&Array::of1(&stream));
    for track in audio.iter().chain(video.iter()) {
        pc.add_transceiver_with_media_stream_track_and_init(track, &init);
    }
    let result = async {
        let sdp = offer(&pc).await?;
        let cmd = Command::Publish {
            confr_id: confr_id.clone(),
            rtc_id: rtc_id.clone(),
            stream_type: if screen {
                StreamType::Desktop
            } else {
                StreamType::Camera
            },
            audio: audio.is_some(),
            video: video.is_some(),
            ext,
            sdp,
        };
        let Outcome::Published { stream: info, sdp } = driver::request(&shared, cmd).await? else {
            return Err(SdkError::new(
                ErrorCode::BadRequest,
                "unexpected reply to publish",
            ));
        };
        accept_answer(&pc, &sdp).await?;
        Ok(info)
    }
    .await;
    let info = match result {
        Ok(info) => info,
        Err(e) => {
            pc.close();
            stop(owns_tracks);
            return Err(e);
        }
    };
    shared.borrow_mut().local.publications.insert(
        info.id.clone(),
        Publication {
            pc,
            stream: stream.clone(),
            owns_tracks,
        },
    );
    let out = Object::new();
    let _ = Reflect::set(&out, &"id".into(), &info.id.as_str().into());
    let _ = Reflect::set(&out, &"rtcId".into(), &info.rtc_id.as_str().into());
    let _ = Reflect::set(&out, &"stream".into(), &stream);
    let _ = Reflect::set(&out, &"confrId".into(), &confr_id.as_str().into());
    Ok(out.into())
}

/// `subStream(streamId, {audio, video})`: resolves `{id, stream}` with the remote MediaStream.
pub async fn subscribe(
    shared: Shared,
    stream_id: JsValue,
    options: JsValue,
) -> Result<JsValue, SdkError> {
    let stream_id = StreamId(convert::string(&stream_id, "streamId")?);
    let (confr_id, info) = shared
        .borrow()
        .core
        .find_stream(&stream_id)
        .map(|(c, s)| (c.clone(), s.clone()))
        .ok_or_else(|| {
            SdkError::new(
                ErrorCode::PublishInactive,
                format!("no stream {stream_id} in your conferences"),
            )
        })?;
    if shared.borrow().local.subscriptions.contains_key(&stream_id) {
        return Err(SdkError::new(
            ErrorCode::BadRequest,
            "already subscribed to this stream",
        ));
    }
    let want_audio = info.audio && or_default(convert::get(&options, "audio"), true).is_truthy();
    let want_video = info.video && or_default(convert::get(&options, "video"), true).is_truthy();
    if !want_audio && !want_video {
        return Err(SdkError::bad_param("subscribe to audio, video or both"));
    }
    let pc = new_pc()?;
    let remote = MediaStream::new().map_err(|e| js_err("MediaStream", e))?;
    let init = transceiver_init(RtcRtpTransceiverDirection::Recvonly);
    for (kind, wanted) in [("audio", want_audio), ("video", want_video)] {
        if wanted {
            let t = pc.add_transceiver_with_str_and_init(kind, &init);
            remote.add_track(&t.receiver().track());
        }
    }
    let result = async {
        let sdp = offer(&pc).await?;
        let cmd = Command::Subscribe {
            confr_id,
            stream_id: stream_id.clone(),
            sdp,
        };
        let Outcome::Subscribed { sdp, .. } = driver::request(&shared, cmd).await? else {
            return Err(SdkError::new(
                ErrorCode::BadRequest,
                "unexpected reply to subscribe",
            ));
        };
        accept_answer(&pc, &sdp).await
    }
    .await;
    if let Err(e) = result {
        pc.close();
        return Err(e);
    }
    shared
        .borrow_mut()
        .local
        .subscriptions
        .insert(stream_id.clone(), Subscription { pc });
    let out = Object::new();
    let _ = Reflect::set(&out, &"id".into(), &stream_id.as_str().into());
    let _ = Reflect::set(&out, &"stream".into(), &remote);
    Ok(out.into())
}

/// Which own stream, and in which conference.
fn own_stream(
    shared: &Shared,
    stream_id: &JsValue,
) -> Result<(ConferenceId, emedia_protocol::StreamInfo), SdkError> {
    let id = StreamId(convert::string(stream_id, "streamId")?);
    let d = shared.borrow();
    let (confr_id, info) = d.core.find_stream(&id).ok_or_else(|| {
        SdkError::new(
            ErrorCode::PublishInactive,
            format!("no stream {id} in your conferences"),
        )
    })?;
    if !d.local.publications.contains_key(&id) {
        return Err(SdkError::new(
            ErrorCode::IllegalRights,
            "that stream is not yours",
        ));
    }
    Ok((confr_id.clone(), info.clone()))
}

/// pause/resume: the tracks stop or start at the source, and everyone else is told.
pub async fn set_paused(
    shared: Shared,
    stream_id: JsValue,
    audio: bool,
    paused: bool,
) -> Result<JsValue, SdkError> {
    let (confr_id, info) = own_stream(&shared, &stream_id)?;
    if let Some(p) = shared.borrow().local.publications.get(&info.id) {
        let tracks = if audio {
            p.stream.get_audio_tracks()
        } else {
            p.stream.get_video_tracks()
        };
        for t in tracks.iter() {
            t.unchecked_into::<MediaStreamTrack>().set_enabled(!paused);
        }
    }
    let (aoff, voff) = if audio {
        (paused, info.voff)
    } else {
        (info.aoff, paused)
    };
    let cmd = Command::SetMedia {
        confr_id,
        stream_id: info.id,
        aoff,
        voff,
    };
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

pub async fn unpublish(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let (confr_id, info) = own_stream(&shared, &stream_id)?;
    let cmd = Command::Unpublish {
        confr_id,
        stream_id: info.id,
    };
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

pub async fn unsubscribe(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    if !shared.borrow().local.subscriptions.contains_key(&id) {
        return Err(SdkError::new(
            ErrorCode::BadRequest,
            "not subscribed to this stream",
        ));
    }
    let confr_id = shared
        .borrow()
        .core
        .find_stream(&id)
        .map(|(c, _)| c.clone())
        .ok_or_else(|| SdkError::new(ErrorCode::PublishInactive, "that stream has ended"))?;
    let cmd = Command::Unsubscribe {
        confr_id,
        stream_id: id,
    };
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

/// `getStats(streamId)`: the RTCStatsReport of the connection carrying that stream.
pub async fn stats(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let promise = shared
        .borrow()
        .local
        .pc(&id)
        .map(|pc| pc.get_stats())
        .ok_or_else(|| {
            SdkError::new(
                ErrorCode::PublishInactive,
                "you neither publish nor subscribe to that stream",
            )
        })?;
    wait(promise, "getStats failed").await
}
