//! The SFU on an in-memory network: one publisher and N subscribers, each a str0m peer
//! with an address of its own, datagrams handed between them and the SFU's sans-IO
//! core in-process on a virtual clock. No sockets and no kernel: what remains is the
//! SFU's own work (and str0m's inside it), which `sfu_fanout` times and the media
//! tests check.

use emedia_server::core::PeerId;
use emedia_server::sfu::Sfu;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// What one subscriber got, per kind: sequence numbers in arrival order.
#[derive(Default)]
pub struct Received {
    pub audio: Vec<u64>,
    pub video: Vec<u64>,
}

struct Peer {
    rtc: Rtc,
    addr: SocketAddr,
    connected: bool,
    /// A subscriber's m-lines (audio, video) and what arrived on them.
    mids: (Mid, Mid),
    received: Received,
}

pub struct Net {
    pub sfu: Sfu,
    sfu_addr: SocketAddr,
    /// The publisher's media clock counts from here.
    start: Instant,
    now: Instant,
    /// The publisher first, then the subscribers.
    peers: Vec<Peer>,
    by_addr: HashMap<SocketAddr, usize>,
    /// Time spent inside the SFU's calls, the only part `sfu_fanout` times.
    pub sfu_time: Duration,
    frames: u64,
}

const PUBLISHER: PeerId = PeerId(1);

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250 + 2) as u8], 5000))
}

fn offer(rtc: &mut Rtc, dir: Direction) -> (String, Mid, Mid, str0m::change::SdpPendingOffer) {
    let mut api = rtc.sdp_api();
    let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
    let video = api.add_media(MediaKind::Video, dir, None, None, None);
    let (offer, pending) = api.apply().expect("an offer");
    (offer.to_sdp_string(), audio, video, pending)
}

impl Net {
    /// A publisher (frame mode, as a browser) and `subscribers` peers in RTP mode (as
    /// the load generator), negotiated and connected.
    pub fn new(subscribers: usize) -> Self {
        let now = Instant::now();
        let sfu_addr = SocketAddr::from(([10, 0, 255, 1], 4000));
        let mut sfu = Sfu::new(sfu_addr);
        let mut peers = Vec::new();
        for i in 0..=subscribers {
            let publishing = i == 0;
            let mut rtc = Rtc::builder().set_rtp_mode(!publishing).build(now);
            rtc.add_local_candidate(Candidate::host(addr(i), "udp").expect("a candidate"));
            let dir = if publishing {
                Direction::SendOnly
            } else {
                Direction::RecvOnly
            };
            let (sdp, audio, video, pending) = offer(&mut rtc, dir);
            let answer = if publishing {
                sfu.add_publisher(PUBLISHER, &sdp, now)
            } else {
                let (a, v) = (audio.to_string(), video.to_string());
                sfu.add_subscriber(
                    PeerId(i as u64 + 1),
                    PUBLISHER,
                    &sdp,
                    Some(&a),
                    Some(&v),
                    now,
                )
            }
            .expect("the SFU answers");
            let answer = str0m::change::SdpAnswer::from_sdp_string(&answer).expect("SDP");
            rtc.sdp_api()
                .accept_answer(pending, answer)
                .expect("the answer applies");
            peers.push(Peer {
                rtc,
                addr: addr(i),
                connected: false,
                mids: (audio, video),
                received: Received::default(),
            });
        }
        let mut net = Self {
            sfu,
            sfu_addr,
            start: now,
            now,
            by_addr: peers.iter().enumerate().map(|(i, p)| (p.addr, i)).collect(),
            peers,
            sfu_time: Duration::ZERO,
            frames: 0,
        };
        for _ in 0..2000 {
            if net.peers.iter().all(|p| p.connected) {
                return net;
            }
            net.step(Duration::from_millis(5));
        }
        panic!("the peers did not connect");
    }

