//! The signaling socket: any object shaped like a browser WebSocket (`send`, `close`,
//! `onopen`, `onmessage`, `onclose`). The browser's own WebSocket is the default; a
//! mini-program passes a factory whose objects sit on `wx.connectSocket`.
//!
//! The socket owns its JS closures and releases them in `Drop`, after detaching
//! them, so a socket that is replaced can never call back into the SDK.

use js_sys::{Array, ArrayBuffer, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// Duck-typed: a browser WebSocket or anything with the same members.
    pub type SocketLike;
    #[wasm_bindgen(method, catch)]
    fn send(this: &SocketLike, data: &str) -> Result<(), JsValue>;
    /// A binary frame: data transfers (`transfer.rs`).
    #[wasm_bindgen(method, catch, js_name = send)]
    pub fn send_buffer(this: &SocketLike, data: &ArrayBuffer) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn close(this: &SocketLike) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = close)]
    fn close_with_code(this: &SocketLike, code: u16) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    fn set_onopen(this: &SocketLike, f: Option<&Function>);
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &SocketLike, f: Option<&Function>);
    #[wasm_bindgen(method, setter)]
    fn set_onclose(this: &SocketLike, f: Option<&Function>);
}

/// What the socket reports, already typed.
pub enum SocketEvent {
    Open,
    /// A text frame.
    Message(String),
    /// A binary frame: a data transfer's chunk or ack.
    Binary(ArrayBuffer),
    Closed,
}

pub struct JsSocket {
    inner: SocketLike,
    _on_open: Closure<dyn FnMut(JsValue)>,
    _on_message: Closure<dyn FnMut(JsValue)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
    /// Closed with code 1000 (logout) rather than with none (a dropped link, which
    /// the server keeps the session through).
    normal: bool,
}

impl JsSocket {
    /// Opens `url` with `factory(url)` if given, else with `new WebSocket(url)`.
    pub fn open(
        url: &str,
        factory: Option<&Function>,
        on_event: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let inner: SocketLike = match factory {
            Some(f) => f.call1(&JsValue::NULL, &url.into())?.unchecked_into(),
            None => {
                let ctor: Function = Reflect::get(&js_sys::global(), &"WebSocket".into())?
                    .dyn_into()
                    .map_err(|_| {
                        JsValue::from_str("no WebSocket here: pass socketFactory to emedia.config")
                    })?;
                Reflect::construct(&ctor, &Array::of1(&url.into()))?.unchecked_into()
            }
        };
        let cb = on_event.clone();
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| cb(SocketEvent::Open));
        let cb = on_event.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let data = Reflect::get(&ev, &"data".into()).unwrap_or(JsValue::UNDEFINED);
            if let Some(text) = data.as_string() {
                cb(SocketEvent::Message(text));
            } else if let Ok(buf) = data.dyn_into::<ArrayBuffer>() {
                cb(SocketEvent::Binary(buf));
            }
        });
        // Binary frames as ArrayBuffers rather than Blobs: read at once, no copy.
        let _ = Reflect::set(&inner, &"binaryType".into(), &"arraybuffer".into());
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| on_event(SocketEvent::Closed));
        inner.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        inner.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        inner.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            inner,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            normal: false,
        })
    }

    /// The JS socket object, to send on without holding the driver borrowed.
    pub fn handle(&self) -> SocketLike {
        self.inner.clone().unchecked_into()
    }

    pub fn send_on(socket: &SocketLike, text: &str) -> Result<(), JsValue> {
        socket.send(text)
    }

    /// Closes with code 1000: the server ends the session at once.
    pub fn end(mut self) {
        self.normal = true;
    }
}

impl Drop for JsSocket {
    fn drop(&mut self) {
        self.inner.set_onopen(None);
        self.inner.set_onmessage(None);
        self.inner.set_onclose(None);
        let _ = if self.normal {
            self.inner.close_with_code(1000)
        } else {
            self.inner.close()
        };
    }
}
