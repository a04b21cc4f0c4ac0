//! JavaScript values in, JavaScript objects out. Argument checks here reject with
//! -200 before anything is sent.

use crate::core::{cat, Outcome, SdkError};
use emedia_protocol::{
    Attrs, CallType, ConferenceConfig, ConferenceId, ConferenceInfo, ConfrType, ErrorCode,
    Invitation, Joined, Member, Role, RoomInfo, StreamInfo, StreamType, UserStatus,
};
use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a plain property on a fresh object cannot fail.
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A required, non-empty string.
pub fn string(v: &JsValue, name: &str) -> Result<String, SdkError> {
    match v.as_string() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(SdkError::bad_param(cat(&[
            name,
            " must be a non-empty string",
        ]))),
    }
}

pub fn confr_id(v: &JsValue) -> Result<ConferenceId, SdkError> {
    string(v, "confrId").map(ConferenceId)
}

/// An optional string; numbers are accepted for passwords typed as digits.
pub fn opt_string(v: &JsValue, name: &str) -> Result<Option<String>, SdkError> {
    if absent(v) {
        return Ok(None);
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(s).filter(|s| !s.is_empty()));
    }
    if let Some(n) = v.as_f64().filter(|n| n.fract() == 0.0) {
        return Ok(Some(crate::core::decimal(n as i64)));
    }
    Err(SdkError::bad_param(cat(&[name, " must be a string"])))
}

/// The app's `ext`: any JSON-able value, carried as JSON text.
pub fn ext(v: &JsValue) -> Result<Option<String>, SdkError> {
    if absent(v) {
        return Ok(None);
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .map(Some)
        .ok_or_else(|| SdkError::bad_param("ext must be JSON-serialisable"))
}

fn code_of(v: &JsValue) -> Option<u8> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=255.0).contains(n))
        .map(|n| n as u8)
}

pub fn role(v: &JsValue) -> Result<Role, SdkError> {
    code_of(v)
        .and_then(Role::from_code)
        .ok_or_else(|| SdkError::bad_param("role must be 1 (AUDIENCE), 3 (TALKER) or 7 (ADMIN)"))
}

pub fn opt_role(v: &JsValue) -> Result<Option<Role>, SdkError> {
    if absent(v) {
        Ok(None)
    } else {
        role(v).map(Some)
    }
}

pub fn confr_type(v: &JsValue) -> Result<ConfrType, SdkError> {
    code_of(v).and_then(ConfrType::from_code).ok_or_else(|| {
        SdkError::bad_param(
            "confrType must be 10 (COMMUNICATION), 11 (COMMUNICATION_MIX) or 12 (LIVE)",
        )
    })
}

/// `memberNames`: an array of member ids or user names (a single string is accepted).
pub fn member_names(v: &JsValue) -> Result<Vec<String>, SdkError> {
    names(v, "memberNames")
}

/// An array of non-empty strings (a single string is accepted).
pub fn names(v: &JsValue, name: &str) -> Result<Vec<String>, SdkError> {
    if let Some(s) = v.as_string() {
        return Ok(vec![s]);
    }
    if !Array::is_array(v) {
        return Err(SdkError::bad_param(cat(&[
            name,
            " must be an array of strings",
        ])));
    }
    Array::from(v).iter().map(|m| string(&m, name)).collect()
}

/// A ring timeout in seconds (fractions allowed) as milliseconds; absent: the
/// server's default.
pub fn timeout_ms(v: &JsValue) -> Result<Option<u64>, SdkError> {
    if absent(v) {
        return Ok(None);
    }
    v.as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Some((s * 1000.0).round() as u64))
        .ok_or_else(|| SdkError::bad_param("timeout must be a number of seconds"))
}

/// `type: 'video' | 'audio'` (default video).
pub fn call_type(v: &JsValue) -> Result<CallType, SdkError> {
    match v.as_string().as_deref() {
        None if absent(v) => Ok(CallType::Video),
        Some("video") => Ok(CallType::Video),
        Some("audio") => Ok(CallType::Audio),
        _ => Err(SdkError::bad_param("type must be 'video' or 'audio'")),
    }
}

fn opt_count(obj: &JsValue, key: &str, default: u32) -> Result<u32, SdkError> {
    let v = get(obj, key);
    if absent(&v) {
        return Ok(default);
    }
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u32::MAX as f64)
        .map(|n| n as u32)
        .ok_or_else(|| SdkError::bad_param(cat(&[key, " must be a whole number"])))
}

