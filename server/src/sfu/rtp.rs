//! What the SFU reads in forwarded RTP packets (it does not depacketize): whether a
//! video packet starts a keyframe, and each route's own sequence numbering.

use str0m::format::{detect_h264_keyframe, detect_vp8_keyframe, Codec};
use str0m::rtp::SeqNo;

/// Whether an RTP payload of `codec` carries (the start of) a keyframe: the answer to
/// a keyframe request is on its way, so no further request is needed.
pub fn starts_keyframe(codec: Codec, payload: &[u8]) -> bool {
    match codec {
        Codec::Vp8 => detect_vp8_keyframe(payload),
        Codec::H264 => detect_h264_keyframe(payload),
        _ => false,
    }
}

/// A route's sequence numbers: the publisher's, shifted so that the first packet this
/// subscriber gets is number 1. The subscriber's SRTP context then starts at rollover
/// count 0 as the receiver assumes, whatever the publisher's count is by now; gaps
/// stay gaps, so the subscriber's NACKs name the packets it lacks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqShift {
    first: Option<u64>,
}

impl SeqShift {
    /// The number to send `seq` under; None for a packet older than the first one
    /// sent (a late retransmission from before this route began).
    pub fn map(&mut self, seq: SeqNo) -> Option<SeqNo> {
        let seq = *seq;
        let first = *self.first.get_or_insert(seq);
        (seq >= first).then(|| SeqNo::from(seq - first + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_of_the_forwarded_codecs_are_recognised() {
        // VP8: S=1, partition 0, then a payload header with P=0 (key) or P=1.
        assert!(starts_keyframe(Codec::Vp8, &[0x10, 0x00, 0x00, 0x00]));
        assert!(!starts_keyframe(Codec::Vp8, &[0x10, 0x01, 0x00, 0x00]));
        // H264: an IDR slice; a non-IDR slice.
        assert!(starts_keyframe(Codec::H264, &[0x65, 0x88]));
        assert!(!starts_keyframe(Codec::H264, &[0x41, 0x9a]));
        assert!(!starts_keyframe(Codec::Opus, &[0x65]));
    }

    #[test]
    fn a_route_numbers_from_one_and_keeps_gaps() {
        let mut shift = SeqShift::default();
        let at = |n: u64| SeqNo::from(n);
        assert_eq!(shift.map(at(70_000)), Some(at(1)));
        assert_eq!(shift.map(at(70_001)), Some(at(2)));
        assert_eq!(shift.map(at(70_005)), Some(at(6)), "a gap stays a gap");
        assert_eq!(shift.map(at(69_999)), None, "older than the route");
    }
}
