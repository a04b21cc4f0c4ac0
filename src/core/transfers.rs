//! `sendBuffer` / `sendFile` at both ends: which bytes to send next, what to
//! acknowledge, and when a transfer is done. The bytes themselves stay in the driver
//! (JavaScript buffers never cross into the wasm); this side deals in offsets only.
//!
//! The sender keeps at most the server's window in flight past the receiver's last
//! ack (the server refuses more), in chunks of at most the server's chunk size. The
//! receiver acknowledges every chunk: an ack is a 13-byte frame, and acking each one
//! keeps the sender's window full and its progress fine-grained.

use super::{Client, SdkEvent, VecMap};
use emedia_protocol::{DataFrame, Event, Request};

/// What the driver must do with transfer bytes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataOut {
    /// Send bytes `offset..offset + len` of the transfer's source as a chunk frame.
    Chunk {
        transfer: u32,
        offset: u64,
        len: u32,
    },
    /// Send an ack frame: this end holds the first `received` bytes.
    Ack { transfer: u32, received: u64 },
    /// The transfer is over (done or cancelled): let go of its source or received parts.
    Forget(u32),
}

struct Sending {
    size: u64,
    /// Where the next chunk starts.
    next: u64,
    acked: u64,
    chunk: u64,
    window: u64,
}

struct Receiving {
    from: String,
    size: u64,
    name: Option<String>,
    received: u64,
}

#[derive(Default)]
pub(super) struct Transfers {
    sending: VecMap<u32, Sending>,
    receiving: VecMap<u32, Receiving>,
    out: Vec<DataOut>,
}

impl Transfers {
    /// Queues chunks until the window is full or everything is sent.
    fn fill_window(&mut self, transfer: u32) {
        let Some(s) = self.sending.get_mut(&transfer) else {
            return;
        };
        while s.next < s.size && s.next - s.acked < s.window {
            let len = s
                .chunk
                .min(s.size - s.next)
                .min(s.window - (s.next - s.acked));
            self.out.push(DataOut::Chunk {
                transfer,
                offset: s.next,
                len: len as u32,
            });
            s.next += len;
        }
    }

    /// Forgets a transfer at this end; true if it was one.
    fn forget(&mut self, transfer: u32) -> bool {
        let known =
            self.sending.remove(&transfer).is_some() | self.receiving.remove(&transfer).is_some();
        if known {
            self.out.push(DataOut::Forget(transfer));
        }
        known
    }
}

impl Client {
    /// The server accepted a `SendData` of `size` bytes as `transfer` (the driver holds
    /// its bytes now): the first window goes out.
    pub fn begin_send(&mut self, transfer: u32, size: u64, chunk_bytes: u32, window_bytes: u32) {
        let chunk = u64::from(chunk_bytes).clamp(1, DataFrame::MAX_CHUNK_BYTES as u64);
        self.transfers.sending.insert(
            transfer,
            Sending {
                size,
                next: 0,
                acked: 0,
                chunk,
                window: u64::from(window_bytes).max(chunk),
            },
        );
        self.transfers.fill_window(transfer);
    }

    /// A chunk frame of `len` bytes arrived: true if the driver should keep its bytes.
    /// The server checked order and size already; a chunk that still does not fit (a
    /// cancelled transfer's last frames) is dropped.
    pub fn handle_chunk(&mut self, transfer: u32, offset: u64, len: u64) -> bool {
        let Some(r) = self.transfers.receiving.get_mut(&transfer) else {
            return false;
        };
        if offset != r.received || r.size - r.received < len {
            return false;
        }
        r.received += len;
        let received = r.received;
        self.transfers.out.push(DataOut::Ack { transfer, received });
        if received == r.size {
            let r = self.transfers.receiving.remove(&transfer);
            if let Some(r) = r {
                // The driver takes the parts when it delivers this event, then forgets.
                self.events.push(SdkEvent::DataReceived {
                    transfer,
                    from: r.from,
                    name: r.name,
                    size: r.size,
                });
            }
        }
        true
    }

    /// The receiver acknowledged `received` bytes: progress, and the next chunks.
    pub fn handle_ack(&mut self, transfer: u32, received: u64) {
        let Some(s) = self.transfers.sending.get_mut(&transfer) else {
            return;
        };
        if received <= s.acked || received > s.next {
            return;
        }
        s.acked = received;
        let total = s.size;
        self.events.push(SdkEvent::SendProgress {
            transfer,
            sent: received,
            total,
        });
        if received == total {
            self.transfers.forget(transfer);
        } else {
            self.transfers.fill_window(transfer);
        }
    }

    pub fn poll_data(&mut self) -> Option<DataOut> {
        super::pop_front(&mut self.transfers.out)
    }

    /// An event that names no conference: data from another user here, presence and
    /// call news in `calls.rs`.
    pub(super) fn peer_event(&mut self, event: Event) {
        match event {
            Event::CmdData { .. } => self.events.push(SdkEvent::Interaction(event)),
            // Who sends what; the chunks follow.
            Event::DataIncoming {
                transfer_id,
                from,
                size,
                name,
            } => {
                let r = Receiving {
                    from,
                    size,
                    name,
                    received: 0,
                };
                self.transfers.receiving.insert(transfer_id, r);
            }
            Event::TransferCancelled { transfer_id } => self.transfer_cancelled(transfer_id),
            _ => self.call_event(event),
        }
    }

    /// The other end cancelled (or left): `onNotifyCancelSend`.
    fn transfer_cancelled(&mut self, transfer: u32) {
        if self.transfers.forget(transfer) {
            self.events.push(SdkEvent::TransferCancelled { transfer });
        }
    }

    /// `cancelSend` at this end: nothing more goes out or is kept for it.
    pub(super) fn cancel_local(&mut self, req: &Request) {
        if let Request::CancelTransfer { transfer_id } = req {
            self.transfers.forget(*transfer_id);
        }
    }

    /// The connection is gone, and with it every transfer (the server keeps none
    /// for a resume): both ends hear of it, as of a cancel.
    pub(super) fn drop_transfers(&mut self) {
        let ids: Vec<u32> = (self.transfers.sending.keys())
            .chain(self.transfers.receiving.keys())
            .copied()
            .collect();
        for transfer in ids {
            self.transfer_cancelled(transfer);
        }
    }
}
