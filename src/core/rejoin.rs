//! Joining again when the server can no longer resume the session (it expired while
//! the page was away, or the server restarted).
//!
//! The page logs in on a new connection and joins each conference again with its
//! role token, which keeps its role; a room joined by name whose conference is gone
//! is joined by name again, which opens it anew. The roster is then resynced by
//! events (who left, who came, which streams ended or began meanwhile), the page's
//! own streams are published again, and `onReconnected()` follows. A conference
//! that cannot be joined again ends with `onConferenceExit(4, -9527)`.

use super::{Client, JoinedConference, LocalMedia, SdkError, SdkEvent, Waiting};
use emedia_protocol::{
    ConferenceId, ErrorCode, ExitReason, Joined, MemberExitReason, Request, Response,
};

impl Client {
    /// The server refused the resume: log in again and rejoin everything.
    pub(super) fn resume_refused(&mut self, now: u64) {
        if self.identity.is_none() {
            return self.give_up("the server could not resume the session", now);
        }
        self.transport.push(super::TransportCommand::Close);
        // Calls the app made meanwhile go after the rejoins.
        let waiting = std::mem::take(&mut self.queued);
        self.connect(now);
        self.rejoining = true;
        let joins: Vec<(ConferenceId, Request)> = self
            .conferences
            .values()
            .map(|c| {
                let req = Request::Join {
                    confr_id: c.confr_id.clone(),
                    ticket: c.role_token.clone(),
                    ext: c.rejoin.ext.clone(),
                    nick_name: c.rejoin.nick_name.clone(),
                };
                (c.confr_id.clone(), req)
            })
            .collect();
        for (id, req) in joins {
            self.send(req, Waiting::Rejoin(id, false), now);
        }
        self.queued.extend(waiting);
    }

    pub(super) fn rejoin_answered(
        &mut self,
        old: ConferenceId,
        by_name: bool,
        result: Result<Response, SdkError>,
        now: u64,
    ) {
        match result {
            Ok(Response::Joined(joined)) => self.rejoined(old, joined),
            // The server restarted and lost the conference: a room opens again by name.
            Err(e) if e.code == ErrorCode::ConferenceNotFound && !by_name => {
                let room = self
                    .conferences
                    .get(&old)
                    .and_then(|c| c.rejoin.room.clone());
                match room {
                    Some(req) => return self.send(req, Waiting::Rejoin(old, true), now),
                    None => self.rejoin_failed(old),
                }
            }
            _ => self.rejoin_failed(old),
        }
        let still_joining = self
            .pending
            .values()
            .any(|p| matches!(p.waiting, Waiting::Rejoin(..)));
        if self.rejoining && !still_joining {
            self.rejoining = false;
            if !self.conferences.is_empty() {
                self.events.push(SdkEvent::Reconnected);
            }
        }
    }

    fn rejoin_failed(&mut self, old: ConferenceId) {
        if let Some(conf) = self.conferences.remove(&old) {
            self.release_local(&conf);
            self.events.push(SdkEvent::ConferenceExited {
                confr_id: old,
                reason: ExitReason::Failed,
                failed: Some(ErrorCode::Network),
            });
        }
    }

    /// In again: swap the conference's mirror for the new one and tell the app what
    /// differs. The old session's media connections are gone on the server, so this
    /// page's subscriptions end (each stream still live is announced again, and an
    /// app that subscribes in `onStreamAdded` subscribes again) and its own streams
    /// are published again under new ids.
    fn rejoined(&mut self, old_id: ConferenceId, joined: Joined) {
        let Some(old) = self.conferences.remove(&old_id) else {
            return;
        };
        let mut conf = JoinedConference::from_joined(&joined);
        conf.rejoin = old.rejoin.clone();
        conf.call_type = old.call_type;
        let id = conf.confr_id.clone();
        for s in &old.subscribed {
            self.local_media
                .push(LocalMedia::CloseSubscriber(s.clone()));
        }
        self.local_media
            .push(LocalMedia::CloseSubscriberConnection(old_id.clone()));
        for s in &old.published {
            self.local_media.push(LocalMedia::Republish {
                confr_id: id.clone(),
                stream_id: s.clone(),
            });
        }
        let events = resync(&old, &conf);
        if self.last_joined.as_ref() == Some(&old_id) {
            self.last_joined = Some(id.clone());
        }
        self.conferences.insert(id, conf);
        self.events.extend(events);
    }
}

/// The events that take the app from the old view of a conference to the new one:
/// ended streams, departed members, arrivals, role changes, then new streams.
fn resync(old: &JoinedConference, new: &JoinedConference) -> Vec<SdkEvent> {
    let confr_id = &new.confr_id;
    let mut out = Vec::new();
    if new.role != old.role {
        out.push(SdkEvent::RoleChanged {
            confr_id: confr_id.clone(),
            role: new.role,
        });
    }
    // A subscribed stream is announced again even if it lives on: its subscription ended.
    let renewed = |id| old.subscribed.contains(id);
    for s in &old.streams {
        let gone = new.stream(&s.id).is_none() || renewed(&s.id);
        if gone && !old.published.contains(&s.id) {
            out.push(SdkEvent::StreamRemoved {
                confr_id: confr_id.clone(),
                owner: old.owner_of(s),
                stream: s.clone(),
            });
        }
    }
    for m in &old.members {
        if !new.members.iter().any(|n| n.id == m.id) {
            out.push(SdkEvent::MemberExited {
                confr_id: confr_id.clone(),
                member: m.clone(),
                reason: MemberExitReason::Left,
            });
        }
    }
    for m in &new.members {
        match old.members.iter().find(|o| o.id == m.id) {
            None => out.push(SdkEvent::MemberJoined {
                confr_id: confr_id.clone(),
                member: m.clone(),
            }),
            Some(o) if o.role != m.role => out.push(SdkEvent::MemberRoleChanged {
                confr_id: confr_id.clone(),
                member: m.clone(),
            }),
            Some(_) => {}
        }
    }
    for s in &new.streams {
        let owner = new.owner_of(s);
        match old.stream(&s.id) {
            Some(o) if !renewed(&s.id) => {
                if o != s {
                    out.push(SdkEvent::StreamUpdated {
                        confr_id: confr_id.clone(),
                        owner,
                        stream: s.clone(),
                    });
                }
            }
            _ => out.push(SdkEvent::StreamAdded {
                confr_id: confr_id.clone(),
                owner,
                stream: s.clone(),
            }),
        }
    }
    out
}
