//! The fuzz targets' logic, one plain function per target. Shared by the cargo-fuzz
//! binaries (fuzz/fuzz_targets/) and by server/tests/fuzz_corpus.rs, which replays
//! the committed corpus through the very same code on stable.
//!
//! To see what one input does, frame by frame:
//! `FUZZ_TRACE=1 cargo +nightly fuzz run server_messages fuzz/artifacts/server_messages/FILE`
//! (from the repository root; the long run is `scripts/fuzz.sh`).

use emedia_protocol::{
    CallType, ClientMessage, ConferenceConfig, ConferenceId, ConfrType, DataFrame, ErrorCode,
    Event, MemberId, ReplyBody, Request, Response, Role, RoomMsg, ServerMessage, StreamId,
    StreamType, PROTOCOL_VERSION,
};
use emedia_server::auth::Keys;
use emedia_server::core::{
    ConnId, Core, CoreConfig, MediaCommand, MediaEvent, Outbound, Output, PeerId, RateLimit,
};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::OnceLock;

/// Bytes → both message types. Whatever decodes must encode and decode back to the
/// same value: what one side accepts, the other side can send.
pub fn protocol_decode(data: &[u8]) {
    if let Ok(msg) = serde_json::from_slice::<ClientMessage>(data) {
        assert_round_trip(&msg);
    }
    if let Ok(msg) = serde_json::from_slice::<ServerMessage>(data) {
        assert_round_trip(&msg);
    }
}

fn assert_round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(msg: &T) {
    let json = serde_json::to_string(msg).expect("a decoded message encodes");
    let again: T =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not decode again: {e}"));
    assert_eq!(&again, msg, "{json} decodes to another value");
}

/// Bytes → a script of frames from a few connections into the sans-IO server core.
///
/// The input is a list of actions, each an op byte and a payload running to the next
/// 0xFF (a byte UTF-8 never uses, so text frames need no escaping). The op's low two
/// bits pick the connection (a "slot"), the rest the action: a raw text frame, a
/// disconnect, time passing, or a well-formed request whose ids and strings the
/// payload picks, mostly among those the server handed out so far. Connections log in
/// with a real token on first use, so the fuzzer starts past authentication. The SFU
/// is not simulated: negotiations stay pending unless an action hands the core an SFU
/// event (answered, refused, closed) for a peer it opened, so streams can go live.
///
/// Checked: no panic; each frame the core handles gets exactly one reply, with its
/// rid, on its connection (publish and subscribe may instead wait for the SFU, and get
/// theirs from its answer or when the stream or subscription ends);
/// no reply answers nothing; nothing is sent to a closed connection; every SFU peer
/// opened is closed exactly once; everything the server sends encodes and decodes;
/// and once every connection is gone and time has passed, nothing is left.
pub fn server_messages(data: &[u8]) {
    let mut sim = Sim::new();
    for chunk in data.split(|&b| b == SEP) {
        let Some((&op, payload)) = chunk.split_first() else {
            continue;
        };
        sim.step(usize::from(op & 3), op >> 2, Bytes(payload));
    }
    sim.finish();
}

const SEP: u8 = 0xFF;
const SLOTS: usize = 4;
/// A fixed start time, so that runs replay exactly.
const T0_MS: u64 = 1_800_000_000_000;
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n";
/// Pool entries at most: enough variety, and an index byte stays meaningful.
const POOL: usize = 8;

/// The app's keys and one login token per user, valid for years of fuzzed time.
/// Minted once: signing is the slowest step of a run otherwise.
fn keys_and_tokens() -> &'static (Keys, Vec<String>) {
    static ONCE: OnceLock<(Keys, Vec<String>)> = OnceLock::new();
    ONCE.get_or_init(|| {
        let keys = Keys::new("fuzzapp", b"fuzz secret, exactly 32 bytes ok");
        let tokens = (0..SLOTS)
            .map(|u| keys.mint_user_token(&format!("u{u}"), T0_MS / 1000, 10 * 365 * 86_400))
            .collect();
        (keys, tokens)
    })
}

