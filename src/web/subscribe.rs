//! Subscribing: one receive-only RTCPeerConnection per conference. The first
//! subscription connects it; each further one adds m-lines and renegotiates, which
//! skips a new ICE and DTLS handshake (see BENCHMARKS.md for what that saves).

use super::convert;
use super::driver::{self, Shared};
use super::media::{
    accept_answer, js_err, new_pc, no_stream, offer, rollback, transceiver_init, wait,
    SubscriberConnection,
};
use super::publish::or_default;
use crate::core::{cat, Command, Outcome, SdkError};
use emedia_protocol::{ConferenceId, ErrorCode, Request, StreamId};
use futures_channel::oneshot;
use js_sys::{Map, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, RtcPeerConnection, RtcRtpTransceiverDirection};

/// Waits for this conference's connection to be free, creating it if needed.
pub(super) async fn take_turn(
    shared: &Shared,
    confr_id: &ConferenceId,
) -> Result<RtcPeerConnection, SdkError> {
    let waiting = {
        let mut d = shared.borrow_mut();
        let conns = &mut d.local.connections;
        if !conns.contains_key(confr_id) {
            let pc = new_pc()?;
            // An idle first m-line anchors the BUNDLE group: when a subscription ends
            // its m-lines are stopped, and stopping the bundle-tag m-line would make the
            // browser start a new transport (and a new DTLS handshake) for the rest.
            pc.add_transceiver_with_str_and_init(
                "audio",
                &transceiver_init(RtcRtpTransceiverDirection::Inactive),
            );
            let conn = SubscriberConnection {
                _ice_watch: super::ice::watch(shared, &pc),
                pc,
                busy: false,
                waiters: Vec::new(),
            };
            conns.insert(confr_id.clone(), conn);
        }
        let conn = conns.get_mut(confr_id).expect("inserted above");
        if conn.busy {
            let (tx, rx) = oneshot::channel();
            conn.waiters.push(tx);
            Some(rx)
        } else {
            conn.busy = true;
            None
        }
    };
    let left = || SdkError::new(ErrorCode::MemberInvalid, "left the conference");
    if let Some(rx) = waiting {
        // Dropped (an error) when the connection is closed while we wait.
        rx.await.map_err(|_| left())?;
    }
    shared
        .borrow()
        .local
        .connections
        .get(confr_id)
        .map(|c| c.pc.clone())
        .ok_or_else(left)
}

/// Hands the connection to the next subscription in line,
/// if it is still the connection this turn was on (the page may have left and
/// rejoined meanwhile), skipping waiters that gave up.
pub(super) fn end_turn(shared: &Shared, confr_id: &ConferenceId, pc: &RtcPeerConnection) {
    let mut d = shared.borrow_mut();
    let Some(conn) = d.local.connections.get_mut(confr_id) else {
        return;
    };
    if conn.pc != *pc {
        return;
    }
    while !conn.waiters.is_empty() {
        let next = conn.waiters.remove(0);
        if next.send(()).is_ok() {
            return;
        }
    }
    conn.busy = false;
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
        .ok_or_else(|| no_stream(&stream_id))?;
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
    let pc = take_turn(&shared, &confr_id).await?;
    let result = negotiate(&shared, &pc, &confr_id, &stream_id, want_audio, want_video).await;
    end_turn(&shared, &confr_id, &pc);
    let remote = result?;
    let out = Object::new();
    let _ = Reflect::set(&out, &"id".into(), &stream_id.as_str().into());
    let _ = Reflect::set(&out, &"stream".into(), &remote);
    Ok(out.into())
}

