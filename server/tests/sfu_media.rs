//! The SFU forwarding a publisher's media to its subscribers, on an in-memory network
//! (str0m peers on both sides, no sockets): what every subscriber must get.

#[path = "common/sfu_net.rs"]
mod sfu_net;

use std::time::Duration;

/// Every subscriber gets every packet of both kinds, numbered by its own route from 1
/// with no gap and no repeat, whatever else the SFU sends to the others.
#[test]
fn every_subscriber_gets_the_whole_stream_numbered_from_one() {
    let mut net = sfu_net::Net::new(3);
    for _ in 0..30 {
        net.send_frame(6_000, Duration::from_millis(33));
    }
    let mut counts = Vec::new();
    for got in net.received() {
        for seqs in [&got.audio, &got.video] {
            let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
            assert_eq!(seqs, &expected);
        }
        counts.push((got.audio.len(), got.video.len()));
    }
    // 15 Opus packets; 30 frames of 6,000 bytes, several packets each.
    assert_eq!(counts[0].0, 15, "{counts:?}");
    assert!(counts[0].1 >= 30 * 5, "{counts:?}");
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
}

/// A frame's packets leave the SFU in the turn that read them: no subscriber waits for
/// a timer (a round of the runner's loop, or a NACK's) to get them.
#[test]
fn a_frame_reaches_every_subscriber_in_the_turn_it_is_read() {
    let mut net = sfu_net::Net::new(3);
    net.send_frame(6_000, Duration::from_millis(33));
    for got in net.received() {
        assert_eq!(got.audio, [1], "the Opus packet");
        assert!(got.video.len() >= 5, "all of the frame: {:?}", got.video);
    }
}
