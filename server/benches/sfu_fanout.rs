//! The SFU's own cost per forwarded packet, without sockets: one publisher sending
//! 1.5 Mbit/s of VP8 at 30 frames a second plus Opus, fanned out to N subscribers on an
//! in-memory network (`tests/common/sfu_net.rs`). Only the time inside the SFU's calls
//! is counted (str0m's work on both uplink and downlinks included, the peers' not), so
//! this is what the forwarding path costs before the kernel's share, and it moves far
//! less with this machine's load than the end-to-end figure
//! (`scripts/load.sh --release media --subscribers N`).
//!
//!   cargo bench -p emedia-server --bench sfu_fanout [-- SUBSCRIBERS [FRAMES [ROUNDS]]]
//!
//! Prints the median and fastest round in µs per forwarded packet, as a line and as JSON.

#[path = "../tests/common/sfu_net.rs"]
mod sfu_net;

use std::time::Duration;

/// 1.5 Mbit/s at 30 frames a second.
const FRAME_BYTES: usize = 1_500_000 / 8 / 30;
const FRAME_GAP: Duration = Duration::from_millis(33);

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let subscribers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let frames: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let mut per_packet: Vec<f64> = (0..rounds).map(|_| round(subscribers, frames)).collect();
    per_packet.sort_by(f64::total_cmp);
    let (median, fastest) = (per_packet[rounds / 2], per_packet[0]);
    println!(
        "1 → {subscribers}, {frames} frames, {rounds} rounds: SFU {median:.2} µs per forwarded \
         packet (fastest {fastest:.2})"
    );
    println!(
        "{{\"bench\":\"sfu_fanout\",\"subscribers\":{subscribers},\"frames\":{frames},\
         \"us_per_packet_median\":{median:.3},\"us_per_packet_fastest\":{fastest:.3}}}"
    );
}

/// One publisher's `frames` to `subscribers`: µs of SFU time per forwarded packet.
fn round(subscribers: usize, frames: usize) -> f64 {
    let mut net = sfu_net::Net::new(subscribers);
    net.sfu_time = Duration::ZERO;
    for _ in 0..frames {
        net.send_frame(FRAME_BYTES, FRAME_GAP);
    }
    let forwarded: usize = net.received().map(|r| r.audio.len() + r.video.len()).sum();
    assert!(forwarded > 0, "nothing was forwarded");
    net.sfu_time.as_secs_f64() * 1e6 / forwarded as f64
}
