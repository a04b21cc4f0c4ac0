//! Local media controls: what this page plays of others' audio, which camera and
//! microphone its own streams send, and sending audio only. Nothing is negotiated
//! again: a remote stream is muted at its audio track (only this page stops hearing
//! it), and a published stream's source changes on its existing sender
//! (`RTCRtpSender.replaceTrack`), so its id and everyone's subscriptions stay.
//! `switchToAudio` also tells the server `voff`, as `pauseVideo` does.

use super::convert;
use super::driver::{self, Shared};
use super::media::{js_err, no_stream, wait};
use super::publish::{media_devices, own_stream};
use crate::core::{cat, Command, SdkError};
use emedia_protocol::{ErrorCode, Request, StreamId};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcRtpTransceiver};

/// Enables or disables the audio among a subscription's transceivers.
pub fn set_muted(transceivers: &[RtcRtpTransceiver], muted: bool) {
    for t in transceivers {
        let track = t.receiver().track();
        if track.kind() == "audio" {
            track.set_enabled(!muted);
        }
    }
}

/// `muteRemoteAudio(streamId, muted)`: this page stops (or starts again) playing a
/// subscribed stream's audio.
pub fn mute_remote_audio(
    shared: &Shared,
    stream_id: &JsValue,
    muted: &JsValue,
) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(stream_id, "streamId")?);
    let muted = muted.is_truthy();
    let mut d = shared.borrow_mut();
    let Some((_, transceivers)) = d.local.subscriptions.get(&id) else {
        return Err(SdkError::new(
            ErrorCode::PublishInactive,
            cat(&["you do not subscribe to stream ", id.as_str()]),
        ));
    };
    set_muted(transceivers, muted);
    if muted {
        d.local.muted.insert(id);
    } else {
        d.local.muted.remove(&id);
    }
    Ok(JsValue::UNDEFINED)
}

