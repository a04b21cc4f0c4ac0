//! Checks on request fields the types alone cannot express. Each failure is a -200
//! with words saying which field and why.

use emedia_protocol::{ConferenceConfig, ErrorBody, ErrorCode};

pub const MAX_EXT_BYTES: usize = 4096;
pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_TARGETS: usize = 1000;

fn bad(msg: String) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadParameters, msg)
}

fn text(field: &str, value: &str, max_chars: usize) -> Result<(), ErrorBody> {
    if value.chars().count() > max_chars {
        return Err(bad(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(format!("{field} contains control characters")));
    }
    Ok(())
}

pub fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<(), ErrorBody> {
    value.map_or(Ok(()), |v| text(field, v, max_chars))
}

pub fn room_name(name: &str) -> Result<(), ErrorBody> {
    if name.trim().is_empty() {
        return Err(bad("roomName is empty".into()));
    }
    text("roomName", name, MAX_NAME_CHARS)
}

/// `ext` is the app's JSON, passed to other members' JSON.parse: it must be JSON.
pub fn ext(value: Option<&str>) -> Result<(), ErrorBody> {
    let Some(v) = value else { return Ok(()) };
    if v.len() > MAX_EXT_BYTES {
        return Err(bad(format!("ext is larger than {MAX_EXT_BYTES} bytes")));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(v)
        .map(|_| ())
        .map_err(|_| bad("ext is not valid JSON".into()))
}

pub fn config(c: &ConferenceConfig) -> Result<(), ErrorBody> {
    let ranges = [
        ("maxTalkerCount", c.max_talker_count, 1, 1000),
        ("maxAudienceCount", c.max_audience_count, 0, 100_000),
        ("maxVideoCount", c.max_video_count, 0, 64),
        ("maxPubDesktopCount", c.max_pub_desktop_count, 0, 16),
    ];
    for (field, v, lo, hi) in ranges {
        if !(lo..=hi).contains(&v) {
            return Err(bad(format!(
                "{field} must be between {lo} and {hi}, not {v}"
            )));
        }
    }
    ext(c.ext.as_deref())
}

pub fn targets(members: &[String]) -> Result<(), ErrorBody> {
    if members.is_empty() {
        return Err(bad("memberNames is empty".into()));
    }
    if members.len() > MAX_TARGETS {
        return Err(bad(format!(
            "memberNames has more than {MAX_TARGETS} entries"
        )));
    }
    Ok(())
}
