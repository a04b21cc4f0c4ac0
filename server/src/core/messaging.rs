//! Words between members: room messages to everyone in a conference, and `sendCmd`
//! messages to one user who shares a conference with the sender.

use super::{err, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{ConferenceId, ErrorBody, ErrorCode, Event, Member, Response, RoomMsg};
use emedia_protocol::{MAX_MESSAGE_BYTES, MAX_TRANSFER_BYTES};

pub(super) fn check_message_len(what: &str, len: usize) -> Result<(), ErrorBody> {
    if len > MAX_MESSAGE_BYTES {
        return Err(err(
            ErrorCode::TooLarge,
            format!("{what} is {len} bytes; at most {MAX_MESSAGE_BYTES} are allowed"),
        ));
    }
    Ok(())
}

pub(super) fn check_transfer_size(size: u64) -> Result<(), ErrorBody> {
    if size == 0 {
        return Err(err(ErrorCode::BadParameters, "nothing to send: size is 0"));
    }
    if size > MAX_TRANSFER_BYTES {
        return Err(err(
            ErrorCode::TooLarge,
            format!("{size} bytes is over the limit of {MAX_TRANSFER_BYTES}"),
        ));
    }
    Ok(())
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn send_room_msg(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        msg: RoomMsg,
    ) -> Reply {
        check_message_len("the message", msg.len())?;
        if msg.is_empty() {
            return Err(err(ErrorCode::BadParameters, "the message is empty"));
        }
        let from = Member::clone(&self.own_seat(sid, confr_id)?.member);
        let event = Event::RoomMsg {
            confr_id: confr_id.clone(),
            from,
            msg,
        };
        if let Some(conf) = self.store.get(confr_id) {
            conf.broadcast(event, Some(sid), &mut self.out);
        }
        Ok(Response::Done)
    }

    pub(super) fn send_cmd(&mut self, sid: SessionId, user: &str, to: &str, data: String) -> Reply {
        check_message_len("the data", data.len())?;
        let targets = self.sessions_beside(sid, user, to)?;
        for target in targets {
            let event = Event::CmdData {
                from: user.to_owned(),
                data: data.clone(),
            };
            self.out.event(target, event);
        }
        Ok(Response::Done)
    }

    /// The sessions of user `to` seated in a conference where `sid` is seated too,
    /// without repeats: whom a message between two users may reach.
    pub(super) fn sessions_beside(
        &self,
        sid: SessionId,
        user: &str,
        to: &str,
    ) -> Result<Vec<SessionId>, ErrorBody> {
        if to == user {
            return Err(err(ErrorCode::BadParameters, "you cannot send to yourself"));
        }
        let mut found = Vec::new();
        let shared = self
            .sessions
            .get(&sid)
            .into_iter()
            .flat_map(|s| s.conferences.iter());
        for confr_id in shared {
            let Some(seat) = self.store.get(confr_id).and_then(|c| c.seat_of_user(to)) else {
                continue;
            };
            if !found.contains(&seat.session) {
                found.push(seat.session);
            }
        }
        if found.is_empty() {
            return Err(err(
                ErrorCode::NotInConference,
                format!("{to} is not in a conference with you"),
            ));
        }
        Ok(found)
    }
}
