//! The bytes of `sendBuffer` / `sendFile`: the core (`core/transfers.rs`) says which
//! ranges to send and what to acknowledge; here they become binary frames on the
//! signaling socket, and received chunks are kept as views of their frames (no copy)
//! until the last one arrives.

use super::convert;
use super::driver::{self, Driver, Shared};
use crate::core::{Command, DataOut, Outcome, SdkError};
use emedia_protocol::{DataFrame, ErrorCode, Request};
use js_sys::{Array, ArrayBuffer, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `sendBuffer(userId, data)` and `sendFile(userId, file, fileName?)`: resolves the
/// taskId once the server accepted the transfer; the bytes follow with flow control.
pub async fn send(
    shared: Shared,
    user_id: JsValue,
    data: JsValue,
    file_name: Option<JsValue>,
) -> Result<JsValue, SdkError> {
    let to = convert::string(&user_id, "userId")?;
    let name = match &file_name {
        None => None,
        Some(given) => Some(match convert::opt_string(given, "fileName")? {
            Some(n) => n,
            None => convert::get(&data, "name")
                .as_string()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "file".to_owned()),
        }),
    };
    let bytes = bytes_of(&data).await?;
    let size = u64::from(bytes.length());
    let cmd = Command::Send(Request::SendData { to, size, name });
    let Outcome::TransferStarted {
        transfer_id,
        chunk_bytes,
        window_bytes,
    } = driver::request(&shared, cmd).await?
    else {
        return Err(SdkError::new(
            ErrorCode::BadRequest,
            "unexpected reply to sendData",
        ));
    };
    {
        let mut d = shared.borrow_mut();
        d.sources.insert(transfer_id, bytes);
        d.core
            .begin_send(transfer_id, size, chunk_bytes, window_bytes);
    }
    driver::pump(&shared);
    Ok(transfer_id.into())
}

/// The bytes to send, copied so that the app may reuse its buffer at once: an
/// ArrayBuffer, a typed array or DataView, or a Blob / File (read whole: transfers
/// are at most 256 MiB).
async fn bytes_of(data: &JsValue) -> Result<Uint8Array, SdkError> {
    if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(buf).slice(0, buf.byte_length()));
    }
    if ArrayBuffer::is_view(data) {
        let buf = convert::get(data, "buffer");
        let at = convert::get(data, "byteOffset").as_f64().unwrap_or(0.0) as u32;
        let len = convert::get(data, "byteLength").as_f64().unwrap_or(0.0) as u32;
        return Ok(Uint8Array::new_with_byte_offset_and_length(&buf, at, len).slice(0, len));
    }
    let read = Reflect::get(data, &"arrayBuffer".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(data).ok());
    let Some(promise) = read else {
        return Err(SdkError::bad_param(
            "data must be an ArrayBuffer, a typed array, or a Blob or File",
        ));
    };
    let buf = super::media::wait(promise.unchecked_into(), "could not read the file").await?;
    Ok(Uint8Array::new(&buf))
}

/// Sends the frames the core asked for, or lets go of a finished transfer's bytes.
pub fn act(shared: &Shared, socket: Option<&super::socket::SocketLike>, out: DataOut) {
    let frame = match out {
        DataOut::Chunk {
            transfer,
            offset,
            len,
        } => {
            let Some(src) = shared.borrow().sources.get(&transfer).cloned() else {
                return;
            };
            let header = DataFrame::Chunk { transfer, offset }.header();
            let frame = Uint8Array::new_with_length(header.len() as u32 + len);
            frame.subarray(0, header.len() as u32).copy_from(&header);
            let start = offset as u32;
            frame.set(&src.subarray(start, start + len), header.len() as u32);
            frame
        }
        DataOut::Ack { transfer, received } => {
            Uint8Array::from(&DataFrame::Ack { transfer, received }.header()[..])
        }
        DataOut::Forget(transfer) => {
            let mut d = shared.borrow_mut();
            d.sources.remove(&transfer);
            d.received.remove(&transfer);
            return;
        }
    };
    match socket {
        Some(s) if s.send_buffer(&frame.buffer()).is_ok() => {}
        _ => driver::warn("emedia: could not send transfer data"),
    }
}

/// A binary frame from the server: a chunk to keep, or an ack for a transfer we send.
pub fn receive(d: &mut Driver, buf: &ArrayBuffer) {
    let bytes = Uint8Array::new(buf);
    let len = bytes.length();
    let mut header = [0; DataFrame::HEADER_BYTES];
    let at = header.len() as u32;
    if len < at {
        return driver::warn("emedia: ignored a binary frame the SDK does not understand");
    }
    bytes.subarray(0, at).copy_to(&mut header);
    match DataFrame::parse(&header) {
        Some(DataFrame::Chunk { transfer, offset }) => {
            if d.core.handle_chunk(transfer, offset, u64::from(len - at)) {
                let parts = match d.received.get(&transfer) {
                    Some(p) => p.clone(),
                    None => {
                        let p = Array::new();
                        d.received.insert(transfer, p.clone());
                        p
                    }
                };
                parts.push(&bytes.subarray(at, len));
            }
        }
        Some(DataFrame::Ack { transfer, received }) => d.core.handle_ack(transfer, received),
        None => driver::warn("emedia: ignored a binary frame the SDK does not understand"),
    }
}

/// A completed transfer's bytes: a Blob for a file (an ArrayBuffer where there is no
/// Blob, as in mini-programs), an ArrayBuffer for a buffer.
pub fn take_received(d: &mut Driver, transfer: u32, file: bool, size: u64) -> JsValue {
    let parts = d.received.remove(&transfer).unwrap_or_default();
    if file {
        let blob = Reflect::get(&js_sys::global(), &"Blob".into())
            .ok()
            .and_then(|c| c.dyn_into::<Function>().ok())
            .and_then(|c| Reflect::construct(&c, &Array::of1(&parts)).ok());
        if let Some(blob) = blob {
            return blob;
        }
    }
    let all = Uint8Array::new_with_length(size as u32);
    let mut at = 0;
    for part in parts.iter() {
        let part: Uint8Array = part.unchecked_into();
        all.set(&part, at);
        at += part.length();
    }
    all.buffer().into()
}
