//! Cross-room PK: two rooms' hosts (an ADMIN of each) show each other's streams.
//!
//! While a PK runs, each host's live streams are *mirrored* into the other room: a
//! stream entry there with the same id and the same SFU source, so members of the
//! other room subscribe to it exactly as to their own streams, and all subscription
//! bookkeeping stays in their room. A mirror never owns the SFU peer: ending it only
//! unroutes its subscribers. The PK ends when a host quits it, leaves its room, or a
//! room ends; the mirrors go first (`stream_removed`), then `room_pk_ended`.

use super::media::MediaCommand;
use super::streams::{Negotiation, Stream};
use super::{err, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{ConferenceId, ErrorCode, Event, Member, MemberId, Response, StreamId};

/// A room's side of a running PK.
#[derive(Clone, Debug)]
pub struct Pk {
    pub other: ConferenceId,
    /// This room's host: its streams are mirrored into `other`.
    pub host: MemberId,
}

/// A PK asked for and not answered yet.
#[derive(Clone, Debug)]
pub(super) struct PkRequest {
    from_confr: ConferenceId,
    from_member: MemberId,
    from_session: SessionId,
    to_confr: ConferenceId,
    to_user: String,
}

impl PkRequest {
    fn involves(&self, confr_id: &ConferenceId) -> bool {
        &self.from_confr == confr_id || &self.to_confr == confr_id
    }
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn request_room_pk(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        target: &ConferenceId,
        target_user: &str,
    ) -> Reply {
        let from = Member::clone(&self.own_admin_seat(sid, confr_id)?.member);
        if confr_id == target {
            return Err(err(
                ErrorCode::BadParameters,
                "a PK needs another room than your own",
            ));
        }
        let target_seat = self
            .find(target)?
            .seat_of_user(target_user)
            .filter(|s| s.role == emedia_protocol::Role::Admin)
            .cloned()
            .ok_or_else(|| {
                err(
                    ErrorCode::MemberInvalid,
                    format!("{target_user} is not an ADMIN of room {target}"),
                )
            })?;
        for room in [confr_id, target] {
            let busy = self.store.get(room).is_some_and(|c| c.pk.is_some())
                || self.pk_requests.iter().any(|r| r.involves(room));
            if busy {
                return Err(err(
                    ErrorCode::PkBusy,
                    format!("room {room} is already in a PK or has one pending"),
                ));
            }
        }
        self.pk_requests.push(PkRequest {
            from_confr: confr_id.clone(),
            from_member: from.id.clone(),
            from_session: sid,
            to_confr: target.clone(),
            to_user: target_user.to_owned(),
        });
        let ask = Event::RoomPkRequested {
            confr_id: target.clone(),
            from,
            from_confr_id: confr_id.clone(),
        };
        self.out.event(target_seat.session, ask);
        Ok(Response::Done)
    }

    pub(super) fn answer_room_pk(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        from_confr: &ConferenceId,
        agree: bool,
    ) -> Reply {
        let me = self.own_admin_seat(sid, confr_id)?.member.clone();
        let idx = self
            .pk_requests
            .iter()
            .position(|r| {
                &r.from_confr == from_confr && &r.to_confr == confr_id && r.to_user == me.name
            })
            .ok_or_else(|| {
                err(
                    ErrorCode::RequestNotFound,
                    "no such PK request: answered, withdrawn, or not to you",
                )
            })?;
        let req = self.pk_requests.remove(idx);
        if !agree {
            let refused = Event::RoomPkRefused {
                confr_id: req.from_confr.clone(),
                target_confr_id: confr_id.clone(),
            };
            self.out.event(req.from_session, refused);
            return Ok(Response::Done);
        }
        for (room, host, other) in [
            (&req.from_confr, &req.from_member, confr_id),
            (confr_id, &me.id, &req.from_confr),
        ] {
            if let Some(conf) = self.store.get_mut(room) {
                conf.pk = Some(Pk {
                    other: other.clone(),
                    host: host.clone(),
                });
                let started = Event::RoomPkStarted {
                    confr_id: room.clone(),
                    other_confr_id: other.clone(),
                };
                conf.broadcast(started, None, &mut self.out);
            }
        }
        for room in [&req.from_confr, confr_id] {
            for id in self.pk_host_streams(room) {
                self.mirror_stream(room, &id);
            }
        }
        Ok(Response::Done)
    }

    pub(super) fn quit_room_pk(&mut self, sid: SessionId, confr_id: &ConferenceId) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        if self.find(confr_id)?.pk.is_none() {
            return Err(err(ErrorCode::RequestNotFound, "this room is in no PK"));
        }
        self.end_pk(confr_id);
        Ok(Response::Done)
    }

    /// The live streams of `room`'s PK host that are its own (not mirrors).
    fn pk_host_streams(&self, room: &ConferenceId) -> Vec<StreamId> {
        let Some(conf) = self.store.get(room) else {
            return Vec::new();
        };
        let Some(pk) = &conf.pk else {
            return Vec::new();
        };
        conf.streams
            .ids_of_member(&pk.host)
            .into_iter()
            .filter(|id| {
                conf.streams
                    .get(id)
                    .is_some_and(|s| !s.mirror && s.state == Negotiation::Live)
            })
            .collect()
    }

    /// A host's stream went live (or the PK started): show it in the other room.
    pub(super) fn mirror_stream(&mut self, room: &ConferenceId, stream_id: &StreamId) {
        let Some(conf) = self.store.get(room) else {
            return;
        };
        let Some(pk) = conf.pk.clone() else {
            return;
        };
        let Some(stream) = conf.streams.get(stream_id) else {
            return;
        };
        if stream.mirror || stream.info.mem_id != pk.host {
            return;
        }
        let member = conf
            .find(pk.host.as_str())
            .map(|s| Member::clone(&s.member));
        let mirror = Stream {
            info: stream.info.clone(),
            owner: stream.owner,
            peer: stream.peer,
            state: Negotiation::Live,
            subscribers: Vec::new(),
            mirror: true,
        };
        let Some(other) = self.store.get_mut(&pk.other) else {
            return;
        };
        let added = Event::StreamAdded {
            confr_id: pk.other.clone(),
            stream: mirror.info.clone(),
            member,
        };
        other.streams.insert(mirror);
        other.broadcast(added, None, &mut self.out);
    }

    /// A stream of `room` changed or ended: so does its mirror in the PK room.
    pub(super) fn mirror_changed(
        &mut self,
        room: &ConferenceId,
        stream_id: &StreamId,
        ended: bool,
    ) {
        let Some(other) = self
            .store
            .get(room)
            .and_then(|c| c.pk.as_ref())
            .map(|pk| pk.other.clone())
        else {
            return;
        };
        if ended {
            self.end_mirror(&other, stream_id);
            return;
        }
        let Some(info) = self
            .store
            .get(room)
            .and_then(|c| c.streams.get(stream_id))
            .map(|s| s.info.clone())
        else {
            return;
        };
        let Some(conf) = self.store.get_mut(&other) else {
            return;
        };
        if let Some(mirror) = conf.streams.get_mut(stream_id).filter(|s| s.mirror) {
            mirror.info = info.clone();
            let event = Event::StreamUpdated {
                confr_id: other.clone(),
                stream: info,
            };
            conf.broadcast(event, None, &mut self.out);
        }
    }

    /// Removes a mirror from `room`: its members see it go, its subscribers are
    /// unrouted (the source stays: it belongs to the other room).
    fn end_mirror(&mut self, room: &ConferenceId, stream_id: &StreamId) {
        let Some(conf) = self.store.get_mut(room) else {
            return;
        };
        if !conf.streams.get(stream_id).is_some_and(|s| s.mirror) {
            return;
        }
        let Some(mirror) = conf.streams.remove(stream_id) else {
            return;
        };
        let removed = Event::StreamRemoved {
            confr_id: room.clone(),
            stream: mirror.info.clone(),
        };
        conf.broadcast(removed, None, &mut self.out);
        for sub in &mirror.subscribers {
            let peer = conf.streams.subscriber_peer(sub.session).map(|p| p.peer);
            if let (Some(peer), Some(source)) = (peer, mirror.peer) {
                self.out.media(MediaCommand::Unroute { peer, source });
            }
        }
        for sub in &mirror.subscribers {
            self.settle_dropped_subscription(room, stream_id, sub);
        }
    }

    fn end_mirrors(&mut self, room: &ConferenceId) {
        let mirrors: Vec<StreamId> = self.store.get(room).map_or(Vec::new(), |c| {
            c.streams
                .all()
                .iter()
                .filter(|s| s.mirror)
                .map(|s| s.info.id.clone())
                .collect()
        });
        for id in mirrors {
            self.end_mirror(room, &id);
        }
    }

    /// Ends `room`'s PK at both ends: mirrors go, then everyone hears it ended.
    pub(super) fn end_pk(&mut self, room: &ConferenceId) {
        let Some(pk) = self.store.get_mut(room).and_then(|c| c.pk.take()) else {
            return;
        };
        if let Some(other) = self.store.get_mut(&pk.other) {
            other.pk = None;
        }
        for (here, there) in [(room, &pk.other), (&pk.other, room)] {
            self.end_mirrors(here);
            if let Some(conf) = self.store.get(here) {
                let ended = Event::RoomPkEnded {
                    confr_id: here.clone(),
                    other_confr_id: there.clone(),
                };
                conf.broadcast(ended, None, &mut self.out);
            }
        }
    }

    /// A member left `room`: a PK it hosts ends, and PK requests it made or was
    /// asked go (the asker hears a refusal).
    pub(super) fn pk_member_left(&mut self, room: &ConferenceId, member: &MemberId, user: &str) {
        if self
            .store
            .get(room)
            .and_then(|c| c.pk.as_ref())
            .is_some_and(|pk| &pk.host == member)
        {
            self.end_pk(room);
        }
        let (gone, kept): (Vec<PkRequest>, Vec<PkRequest>) = std::mem::take(&mut self.pk_requests)
            .into_iter()
            .partition(|r| {
                (&r.from_confr == room && &r.from_member == member)
                    || (&r.to_confr == room && r.to_user == user)
            });
        self.pk_requests = kept;
        for r in gone.into_iter().filter(|r| &r.from_member != member) {
            let refused = Event::RoomPkRefused {
                confr_id: r.from_confr.clone(),
                target_confr_id: r.to_confr.clone(),
            };
            self.out.event(r.from_session, refused);
        }
    }

    /// `room` is gone (destroyed, or its last member left): the PK room loses the
    /// mirrors and hears the PK ended; pending requests involving it go.
    pub(super) fn pk_room_gone(&mut self, room: &ConferenceId, pk: Option<Pk>) {
        let (gone, kept): (Vec<PkRequest>, Vec<PkRequest>) = std::mem::take(&mut self.pk_requests)
            .into_iter()
            .partition(|r| r.involves(room));
        self.pk_requests = kept;
        for r in gone.into_iter().filter(|r| &r.from_confr != room) {
            let refused = Event::RoomPkRefused {
                confr_id: r.from_confr.clone(),
                target_confr_id: r.to_confr.clone(),
            };
            self.out.event(r.from_session, refused);
        }
        let Some(pk) = pk else {
            return;
        };
        self.end_mirrors(&pk.other);
        if let Some(conf) = self.store.get_mut(&pk.other) {
            conf.pk = None;
            let ended = Event::RoomPkEnded {
                confr_id: pk.other.clone(),
                other_confr_id: room.clone(),
            };
            conf.broadcast(ended, None, &mut self.out);
        }
    }
}