/// `muteAllRemoteAudio(muted)`: every subscribed stream, and the ones subscribed later
/// while it holds.
pub fn mute_all_remote_audio(shared: &Shared, muted: &JsValue) -> Result<JsValue, SdkError> {
    let muted = muted.is_truthy();
    let mut d = shared.borrow_mut();
    let local = &mut d.local;
    local.mute_all = muted;
    for (id, (_, transceivers)) in local.subscriptions.iter() {
        set_muted(transceivers, muted);
        if muted {
            local.muted.insert(id.clone());
        } else {
            local.muted.remove(id);
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// `changeCamera` / `changeMicrophone(streamId, deviceId)`: opens that device and
/// sends it in place of the stream's camera (`video`) or microphone; the old track is
/// stopped. After `switchToAudio`, `changeCamera` sends video again.
pub async fn change_device(
    shared: Shared,
    stream_id: JsValue,
    device_id: JsValue,
    video: bool,
) -> Result<JsValue, SdkError> {
    let (confr_id, info) = own_stream(&shared, &stream_id)?;
    let device_id = convert::string(&device_id, "deviceId")?;
    sender_of(&shared, &info.id, video)?;
    let exact = Object::new();
    let _ = Reflect::set(&exact, &"exact".into(), &device_id.as_str().into());
    let wanted = Object::new();
    let _ = Reflect::set(&wanted, &"deviceId".into(), &exact);
    let constraints = MediaStreamConstraints::new();
    if video {
        constraints.set_video(&wanted);
    } else {
        constraints.set_audio(&wanted);
    }
    let opened = media_devices()?
        .get_user_media_with_constraints(&constraints)
        .map(JsFuture::from);
    let opened: MediaStream = match opened {
        Ok(p) => p.await,
        Err(e) => Err(e),
    }
    .map_err(|e| {
        // An unknown deviceId: no device satisfies `exact`.
        let name = convert::get(&e, "name").as_string().unwrap_or_default();
        if name == "OverconstrainedError" || name == "NotFoundError" {
            let what = if video { "no camera" } else { "no microphone" };
            SdkError::bad_param(cat(&[what, " with deviceId ", &device_id]))
        } else {
            js_err("could not open that device", e)
        }
    })?
    .unchecked_into();
    let tracks = if video {
        opened.get_video_tracks()
    } else {
        opened.get_audio_tracks()
    };
    let track: MediaStreamTrack = tracks.get(0).unchecked_into();
    // The stream may have ended while the device opened.
    let (sender, stream) = match sender_of(&shared, &info.id, video) {
        Ok(found) => found,
        Err(e) => {
            track.stop();
            return Err(e);
        }
    };
    let old = sender.track();
    // A paused source stays paused on the new device.
    track.set_enabled(old.as_ref().is_none_or(|t| t.enabled()));
    if let Err(e) = wait(sender.replace_track(Some(&track)), "replaceTrack failed").await {
        track.stop();
        return Err(e);
    }
    swap_track(&shared, &info.id, &stream, old.as_ref(), Some(&track));
    if video && old.is_none() {
        // Video was off since switchToAudio: it flows again.
        set_voff(&shared, confr_id, &info.id, false).await?;
    }
    Ok(JsValue::UNDEFINED)
}

/// `switchToAudio(streamId)`: the stream stops sending video for good (its camera is
/// stopped, its sender sends nothing) and everyone sees `voff`. A stream without video
/// has nothing to stop.
pub async fn switch_to_audio(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let (confr_id, info) = own_stream(&shared, &stream_id)?;
    let Ok((sender, stream)) = sender_of(&shared, &info.id, true) else {
        return Ok(JsValue::UNDEFINED);
    };
    let Some(old) = sender.track() else {
        return Ok(JsValue::UNDEFINED);
    };
    wait(sender.replace_track(None), "replaceTrack failed").await?;
    swap_track(&shared, &info.id, &stream, Some(&old), None);
    set_voff(&shared, confr_id, &info.id, true).await?;
    Ok(JsValue::UNDEFINED)
}

/// The publication's video or audio sender, and its local stream.
fn sender_of(
    shared: &Shared,
    id: &StreamId,
    video: bool,
) -> Result<(web_sys::RtcRtpSender, MediaStream), SdkError> {
    let d = shared.borrow();
    let p = d.local.publications.get(id).ok_or_else(|| no_stream(id))?;
    let sender = if video { &p.video } else { &p.audio };
    match sender {
        // `Clone::clone`: web-sys's inherent `MediaStream::clone` is the JS `clone()`,
        // a new stream of new tracks.
        Some(s) => Ok((s.clone(), Clone::clone(&p.stream))),
        None => Err(SdkError::bad_param(if video {
            "that stream sends no video"
        } else {
            "that stream sends no audio"
        })),
    }
}

/// The local stream (what pubStream resolved, the app's preview) shows the new track
/// instead of the old one, which is stopped; the SDK stops the new one on unpublish.
fn swap_track(
    shared: &Shared,
    id: &StreamId,
    stream: &MediaStream,
    old: Option<&MediaStreamTrack>,
    new: Option<&MediaStreamTrack>,
) {
    if let Some(old) = old {
        stream.remove_track(old);
        old.stop();
    }
    if let Some(new) = new {
        stream.add_track(new);
    }
    let mut d = shared.borrow_mut();
    match d.local.publications.get_mut(id) {
        Some(p) => {
            p.owned.retain(|t| Some(t) != old);
            p.owned.extend(new.cloned());
        }
        // Unpublished meanwhile: nobody else will stop it.
        None => {
            if let Some(new) = new {
                new.stop();
            }
        }
    }
}

/// Tells the server the stream's video is off (or on), keeping its audio state.
async fn set_voff(
    shared: &Shared,
    confr_id: emedia_protocol::ConferenceId,
    id: &StreamId,
    voff: bool,
) -> Result<(), SdkError> {
    let aoff = shared
        .borrow()
        .core
        .find_stream(id)
        .map(|(_, s)| s.aoff)
        .ok_or_else(|| no_stream(id))?;
    let cmd = Command::Send(Request::SetMedia {
        confr_id,
        stream_id: id.clone(),
        aoff,
        voff,
    });
    driver::request(shared, cmd).await.map(|_| ())
}
