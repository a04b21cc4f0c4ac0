//! Just enough SDP reading to refuse offers the SFU cannot serve, with a clear code,
//! before str0m sees them.

use std::collections::BTreeSet;

/// The codecs the SFU forwards, by media kind.
pub const AUDIO_CODECS: &[&str] = &["opus"];
pub const VIDEO_CODECS: &[&str] = &["vp8", "h264"];

/// Codec names (lower case) offered for audio and for video, over all m-sections.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OfferedCodecs {
    pub audio: BTreeSet<String>,
    pub video: BTreeSet<String>,
    pub has_audio: bool,
    pub has_video: bool,
    /// The first video codec offered that the SFU forwards: the offerer's preference.
    pub preferred_video: Option<String>,
}

pub fn offered_codecs(sdp: &str) -> OfferedCodecs {
    let mut out = OfferedCodecs::default();
    let mut kind = "";
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            kind = m.split_whitespace().next().unwrap_or("");
            match kind {
                "audio" => out.has_audio = true,
                "video" => out.has_video = true,
                _ => {}
            }
        } else if let Some(map) = line.strip_prefix("a=rtpmap:") {
            // a=rtpmap:111 opus/48000/2
            let Some(name) = map
                .split_whitespace()
                .nth(1)
                .and_then(|e| e.split('/').next())
            else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            match kind {
                "audio" => drop(out.audio.insert(name)),
                "video" => {
                    if out.preferred_video.is_none() && VIDEO_CODECS.contains(&name.as_str()) {
                        out.preferred_video = Some(name.clone());
                    }
                    out.video.insert(name);
                }
                _ => {}
            }
        }
    }
    out
}

impl OfferedCodecs {
    fn forwardable(set: &BTreeSet<String>, ours: &[&str]) -> BTreeSet<String> {
        set.iter()
            .filter(|c| ours.contains(&c.as_str()))
            .cloned()
            .collect()
    }

    pub fn forwardable_audio(&self) -> BTreeSet<String> {
        Self::forwardable(&self.audio, AUDIO_CODECS)
    }

    pub fn forwardable_video(&self) -> BTreeSet<String> {
        Self::forwardable(&self.video, VIDEO_CODECS)
    }

    /// Why this offer cannot be served at all, if it cannot.
    pub fn unusable(&self) -> Option<&'static str> {
        if !self.has_audio && !self.has_video {
            return Some("the offer has no audio or video");
        }
        if self.has_audio && self.forwardable_audio().is_empty() {
            return Some("the offer has no audio codec the SFU forwards (Opus)");
        }
        if self.has_video && self.forwardable_video().is_empty() {
            return Some("the offer has no video codec the SFU forwards (VP8, H264)");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\n";

    #[test]
    fn reads_codecs_per_kind() {
        let c = offered_codecs(OFFER);
        assert!(c.has_audio && c.has_video);
        assert_eq!(
            c.forwardable_audio().into_iter().collect::<Vec<_>>(),
            ["opus"]
        );
        assert_eq!(
            c.forwardable_video().into_iter().collect::<Vec<_>>(),
            ["vp8"]
        );
        assert_eq!(c.unusable(), None);
        assert_eq!(c.preferred_video.as_deref(), Some("vp8"));
    }

    #[test]
    fn refuses_offers_without_our_codecs() {
        let vp9_only = "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 VP9/90000\r\n";
        assert!(offered_codecs(vp9_only)
            .unusable()
            .unwrap()
            .contains("video codec"));
        assert!(offered_codecs("v=0\r\n").unusable().is_some());
    }
}
