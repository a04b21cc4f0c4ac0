//! Where conferences live. In memory for one node; a Redis-backed store (a later
//! issue) implements the same trait so the core does not change.

use super::conference::Conference;
use emedia_protocol::ConferenceId;
use std::collections::HashMap;

pub trait ConferenceStore {
    fn insert(&mut self, conference: Conference);
    fn get(&self, id: &ConferenceId) -> Option<&Conference>;
    fn get_mut(&mut self, id: &ConferenceId) -> Option<&mut Conference>;
    fn remove(&mut self, id: &ConferenceId) -> Option<Conference>;
    /// The conference `joinRoom` created under this name, if it still exists.
    fn room(&self, name: &str) -> Option<ConferenceId>;
    fn len(&self) -> usize;
    fn iter(&self) -> Box<dyn Iterator<Item = &Conference> + '_>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Default)]
pub struct MemoryStore {
    conferences: HashMap<ConferenceId, Conference>,
    rooms: HashMap<String, ConferenceId>,
}

impl ConferenceStore for MemoryStore {
    fn insert(&mut self, conference: Conference) {
        if let Some(name) = &conference.room_name {
            self.rooms.insert(name.clone(), conference.id.clone());
        }
        self.conferences.insert(conference.id.clone(), conference);
    }

    fn get(&self, id: &ConferenceId) -> Option<&Conference> {
        self.conferences.get(id)
    }

    fn get_mut(&mut self, id: &ConferenceId) -> Option<&mut Conference> {
        self.conferences.get_mut(id)
    }

    fn remove(&mut self, id: &ConferenceId) -> Option<Conference> {
        let c = self.conferences.remove(id)?;
        if let Some(name) = &c.room_name {
            self.rooms.remove(name);
        }
        Some(c)
    }

    fn room(&self, name: &str) -> Option<ConferenceId> {
        self.rooms.get(name).cloned()
    }

    fn len(&self) -> usize {
        self.conferences.len()
    }

    fn iter(&self) -> Box<dyn Iterator<Item = &Conference> + '_> {
        Box::new(self.conferences.values())
    }
}
