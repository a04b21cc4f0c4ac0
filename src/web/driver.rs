//! Drives the sans-IO core with the socket, a timer and the app's promises.
//!
//! Reentrancy: a hook may call back into `emedia.mgr`, so no `RefCell` borrow is
//! held while JavaScript runs; each round takes the core's outputs under a short
//! borrow and acts on them after releasing it.

use super::convert;
use super::hooks::Hooks;
use super::media::LocalPeers;
use super::socket::{JsSocket, SocketEvent, SocketLike};
use crate::core::{
    cat, Client, Command, Completion, DataOut, OpId, Outcome, SdkError, SdkEvent, TransportCommand,
    VecMap,
};
use emedia_protocol::{ClientMessage, ServerMessage};
use futures_channel::oneshot;
use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise, JSON};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    pub fn warn(msg: &str);
}

pub type Shared = Rc<RefCell<Driver>>;

/// `(kind, confrId, id) => Promise`: see `hooks.rs`, `answers`.
pub type AnswerFn = Closure<dyn Fn(JsValue, JsValue, JsValue) -> Promise>;

#[derive(Default)]
pub struct Driver {
    pub core: Client,
    pub hooks: Hooks,
    pub socket_factory: Option<Function>,
    /// In a WeChat mini-program: media through live-pusher / live-player (RTMP).
    pub mini_program: bool,
    /// This page's RTMP pushes by stream id, to push again after a lost connection.
    pub rtmp_pushes: VecMap<emedia_protocol::StreamId, emedia_protocol::Request>,
    socket: Option<JsSocket>,
    pub local: LocalPeers,
    /// The browser's online / visibility / devicechange listeners.
    pub network: Option<super::network::NetworkWatch>,
    /// `enableVolumeIndication`, while on.
    pub volume: Option<super::volume::VolumeWatch>,
    /// The bytes of each transfer this page sends, and the chunks of each it receives,
    /// by taskId (`transfer.rs`).
    pub sources: VecMap<u32, js_sys::Uint8Array>,
    pub received: VecMap<u32, js_sys::Array>,
    /// The function behind the `agree` / `refuse` handed to `onRequestToTalker` and
    /// `onRequestRoomPK` (`hooks.rs`), kept alive here.
    pub answer: Option<AnswerFn>,
    timer: Option<(u64, Timeout)>,
    waiters: VecMap<OpId, Waiter>,
    next_op: OpId,
    /// Set while `pump` runs, so that a re-entrant call leaves the work to it.
    pumping: bool,
}

/// Who waits for a call: the app's promise, or the SDK's own async code (pubStream
/// and subStream send their offer half-way through).
enum Waiter {
    Promise { resolve: Function, reject: Function },
    Rust(oneshot::Sender<Result<Outcome, SdkError>>),
}

impl Driver {
    fn new_op(&mut self, waiter: Waiter) -> OpId {
        self.next_op = self.next_op.wrapping_add(1);
        self.waiters.insert(self.next_op, waiter);
        self.next_op
    }
}

pub fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// Runs `cmd` and returns the promise it settles.
pub fn call(shared: &Shared, cmd: Command) -> Promise {
    let mut op = 0;
    let promise = Promise::new(&mut |resolve, reject| {
        op = shared
            .borrow_mut()
            .new_op(Waiter::Promise { resolve, reject });
    });
    shared.borrow_mut().core.handle_command(op, cmd, now());
    pump(shared);
    promise
}

/// Sends a request whose reply nobody waits for (its completion finds no waiter
/// and is dropped).
pub fn send_unawaited(shared: &Shared, req: emedia_protocol::Request) {
    let op = {
        let mut d = shared.borrow_mut();
        d.next_op = d.next_op.wrapping_add(1);
        d.next_op
    };
    shared
        .borrow_mut()
        .core
        .handle_command(op, Command::Send(req), now());
    pump(shared);
}

/// Runs `cmd` for the SDK's own async code.
pub async fn request(shared: &Shared, cmd: Command) -> Result<Outcome, SdkError> {
    let (tx, rx) = oneshot::channel();
    let op = shared.borrow_mut().new_op(Waiter::Rust(tx));
    shared.borrow_mut().core.handle_command(op, cmd, now());
    pump(shared);
    rx.await
        .unwrap_or_else(|_| Err(SdkError::network("the SDK dropped the request")))
}

