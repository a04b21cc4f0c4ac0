//! What ADMINs decide about others: requests to speak, and muting.
//!
//! A mute stops the member's audio at the source: the member is told (`muted`) and
//! its SDK disables the microphone track, while the server marks its streams `aoff`
//! so everyone sees the change at once, whatever the member's SDK does. While muted a
//! member cannot switch its audio back on; an ADMIN's unmute switches it on again.

use super::{err, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{ConferenceId, ErrorCode, Event, Member, MemberId, Response, Role};

impl<S: ConferenceStore> Core<S> {
    pub(super) fn request_to_talker(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        reason: Option<String>,
    ) -> Reply {
        if let Some(r) = &reason {
            super::messaging::check_message_len("the reason", r.len())?;
        }
        let applicant = Member::clone(&self.own_seat(sid, confr_id)?.member);
        if applicant.role != Role::Audience {
            return Err(err(
                ErrorCode::BadParameters,
                "only AUDIENCE members ask to speak: you may already",
            ));
        }
        let conf = self.store.get_mut(confr_id).expect("seated above");
        if conf.talker_requests.contains(&applicant.id) {
            return Err(err(
                ErrorCode::BadParameters,
                "you asked already: wait for the answer",
            ));
        }
        let admins: Vec<SessionId> = conf
            .seats()
            .iter()
            .filter(|s| s.role == Role::Admin)
            .map(|s| s.session)
            .collect();
        if admins.is_empty() {
            return Err(err(ErrorCode::MemberInvalid, "no ADMIN is here to ask"));
        }
        conf.talker_requests.push(applicant.id.clone());
        let event = std::sync::Arc::new(Event::TalkerRequested {
            confr_id: confr_id.clone(),
            applicant,
            reason,
        });
        for admin in admins {
            self.out.shared_event(admin, event.clone());
        }
        Ok(Response::Done)
    }

    /// On agreement the applicant becomes TALKER first (`role_changed`), then hears
    /// the answer. A request answered already, by another ADMIN say, is -706.
    pub(super) fn answer_talker_request(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        member_id: &MemberId,
        agree: bool,
        now_ms: u64,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.find(confr_id)?;
        if !conf.talker_requests.contains(member_id) {
            return Err(err(
                ErrorCode::RequestNotFound,
                "no such request to speak: answered already, or the member left",
            ));
        }
        let applicant = conf
            .find(member_id.as_str())
            .map(|s| s.session)
            .ok_or_else(|| err(ErrorCode::MemberInvalid, "the member left"))?;
        if agree {
            // Refused (too many talkers, say): the request stays open.
            self.grant(
                sid,
                confr_id,
                std::slice::from_ref(&member_id.0),
                Role::Talker,
                now_ms,
            )?;
        }
        if let Some(conf) = self.store.get_mut(confr_id) {
            conf.talker_requests.retain(|m| m != member_id);
        }
        let answer = Event::TalkerRequestAnswered {
            confr_id: confr_id.clone(),
            agree,
        };
        self.out.event(applicant, answer);
        Ok(Response::Done)
    }

    pub(super) fn mute(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        member: &str,
        muted: bool,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let target = self
            .targets(confr_id, &[member.to_owned()])?
            .remove(0)
            .member
            .id
            .clone();
        if self.own_seat(sid, confr_id)?.member.id == target {
            return Err(err(
                ErrorCode::BadParameters,
                "mute yourself with pauseAudio",
            ));
        }
        let conf = self.store.get_mut(confr_id).expect("seated above");
        if muted {
            conf.muted.insert(target);
        } else {
            conf.muted.remove(&target);
        }
        self.sync_mutes(confr_id);
        Ok(Response::Done)
    }

    pub(super) fn mute_all(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        muted: bool,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.store.get_mut(confr_id).expect("seated above");
        conf.mute_all = muted;
        if !muted {
            // Unmuting everyone lifts the single mutes too.
            conf.muted.clear();
        }
        self.sync_mutes(confr_id);
        Ok(Response::Done)
    }

    /// Tells every member whose muted state changed since it was last told (a mute,
    /// a role change under muteAll) and switches its streams' audio accordingly.
    pub(super) fn sync_mutes(&mut self, confr_id: &ConferenceId) {
        let Some(conf) = self.store.get_mut(confr_id) else {
            return;
        };
        let changed: Vec<(SessionId, MemberId, bool)> = conf
            .seats()
            .iter()
            .map(|s| (s.session, s.member.id.clone(), conf.is_muted(&s.member)))
            .filter(|(_, id, muted)| conf.muted_told.contains(id) != *muted)
            .collect();
        for (session, member, muted) in changed {
            if muted {
                conf.muted_told.insert(member.clone());
            } else {
                conf.muted_told.remove(&member);
            }
            for id in conf.streams.ids_of_member(&member) {
                let Some(stream) = conf.streams.get_mut(&id) else {
                    continue;
                };
                if stream.info.audio && stream.info.aoff != muted {
                    stream.info.aoff = muted;
                    let info = stream.info.clone();
                    let live = stream.state == super::Negotiation::Live;
                    if live {
                        let event = Event::StreamUpdated {
                            confr_id: confr_id.clone(),
                            stream: info,
                        };
                        conf.broadcast(event, Some(session), &mut self.out);
                    }
                }
            }
            let event = Event::Muted {
                confr_id: confr_id.clone(),
                muted,
            };
            self.out.event(session, event);
        }
    }

    /// Whether `sid` may switch its audio on in this conference.
    pub(super) fn check_not_muted(
        &self,
        sid: SessionId,
        confr_id: &ConferenceId,
    ) -> Result<(), emedia_protocol::ErrorBody> {
        let conf = self.find(confr_id)?;
        match conf.seat_of_session(sid) {
            Some(seat) if conf.is_muted(&seat.member) => Err(err(
                ErrorCode::IllegalRights,
                "an ADMIN muted you: you cannot unmute yourself",
            )),
            _ => Ok(()),
        }
    }
}
