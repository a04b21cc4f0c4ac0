//! `enableVolumeIndication(ms)`: every `ms`, `onUserVoiceVolume([{userId, streamId,
//! volume}])` for each subscribed stream with audio and each own stream with audio.
//!
//! The level is WebRTC's own meter of the decoded audio: the growth of
//! `totalAudioEnergy` over that of `totalSamplesDuration` since the last reading, from
//! the receiver's `inbound-rtp` (a remote stream) or the microphone's `media-source`
//! (an own stream). It is the mean power over the whole interval, so a short sound
//! between two readings still counts (an analyser sampled now and then would miss
//! Chromium's fake microphone, which beeps for 20 ms every 500 ms), and it needs no
//! AudioContext. Volume = 100 + 2 × dBFS, clamped to 0–100 (0 at −50 dBFS and below).
//! A stream this page muted (`muteRemoteAudio`) reports 0, as it plays nothing.
//!
//! A browser decodes a remote stream's audio only while the page plays it (a media
//! element with the stream): until then its volume is 0.

use super::driver::Shared;
use super::hooks::Hook;
use crate::core::{SdkError, VecMap};
use emedia_protocol::StreamId;
use gloo_timers::callback::Timeout;
use js_sys::{Array, Object, Promise, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The running indication; dropping it stops the timer.
pub struct VolumeWatch {
    interval_ms: u32,
    /// Which `enable` this is: a reading that was under way when the app switched the
    /// indication off or on again is dropped.
    generation: u32,
    timer: Option<Timeout>,
    /// Each stream's `(totalAudioEnergy, totalSamplesDuration)` at the last reading.
    last: VecMap<StreamId, (f64, f64)>,
}

/// `enableVolumeIndication(intervalMs)`; 0 or less switches it off.
pub fn enable(shared: &Shared, interval_ms: &JsValue) -> Result<JsValue, SdkError> {
    let ms = interval_ms
        .as_f64()
        .filter(|ms| !ms.is_nan())
        .ok_or_else(|| SdkError::bad_param("intervalMs must be a number"))?;
    let mut d = shared.borrow_mut();
    let generation = d
        .volume
        .as_ref()
        .map_or(0, |v| v.generation.wrapping_add(1));
    d.volume = (ms > 0.0).then(|| VolumeWatch {
        interval_ms: ms.min(i32::MAX as f64) as u32,
        generation,
        timer: None,
        last: VecMap::new(),
    });
    drop(d);
    schedule(shared);
    Ok(JsValue::UNDEFINED)
}

fn schedule(shared: &Shared) {
    let weak = Rc::downgrade(shared);
    let mut d = shared.borrow_mut();
    let Some(watch) = d.volume.as_mut() else {
        return;
    };
    let generation = watch.generation;
    watch.timer = Some(Timeout::new(watch.interval_ms, move || {
        let Some(shared) = weak.upgrade() else { return };
        // Always fulfilled, so the promise needs no handler.
        drop(super::settle(Box::pin(async move {
            read(&shared, generation).await;
            Ok(JsValue::UNDEFINED)
        })));
    }));
}

/// Where a stream's level is read.
enum Meter {
    /// A subscribed stream's audio receiver: its `inbound-rtp`; muted by this page or not.
    Remote(web_sys::RtcRtpReceiver, bool),
    /// An own stream's connection: its audio `media-source`.
    Local(web_sys::RtcPeerConnection),
}

/// One reading of every stream, then the hook, then the next reading.
async fn read(shared: &Shared, generation: u32) {
    let meters = meters(shared);
    // Every report at once: one wait, and the readings are taken together.
    let reports: Array = meters
        .iter()
        .map(|(_, _, meter)| match meter {
            Meter::Remote(r, _) => r.get_stats(),
            Meter::Local(pc) => pc.get_stats(),
        })
        .collect();
    let reports = JsFuture::from(Promise::all(&reports))
        .await
        .map(|r| Array::from(&r))
        .unwrap_or_default();
    let (list, hooks) = {
        let mut d = shared.borrow_mut();
        let Some(watch) = d.volume.as_mut().filter(|w| w.generation == generation) else {
            return;
        };
        let mut last = VecMap::new();
        let list = Array::new();
        for (i, (user, id, meter)) in meters.into_iter().enumerate() {
            let (kind, muted) = match meter {
                Meter::Remote(_, muted) => ("inbound-rtp", muted),
                Meter::Local(_) => ("media-source", false),
            };
            let totals = audio_totals(&reports.get(i as u32), kind);
            let volume = match totals {
                Some(now) => {
                    let before = watch.last.get(&id).copied().unwrap_or((0.0, 0.0));
                    last.insert(id.clone(), now);
                    if muted {
                        0
                    } else {
                        volume(before, now)
                    }
                }
                None => 0,
            };
            let o = Object::new();
            let _ = Reflect::set(&o, &"userId".into(), &user.into());
            let _ = Reflect::set(&o, &"streamId".into(), &id.as_str().into());
            let _ = Reflect::set(&o, &"volume".into(), &volume.into());
            list.push(&o);
        }
        watch.last = last;
        (list, d.hooks.clone())
    };
    if list.length() > 0 {
        hooks.call(Hook::UserVoiceVolume, &Array::of1(&list));
    }
    schedule(shared);
}

/// `(userId, streamId, meter)` for every stream with audio, own streams first.
fn meters(shared: &Shared) -> Vec<(String, StreamId, Meter)> {
    let d = shared.borrow();
    let mut out = Vec::new();
    let me = d.core.user_id().unwrap_or_default().to_owned();
    for (id, p) in d.local.publications.iter() {
        if p.audio.as_ref().is_some_and(|s| s.track().is_some()) {
            out.push((me.clone(), id.clone(), Meter::Local(p.pc.clone())));
        }
    }
    for (id, (confr_id, transceivers)) in d.local.subscriptions.iter() {
        let Some(receiver) = transceivers
            .iter()
            .map(|t| t.receiver())
            .find(|r| r.track().kind() == "audio")
        else {
            continue;
        };
        let user = d
            .core
            .conference(confr_id)
            .and_then(|c| {
                let s = c.stream(id)?;
                Some(c.owner_of(s).map_or_else(|| s.mem_id.0.clone(), |m| m.name))
            })
            .unwrap_or_default();
        let muted = d.local.muted.contains(id);
        out.push((user, id.clone(), Meter::Remote(receiver, muted)));
    }
    out
}

/// `(totalAudioEnergy, totalSamplesDuration)` of the report's audio entry of `kind`.
fn audio_totals(report: &JsValue, kind: &str) -> Option<(f64, f64)> {
    for entry in Array::from(report).iter() {
        let stat = Array::from(&entry).get(1);
        let field = |k: &str| Reflect::get(&stat, &k.into()).unwrap_or(JsValue::UNDEFINED);
        if field("type").as_string().as_deref() == Some(kind)
            && field("kind").as_string().as_deref() == Some("audio")
        {
            return Some((
                field("totalAudioEnergy").as_f64()?,
                field("totalSamplesDuration").as_f64()?,
            ));
        }
    }
    None
}

/// 0–100 from the energy and duration totals at two readings.
fn volume(before: (f64, f64), now: (f64, f64)) -> u32 {
    let duration = now.1 - before.1;
    if duration <= 0.0 {
        return 0;
    }
    // Mean power (level²) over the interval; dBFS = 10·log10(power).
    let power = (now.0 - before.0) / duration;
    let volume = 100.0 + 20.0 * js_sys::Math::log10(power);
    volume.clamp(0.0, 100.0).round() as u32
}
