//! What a room says about itself: attributes set by its ADMINs, and the summaries
//! and member lists of `getRoomInfos`, `getAnchorList` and `getAudienceList`.

use super::{err, ConferenceStore, Core, Reply, SessionId};
use emedia_protocol::{
    ConferenceId, ErrorBody, ErrorCode, Event, Response, Role, RoomInfo, MAX_ATTRS,
    MAX_ATTR_KEY_BYTES, MAX_ATTR_VALUE_BYTES,
};

/// Most rooms one `getRoomInfos` asks about.
const MAX_ROOM_INFOS: usize = 100;

fn check_attr(key: &str, val: &str) -> Result<(), ErrorBody> {
    if key.is_empty() {
        return Err(err(ErrorCode::BadParameters, "an attribute needs a key"));
    }
    if key.len() > MAX_ATTR_KEY_BYTES || val.len() > MAX_ATTR_VALUE_BYTES {
        return Err(err(
            ErrorCode::TooLarge,
            format!(
                "attribute keys are at most {MAX_ATTR_KEY_BYTES} bytes, values at most {MAX_ATTR_VALUE_BYTES}"
            ),
        ));
    }
    Ok(())
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn set_attr(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        key: String,
        val: String,
    ) -> Reply {
        check_attr(&key, &val)?;
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.store.get_mut(confr_id).expect("seated above");
        if !conf.attrs.contains_key(&key) && conf.attrs.len() >= MAX_ATTRS {
            return Err(err(
                ErrorCode::TooLarge,
                format!("a conference holds at most {MAX_ATTRS} attributes"),
            ));
        }
        if conf.attrs.get(&key) != Some(&val) {
            conf.attrs.insert(key, val);
            self.attrs_changed(confr_id);
        }
        Ok(Response::Done)
    }

    /// Deleting a key that is not there changes nothing and is not an error.
    pub(super) fn delete_attr(
        &mut self,
        sid: SessionId,
        confr_id: &ConferenceId,
        key: &str,
    ) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.store.get_mut(confr_id).expect("seated above");
        if conf.attrs.remove(key).is_some() {
            self.attrs_changed(confr_id);
        }
        Ok(Response::Done)
    }

    /// Every member, the ADMIN who changed them included, gets the whole new set.
    fn attrs_changed(&mut self, confr_id: &ConferenceId) {
        let Some(conf) = self.store.get(confr_id) else {
            return;
        };
        let event = Event::ConfrAttrsUpdated {
            confr_id: confr_id.clone(),
            attrs: conf.attrs.clone(),
        };
        conf.broadcast(event, None, &mut self.out);
    }

    /// Rooms that do not exist, or have a password and do not seat the asker, are
    /// left out: a room's existence is no secret, its contents behind a password are.
    pub(super) fn room_infos(&self, sid: SessionId, ids: &[ConferenceId]) -> Reply {
        if ids.len() > MAX_ROOM_INFOS {
            return Err(err(
                ErrorCode::BadParameters,
                format!("ask about at most {MAX_ROOM_INFOS} rooms at once"),
            ));
        }
        let infos = ids
            .iter()
            .filter_map(|id| self.store.get(id))
            .filter(|c| !c.has_password() || c.seat_of_session(sid).is_some())
            .map(|c| RoomInfo {
                confr_id: c.id.clone(),
                confr_type: c.confr_type,
                member_count: u32::try_from(c.seats().len()).unwrap_or(u32::MAX),
                owner_name: c.owner().map(|s| s.member.name.clone()),
                attrs: c.attrs.clone(),
            })
            .collect();
        Ok(Response::RoomInfos(infos))
    }

    pub(super) fn anchor_list(&self, sid: SessionId, confr_id: &ConferenceId) -> Reply {
        self.own_seat(sid, confr_id)?;
        let conf = self.find(confr_id)?;
        Ok(Response::Members(conf.members_where(Role::is_talker)))
    }

    pub(super) fn audience_list(&self, sid: SessionId, confr_id: &ConferenceId) -> Reply {
        self.own_admin_seat(sid, confr_id)?;
        let conf = self.find(confr_id)?;
        Ok(Response::Members(conf.members_where(|r| !r.is_talker())))
    }
}