/// The conference options shared by createConference's object form and joinRoom's config.
pub fn config(obj: &JsValue) -> Result<ConferenceConfig, SdkError> {
    let d = ConferenceConfig::default();
    Ok(ConferenceConfig {
        max_talker_count: opt_count(obj, "maxTalkerCount", d.max_talker_count)?,
        max_video_count: opt_count(obj, "maxVideoCount", d.max_video_count)?,
        max_audience_count: opt_count(obj, "maxAudienceCount", d.max_audience_count)?,
        max_pub_desktop_count: opt_count(obj, "maxPubDesktopCount", d.max_pub_desktop_count)?,
        rec: get(obj, "rec").is_truthy(),
        rec_merge: get(obj, "recMerge").is_truthy(),
        ext: ext(&get(obj, "ext"))?,
    })
}

pub fn error(e: &SdkError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let _ = Reflect::set(&err, &"code".into(), &e.code.code().into());
    err.into()
}

pub fn code_value(c: ErrorCode) -> JsValue {
    c.code().into()
}

/// ext text back to the app's object; text that is not JSON is passed as a string.
fn ext_value(ext: &Option<String>) -> JsValue {
    match ext {
        None => JsValue::UNDEFINED,
        Some(t) => JSON::parse(t).unwrap_or_else(|_| t.into()),
    }
}

/// The emedia member object: `{id, name, globalName, nickName, ext, role, confrId}`.
pub fn member(confr_id: &ConferenceId, m: &Member) -> JsValue {
    let o = Object::new();
    set(&o, "id", m.id.as_str());
    set(&o, "name", m.name.as_str());
    set(&o, "globalName", m.global_name.as_str());
    if let Some(n) = &m.nick_name {
        set(&o, "nickName", n.as_str());
    }
    set(&o, "ext", ext_value(&m.ext));
    set(&o, "role", m.role.code());
    set(&o, "confrId", confr_id.as_str());
    o.into()
}

/// The emedia stream object: `{id, voff, aoff, memId, owner, rtcId, type, ext, confrId}`.
pub fn stream(confr_id: &ConferenceId, owner: &Option<Member>, s: &StreamInfo) -> JsValue {
    let o = Object::new();
    set(&o, "id", s.id.as_str());
    set(&o, "voff", u8::from(s.voff || !s.video));
    set(&o, "aoff", u8::from(s.aoff || !s.audio));
    set(&o, "memId", s.mem_id.as_str());
    let owner = match owner {
        Some(m) => member(confr_id, m),
        None => {
            // The publisher is out of this member's view; its id is still known.
            let m = Object::new();
            set(&m, "id", s.mem_id.as_str());
            m.into()
        }
    };
    set(&o, "owner", owner);
    set(&o, "rtcId", s.rtc_id.as_str());
    set(
        &o,
        "type",
        match s.stream_type {
            StreamType::Camera => "camera",
            StreamType::Desktop => "desktop",
        },
    );
    set(&o, "ext", ext_value(&s.ext));
    set(&o, "confrId", confr_id.as_str());
    o.into()
}

/// `{userId, status, dnd}`
pub fn user_status(s: &UserStatus) -> JsValue {
    let o = Object::new();
    set(&o, "userId", s.user_id.as_str());
    set(&o, "status", s.status.code());
    set(&o, "dnd", s.dnd);
    o.into()
}

pub fn strings(list: &[String]) -> Array {
    list.iter().map(|s| JsValue::from(s.as_str())).collect()
}

/// `onInvited`'s `{callId, confrId, sponsor, userIdList, isFromGroup, callType, ext}`.
pub fn invitation(i: &Invitation) -> JsValue {
    let o = Object::new();
    set(&o, "callId", i.call_id.as_str());
    set(&o, "confrId", i.confr_id.as_str());
    set(&o, "sponsor", i.sponsor.as_str());
    set(&o, "userIdList", strings(&i.user_id_list));
    set(&o, "isFromGroup", i.is_from_group);
    set(
        &o,
        "callType",
        match i.call_type {
            CallType::Video => "video",
            CallType::Audio => "audio",
        },
    );
    set(&o, "ext", ext_value(&i.ext));
    o.into()
}

fn members<'a>(confr_id: &ConferenceId, list: impl Iterator<Item = &'a Member>) -> Array {
    list.map(|m| member(confr_id, m)).collect()
}