/// Set FUZZ_TRACE=1 to print every frame and output, to see what a crashing input does.
fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// Small limits, so that short inputs reach the refusals and the flood close.
fn config() -> CoreConfig {
    CoreConfig {
        rate: RateLimit {
            burst: 12,
            per_sec: 5,
            close_after: 6,
        },
        max_conferences: 4,
        max_members: 3,
        ..CoreConfig::default()
    }
}

/// A payload, read a byte or a string at a time; reads past its end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// Text up to the next 0x00.
    fn text(&mut self) -> String {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        let (text, rest) = self.0.split_at(end);
        self.0 = rest.get(1..).unwrap_or_default();
        String::from_utf8_lossy(text).into_owned()
    }

    /// Mostly an entry of `pool`; sometimes (or when it is empty) a literal string.
    fn pick(&mut self, pool: &[String]) -> String {
        let b = self.byte();
        if b < 0xF0 && !pool.is_empty() {
            pool[usize::from(b) % pool.len()].clone()
        } else {
            self.text()
        }
    }

    fn maybe_text(&mut self) -> Option<String> {
        self.flag().then(|| self.text())
    }

    /// An `ext`: absent, valid JSON, or anything.
    fn ext(&mut self) -> Option<String> {
        match self.byte() % 4 {
            0 | 1 => None,
            2 => Some(r#"{"k":1}"#.to_owned()),
            _ => Some(self.text()),
        }
    }

    fn role(&mut self) -> Role {
        [Role::Audience, Role::Talker, Role::Admin][usize::from(self.byte() % 3)]
    }

    fn confr_type(&mut self) -> ConfrType {
        let types = [
            ConfrType::Communication,
            ConfrType::CommunicationMix,
            ConfrType::Live,
        ];
        types[usize::from(self.byte() % 3)]
    }

    /// The default config, or one with tiny (sometimes invalid) limits.
    fn config(&mut self) -> ConferenceConfig {
        let b = self.byte();
        if b & 1 == 0 {
            return ConferenceConfig::default();
        }
        ConferenceConfig {
            max_talker_count: u32::from(b >> 1 & 3),
            max_audience_count: u32::from(b >> 3 & 3),
            max_video_count: u32::from(b >> 5 & 1),
            max_pub_desktop_count: u32::from(b >> 6 & 1),
            ..ConferenceConfig::default()
        }
    }

    /// Around `count` (a client's count of events received), sometimes off.
    fn near(&mut self, count: u64) -> u64 {
        let delta = i64::from(self.byte() as i8) / 32;
        count.saturating_add_signed(delta)
    }
}

/// Strings the server handed out, for requests to name.
#[derive(Default)]
struct Pools {
    confrs: Vec<String>,
    members: Vec<String>,
    streams: Vec<String>,
    tickets: Vec<String>,
    /// Call and invite ids.
    calls: Vec<String>,
}

fn remember(pool: &mut Vec<String>, s: &str) {
    if pool.iter().any(|p| p == s) {
        return;
    }
    if pool.len() == POOL {
        pool.remove(0);
    }
    pool.push(s.to_owned());
}

impl Pools {
    /// Walks a message's JSON for ids, names and tickets.
    fn harvest(&mut self, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    if let serde_json::Value::String(s) = value {
                        let pool = match key.as_str() {
                            "confrId" => &mut self.confrs,
                            "joinId" | "memId" | "name" => &mut self.members,
                            "streamId" => &mut self.streams,
                            "id" if s.starts_with('S') => &mut self.streams,
                            "id" => &mut self.members,
                            "ticket" | "roleToken" => &mut self.tickets,
                            "callId" | "inviteId" => &mut self.calls,
                            _ => continue,
                        };
                        remember(pool, s);
                    } else {
                        self.harvest(value);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| self.harvest(i)),
            _ => {}
        }
    }
}

#[derive(Default)]
struct Slot {
    /// The connection this client is on, if any.
    conn: Option<ConnId>,
    /// Its session's resume key, from `authed`.
    key: Option<String>,
    /// Events its session received, as a client counts them for heartbeats.
    events: u64,
    /// A resume in flight: the key and count sent, adopted when it succeeds.
    resuming: Option<(String, u64)>,
}

