//! Media in a WeChat mini-program: no RTCPeerConnection there, so the page pushes
//! with `<live-pusher>` and plays with `<live-player>`, over RTMP. pubStream and
//! subStream ask the server for the URLs (`{data: {rtmp}}`, as emedia resolved), and
//! `onStateChange` takes the components' `bindstatechange` events to republish or
//! replay with fresh URLs when they report a lost connection.

use super::convert;
use super::driver::{self, Shared};
use super::media::no_stream;
use super::publish::{conference_for, pub_options};
use crate::core::{cat, Command, Outcome, SdkError};
use emedia_protocol::{ConferenceId, ErrorCode, Request, StreamId, StreamInfo, StreamType};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

/// `<live-pusher>`: the push failed for good after the component's own retries.
const PUSHER_DISCONNECTED: i32 = -1307;
/// `<live-player>`: the network is lost after the component's own retries.
const PLAYER_DISCONNECTED: i32 = -2301;

/// `pubStream(rtcId)` or `pubStream({rtcId, confrId, audio, video, type, ext})`.
pub async fn publish(shared: Shared, options: JsValue) -> Result<JsValue, SdkError> {
    let options = pub_options(options);
    let confr_id = conference_for(&shared, &options)?;
    let rtc_id = match convert::opt_string(&convert::get(&options, "rtcId"), "rtcId")? {
        Some(id) => id,
        None => shared.borrow_mut().core.next_rtc_id(),
    };
    // A live-pusher sends both unless the app says otherwise, or (video) unless this
    // is an audio call.
    let audio_call = shared.borrow().core.audio_call(&confr_id);
    let wanted = |key, default: bool| match convert::get(&options, key) {
        v if v.is_undefined() => default,
        v => v != JsValue::FALSE,
    };
    let stream_type = match convert::get(&options, "type").as_string().as_deref() {
        Some("desktop") => StreamType::Desktop,
        _ => StreamType::Camera,
    };
    let req = Request::PublishRtmp {
        confr_id: confr_id.clone(),
        rtc_id,
        stream_type,
        audio: wanted("audio", true),
        video: wanted("video", !audio_call),
        ext: convert::ext(&convert::get(&options, "ext"))?,
    };
    push_url(&shared, confr_id, req).await
}

async fn push_url(
    shared: &Shared,
    confr_id: ConferenceId,
    req: Request,
) -> Result<JsValue, SdkError> {
    let cmd = Command::Send(req.clone());
    let Outcome::Rtmp { stream, url } = driver::request(shared, cmd).await? else {
        return Err(unexpected());
    };
    shared
        .borrow_mut()
        .rtmp_pushes
        .insert(stream.id.clone(), req);
    let result = result(&stream, &url);
    let _ = Reflect::set(&result, &"rtcId".into(), &stream.rtc_id.as_str().into());
    let _ = Reflect::set(&result, &"confrId".into(), &confr_id.as_str().into());
    Ok(result)
}

/// `subStream(streamId)`: the URL for a `<live-player>`.
pub async fn play(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let confr_id = shared
        .borrow()
        .core
        .find_stream(&id)
        .map(|(c, _)| c.clone())
        .ok_or_else(|| no_stream(&id))?;
    let cmd = Command::Send(Request::PlayRtmp {
        confr_id,
        stream_id: id,
    });
    let Outcome::Rtmp { stream, url } = driver::request(&shared, cmd).await? else {
        return Err(unexpected());
    };
    Ok(result(&stream, &url))
}

/// `onStateChange(event, streamId?)`: a `bindstatechange` event of the live-pusher
/// (own stream) or a live-player (someone's stream). The stream is the argument, or
/// the component's `data-stream-id`, or its `id`. Resolves with fresh
/// `{id, data: {rtmp}}` when the SDK republished or replayed, else with null.
pub async fn state_change(
    shared: Shared,
    event: JsValue,
    stream_id: JsValue,
) -> Result<JsValue, SdkError> {
    let code = convert::get(&convert::get(&event, "detail"), "code")
        .as_f64()
        .ok_or_else(|| SdkError::bad_param("the event has no detail.code"))? as i32;
    if code != PUSHER_DISCONNECTED && code != PLAYER_DISCONNECTED {
        return Ok(JsValue::NULL);
    }
    let stream_id = if stream_id.is_undefined() {
        let target = convert::get(&event, "currentTarget");
        let from_data = convert::get(&convert::get(&target, "dataset"), "streamId");
        if from_data.is_undefined() {
            convert::get(&target, "id")
        } else {
            from_data
        }
    } else {
        stream_id
    };
    if code == PLAYER_DISCONNECTED {
        return play(shared, stream_id).await;
    }
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let Some(req) = shared.borrow_mut().rtmp_pushes.remove(&id) else {
        return Err(SdkError::new(
            ErrorCode::IllegalRights,
            cat(&[id.as_str(), " is not a stream this page pushes"]),
        ));
    };
    let Some(confr_id) = req.confr_id().cloned() else {
        return Err(unexpected());
    };
    // The old push is gone: end its stream unless the RTMP server's report has
    // already (others see it removed), and push again under the same rtcId.
    if own_stream(&shared, &id).is_ok() {
        let unpublish = Command::Send(Request::Unpublish {
            confr_id: confr_id.clone(),
            stream_id: id,
        });
        let _ = driver::request(&shared, unpublish).await;
    }
    push_url(&shared, confr_id, req).await
}

/// `unpubStream(streamId)` of a pushed stream.
pub async fn unpublish(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let (confr_id, _) = own_stream(&shared, &id)?;
    shared.borrow_mut().rtmp_pushes.remove(&id);
    let cmd = Command::Send(Request::Unpublish {
        confr_id,
        stream_id: id,
    });
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

fn own_stream(shared: &Shared, id: &StreamId) -> Result<(ConferenceId, StreamInfo), SdkError> {
    let d = shared.borrow();
    let (confr_id, info) = d.core.find_stream(id).ok_or_else(|| no_stream(id))?;
    let ours = d
        .core
        .conference(confr_id)
        .is_some_and(|c| c.published.contains(id));
    if !ours {
        return Err(SdkError::new(
            ErrorCode::IllegalRights,
            "that stream is not yours",
        ));
    }
    Ok((confr_id.clone(), info.clone()))
}

/// `{id, data: {rtmp}}`, emedia's shape.
fn result(stream: &StreamInfo, url: &str) -> JsValue {
    let data = Object::new();
    let _ = Reflect::set(&data, &"rtmp".into(), &url.into());
    let o = Object::new();
    let _ = Reflect::set(&o, &"id".into(), &stream.id.as_str().into());
    let _ = Reflect::set(&o, &"data".into(), &data);
    o.into()
}

fn unexpected() -> SdkError {
    SdkError::new(ErrorCode::BadRequest, "unexpected reply from the server")
}
