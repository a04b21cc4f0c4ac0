//! A WebRTC peer of the load generator: str0m on the client side, one UDP socket on
//! loopback, driven by a task of its own once negotiated. A publisher sends synthetic
//! VP8 and Opus at a set bitrate and frame rate; a subscriber (in str0m's RTP mode,
//! so nothing is depacketized) counts the RTP packets and bytes it gets, the gaps in
//! their sequence numbers, and when the first one came. Each Opus packet carries the
//! time it was written, so subscribers also measure the delay of the path through the
//! server.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// What a peer has received (a subscriber) or sent (a publisher).
#[derive(Default)]
pub struct Counters {
    /// RTP packets sent, as str0m's egress stats last reported them.
    pub sent: AtomicU64,
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    /// Packets missing from the sequence (never arrived, or arrived out of order).
    pub lost: AtomicU64,
    pub first_packet: OnceLock<Instant>,
    /// Publisher-to-subscriber delay of each Opus packet received since the last
    /// `take_delays`, in microseconds.
    delays: Mutex<Vec<u32>>,
}

impl Counters {
    /// The delays recorded since the last call, emptied.
    pub fn take_delays(&self) -> Vec<u32> {
        std::mem::take(&mut *self.delays.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record_delay(&self, micros: u32) {
        self.delays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(micros);
    }
}

/// The clock that Opus packets are stamped with: every peer of the generator runs in
/// this process, so a subscriber reads a publisher's stamp on the same clock.
fn clock_micros(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    at.saturating_duration_since(*EPOCH.get_or_init(Instant::now))
        .as_micros() as u64
}

/// Byte 0 of a synthetic Opus packet (an Opus TOC byte); bytes 1..9 hold the time it
/// was written (`clock_micros`, little-endian); the rest is filler. Forwarders pass
/// payloads on untouched.
const OPUS_TOC: u8 = 0xfc;

fn opus_packet(now: Instant) -> Vec<u8> {
    let mut packet = vec![OPUS_TOC; OPUS_BYTES];
    packet[1..9].copy_from_slice(&clock_micros(now).to_le_bytes());
    packet
}

/// How long ago a packet made by `opus_packet` was written, if `payload` is one.
fn opus_delay(payload: &[u8], now: Instant) -> Option<u32> {
    if payload.len() != OPUS_BYTES || payload[0] != OPUS_TOC {
        return None;
    }
    let written = u64::from_le_bytes(payload[1..9].try_into().ok()?);
    u32::try_from(clock_micros(now).checked_sub(written)?).ok()
}

/// What a publisher sends.
#[derive(Clone, Copy)]
pub struct Source {
    pub video_kbps: u32,
    pub fps: u32,
}

const OPUS_FRAME: Duration = Duration::from_millis(20);
/// 20 ms of Opus at about 64 kbit/s.
const OPUS_BYTES: usize = 160;
/// A keyframe this often, as an encoder would send one.
const KEYFRAME_EVERY: Duration = Duration::from_secs(2);
/// How often str0m reports what a publisher sent (the expected side of delivery).
const STATS_INTERVAL: Duration = Duration::from_millis(200);

/// Bytes read at once: a UDP GRO read holds up to 64 datagrams of one sender, within
/// one IP packet's 64 KiB.
const READ_BYTES: usize = 1 << 16;

pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    /// Reads with UDP GRO where the kernel has it: a sender's GSO run arrives as one
    /// buffer instead of being cut into datagrams and queued one by one. On loopback
    /// that cutting and queueing runs inside the sender's `sendmmsg` and is charged to
    /// the server; across a network it would be the receiving host's work.
    udp: quinn_udp::UdpSocketState,
    local: SocketAddr,
}

impl Peer {
    /// A peer whose socket is bound to `ip` (loopback, unless the server cannot use it).
    pub async fn new(ip: IpAddr, rtp_mode: bool) -> Result<Self, String> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0))
            .await
            .map_err(|e| e.to_string())?;
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let udp = quinn_udp::UdpSocketState::new((&socket).into()).map_err(|e| e.to_string())?;
        let mut rtc = Rtc::builder()
            .set_rtp_mode(rtp_mode)
            .set_stats_interval(Some(STATS_INTERVAL))
            .build(Instant::now());
        let candidate = Candidate::host(local, "udp").map_err(|e| e.to_string())?;
        rtc.add_local_candidate(candidate);
        Ok(Self {
            rtc,
            socket,
            udp,
            local,
        })
    }

    /// Adds an audio and a video m-line in `dir` and makes the offer; returns it with
    /// the two mids.
    pub fn offer(&mut self, dir: Direction) -> Result<(String, Pending), String> {
        let mut api = self.rtc.sdp_api();
        let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
        let video = api.add_media(MediaKind::Video, dir, None, None, None);
        let (offer, pending) = api.apply().ok_or("nothing to offer")?;
        Ok((
            offer.to_sdp_string(),
            Pending {
                pending,
                audio,
                video,
            },
        ))
    }

    /// Answers an offer made by the server (Janus offers to its subscribers).
    pub fn answer(&mut self, offer: &str) -> Result<String, String> {
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| e.to_string())?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| e.to_string())?;
        Ok(answer.to_sdp_string())
    }

    pub fn accept(&mut self, pending: SdpPendingOffer, answer: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|e| e.to_string())?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| e.to_string())
    }

    /// Runs the peer until `stop`: sends `source`'s media on the mids once connected
    /// (a publisher), or counts what arrives (a subscriber).
    pub async fn drive(
        mut self,
        source: Option<(Source, Mid, Mid)>,
        counters: Arc<Counters>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut buf = vec![0u8; READ_BYTES];
        let mut connected = false;
        let started = Instant::now();
        let (mut next_video, mut next_audio, mut frames) = (started, started, 0u64);
        let mut last_seq: HashMap<u32, u64> = HashMap::new();
        let mut sent: HashMap<Mid, u64> = HashMap::new();
        loop {
            let rtc_deadline = match self
                .drain(&counters, &mut last_seq, &mut sent, &mut connected)
                .await
            {
                Some(t) => t,
                None => return,
            };
            let mut deadline = rtc_deadline;
            if connected && source.is_some() {
                deadline = deadline.min(next_video).min(next_audio);
            }
            let sleep = tokio::time::sleep_until(deadline.into());
            // Which branch fired, acted on after the select so that its futures (the
            // stop watch's borrow among them) are gone before anything is awaited.
            let readable = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                ready = self.socket.readable() => Some(ready.is_ok()),
                _ = sleep => None,
            };
            match readable {
                Some(false) => return,
                Some(true) => loop {
                    let meta = match self.read(&mut buf) {
                        Ok(Some(meta)) => meta,
                        Ok(None) => break,
                        Err(_) => return,
                    };
                    for datagram in buf[..meta.len].chunks(meta.stride.max(1)) {
                        let Ok(contents) = datagram.try_into() else {
                            continue;
                        };
                        let input = Input::Receive(
                            Instant::now(),
                            Receive {
                                proto: Protocol::Udp,
                                source: meta.addr,
                                destination: self.local,
                                contents,
                            },
                        );
                        // str0m holds one received packet at a time: drained after each.
                        if self.rtc.handle_input(input).is_err()
                            || self
                                .drain(&counters, &mut last_seq, &mut sent, &mut connected)
                                .await
                                .is_none()
                        {
                            return;
                        }
                    }
                },
                None => {
                    let now = Instant::now();
                    if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                        return;
                    }
                    let Some((src, audio, video)) = source.filter(|_| connected) else {
                        continue;
                    };
                    if now >= next_audio {
                        self.write(
                            audio,
                            Codec::Opus,
                            Frequency::FORTY_EIGHT_KHZ,
                            now,
                            started,
                            opus_packet(now),
                        );
                        next_audio += OPUS_FRAME;
                    }
                    if now >= next_video {
                        let key_every = u64::from(src.fps) * KEYFRAME_EVERY.as_secs();
                        let frame = vp8_frame(src, frames % key_every.max(1) == 0);
                        self.write(
                            video,
                            Codec::Vp8,
                            Frequency::NINETY_KHZ,
                            now,
                            started,
                            frame,
                        );
                        frames += 1;
                        next_video += Duration::from_secs(1) / src.fps.max(1);
                    }
                }
            }
        }
    }

    /// One read from the socket into `buf`: the sender and the datagrams' size (more
    /// than one datagram when the kernel merged a run: all `stride` bytes but the last).
    /// None when nothing is waiting; an error when the socket failed.
    fn read(&self, buf: &mut [u8]) -> std::io::Result<Option<quinn_udp::RecvMeta>> {
        let mut meta = [quinn_udp::RecvMeta::default()];
        let read = self.socket.try_io(tokio::io::Interest::READABLE, || {
            let mut bufs = [std::io::IoSliceMut::new(buf)];
            self.udp.recv((&self.socket).into(), &mut bufs, &mut meta)
        });
        match read {
            Ok(_) => Ok(Some(meta[0])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends what str0m has to send and handles its events; returns when it next
    /// wants a timeout, or None when the peer is dead.
    async fn drain(
        &mut self,
        counters: &Counters,
        last_seq: &mut HashMap<u32, u64>,
        sent: &mut HashMap<Mid, u64>,
        connected: &mut bool,
    ) -> Option<Instant> {
        loop {
            match self.rtc.poll_output().ok()? {
                Output::Timeout(t) => return Some(t),
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(Event::Connected) => *connected = true,
                Output::Event(Event::RtpPacket(p)) => {
                    let now = Instant::now();
                    let _ = counters.first_packet.set(now);
                    if let Some(delay) = opus_delay(&p.payload, now) {
                        counters.record_delay(delay);
                    }
                    counters.packets.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bytes
                        .fetch_add(p.payload.len() as u64, Ordering::Relaxed);
                    let seq = *p.seq_no;
                    if let Some(last) = last_seq.insert(*p.header.ssrc, seq) {
                        let gap = seq.saturating_sub(last + 1);
                        counters.lost.fetch_add(gap, Ordering::Relaxed);
                    }
                }
                Output::Event(Event::MediaEgressStats(s)) => {
                    sent.insert(s.mid, s.packets);
                    counters.sent.store(sent.values().sum(), Ordering::Relaxed);
                }
                Output::Event(_) => {}
            }
        }
    }

    fn write(
        &mut self,
        mid: Mid,
        codec: Codec,
        freq: Frequency,
        now: Instant,
        started: Instant,
        data: Vec<u8>,
    ) {
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
        else {
            return;
        };
        let ticks =
            now.duration_since(started).as_micros() as u64 * u64::from(freq.get()) / 1_000_000;
        let _ = writer.write(pt, now, MediaTime::new(ticks, freq), data);
    }
}

/// An offer waiting for its answer, and the m-lines it added.
pub struct Pending {
    pub pending: SdpPendingOffer,
    pub audio: Mid,
    pub video: Mid,
}

/// A VP8 frame of the size the bitrate allows. Only the first byte matters to a
/// forwarder (its lowest bit clear marks a keyframe); the rest is filler.
fn vp8_frame(src: Source, key: bool) -> Vec<u8> {
    let bytes = (src.video_kbps as usize * 1000 / 8 / src.fps.max(1) as usize).max(16);
    let mut frame = vec![0x5a; bytes];
    frame[0] = if key { 0x10 } else { 0x11 };
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opus_packet_tells_how_long_ago_it_was_written() {
        clock_micros(Instant::now()); // starts the clock before the packet is written
        let written = Instant::now();
        let packet = opus_packet(written);
        let later = written + Duration::from_micros(1_500);
        assert_eq!(opus_delay(&packet, later), Some(1_500));
        assert_eq!(opus_delay(&packet, written), Some(0));
        let video = vp8_frame(
            Source {
                video_kbps: 1,
                fps: 1,
            },
            true,
        );
        assert_eq!(opus_delay(&video, later), None);
        assert_eq!(
            opus_delay(&packet[..20], later),
            None,
            "not an Opus packet of ours"
        );
    }
}