/// A negotiation waiting for the SFU: by the session that asked (its resume key, the
/// same on every connection it moves to), its rid, and the conference it is about.
struct Owed {
    session: String,
    rid: u32,
    confr: ConferenceId,
    /// Its session lost its connection since: a reply to a detached session is
    /// dropped (only events are kept for a resume), so this one may never come.
    maybe_lost: bool,
}

/// The frame being handled: its connection and, if it parses, its rid.
#[derive(Clone, Copy)]
struct Frame {
    conn: ConnId,
    rid: Option<u32>,
}

struct Sim {
    core: Core,
    now: u64,
    next_conn: u64,
    next_rid: u32,
    slots: [Slot; SLOTS],
    /// Connections the core closed or that we reported gone: nothing may go to them.
    dead: HashSet<ConnId>,
    /// Publishes and subscribes waiting for the SFU: the replies still owed.
    owed: Vec<Owed>,
    /// SFU peers the core opened and did not close, and whether each publishes.
    open_peers: HashMap<PeerId, bool>,
    /// Open peers with an ICE restart waiting for the SFU's answer.
    restarting: HashSet<PeerId>,
    pools: Pools,
}

impl Sim {
    fn new() -> Self {
        let (keys, _) = keys_and_tokens();
        Self {
            core: Core::new(config(), keys.clone(), 7),
            now: T0_MS,
            next_conn: 1,
            next_rid: 1,
            slots: Default::default(),
            dead: HashSet::new(),
            owed: Vec::new(),
            open_peers: HashMap::new(),
            restarting: HashSet::new(),
            pools: Pools::default(),
        }
    }

    /// One action of `slot`'s client: 0 a raw text frame, 1 a disconnect, 2 time
    /// passing, 3 a binary frame or a pong, 4..=13 a well-formed request, 14 a new
    /// connection (login or resume), 15 an SFU event.
    fn step(&mut self, slot: usize, action: u8, mut p: Bytes) {
        if tracing() {
            let conn = self.slots[slot].conn;
            eprintln!(
                "{} slot {slot} ({conn:?}) action {}",
                self.now - T0_MS,
                action % 16
            );
        }
        match action % 16 {
            0 => {
                let conn = self.conn(slot);
                let text = String::from_utf8_lossy(p.0).into_owned();
                let parsed = serde_json::from_str::<ClientMessage>(&text).ok();
                let rid = parsed.as_ref().map(|m| m.rid);
                let waits = parsed.and_then(|m| waits_for_sfu(&m.req));
                self.text(conn, &text, rid, waits);
            }
            1 => self.disconnect(slot, p.flag()),
            2 => {
                // Up to about 17 minutes: past liveness, empty-conference and ticket
                // timeouts in a few steps.
                let ms = u64::from(u16::from_le_bytes([p.byte(), p.byte()])) * 16;
                self.advance(ms);
            }
            3 => {
                let conn = self.conn(slot);
                if p.flag() {
                    let frame = data_frame(&mut p);
                    self.core.handle_binary(conn, frame.into(), self.now);
                    let own = self.drain(Some(Frame { conn, rid: None }));
                    // A valid chunk or ack is passed on and not answered.
                    if own > 0 {
                        self.check_answered(conn, own, None, "a binary frame");
                    }
                } else {
                    self.core.handle_alive(conn, self.now);
                    self.drain(None);
                }
            }
            14 => self.fresh_connection(slot, &mut p),
            15 => self.sfu_event(&mut p),
            n => {
                let req = self.request(slot, n, &mut p);
                let conn = self.conn(slot);
                self.send(conn, req);
            }
        }
    }

