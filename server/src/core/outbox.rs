//! What the core wants sent, drained by the driver in order.
//!
//! The core addresses sessions; `Core::poll_output` turns those into the connection
//! each session is on now, counting events for resume on the way.

use super::media::MediaCommand;
use super::sessions::{ConnId, SessionId};
use emedia_protocol::{ErrorBody, Event, ReplyBody, Response, ServerMessage};
use std::collections::VecDeque;

/// What the driver must do, in order.
#[derive(Debug, PartialEq)]
pub enum Output {
    Send {
        to: ConnId,
        msg: ServerMessage,
    },
    /// Close the connection with this code; the core has already forgotten it.
    Close {
        conn: ConnId,
        code: u16,
        reason: &'static str,
    },
    /// For the SFU.
    Media(MediaCommand),
}

/// An output before it is routed to a connection.
pub(super) enum Queued {
    Send {
        to: SessionId,
        msg: ServerMessage,
    },
    /// An event sent before and counted already, resent after a resume.
    Resend {
        to: SessionId,
        event: Event,
    },
    Close {
        conn: ConnId,
        code: u16,
        reason: &'static str,
    },
    Media(MediaCommand),
}

#[derive(Default)]
pub struct Outbox(VecDeque<Queued>);

impl Outbox {
    pub fn event(&mut self, to: SessionId, event: Event) {
        self.queue(Queued::Send {
            to,
            msg: ServerMessage::Event(event),
        });
    }

    pub fn reply(&mut self, to: SessionId, rid: u32, result: Result<Response, ErrorBody>) {
        let body = match result {
            Ok(r) => ReplyBody::Ok(r),
            Err(e) => ReplyBody::Err(e),
        };
        self.queue(Queued::Send {
            to,
            msg: ServerMessage::Reply { rid, body },
        });
    }

    pub fn media(&mut self, cmd: MediaCommand) {
        self.queue(Queued::Media(cmd));
    }

    pub(super) fn queue(&mut self, q: Queued) {
        self.0.push_back(q);
    }

    pub(super) fn pop(&mut self) -> Option<Queued> {
        self.0.pop_front()
    }
}