    /// The publisher sends one video frame of `bytes` (and, every other frame, a 20 ms
    /// Opus packet), then the network runs for `gap` of virtual time.
    pub fn send_frame(&mut self, bytes: usize, gap: Duration) {
        let now = self.now;
        let (audio, video) = self.peers[0].mids;
        let ms = now.duration_since(self.start).as_millis() as u64;
        if self.frames % 2 == 0 {
            self.write(
                audio,
                Codec::Opus,
                Frequency::FORTY_EIGHT_KHZ,
                ms,
                vec![0xfc; 160],
            );
        }
        let mut frame = vec![0x5a; bytes];
        frame[0] = if self.frames % 60 == 0 { 0x10 } else { 0x11 };
        self.write(video, Codec::Vp8, Frequency::NINETY_KHZ, ms, frame);
        self.frames += 1;
        self.step(gap);
    }

    fn write(&mut self, mid: Mid, codec: Codec, freq: Frequency, ms: u64, data: Vec<u8>) {
        let now = self.now;
        let writer = self.peers[0].rtc.writer(mid).expect("a writer");
        let pt = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
            .expect("the codec was negotiated");
        let time = MediaTime::new(ms * u64::from(freq.get()) / 1000, freq);
        writer.write(pt, now, time, data).expect("the write");
    }

    /// What each subscriber got so far.
    pub fn received(&self) -> impl Iterator<Item = &Received> {
        self.peers[1..].iter().map(|p| &p.received)
    }

    /// Moves the clock by `by` and hands datagrams around until the network is quiet.
    fn step(&mut self, by: Duration) {
        self.now += by;
        let now = self.now;
        for p in &mut self.peers {
            p.rtc.handle_input(Input::Timeout(now)).expect("a timeout");
        }
        self.sfu_timeout();
        // Each peer is drained after every datagram it is given: in RTP mode str0m
        // holds one received packet until polled.
        let mut to_sfu: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
        for p in &mut self.peers {
            to_sfu.extend(p.drain());
        }
        while !to_sfu.is_empty() {
            for (from, data) in std::mem::take(&mut to_sfu) {
                self.timed(|sfu| sfu.handle_datagram(from, &data, now));
            }
            // No timer turn here: what was forwarded leaves with the batch (the SFU
            // gives str0m's send queues the turn they ask for), which the media tests
            // check by getting every packet.
            self.timed(|sfu| sfu.end_batch(now));
            let out: Vec<(SocketAddr, Vec<u8>)> =
                self.timed(|sfu| std::iter::from_fn(|| sfu.poll_transmit()).collect());
            for (to, data) in out {
                let Some(peer) = self.by_addr.get(&to).map(|&i| &mut self.peers[i]) else {
                    continue;
                };
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source: self.sfu_addr,
                        destination: to,
                        contents: data.as_slice().try_into().expect("a datagram"),
                    },
                );
                peer.rtc.handle_input(input).expect("input");
                to_sfu.extend(peer.drain());
            }
        }
    }

    /// Handles the SFU's timers if one is due, as the runner does on each turn.
    fn sfu_timeout(&mut self) {
        let now = self.now;
        self.timed(|sfu| {
            if sfu.poll_timeout().is_some_and(|t| t <= now) {
                sfu.handle_timeout(now);
            }
        });
    }

    fn timed<T>(&mut self, f: impl FnOnce(&mut Sfu) -> T) -> T {
        let started = Instant::now();
        let out = f(&mut self.sfu);
        self.sfu_time += started.elapsed();
        out
    }
}

impl Peer {
    /// What the peer has to send, as (from, datagram); records what it received.
    fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            match self.rtc.poll_output().expect("output") {
                Output::Timeout(_) => return out,
                Output::Transmit(t) => out.push((t.source, t.contents.into())),
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::RtpPacket(p)) => {
                    let seq = *p.seq_no;
                    let (audio, video) = self.mids;
                    let mid = self
                        .rtc
                        .direct_api()
                        .stream_rx(&p.header.ssrc)
                        .map(|s| s.mid());
                    if mid == Some(audio) {
                        self.received.audio.push(seq);
                    } else if mid == Some(video) {
                        self.received.video.push(seq);
                    }
                }
                Output::Event(_) => {}
            }
        }
    }
}