    /// A well-formed request of kind `n` (4..=13), its fields picked by the payload.
    fn request(&self, slot: usize, n: u8, p: &mut Bytes) -> Request {
        let pools = &self.pools;
        let confr_id = |p: &mut Bytes| ConferenceId(p.pick(&pools.confrs));
        let stream_id = |p: &mut Bytes| StreamId(p.pick(&pools.streams));
        let members = |p: &mut Bytes| -> Vec<String> {
            let n = 1 + usize::from(p.byte() % 2);
            (0..n).map(|_| p.pick(&pools.members)).collect()
        };
        match n {
            4 => Request::JoinRoom {
                // A few shared names, so that clients meet in the same room.
                room_name: match p.byte() {
                    b @ 0..=0xEF => format!("room{}", b % 3),
                    _ => p.text(),
                },
                password: p.maybe_text(),
                role: p.flag().then(|| p.role()),
                confr_type: p.flag().then(|| p.confr_type()),
                config: p.config(),
                nick_name: p.maybe_text(),
                ext: p.ext(),
            },
            5 => Request::CreateConference {
                confr_type: p.confr_type(),
                password: p.maybe_text(),
                config: p.config(),
            },
            6 => Request::GetTicket {
                confr_id: confr_id(p),
                password: p.maybe_text(),
            },
            7 => Request::Join {
                confr_id: confr_id(p),
                ticket: p.pick(&pools.tickets),
                ext: p.ext(),
                nick_name: p.maybe_text(),
            },
            8 => Request::Publish {
                confr_id: confr_id(p),
                rtc_id: format!("rtc{}", p.byte() % 3),
                stream_type: if p.flag() {
                    StreamType::Desktop
                } else {
                    StreamType::Camera
                },
                audio: p.flag(),
                video: p.flag(),
                ext: p.ext(),
                sdp: if p.byte() < 0xF0 {
                    SDP.to_owned()
                } else {
                    p.text()
                },
            },
            9 => Request::Kick {
                confr_id: confr_id(p),
                members: members(p),
            },
            10 => Request::GrantRole {
                confr_id: confr_id(p),
                members: members(p),
                role: p.role(),
            },
            11 => match p.byte() % 3 {
                0 => Request::Exit {
                    confr_id: confr_id(p),
                },
                1 => Request::Destroy {
                    confr_id: confr_id(p),
                },
                _ => Request::GetInfo {
                    confr_id: confr_id(p),
                    password: p.maybe_text(),
                },
            },
            12 => match p.byte() % 8 {
                0 => Request::Unpublish {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                },
                1 => Request::SetMedia {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                    aoff: p.flag(),
                    voff: p.flag(),
                },
                2 => Request::Subscribe {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                    sdp: SDP.to_owned(),
                    audio_mid: p.flag().then(|| "1".to_owned()),
                    video_mid: p.flag().then(|| "2".to_owned()),
                },
                3 => Request::Unsubscribe {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                },
                4 => Request::SubscriptionReady {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                },
                5 => Request::PlayRtmp {
                    confr_id: confr_id(p),
                    stream_id: stream_id(p),
                },
                6 => Request::RestartIce {
                    confr_id: confr_id(p),
                    stream_id: p.flag().then(|| stream_id(p)),
                    sdp: SDP.to_owned(),
                },
                _ => Request::PublishRtmp {
                    confr_id: confr_id(p),
                    rtc_id: "rtmp".to_owned(),
                    stream_type: StreamType::Camera,
                    audio: true,
                    video: p.flag(),
                    ext: None,
                },
            },
            _ => self.call_request(slot, p),
        }
    }

    /// Kind 13: a keepalive, presence, calls and invitations, or issue 8's requests.
    fn call_request(&self, slot: usize, p: &mut Bytes) -> Request {
        let pools = &self.pools;
        // u0..u3 are the slots' users; u4 never logs in.
        let user = |p: &mut Bytes| format!("u{}", p.byte() as usize % (SLOTS + 1));
        let call_id = |p: &mut Bytes| p.pick(&pools.calls);
        let timeout_ms = |p: &mut Bytes| p.flag().then(|| u64::from(p.byte()) * 50);
        match p.byte() % 20 {
            10..=19 => interaction_request(p, &user, pools),
            0 => Request::Ping,
            1 => Request::Heartbeat {
                received: p.near(self.slots[slot].events),
            },
            2 => Request::Call {
                user_ids: (0..1 + p.byte() % 3).map(|_| user(p)).collect(),
                call_type: if p.flag() {
                    CallType::Audio
                } else {
                    CallType::Video
                },
                timeout_ms: timeout_ms(p),
                ext: p.ext(),
                group: p.flag(),
                call_id: p.flag().then(|| call_id(p)),
            },
            3 => Request::Accept {
                call_id: call_id(p),
            },
            4 => Request::Reject {
                call_id: call_id(p),
            },
            5 => Request::Hangup {
                call_id: call_id(p),
            },
            6 => Request::InviteToConference {
                confr_id: ConferenceId(p.pick(&pools.confrs)),
                user_id: user(p),
                ext: p.ext(),
                timeout_ms: timeout_ms(p),
            },
            7 => Request::CancelInvite {
                invite_id: call_id(p),
            },
            8 => Request::GetUserStatus {
                user_ids: p
                    .flag()
                    .then(|| (0..p.byte() % 3).map(|_| user(p)).collect()),
            },
            _ => {
                if p.flag() {
                    Request::UserStatusNotify { on: p.flag() }
                } else {
                    Request::SetDnd { dnd: p.flag() }
                }
            }
        }
    }

