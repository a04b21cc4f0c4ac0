//! Who is online: each user's status (offline, online, in a call, in a conference),
//! do-not-disturb, and the sessions that asked to hear changes.
//!
//! A status is derived, never stored: from the user's sessions, their seats and the
//! calls. Inputs only mark users as touched; after each input `Core::poll_output`
//! recomputes the touched users and tells the watchers about real changes, so a join
//! that changes nothing costs one lookup and a burst of changes to one user is one
//! event per watcher.

use super::{err, ConferenceStore, Core, Reply};
use emedia_protocol::{ErrorCode, Event, Response, UserState, UserStatus};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Users in one `getUserStatus` at most.
const MAX_QUERY: usize = 1000;

#[derive(Default)]
pub(super) struct Presence {
    /// Each logged-in user's sessions.
    sessions_of: HashMap<String, Vec<super::SessionId>>,
    dnd: HashSet<String>,
    /// What watchers last heard (or would have) per online user.
    published: HashMap<String, (UserState, bool)>,
    watchers: BTreeSet<super::SessionId>,
    touched: BTreeSet<String>,
}

impl Presence {
    pub fn login(&mut self, user: &str, sid: super::SessionId) {
        self.sessions_of
            .entry(user.to_owned())
            .or_default()
            .push(sid);
        self.touch(user);
    }

    pub fn logout(&mut self, user: &str, sid: super::SessionId) {
        if let Some(list) = self.sessions_of.get_mut(user) {
            list.retain(|s| *s != sid);
            if list.is_empty() {
                self.sessions_of.remove(user);
                // Do-not-disturb belongs to a login: the next one starts without it.
                self.dnd.remove(user);
            }
        }
        self.watchers.remove(&sid);
        self.touch(user);
    }

    pub fn touch(&mut self, user: &str) {
        self.touched.insert(user.to_owned());
    }

    pub fn sessions(&self, user: &str) -> &[super::SessionId] {
        self.sessions_of.get(user).map_or(&[], Vec::as_slice)
    }

    pub fn is_online(&self, user: &str) -> bool {
        self.sessions_of.contains_key(user)
    }

    pub fn is_dnd(&self, user: &str) -> bool {
        self.dnd.contains(user)
    }
}

impl<S: ConferenceStore> Core<S> {
    pub(super) fn user_status(&self, user: &str) -> UserStatus {
        let sessions = self.presence.sessions(user);
        let status = if sessions.is_empty() {
            UserState::Offline
        } else if self.in_a_call(user) || self.calls.is_ringing(user) {
            UserState::InCall
        } else if sessions
            .iter()
            .filter_map(|s| self.sessions.get(s))
            .any(|s| !s.conferences.is_empty())
        {
            UserState::InConference
        } else {
            UserState::Online
        };
        UserStatus {
            user_id: user.to_owned(),
            status,
            dnd: self.presence.is_dnd(user),
        }
    }

    pub(super) fn get_user_status(&self, user_ids: Option<Vec<String>>) -> Reply {
        let users = match user_ids {
            Some(list) => {
                if list.len() > MAX_QUERY {
                    return Err(err(
                        ErrorCode::BadParameters,
                        format!("userIds has more than {MAX_QUERY} entries"),
                    ));
                }
                if let Some(bad) = list.iter().find(|u| !crate::auth::valid_user_id(u)) {
                    return Err(err(
                        ErrorCode::BadParameters,
                        format!("{bad:?} is not a user id"),
                    ));
                }
                list
            }
            None => {
                let mut online: Vec<String> = self.presence.sessions_of.keys().cloned().collect();
                online.sort_unstable();
                online.truncate(MAX_QUERY);
                online
            }
        };
        Ok(Response::UserStatus(
            users.iter().map(|u| self.user_status(u)).collect(),
        ))
    }

    pub(super) fn set_status_notify(&mut self, sid: super::SessionId, on: bool) -> Reply {
        if on {
            self.presence.watchers.insert(sid);
        } else {
            self.presence.watchers.remove(&sid);
        }
        Ok(Response::Done)
    }

    pub(super) fn set_dnd(&mut self, user: &str, dnd: bool) -> Reply {
        if dnd {
            self.presence.dnd.insert(user.to_owned());
        } else {
            self.presence.dnd.remove(user);
        }
        self.presence.touch(user);
        Ok(Response::Done)
    }

    /// Tells the watchers about every touched user whose status really changed.
    /// Returns whether anything was queued.
    pub(super) fn publish_presence(&mut self) -> bool {
        if self.presence.touched.is_empty() {
            return false;
        }
        let mut queued = false;
        for user in std::mem::take(&mut self.presence.touched) {
            let now = self.user_status(&user);
            let key = (now.status, now.dnd);
            let before = if now.status == UserState::Offline {
                self.presence.published.remove(&user)
            } else {
                self.presence.published.insert(user.clone(), key)
            };
            if before.unwrap_or((UserState::Offline, false)) == key {
                continue;
            }
            let event = Arc::new(Event::UserStatusChanged(now));
            for &watcher in &self.presence.watchers {
                self.out.shared_event(watcher, Arc::clone(&event));
                queued = true;
            }
        }
        queued
    }
}
