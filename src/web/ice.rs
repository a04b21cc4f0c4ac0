//! Restarting ICE when a media connection's path breaks (a new network, an outage
//! longer than the connectivity checks tolerate). The connection makes a new offer
//! with new ICE credentials and the SFU answers on the same peer, so streams, ids and
//! subscriptions stay as they were and nobody else notices.
//!
//! A connection found `disconnected` or `failed` first gets [`SETTLE_MS`] to come
//! back by itself (a short loss heals without help); then it restarts, and keeps
//! trying, a little later each time, until it is back or closed. While the signaling
//! link is itself reconnecting, the restart's request waits for it like any call.

use super::driver::{self, Shared};
use super::media::{accept_answer, offer, rollback};
use super::subscribe::{end_turn, take_turn};
use crate::core::{cat, Command, Outcome, SdkError};
use emedia_protocol::{ErrorCode, Request};
use js_sys::{Function, Promise, Reflect};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

const SETTLE_MS: u32 = 2_000;
/// Restarts per outage before waiting for the next state change.
const MAX_RESTARTS: u32 = 8;

/// Watches `pc`'s ICE state for as long as the returned closure is kept.
pub fn watch(shared: &Shared, pc: &RtcPeerConnection) -> Closure<dyn FnMut()> {
    let weak = Rc::downgrade(shared);
    let busy = Rc::new(Cell::new(false));
    let watched = pc.clone();
    let on_change = Closure::<dyn FnMut()>::new(move || {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        if busy.get() || !broken(&watched) {
            return;
        }
        busy.set(true);
        let (pc, busy) = (watched.clone(), busy.clone());
        let recover = async move {
            for attempt in 1..=MAX_RESTARTS {
                sleep(SETTLE_MS * attempt).await;
                if !broken(&pc) {
                    break;
                }
                if let Err(e) = restart(&shared, &pc).await {
                    driver::warn(&cat(&["emedia: ICE restart failed: ", &e.message]));
                }
            }
            busy.set(false);
            Ok(JsValue::UNDEFINED)
        };
        // Always fulfilled, so the promise needs no handler.
        drop(super::settle(Box::pin(recover)));
    });
    let _ = Reflect::set(pc, &"oniceconnectionstatechange".into(), on_change.as_ref());
    on_change
}

fn broken(pc: &RtcPeerConnection) -> bool {
    let state = Reflect::get(pc, &"iceConnectionState".into()).ok();
    matches!(
        state.and_then(|s| s.as_string()).as_deref(),
        Some("disconnected" | "failed")
    )
}

async fn sleep(ms: u32) {
    let timer = Promise::new(&mut |resolve, _| {
        let set_timeout = Reflect::get(&js_sys::global(), &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(f) = set_timeout {
            let _ = f.call2(&JsValue::NULL, &resolve, &ms.into());
        }
    });
    let _ = JsFuture::from(timer).await;
}

/// One restart of whichever connection `pc` is now: a publication's (its stream id may
/// have changed since the watch began) or a conference's subscribing connection, whose
/// offers take turns with subscriptions.
async fn restart(shared: &Shared, pc: &RtcPeerConnection) -> Result<(), SdkError> {
    let (confr_id, stream_id) = {
        let d = shared.borrow();
        let published = d.local.publications.iter().find(|(_, p)| p.pc == *pc);
        let subscribing = d.local.connections.iter().find(|(_, c)| c.pc == *pc);
        match (published, subscribing) {
            (Some((id, _)), _) => match d.core.find_stream(id) {
                Some((confr_id, _)) => (confr_id.clone(), Some(id.clone())),
                None => return Ok(()),
            },
            (None, Some((confr_id, _))) => (confr_id.clone(), None),
            // Closed meanwhile.
            (None, None) => return Ok(()),
        }
    };
    if stream_id.is_some() {
        return offer_restart(
            shared,
            pc,
            Request::RestartIce {
                confr_id,
                stream_id,
                sdp: String::new(),
            },
        )
        .await;
    }
    let turn = take_turn(shared, &confr_id).await?;
    let result = if turn == *pc {
        let req = Request::RestartIce {
            confr_id: confr_id.clone(),
            stream_id: None,
            sdp: String::new(),
        };
        offer_restart(shared, pc, req).await
    } else {
        Ok(())
    };
    end_turn(shared, &confr_id, &turn);
    result
}

/// Offers new ICE credentials on `pc` with `req` (its `sdp` filled in here) and applies
/// the SFU's answer; a refused offer is rolled back.
async fn offer_restart(
    shared: &Shared,
    pc: &RtcPeerConnection,
    mut req: Request,
) -> Result<(), SdkError> {
    if let Ok(f) = Reflect::get(pc, &"restartIce".into()).and_then(|f| f.dyn_into::<Function>()) {
        let _ = f.call0(pc);
    }
    let sdp = offer(pc).await?;
    if let Request::RestartIce { sdp: slot, .. } = &mut req {
        *slot = sdp;
    }
    let answered = match driver::request(shared, Command::Send(req)).await {
        Ok(Outcome::IceRestarted(answer)) => accept_answer(pc, &answer).await,
        Ok(_) => Err(SdkError::new(
            ErrorCode::BadRequest,
            "unexpected reply to an ICE restart",
        )),
        Err(e) => Err(e),
    };
    if answered.is_err() {
        rollback(pc).await;
    }
    answered
}