    /// The slot's connection, opened and logged in (as its own user) if it has none.
    fn conn(&mut self, slot: usize) -> ConnId {
        if let Some(conn) = self.slots[slot].conn {
            return conn;
        }
        let conn = self.connect(slot);
        let token = keys_and_tokens().1[slot].clone();
        self.auth(conn, token);
        conn
    }

    fn connect(&mut self, slot: usize) -> ConnId {
        self.disconnect(slot, false);
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.core.handle_connect(conn, self.now);
        self.drain(None);
        // The client keeps its session's key and event count, for a resume.
        self.slots[slot].conn = Some(conn);
        conn
    }

    fn auth(&mut self, conn: ConnId, token: String) {
        let protocol = PROTOCOL_VERSION;
        self.send(conn, Request::Auth { token, protocol });
    }

    /// A request as the SDK would send it, with a fresh rid.
    fn send(&mut self, conn: ConnId, req: Request) {
        let rid = self.next_rid;
        self.next_rid += 1;
        let waits = waits_for_sfu(&req);
        let text = serde_json::to_string(&ClientMessage { rid, req }).expect("requests encode");
        self.text(conn, &text, Some(rid), waits);
    }

    /// What the SFU could say about one of the peers the core opened. Publishers it
    /// refuses or loses are gone from the SFU, as the core assumes.
    fn sfu_event(&mut self, p: &mut Bytes) {
        let mut peers: Vec<_> = self.open_peers.keys().copied().collect();
        if peers.is_empty() {
            return;
        }
        peers.sort();
        let peer = peers[usize::from(p.byte()) % peers.len()];
        let ev = match p.byte() % 4 {
            0 | 1 => MediaEvent::Answered {
                peer,
                sdp: SDP.replace("sendonly", "recvonly"),
            },
            2 => MediaEvent::Refused {
                peer,
                code: ErrorCode::SubscribeNoCodec,
                message: "no common codec".to_owned(),
            },
            _ => MediaEvent::Closed { peer },
        };
        if tracing() {
            eprintln!("{} SFU: {ev:?}", self.now - T0_MS);
        }
        // An answer or refusal settles a pending restart, if any; the peer stays.
        let restart = self.restarting.remove(&peer);
        let publishes = self.open_peers[&peer];
        if matches!(ev, MediaEvent::Closed { .. })
            || (publishes && !restart && matches!(ev, MediaEvent::Refused { .. }))
        {
            self.open_peers.remove(&peer);
        }
        self.core.handle_media(ev);
        self.drain(None);
    }

