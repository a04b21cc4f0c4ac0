//! A member as conference rosters hand it out: shared by reference and serialized once.
//!
//! A join reply lists every member the joiner may see, so a storm of N joins into one
//! conference copies and serializes N²/2 members. The server keeps each seated member
//! as a `SharedMember`: a reply takes references, and a member's JSON is written the
//! first time any reply carries it and copied from then on (BENCHMARKS.md, join
//! storms). On the wire it is exactly a `Member`. The cache is the server's
//! (feature `cached-json`); the SDK only reads members.

use crate::model::Member;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
#[cfg(feature = "cached-json")]
use serde_json::value::RawValue;
use std::ops::Deref;
use std::sync::Arc;
#[cfg(feature = "cached-json")]
use std::sync::OnceLock;

#[derive(Clone, Debug)]
pub struct SharedMember(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    member: Member,
    /// The member's JSON, written when first needed. A changed member is a new
    /// `SharedMember`, so this never goes stale.
    #[cfg(feature = "cached-json")]
    json: OnceLock<Box<RawValue>>,
}

impl SharedMember {
    pub fn new(member: Member) -> Self {
        Self(Arc::new(Inner {
            member,
            #[cfg(feature = "cached-json")]
            json: OnceLock::new(),
        }))
    }
}

impl From<Member> for SharedMember {
    fn from(member: Member) -> Self {
        Self::new(member)
    }
}

impl Deref for SharedMember {
    type Target = Member;

    fn deref(&self) -> &Member {
        &self.0.member
    }
}

impl PartialEq for SharedMember {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.member == other.0.member
    }
}

impl Eq for SharedMember {}

impl PartialEq<Member> for SharedMember {
    fn eq(&self, other: &Member) -> bool {
        self.0.member == *other
    }
}

#[cfg(not(feature = "cached-json"))]
impl Serialize for SharedMember {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.member.serialize(serializer)
    }
}

#[cfg(feature = "cached-json")]
impl Serialize for SharedMember {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(json) = self.0.json.get() {
            return json.serialize(serializer);
        }
        match serde_json::value::to_raw_value(&self.0.member) {
            Ok(json) => self.0.json.get_or_init(|| json).serialize(serializer),
            // Not reachable with a `Member` (strings and numbers), but never fatal.
            Err(_) => self.0.member.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SharedMember {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Member::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberId, Role};

    fn alice() -> Member {
        Member {
            id: MemberId("m1".into()),
            name: "alice".into(),
            global_name: "app#alice".into(),
            nick_name: Some("Al \"the\" ice".into()),
            ext: Some(r#"{"seat":3}"#.into()),
            role: Role::Talker,
        }
    }

    #[test]
    fn is_a_member_on_the_wire_however_often_it_is_written() {
        let shared = SharedMember::new(alice());
        let plain = serde_json::to_string(&alice()).unwrap();
        let list = vec![shared.clone(), shared.clone()];
        assert_eq!(serde_json::to_string(&shared).unwrap(), plain);
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            format!("[{plain},{plain}]"),
            "the cached JSON is written again"
        );
        assert_eq!(
            serde_json::to_value(&shared).unwrap(),
            serde_json::to_value(alice()).unwrap()
        );
        let back: SharedMember = serde_json::from_str(&plain).unwrap();
        assert_eq!(back, shared);
        assert_eq!(back.name, "alice");
    }
}
