//! Publishing: capture (camera and microphone, the screen, or the app's own stream)
//! and one send-only RTCPeerConnection per published stream.

use super::convert;
use super::driver::{self, Shared};
use super::media::{
    accept_answer, js_err, new_pc, no_stream, offer, transceiver_init, wait, Publication,
    PublishSpec,
};
use crate::core::{cat, Command, Outcome, SdkError};
use emedia_protocol::{ConferenceId, ErrorCode, Request, StreamId, StreamType};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    DisplayMediaStreamConstraints, MediaDevices, MediaStream, MediaStreamConstraints,
    MediaStreamTrack, RtcRtpTransceiverDirection,
};

pub(super) fn media_devices() -> Result<MediaDevices, SdkError> {
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

/// `videoCodec: 'vp8' | 'h264'`: offer that codec first (the SFU answers with the first
/// codec it forwards). H264 is what mini-program players need.
fn prefer_codec(transceiver: &web_sys::RtcRtpTransceiver, codec: &str) -> Result<(), SdkError> {
    let codec = codec.to_ascii_lowercase();
    if !["vp8", "h264"].contains(&codec.as_str()) {
        return Err(SdkError::bad_param("videoCodec must be 'vp8' or 'h264'"));
    }
    // A class is a function, which `convert::get` (for plain objects) does not read.
    let receiver =
        Reflect::get(&js_sys::global(), &"RTCRtpReceiver".into()).unwrap_or(JsValue::UNDEFINED);
    let caps = Reflect::get(&receiver, &"getCapabilities".into())
        .unwrap_or(JsValue::UNDEFINED)
        .dyn_into::<js_sys::Function>()
        .and_then(|f| f.call1(&receiver, &"video".into()))
        .map_err(|e| js_err("RTCRtpReceiver.getCapabilities failed", e))?;
    let wanted = cat(&["video/", &codec]);
    let (first, rest): (Vec<JsValue>, Vec<JsValue>) = Array::from(&convert::get(&caps, "codecs"))
        .iter()
        .partition(|c| {
            convert::get(c, "mimeType")
                .as_string()
                .map(|m| m.to_ascii_lowercase())
                == Some(wanted.clone())
        });
    if first.is_empty() {
        return Err(SdkError::new(
            ErrorCode::SubscribeNoCodec,
            cat(&["this browser cannot send ", &codec]),
        ));
    }
    let ordered: Array = first.into_iter().chain(rest).collect();
    convert::get(transceiver, "setCodecPreferences")
        .dyn_into::<js_sys::Function>()
        .and_then(|f| f.call1(transceiver, &ordered))
        .map_err(|e| js_err("setCodecPreferences failed", e))?;
    Ok(())
}

pub(super) fn or_default(v: JsValue, default: bool) -> JsValue {
    if v.is_undefined() || v.is_null() {
        default.into()
    } else {
        v
    }
}

/// The stream to publish: the app's own, the screen, or camera and microphone (the
/// camera unless `video` is false, or absent in an audio call).
async fn capture(
    options: &JsValue,
    screen: bool,
    audio_call: bool,
) -> Result<(MediaStream, bool), SdkError> {
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
        c.set_video(&or_default(convert::get(options, "video"), !audio_call));
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

/// Which conference: the one named in the options, else the one joined last.
pub(super) fn conference_for(shared: &Shared, options: &JsValue) -> Result<ConferenceId, SdkError> {
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

/// emedia's mini-program form `pubStream(rtcId)` as options `{rtcId}`.
pub(super) fn pub_options(options: JsValue) -> JsValue {
    match options.as_string() {
        Some(rtc_id) => {
            let o = Object::new();
            let _ = Reflect::set(&o, &"rtcId".into(), &rtc_id.into());
            o.into()
        }
        None => options,
    }
}

/// `pubStream(options)`: resolves `{id, rtcId, stream, confrId}`.
pub async fn publish(shared: Shared, options: JsValue) -> Result<JsValue, SdkError> {
    let options = pub_options(options);
    let confr_id = conference_for(&shared, &options)?;
    let screen = convert::get(&options, "screen").is_truthy()
        || convert::get(&options, "type").as_string().as_deref() == Some("desktop");
    let rtc_id = match convert::opt_string(&convert::get(&options, "rtcId"), "rtcId")? {
        Some(id) => id,
        None => shared.borrow_mut().core.next_rtc_id(),
    };
    let spec = PublishSpec {
        rtc_id,
        stream_type: if screen {
            StreamType::Desktop
        } else {
            StreamType::Camera
        },
        ext: convert::ext(&convert::get(&options, "ext"))?,
        codec: convert::opt_string(&convert::get(&options, "videoCodec"), "videoCodec")?,
    };
    if let Some(conf) = shared.borrow().core.conference(&confr_id) {
        if conf.role == emedia_protocol::Role::Audience {
            return Err(SdkError::new(
                ErrorCode::IllegalRights,
                "an AUDIENCE member cannot publish",
            ));
        }
    }
    let audio_call = shared.borrow().core.audio_call(&confr_id);
    let (stream, owns_tracks) = capture(&options, screen, audio_call).await?;
    let owned = if owns_tracks {
        stream
            .get_tracks()
            .iter()
            .map(|t| t.unchecked_into())
            .collect()
    } else {
        Vec::new()
    };
    let handle = Object::new();
    let _ = Reflect::set(&handle, &"rtcId".into(), &spec.rtc_id.as_str().into());
    let _ = Reflect::set(&handle, &"stream".into(), &stream);
    let _ = Reflect::set(&handle, &"confrId".into(), &confr_id.as_str().into());
    let p = Publication {
        pc: new_pc()?,
        stream,
        owned,
        audio: None,
        video: None,
        spec,
        handle,
        ice_watch: None,
    };
    match send_media(&shared, confr_id, p).await {
        Ok(handle) => Ok(handle.into()),
        Err((p, e)) => {
            p.release();
            Err(e)
        }
    }
}

/// Publishes again, under a new id, a stream whose session the server lost: same
/// media, same rtcId, and the object pubStream resolved with gets the new id.
pub fn republish(shared: &Shared, confr_id: ConferenceId, old: Publication) {
    old.pc.close();
    let shared = shared.clone();
    let task = async move {
        let p = match new_pc() {
            Ok(pc) => Publication {
                pc,
                ice_watch: None,
                ..old
            },
            Err(_) => return Ok(JsValue::UNDEFINED),
        };
        if let Err((p, e)) = send_media(&shared, confr_id, p).await {
            driver::warn(&cat(&["emedia: could not publish again: ", &e.message]));
            p.release();
        }
        Ok(JsValue::UNDEFINED)
    };
    // Always fulfilled, so the promise needs no handler.
    drop(super::settle(Box::pin(task)));
}

/// Offers `p`'s media on its new connection and keeps the publication; on failure
/// hands it back (closed) with the reason.
async fn send_media(
    shared: &Shared,
    confr_id: ConferenceId,
    mut p: Publication,
) -> Result<Object, (Publication, SdkError)> {
    let audio = first_track(p.stream.get_audio_tracks());
    let video = first_track(p.stream.get_video_tracks());
    let init = transceiver_init(RtcRtpTransceiverDirection::Sendonly);
    init.set_streams(&Array::of1(&p.stream));
    p.audio = audio.as_ref().map(|track| {
        p.pc.add_transceiver_with_media_stream_track_and_init(track, &init)
            .sender()
    });
    p.video = None;
    if let Some(track) = &video {
        let t =
            p.pc.add_transceiver_with_media_stream_track_and_init(track, &init);
        p.video = Some(t.sender());
        if let Some(codec) = &p.spec.codec {
            if let Err(e) = prefer_codec(&t, codec) {
                return Err((p, e));
            }
        }
    }
    let result = async {
        let sdp = offer(&p.pc).await?;
        let cmd = Command::Send(Request::Publish {
            confr_id: confr_id.clone(),
            rtc_id: p.spec.rtc_id.clone(),
            stream_type: p.spec.stream_type,
            audio: audio.is_some(),
            video: video.is_some(),
            ext: p.spec.ext.clone(),
            sdp,
        });
        let Outcome::Published { stream: info, sdp } = driver::request(shared, cmd).await? else {
            return Err(SdkError::new(
                ErrorCode::BadRequest,
                "unexpected reply to publish",
            ));
        };
        if let Err(e) = accept_answer(&p.pc, &sdp).await {
            // The server holds a live stream this page cannot feed: take it back.
            driver::send_unawaited(
                shared,
                Request::Unpublish {
                    confr_id: confr_id.clone(),
                    stream_id: info.id.clone(),
                },
            );
            return Err(e);
        }
        Ok(info)
    }
    .await;
    let info = match result {
        Ok(info) => info,
        Err(e) => return Err((p, e)),
    };
    // The stream may have ended while the answer was applied (kicked, demoted, left):
    // then there is nothing to keep.
    let still_published = shared
        .borrow()
        .core
        .conference(&confr_id)
        .is_some_and(|c| c.published.contains(&info.id));
    if !still_published {
        let e = SdkError::new(
            ErrorCode::PublishInactive,
            "the stream ended while it was being published",
        );
        return Err((p, e));
    }
    let handle = p.handle.clone();
    let _ = Reflect::set(&handle, &"id".into(), &info.id.as_str().into());
    let _ = Reflect::set(&handle, &"confrId".into(), &confr_id.as_str().into());
    p.ice_watch = Some(super::ice::watch(shared, &p.pc));
    // An ADMIN's mute holds for new streams too (the server starts them with `aoff`).
    if shared.borrow().core.muted_in(&confr_id) {
        p.silence(true);
    }
    shared.borrow_mut().local.publications.insert(info.id, p);
    Ok(handle)
}

/// Which own stream, and in which conference.
pub(super) fn own_stream(
    shared: &Shared,
    stream_id: &JsValue,
) -> Result<(ConferenceId, emedia_protocol::StreamInfo), SdkError> {
    let id = StreamId(convert::string(stream_id, "streamId")?);
    let d = shared.borrow();
    let (confr_id, info) = d.core.find_stream(&id).ok_or_else(|| no_stream(&id))?;
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
    // Before the track is enabled below; the core would refuse the request anyway.
    if audio && !paused && shared.borrow().core.muted_in(&confr_id) {
        return Err(SdkError::muted());
    }
    if let Some(p) = shared.borrow().local.publications.get(&info.id) {
        if !audio && !paused && p.video.as_ref().is_some_and(|s| s.track().is_none()) {
            return Err(SdkError::bad_param(
                "the stream sends no video since switchToAudio: changeCamera sends it again",
            ));
        }
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
    let cmd = Command::Send(Request::SetMedia {
        confr_id,
        stream_id: info.id,
        aoff,
        voff,
    });
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

pub async fn unpublish(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let (confr_id, info) = own_stream(&shared, &stream_id)?;
    let cmd = Command::Send(Request::Unpublish {
        confr_id,
        stream_id: info.id,
    });
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}