fn config_value(c: &ConferenceConfig) -> Object {
    let o = Object::new();
    set(&o, "maxTalkerCount", c.max_talker_count);
    set(&o, "maxVideoCount", c.max_video_count);
    set(&o, "maxAudienceCount", c.max_audience_count);
    set(&o, "maxPubDesktopCount", c.max_pub_desktop_count);
    set(&o, "rec", c.rec);
    set(&o, "recMerge", c.rec_merge);
    set(&o, "ext", ext_value(&c.ext));
    o
}

fn joined(j: &Joined, password: &Option<String>) -> JsValue {
    let o = Object::new();
    set(&o, "confrId", j.confr_id.as_str());
    set(&o, "id", j.confr_id.as_str());
    set(&o, "joinId", j.join_id.as_str());
    set(&o, "role", j.role.code());
    set(&o, "roleToken", j.role_token.as_str());
    set(&o, "ticket", j.ticket.as_str());
    set(&o, "type", j.confr_type.code());
    set(&o, "created", j.created);
    if let Some(p) = password {
        set(&o, "password", p.as_str());
    }
    set(
        &o,
        "members",
        members(&j.confr_id, j.members.iter().map(|m| &**m)),
    );
    set(&o, "attrs", attrs(&j.attrs));
    o.into()
}

/// Room attributes as `{key: val, ...}`.
pub fn attrs(a: &Attrs) -> JsValue {
    let o = Object::new();
    for (k, v) in a.iter() {
        set(&o, k, v);
    }
    o.into()
}

/// `getRoomInfos`' `{confrId, type, memberCount, ownerName, attrs}`.
fn room_info(r: &RoomInfo) -> JsValue {
    let o = Object::new();
    set(&o, "confrId", r.confr_id.as_str());
    set(&o, "type", r.confr_type.code());
    set(&o, "memberCount", r.member_count);
    if let Some(owner) = &r.owner_name {
        set(&o, "ownerName", owner.as_str());
    }
    set(&o, "attrs", attrs(&r.attrs));
    o.into()
}

fn info(i: &ConferenceInfo) -> JsValue {
    let o = Object::new();
    set(&o, "confrId", i.confr_id.as_str());
    set(&o, "id", i.confr_id.as_str());
    set(&o, "type", i.confr_type.code());
    if let Some(r) = &i.room_name {
        set(&o, "roomName", r.as_str());
    }
    set(&o, "hasPassword", i.has_password);
    set(&o, "config", config_value(&i.config));
    set(
        &o,
        "members",
        members(&i.confr_id, i.members.iter().map(|m| &**m)),
    );
    o.into()
}

pub fn outcome(out: &Outcome) -> JsValue {
    match out {
        Outcome::Created {
            confr_id,
            confr_type,
            password,
            ticket,
            role_token,
        } => {
            let o = Object::new();
            set(&o, "confrId", confr_id.as_str());
            set(&o, "id", confr_id.as_str());
            set(&o, "password", password.as_deref().unwrap_or(""));
            set(&o, "roleToken", role_token.as_str());
            set(&o, "ticket", ticket.as_str());
            set(&o, "type", confr_type.code());
            o.into()
        }
        Outcome::Ticket(t) => t.as_str().into(),
        Outcome::Joined {
            joined: j,
            password,
        } => joined(j, password),
        Outcome::Info(i) => info(i),
        // pubStream and subStream build their own results from these.
        Outcome::Published { stream: s, .. } => s.id.as_str().into(),
        Outcome::Subscribed { stream_id, .. } => stream_id.as_str().into(),
        Outcome::Rtmp { stream, .. } => stream.id.as_str().into(),
        Outcome::UserStatus(list) => list.iter().map(user_status).collect::<Array>().into(),
        Outcome::Busy(busy) => (*busy).into(),
        Outcome::Called {
            call_id,
            confr_id,
            joined: j,
        } => {
            let o = Object::new();
            set(&o, "callId", call_id.as_str());
            set(&o, "confrId", confr_id.as_str());
            if let Some(j) = j {
                set(&o, "conference", joined(j, &None));
            }
            o.into()
        }
        Outcome::InviteSent(id) => id.as_str().into(),
        Outcome::TransferStarted { transfer_id, .. } => (*transfer_id).into(),
        Outcome::RoomInfos(list) => list.iter().map(room_info).collect::<Array>().into(),
        Outcome::Members {
            confr_id,
            members: m,
        } => members(confr_id, m.iter()).into(),
        Outcome::Done | Outcome::IceRestarted(_) => JsValue::UNDEFINED,
    }
}

/// `{NAME: code, ...}` for the constants on `emedia.mgr`.
pub fn constants(pairs: &[(&str, u8)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        set(&o, k, *v);
    }
    Object::freeze(&o)
}
