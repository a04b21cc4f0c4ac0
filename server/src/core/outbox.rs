//! What the core wants sent, drained by the driver in order.
//!
//! The core addresses sessions; `Core::poll_output` turns those into the connection
//! each session is on now, counting events for resume on the way.

use super::media::MediaCommand;
use super::sessions::{ConnId, SessionId};
use emedia_protocol::{ErrorBody, Event, ReplyBody, Response};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// What the driver must do, in order.
#[derive(Debug, PartialEq)]
pub enum Output {
    Send {
        to: ConnId,
        msg: Outbound,
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

/// A [`emedia_protocol::ServerMessage`] on its way out. An event told to many members
/// is one shared value, so the driver can serialize it once for all of them (a join
/// into a room of N is N events) and the resume buffers hold it without copies.
#[derive(Debug, PartialEq)]
pub enum Outbound {
    Reply {
        rid: u32,
        /// Boxed: a reply (a join's is a few hundred bytes) would otherwise make every
        /// queued event as large, and a storm moves tens of thousands of them.
        body: Box<ReplyBody>,
    },
    Event(Arc<Event>),
    /// A binary data-transfer frame (`DataFrame`), passed on as it came.
    Data(bytes::Bytes),
}

/// The wire shape of `ServerMessage`, borrowed from an [`Outbound`].
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Wire<'a> {
    Reply { rid: u32, body: &'a ReplyBody },
    Event(&'a Event),
}

impl Outbound {
    /// The JSON text frame, exactly as `ServerMessage` serializes; `None` for a
    /// binary frame.
    pub fn to_json(&self) -> Option<serde_json::Result<String>> {
        Some(match self {
            Outbound::Reply { rid, body } => {
                serde_json::to_string(&Wire::Reply { rid: *rid, body })
            }
            Outbound::Event(e) => serde_json::to_string(&Wire::Event(e)),
            Outbound::Data(_) => return None,
        })
    }
}

/// An output before it is routed to a connection.
pub(super) enum Queued {
    Send {
        to: SessionId,
        msg: Outbound,
    },
    /// An event sent before and counted already, resent after a resume.
    Resend {
        to: SessionId,
        event: Arc<Event>,
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
        self.shared_event(to, Arc::new(event));
    }

    /// One event for several members (see [`Outbound`]).
    pub fn shared_event(&mut self, to: SessionId, event: Arc<Event>) {
        self.queue(Queued::Send {
            to,
            msg: Outbound::Event(event),
        });
    }

    pub fn reply(&mut self, to: SessionId, rid: u32, result: Result<Response, ErrorBody>) {
        let body = match result {
            Ok(r) => ReplyBody::Ok(r),
            Err(e) => ReplyBody::Err(e),
        };
        self.queue(Queued::Send {
            to,
            msg: Outbound::Reply {
                rid,
                body: Box::new(body),
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use emedia_protocol::{ErrorCode, ServerMessage};

    #[test]
    fn outbound_serializes_as_the_server_message_it_stands_for() {
        let event = Event::ConferenceExited {
            confr_id: "c1".into(),
            reason: emedia_protocol::ExitReason::Kicked,
        };
        let reply = ReplyBody::Err(ErrorBody {
            code: ErrorCode::ConferenceNotFound,
            message: "no such conference".into(),
        });
        let pairs = [
            (
                Outbound::Event(Arc::new(event.clone())),
                ServerMessage::Event(event),
            ),
            (
                Outbound::Reply {
                    rid: 7,
                    body: Box::new(reply.clone()),
                },
                ServerMessage::Reply {
                    rid: 7,
                    body: reply,
                },
            ),
        ];
        for (outbound, message) in pairs {
            let text = outbound.to_json().unwrap().unwrap();
            assert_eq!(text, serde_json::to_string(&message).unwrap());
            assert_eq!(
                serde_json::from_str::<ServerMessage>(&text).unwrap(),
                message
            );
        }
    }
}