    /// A new connection for the slot (the old one drops uncleanly), then a login as
    /// any user, a resume of any slot's session, or nothing yet.
    fn fresh_connection(&mut self, slot: usize, p: &mut Bytes) {
        let conn = self.connect(slot);
        let b = p.byte();
        match b % 3 {
            0 => {
                let token = match p.byte() {
                    b @ 0..=0xEF => keys_and_tokens().1[usize::from(b) % SLOTS].clone(),
                    _ => p.text(),
                };
                self.auth(conn, token);
            }
            1 => {
                let of = usize::from(b >> 2) % SLOTS;
                let key = match &self.slots[of].key {
                    Some(k) if p.byte() < 0xF0 => k.clone(),
                    _ => p.text(),
                };
                let received = p.near(self.slots[of].events);
                self.slots[slot].resuming = Some((key.clone(), received));
                let req = Request::Resume {
                    session: key,
                    received,
                    protocol: PROTOCOL_VERSION,
                };
                self.send(conn, req);
                self.slots[slot].resuming = None;
            }
            _ => {}
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
        // The driver calls this whenever its timer fires, early ones included.
        self.core.handle_timeout(self.now);
        self.drain(None);
    }

    /// One text frame, and the check that it got its one reply. `rid` is the frame's
    /// if it parses; `waits` names the conference of a negotiation, which may wait
    /// for the SFU.
    fn text(&mut self, conn: ConnId, text: &str, rid: Option<u32>, waits: Option<ConferenceId>) {
        if tracing() {
            eprintln!("{} {conn:?} <- {text}", self.now - T0_MS);
        }
        self.core.handle_text(conn, text, self.now);
        let own = self.drain(Some(Frame { conn, rid }));
        let waits = waits.zip(rid);
        self.check_answered(conn, own, waits, text);
    }

    fn check_answered(
        &mut self,
        conn: ConnId,
        own: usize,
        waits: Option<(ConferenceId, u32)>,
        what: &str,
    ) {
        if self.dead.contains(&conn) {
            // The core closed the connection for flooding: the frame was dropped.
            assert_eq!(
                own, 0,
                "{what:?} on {conn:?}: a reply on a closed connection"
            );
            return;
        }
        match (own, waits) {
            (1, _) => {}
            (0, Some((confr, rid))) => {
                // Accepted, so the session is logged in and its slot knows its key.
                let session = self.session_on(conn).expect("a logged-in session");
                self.owed.push(Owed {
                    session,
                    rid,
                    confr,
                    maybe_lost: false,
                });
            }
            _ => panic!("{what:?} on {conn:?} got {own} replies, not one"),
        }
    }

    /// The resume key of the session on `conn`, as its client knows it.
    fn session_on(&self, conn: ConnId) -> Option<String> {
        let slot = self.slots.iter().find(|s| s.conn == Some(conn))?;
        slot.key.clone()
    }

    /// Takes the negotiation a late reply answers off the list of those owed.
    fn settle(&mut self, to: ConnId, rid: u32, body: &ReplyBody) {
        let session = self.session_on(to);
        let owed = self
            .owed
            .iter()
            .position(|o| Some(&o.session) == session.as_ref() && o.rid == rid);
        match owed {
            Some(i) => drop(self.owed.remove(i)),
            None => panic!("reply {rid} to {to:?} answers no request: {body:?}"),
        }
    }

    /// Drains and checks the core's outputs; returns how many replies answered `frame`.
    fn drain(&mut self, frame: Option<Frame>) -> usize {
        let mut own = 0;
        let mut closed = vec![];
        let mut exited = vec![];
        while let Some(out) = self.core.poll_output() {
            if tracing() {
                eprintln!("    -> {out:?}");
            }
            match out {
                Output::Send { to, msg } => {
                    self.check_sendable(to, &msg);
                    match msg {
                        Outbound::Event(event) => {
                            if let Event::ConferenceExited { confr_id, .. } = &*event {
                                exited.extend(self.session_on(to).map(|s| (s, confr_id.clone())));
                            }
                            if let Some(slot) = self.slots.iter_mut().find(|s| s.conn == Some(to)) {
                                slot.events += 1;
                            }
                        }
                        Outbound::Data(_) => {}
                        Outbound::Reply { rid, body } => {
                            self.learn_session(to, &body);
                            if own == 0 && answers(frame, to, rid, &body) {
                                own = 1;
                            } else {
                                self.settle(to, rid, &body);
                            }
                        }
                    }
                }
                Output::Close { conn, .. } => {
                    let first = self.dead.insert(conn);
                    assert!(first, "{conn:?} closed twice, or after it was gone");
                    closed.push(conn);
                }
                Output::Media(cmd) => self.media(cmd),
            }
        }
        // A client told it is out of a conference has had every answer about it. Not
        // checked on a resume, whose resent events may be older than a lost reply.
        if self.slots.iter().all(|s| s.resuming.is_none()) {
            for (session, confr) in exited {
                let hung = self
                    .owed
                    .iter()
                    .find(|o| o.session == session && o.confr == confr && !o.maybe_lost);
                if let Some(o) = hung {
                    panic!(
                        "rid {}: told it left {confr}, the client never got this reply",
                        o.rid
                    );
                }
            }
        }
        // As the driver does: the socket closes, and the core hears it went.
        for conn in closed {
            for slot in &mut self.slots {
                if slot.conn == Some(conn) {
                    slot.conn = None;
                }
            }
            self.core.handle_disconnect(conn, true, self.now);
            self.drain(None);
        }
        own
    }

    /// Only to open connections, and every message encodes and decodes (the SDK reads it).
    fn check_sendable(&mut self, to: ConnId, msg: &Outbound) {
        assert!(
            to.0 < self.next_conn && !self.dead.contains(&to),
            "{msg:?} sent to {to:?}, which is closed or unknown"
        );
        let Some(text) = msg.to_json() else {
            return; // a data-transfer frame, passed on as it came
        };
        let text = text.expect("server messages encode");
        let back: ServerMessage =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not decode: {e}"));
        let same = match (&back, msg) {
            (ServerMessage::Event(a), Outbound::Event(b)) => a == &**b,
            (ServerMessage::Reply { rid: a, body: x }, Outbound::Reply { rid: b, body: y }) => {
                a == b && x == &**y
            }
            _ => false,
        };
        assert!(same, "{text} decodes to another value: {back:?}");
        self.pools.harvest(&serde_json::to_value(&back).unwrap());
    }

    /// A login or resume gives the slot its session's key and event count.
    fn learn_session(&mut self, to: ConnId, body: &ReplyBody) {
        let Some(slot) = self.slots.iter_mut().find(|s| s.conn == Some(to)) else {
            return;
        };
        match body {
            ReplyBody::Ok(Response::Authed { session, .. }) => {
                slot.key = Some(session.clone());
                slot.events = 0;
            }
            ReplyBody::Ok(Response::Resumed { .. }) => {
                if let Some((key, received)) = slot.resuming.take() {
                    slot.key = Some(key);
                    slot.events = received;
                }
            }
            _ => {}
        }
    }

    fn media(&mut self, cmd: MediaCommand) {
        match cmd {
            MediaCommand::Publish { peer, .. } => {
                let before = self.open_peers.insert(peer, true);
                assert!(before.is_none(), "{peer:?} opened twice");
            }
            MediaCommand::Subscribe { peer, source, .. } => {
                // A subscriber connection is opened by its first offer, renegotiated after.
                let before = self.open_peers.insert(peer, false);
                assert_ne!(before, Some(true), "{peer:?} both publishes and subscribes");
                assert_eq!(
                    self.open_peers.get(&source),
                    Some(&true),
                    "{source:?} not open"
                );
            }
            MediaCommand::Close { peer } => {
                let before = self.open_peers.remove(&peer);
                assert!(before.is_some(), "{peer:?} closed but not open");
                self.restarting.remove(&peer);
            }
            MediaCommand::RestartIce { peer, .. } => {
                assert!(
                    self.open_peers.contains_key(&peer),
                    "{peer:?} restarted but not open"
                );
                assert!(
                    self.restarting.insert(peer),
                    "{peer:?} restarted twice at once"
                );
            }
            MediaCommand::Unroute { .. } | MediaCommand::RequestKeyframe { .. } => {}
        }
    }

    /// The slot's connection drops, if it has one: with a goodbye when `clean`.
    fn disconnect(&mut self, slot: usize, clean: bool) {
        let Some(conn) = self.slots[slot].conn.take() else {
            return;
        };
        let key = self.slots[slot].key.as_ref();
        for o in &mut self.owed {
            o.maybe_lost |= Some(&o.session) == key;
        }
        self.dead.insert(conn);
        self.core.handle_disconnect(conn, clean, self.now);
        self.drain(None);
    }

    /// Every connection drops, time passes: no session, conference or peer may stay.
    fn finish(mut self) {
        for slot in 0..SLOTS {
            self.disconnect(slot, false);
        }
        let c = config();
        self.advance(c.liveness_ms.max(c.empty_conference_ttl_ms) + 1);
        assert_eq!(self.core.session_count(), 0, "sessions left");
        assert_eq!(self.core.conference_count(), 0, "conferences left");
        assert_eq!(self.core.peer_count(), 0, "SFU peers left in the core");
        assert!(self.open_peers.is_empty(), "SFU peers never closed");
    }
}

/// Publish, subscribe and ICE restarts are answered when the SFU answers: their
/// conference.
fn waits_for_sfu(req: &Request) -> Option<ConferenceId> {
    match req {
        Request::Publish { confr_id, .. }
        | Request::Subscribe { confr_id, .. }
        | Request::RestartIce { confr_id, .. } => Some(confr_id.clone()),
        _ => None,
    }
}

/// Whether a reply is the one `frame` is owed: on its connection, with its rid (or
/// rid 0 when refused unread for flooding; any rid when it did not parse).
fn answers(frame: Option<Frame>, to: ConnId, rid: u32, body: &ReplyBody) -> bool {
    let Some(f) = frame else { return false };
    let refused_unread =
        rid == 0 && matches!(body, ReplyBody::Err(e) if e.code == ErrorCode::ClientNotSupported);
    f.conn == to && (f.rid.is_none() || f.rid == Some(rid) || refused_unread)
}

/// A binary frame: garbage, or a chunk or ack of one of the first few transfers.
fn data_frame(p: &mut Bytes) -> Vec<u8> {
    let transfer = 1 + u32::from(p.byte() % 4);
    let value = u64::from(p.byte()) * 1024;
    let header = match p.byte() % 3 {
        0 => return p.text().into_bytes(),
        1 => DataFrame::Chunk {
            transfer,
            offset: value,
        },
        _ => DataFrame::Ack {
            transfer,
            received: value,
        },
    };
    let mut frame = header.header().to_vec();
    if matches!(header, DataFrame::Chunk { .. }) {
        frame.resize(frame.len() + usize::from(p.byte()) * 4, 0xAB);
    }
    frame
}

/// Messages, transfers, requests to speak, mutes, attributes, room information, PK.
fn interaction_request(
    p: &mut Bytes,
    user: &dyn Fn(&mut Bytes) -> String,
    pools: &Pools,
) -> Request {
    let confr_id = |p: &mut Bytes| ConferenceId(p.pick(&pools.confrs));
    match p.byte() % 14 {
        0 => Request::SendRoomMsg {
            confr_id: confr_id(p),
            msg: if p.flag() {
                RoomMsg::Text(p.text())
            } else {
                RoomMsg::Custom {
                    cmd: p.text(),
                    msg: p.text(),
                }
            },
        },
        1 => Request::SendCmd {
            to: user(p),
            data: p.text(),
        },
        2 => Request::SendData {
            to: user(p),
            size: u64::from(p.byte()) * 512,
            name: p.maybe_text(),
        },
        3 => Request::CancelTransfer {
            transfer_id: 1 + u32::from(p.byte() % 4),
        },
        4 => Request::RequestToTalker {
            confr_id: confr_id(p),
            reason: p.maybe_text(),
        },
        5 => Request::AnswerTalkerRequest {
            confr_id: confr_id(p),
            member_id: MemberId(p.pick(&pools.members)),
            agree: p.flag(),
        },
        6 => Request::Mute {
            confr_id: confr_id(p),
            member: p.pick(&pools.members),
            muted: p.flag(),
        },
        7 => Request::MuteAll {
            confr_id: confr_id(p),
            muted: p.flag(),
        },
        8 => Request::RequestRoomPk {
            confr_id: confr_id(p),
            target_confr_id: confr_id(p),
            target_user: user(p),
        },
        9 => Request::AnswerRoomPk {
            confr_id: confr_id(p),
            from_confr_id: confr_id(p),
            agree: p.flag(),
        },
        10 => Request::QuitRoomPk {
            confr_id: confr_id(p),
        },
        11 => {
            if p.flag() {
                Request::SetConferenceAttrs {
                    confr_id: confr_id(p),
                    key: p.text(),
                    val: p.text(),
                }
            } else {
                Request::DeleteConferenceAttrs {
                    confr_id: confr_id(p),
                    key: p.text(),
                }
            }
        }
        12 => Request::GetRoomInfos {
            confr_ids: (0..p.byte() % 3).map(|_| confr_id(p)).collect(),
        },
        _ => {
            if p.flag() {
                Request::GetAnchorList {
                    confr_id: confr_id(p),
                }
            } else {
                Request::GetAudienceList {
                    confr_id: confr_id(p),
                }
            }
        }
    }
}