/// Acts on everything the core has to say, until it has nothing more. A hook that
/// calls back into the SDK lands here again while the first call is still looping:
/// that inner call returns at once and the outer loop takes its outputs in order.
pub fn pump(shared: &Shared) {
    if std::mem::replace(&mut shared.borrow_mut().pumping, true) {
        return;
    }
    let mut republish = Vec::new();
    loop {
        let transport: Vec<TransportCommand> = {
            let mut d = shared.borrow_mut();
            std::iter::from_fn(|| d.core.poll_transport()).collect()
        };
        for t in &transport {
            match t {
                TransportCommand::Open { url } => open_socket(shared, url),
                TransportCommand::Close => {
                    let old = shared.borrow_mut().socket.take();
                    drop(old);
                }
                TransportCommand::End => {
                    let old = shared.borrow_mut().socket.take();
                    if let Some(socket) = old {
                        socket.end();
                    }
                }
            }
        }
        let (outgoing, data, settled, events) = {
            let mut d = shared.borrow_mut();
            let outgoing: Vec<ClientMessage> =
                std::iter::from_fn(|| d.core.poll_transmit()).collect();
            let data: Vec<DataOut> = std::iter::from_fn(|| d.core.poll_data()).collect();
            while let Some(cmd) = d.core.poll_local_media() {
                republish.extend(d.local.apply(cmd));
            }
            let completions: Vec<Completion> =
                std::iter::from_fn(|| d.core.poll_completion()).collect();
            let settled: Vec<_> = completions
                .into_iter()
                .filter_map(|c| d.waiters.remove(&c.op).map(|w| (w, c)))
                .collect();
            let events: Vec<SdkEvent> = std::iter::from_fn(|| d.core.poll_event()).collect();
            (outgoing, data, settled, events)
        };
        // Sent with no borrow held: a socket of the app's may call back synchronously.
        let socket = shared.borrow().socket.as_ref().map(JsSocket::handle);
        for msg in &outgoing {
            transmit(socket.as_ref(), msg);
        }
        let idle = transport.is_empty() && outgoing.is_empty() && data.is_empty();
        for out in data {
            super::transfer::act(shared, socket.as_ref(), out);
        }
        if idle && settled.is_empty() && events.is_empty() {
            break;
        }
        for (waiter, c) in settled {
            match (waiter, c.result) {
                (Waiter::Promise { resolve, .. }, Ok(out)) => {
                    drop(resolve.call1(&JsValue::NULL, &convert::outcome(&out)))
                }
                (Waiter::Promise { reject, .. }, Err(e)) => {
                    drop(reject.call1(&JsValue::NULL, &convert::error(&e)))
                }
                (Waiter::Rust(tx), result) => drop(tx.send(result)),
            }
        }
        for e in &events {
            // Read the hooks afresh: an earlier hook may have replaced them.
            let (hooks, payload) = {
                let mut d = shared.borrow_mut();
                let payload = match e {
                    SdkEvent::DataReceived {
                        transfer,
                        name,
                        size,
                        ..
                    } => super::transfer::take_received(&mut d, *transfer, name.is_some(), *size),
                    _ => JsValue::UNDEFINED,
                };
                (d.hooks.clone(), payload)
            };
            hooks.dispatch(e, payload);
        }
    }
    shared.borrow_mut().pumping = false;
    for (confr_id, p) in republish {
        super::publish::republish(shared, confr_id, p);
    }
    arm_timer(shared);
}

fn transmit(socket: Option<&SocketLike>, msg: &ClientMessage) {
    let text = serde_json::to_string(msg).ok();
    match (text, socket) {
        (Some(text), Some(socket)) => {
            if JsSocket::send_on(socket, &text).is_err() {
                warn("emedia: the socket refused a message");
            }
        }
        (None, _) => warn("emedia: could not encode a message"),
        (_, None) => warn("emedia: no socket to send on"),
    }
}

fn open_socket(shared: &Shared, url: &str) {
    let weak: Weak<RefCell<Driver>> = Rc::downgrade(shared);
    let on_event = move |ev: SocketEvent| {
        let Some(shared) = weak.upgrade() else { return };
        {
            let mut d = shared.borrow_mut();
            match ev {
                SocketEvent::Open => d.core.handle_open(now()),
                SocketEvent::Closed => d.core.handle_closed(now()),
                SocketEvent::Message(text) => match parse(&text) {
                    Some(msg) => d.core.handle_message(msg, now()),
                    None => warn("emedia: ignored a message the SDK does not understand"),
                },
                SocketEvent::Binary(buf) => super::transfer::receive(&mut d, &buf),
            }
        }
        pump(&shared);
    };
    let factory = shared.borrow().socket_factory.clone();
    match JsSocket::open(url, factory.as_ref(), on_event) {
        Ok(socket) => shared.borrow_mut().socket = Some(socket),
        Err(e) => {
            // The factory's reason (a mini-program refusing ws://, say) is worth showing.
            let why = e.as_string().or_else(|| {
                js_sys::Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
            });
            warn(&cat(&[
                "emedia: could not open the socket: ",
                &why.unwrap_or_default(),
            ]));
            shared.borrow_mut().core.handle_closed(now())
        }
    }
}

/// The browser's JSON.parse does the parsing; serde only maps the result, which
/// keeps a JSON parser out of the wasm.
fn parse(text: &str) -> Option<ServerMessage> {
    super::wire::decode(JSON::parse(text).ok()?).ok()
}

fn arm_timer(shared: &Shared) {
    let mut d = shared.borrow_mut();
    let wanted = d.core.poll_timeout();
    if d.timer.as_ref().map(|(at, _)| *at) == wanted {
        return;
    }
    d.timer = wanted.map(|at| {
        let weak = Rc::downgrade(shared);
        let delay = at.saturating_sub(now()).min(i32::MAX as u64) as u32;
        let timeout = Timeout::new(delay, move || {
            let Some(shared) = weak.upgrade() else { return };
            {
                let mut d = shared.borrow_mut();
                d.timer = None;
                d.core.handle_timeout(now());
            }
            pump(&shared);
        });
        (at, timeout)
    });
}
