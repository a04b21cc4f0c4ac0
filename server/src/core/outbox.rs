//! What the core wants sent, drained by the driver in order.

use super::media::MediaCommand;
use emedia_protocol::{ErrorBody, Event, ReplyBody, Response, ServerMessage};
use std::collections::VecDeque;

/// A connection, as numbered by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

#[derive(Debug, PartialEq)]
pub enum Output {
    Send {
        to: SessionId,
        msg: ServerMessage,
    },
    /// For the SFU.
    Media(MediaCommand),
}

#[derive(Default)]
pub struct Outbox(VecDeque<Output>);

impl Outbox {
    pub fn event(&mut self, to: SessionId, event: Event) {
        self.0.push_back(Output::Send {
            to,
            msg: ServerMessage::Event(event),
        });
    }

    pub fn reply(&mut self, to: SessionId, rid: u32, result: Result<Response, ErrorBody>) {
        let body = match result {
            Ok(r) => ReplyBody::Ok(r),
            Err(e) => ReplyBody::Err(e),
        };
        self.0.push_back(Output::Send {
            to,
            msg: ServerMessage::Reply { rid, body },
        });
    }

    pub fn media(&mut self, cmd: MediaCommand) {
        self.0.push_back(Output::Media(cmd));
    }

    pub fn pop(&mut self) -> Option<Output> {
        self.0.pop_front()
    }
}
