//! Large data between two users (`sendBuffer`, `sendFile`), relayed chunk by chunk
//! over the signaling sockets in binary frames.
//!
//! Flow control: the sender may run at most `WINDOW_BYTES` ahead of what the
//! receiver acknowledged, and the server checks it, so one transfer holds at most a
//! window in the receiver's queue however fast the sender is. Chunks are forwarded as
//! the very frame that came in (the transfer id is the server's, the same at both
//! ends), without a copy. Valid chunks and acks cost no message-rate tokens: the
//! window bounds them; invalid ones are refused like any bad request.
//!
//! Transfers do not survive a dropped connection: their bytes are not kept for a
//! resume, so both ends hear `transfer_cancelled` and the sender may start again.

use super::outbox::{Outbound, Queued};
use super::{err, ConferenceStore, Core, Reply, SessionId};
use bytes::Bytes;
use emedia_protocol::{DataFrame, ErrorBody, ErrorCode, Event, Response};
use std::collections::HashMap;

/// How far a sender may run ahead of the receiver's acks.
pub const WINDOW_BYTES: u64 = 512 * 1024;
/// Transfers one session may be sending at once.
const MAX_SENDING: usize = 4;

struct Transfer {
    from: SessionId,
    to: SessionId,
    size: u64,
    /// Bytes forwarded so far: the offset the next chunk must start at.
    sent: u64,
    /// Bytes the receiver acknowledged.
    acked: u64,
}

#[derive(Default)]
pub(super) struct Transfers {
    by_id: HashMap<u32, Transfer>,
    next_id: u32,
}

impl Transfers {
    /// Transfer `id` if `mine` says it is the asker's to act on.
    fn get_mut(
        &mut self,
        id: u32,
        mine: impl Fn(&Transfer) -> bool,
    ) -> Result<&mut Transfer, ErrorBody> {
        self.by_id
            .get_mut(&id)
            .filter(|t| mine(t))
            .ok_or_else(|| no_transfer(id))
    }

    fn ids_of(&self, session: super::SessionId) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .by_id
            .iter()
            .filter(|(_, t)| t.from == session || t.to == session)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

fn no_transfer(id: u32) -> ErrorBody {
    err(
        ErrorCode::TransferNotFound,
        format!("no transfer {id} of yours: it ended, or was cancelled"),
    )
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn send_data(
        &mut self,
        sid: SessionId,
        user: &str,
        to: &str,
        size: u64,
        name: Option<String>,
    ) -> Reply {
        super::messaging::check_transfer_size(size)?;
        super::validate::optional_text("name", name.as_deref(), super::validate::MAX_NAME_CHARS)?;
        let receiver = self.sessions_beside(sid, user, to)?[0];
        let sending = self
            .transfers
            .by_id
            .values()
            .filter(|t| t.from == sid)
            .count();
        if sending >= MAX_SENDING {
            return Err(err(
                ErrorCode::ClientNotSupported,
                format!("at most {MAX_SENDING} transfers at once: wait for one to end"),
            ));
        }
        let id = loop {
            self.transfers.next_id = self.transfers.next_id.wrapping_add(1).max(1);
            let id = self.transfers.next_id;
            if !self.transfers.by_id.contains_key(&id) {
                break id;
            }
        };
        self.transfers.by_id.insert(
            id,
            Transfer {
                from: sid,
                to: receiver,
                size,
                sent: 0,
                acked: 0,
            },
        );
        let offer = Event::DataIncoming {
            transfer_id: id,
            from: user.to_owned(),
            size,
            name,
        };
        self.out.event(receiver, offer);
        Ok(Response::TransferStarted {
            transfer_id: id,
            chunk_bytes: DataFrame::MAX_CHUNK_BYTES as u32,
            window_bytes: WINDOW_BYTES as u32,
        })
    }

    /// A binary frame from `sid`: a chunk to forward or an ack to pass back.
    pub(super) fn data_frame(&mut self, sid: SessionId, frame: Bytes) -> Result<(), ErrorBody> {
        let Some(header) = DataFrame::parse(&frame) else {
            return Err(err(
                ErrorCode::BadRequest,
                "binary frames carry data transfers only; send requests as JSON text",
            ));
        };
        match header {
            DataFrame::Chunk { transfer, offset } => self.chunk(sid, transfer, offset, frame),
            DataFrame::Ack { transfer, received } => self.ack(sid, transfer, received, frame),
        }
    }

    fn chunk(
        &mut self,
        sid: SessionId,
        id: u32,
        offset: u64,
        frame: Bytes,
    ) -> Result<(), ErrorBody> {
        let t = self.transfers.get_mut(id, |t| t.from == sid)?;
        let len = (frame.len() - DataFrame::HEADER_BYTES) as u64;
        let bad = |why: String| err(ErrorCode::BadChunk, why);
        if offset != t.sent {
            return Err(bad(format!(
                "chunk at {offset}: the next chunk of transfer {id} starts at {}",
                t.sent
            )));
        }
        if len == 0 || len > DataFrame::MAX_CHUNK_BYTES as u64 {
            return Err(bad(format!(
                "a chunk carries 1 to {} bytes",
                DataFrame::MAX_CHUNK_BYTES
            )));
        }
        if offset + len > t.size {
            return Err(bad(format!("transfer {id} is only {} bytes", t.size)));
        }
        if offset + len > t.acked + WINDOW_BYTES {
            return Err(bad(format!(
                "more than {WINDOW_BYTES} bytes ahead of the receiver: wait for its ack"
            )));
        }
        t.sent += len;
        let to = t.to;
        self.out.queue(Queued::Send {
            to,
            msg: Outbound::Data(frame),
        });
        Ok(())
    }

    fn ack(
        &mut self,
        sid: SessionId,
        id: u32,
        received: u64,
        frame: Bytes,
    ) -> Result<(), ErrorBody> {
        let t = self.transfers.get_mut(id, |t| t.to == sid)?;
        if received < t.acked || received > t.sent {
            return Err(err(
                ErrorCode::BadChunk,
                format!(
                    "ack of {received} bytes: {} were acked and {} sent",
                    t.acked, t.sent
                ),
            ));
        }
        t.acked = received;
        let (from, done) = (t.from, received == t.size);
        if done {
            self.transfers.by_id.remove(&id);
        }
        self.out.queue(Queued::Send {
            to: from,
            msg: Outbound::Data(frame),
        });
        Ok(())
    }

    pub(super) fn cancel_transfer(&mut self, sid: SessionId, id: u32) -> Reply {
        let t = self
            .transfers
            .by_id
            .get(&id)
            .filter(|t| t.from == sid || t.to == sid)
            .ok_or_else(|| no_transfer(id))?;
        let other = if t.from == sid { t.to } else { t.from };
        self.transfers.by_id.remove(&id);
        self.out
            .event(other, Event::TransferCancelled { transfer_id: id });
        Ok(Response::Done)
    }

    /// The session's connection dropped or it ended: its transfers end at both ends.
    pub(super) fn cancel_transfers_of(&mut self, sid: SessionId) {
        for id in self.transfers.ids_of(sid) {
            if let Some(t) = self.transfers.by_id.remove(&id) {
                for end in [t.from, t.to] {
                    self.out
                        .event(end, Event::TransferCancelled { transfer_id: id });
                }
            }
        }
    }
}