async fn negotiate(
    shared: &Shared,
    pc: &RtcPeerConnection,
    confr_id: &ConferenceId,
    stream_id: &StreamId,
    want_audio: bool,
    want_video: bool,
) -> Result<MediaStream, SdkError> {
    let remote = MediaStream::new().map_err(|e| js_err("MediaStream", e))?;
    let init = transceiver_init(RtcRtpTransceiverDirection::Recvonly);
    let add = |kind: &str| {
        let t = pc.add_transceiver_with_str_and_init(kind, &init);
        remote.add_track(&t.receiver().track());
        t
    };
    let audio = want_audio.then(|| add("audio"));
    let video = want_video.then(|| add("video"));
    let transceivers: Vec<_> = audio.iter().chain(video.iter()).cloned().collect();
    let attempt = async {
        let sdp = offer(pc).await?;
        let cmd = Command::Send(Request::Subscribe {
            confr_id: confr_id.clone(),
            stream_id: stream_id.clone(),
            sdp,
            audio_mid: audio.as_ref().and_then(|t| t.mid()),
            video_mid: video.as_ref().and_then(|t| t.mid()),
        });
        let Outcome::Subscribed { sdp, .. } = driver::request(shared, cmd).await? else {
            return Err(SdkError::new(
                ErrorCode::BadRequest,
                "unexpected reply to subscribe",
            ));
        };
        if let Err(e) = accept_answer(pc, &sdp).await {
            // The server holds a subscription this page cannot receive: take it back.
            driver::send_unawaited(
                shared,
                Request::Unsubscribe {
                    confr_id: confr_id.clone(),
                    stream_id: stream_id.clone(),
                },
            );
            return Err(e);
        }
        Ok(())
    }
    .await;
    if let Err(e) = attempt {
        rollback(pc).await;
        for t in &transceivers {
            t.stop();
        }
        return Err(e);
    }
    // The stream may have ended, or the page left, while the answer was applied.
    let still_subscribed = shared
        .borrow()
        .core
        .conference(confr_id)
        .is_some_and(|c| c.subscribed.contains(stream_id));
    if !still_subscribed {
        for t in &transceivers {
            t.stop();
        }
        return Err(SdkError::new(
            ErrorCode::PublishInactive,
            cat(&["stream ", stream_id.as_str(), " ended"]),
        ));
    }
    {
        let mut d = shared.borrow_mut();
        if d.local.mute_all {
            // muteAllRemoteAudio(true) holds: this stream starts muted too.
            super::controls::set_muted(&transceivers, true);
            d.local.muted.insert(stream_id.clone());
        }
        d.local
            .subscriptions
            .insert(stream_id.clone(), (confr_id.clone(), transceivers));
    }
    // Nothing to wait for: a lost "ready" only delays the first frame until the
    // browser asks for a keyframe itself.
    driver::send_unawaited(
        shared,
        Request::SubscriptionReady {
            confr_id: confr_id.clone(),
            stream_id: stream_id.clone(),
        },
    );
    Ok(remote)
}

pub async fn unsubscribe(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let confr_id = shared
        .borrow()
        .local
        .subscriptions
        .get(&id)
        .map(|(c, _)| c.clone())
        .ok_or_else(|| SdkError::new(ErrorCode::BadRequest, "not subscribed to this stream"))?;
    let cmd = Command::Send(Request::Unsubscribe {
        confr_id,
        stream_id: id,
    });
    driver::request(&shared, cmd)
        .await
        .map(|_| JsValue::UNDEFINED)
}

/// `getStats(streamId)`: the stats of the connection publishing that stream, or of the
/// receivers carrying it (one Map, as an RTCStatsReport reads).
pub async fn stats(shared: Shared, stream_id: JsValue) -> Result<JsValue, SdkError> {
    let id = StreamId(convert::string(&stream_id, "streamId")?);
    let (publisher, receivers) = {
        let d = shared.borrow();
        let publisher = d.local.publications.get(&id).map(|p| p.pc.get_stats());
        let receivers: Vec<_> = d
            .local
            .subscriptions
            .get(&id)
            .map(|(_, ts)| ts.iter().map(|t| t.receiver().get_stats()).collect())
            .unwrap_or_default();
        (publisher, receivers)
    };
    if let Some(p) = publisher {
        return wait(p, "getStats failed").await;
    }
    if receivers.is_empty() {
        return Err(SdkError::new(
            ErrorCode::PublishInactive,
            "you neither publish nor subscribe to that stream",
        ));
    }
    let merged = Map::new();
    for p in receivers {
        let report = wait(p, "getStats failed").await?;
        // `Array.from` of the report: its [id, stat] entries (cheaper in the wasm than
        // the iterator protocol).
        for entry in js_sys::Array::from(&report).iter() {
            let pair = js_sys::Array::from(&entry);
            merged.set(&pair.get(0), &pair.get(1));
        }
    }
    Ok(merged.into())
}
