//! Churn: many signaling clients join and leave rooms at random, each keeping the
//! roster of its room from its own events. When the churn stops, every roster must
//! be exactly the server's, with no membership event lost or duplicated on the way.
//!
//! A roster only shows the events of the member's last stay, so the test also keeps
//! books over the whole run (`Ledger`): every join reply lists who was already there,
//! and each of those is owed exactly one join event; every two members who shared a
//! room must see that end exactly once, by an exit event to one of them, or still
//! share it at the end.
//!
//! Small by default; CHURN_CLIENTS, CHURN_CONFERENCES, CHURN_SECS and CHURN_SEED scale
//! and vary it (scripts/soak.sh runs 1000 clients in 50 rooms for 60 s).

mod common;

use common::*;
use emedia_protocol::{
    ConferenceConfig, ConferenceId, Event, MemberExitReason, MemberId, Request, Response, Role,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

struct Settings {
    clients: usize,
    conferences: usize,
    secs: u64,
    seed: u64,
}

impl Settings {
    fn from_env() -> Self {
        let var = |name: &str, default: u64| -> u64 {
            std::env::var(name)
                .ok()
                .map(|v| {
                    v.parse()
                        .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
                })
                .unwrap_or(default)
        };
        Self {
            clients: var("CHURN_CLIENTS", 100) as usize,
            conferences: var("CHURN_CONFERENCES", 10).max(1) as usize,
            secs: var("CHURN_SECS", 8),
            seed: var("CHURN_SEED", 1),
        }
    }
}

/// The room a client sits in, as its own events describe it.
struct Room {
    confr: ConferenceId,
    me: MemberId,
    my_role: Role,
    /// Everyone else, by member id: (user, role).
    others: BTreeMap<MemberId, (String, Role)>,
}

impl Room {
    /// Everyone, this client included, as the server's roster should read: member id,
    /// user and role code.
    fn everyone(&self, my_name: &str) -> BTreeSet<(MemberId, String, u8)> {
        let mut all: BTreeSet<_> = self
            .others
            .iter()
            .map(|(id, (name, role))| (id.clone(), name.clone(), role.code()))
            .collect();
        all.insert((self.me.clone(), my_name.to_owned(), self.my_role.code()));
        all
    }
}

#[derive(Clone, Copy)]
enum Fault {
    /// A join event for a member already in the roster.
    Duplicated,
    /// An exit or role event for a member not in the roster: its join was lost (or
    /// the exit came twice).
    Unknown,
    /// An event for another conference, or of a kind churn never causes, or a
    /// refused request.
    Unexpected,
}

/// What went wrong, by kind, with a few examples.
#[derive(Default)]
struct Faults {
    duplicated: u64,
    unknown: u64,
    unexpected: u64,
    examples: Vec<String>,
}

impl Faults {
    fn note(&mut self, kind: Fault, what: String) {
        *match kind {
            Fault::Duplicated => &mut self.duplicated,
            Fault::Unknown => &mut self.unknown,
            Fault::Unexpected => &mut self.unexpected,
        } += 1;
        if self.examples.len() < 20 {
            self.examples.push(what);
        }
    }
}

/// A member id as a number: the books hold millions of them in a long run.
fn key(id: &MemberId) -> u64 {
    // `new` hashers share their keys, so equal ids give equal keys across clients.
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

/// The books, by member key (one member per stay in a room).
#[derive(Default)]
struct Ledger {
    /// (member already there, joiner), from each join reply: a join event owed.
    joins_owed: Vec<(u64, u64)>,
    /// (receiver, joiner) of each join event received.
    joins_seen: Vec<(u64, u64)>,
    /// Each two members that shared a room, from each join reply.
    shared: Vec<(u64, u64)>,
    /// Each two members whose sharing ended in an exit event to one of them.
    parted: Vec<(u64, u64)>,
}

impl Ledger {
    fn merge(&mut self, other: Ledger) {
        self.joins_owed.extend(other.joins_owed);
        self.joins_seen.extend(other.joins_seen);
        self.shared.extend(other.shared);
        self.parted.extend(other.parted);
    }
}

/// How many of `want` are missing from `got`, and how many of `got` are extra, counted
/// as multisets.
fn missing_and_extra(mut want: Vec<(u64, u64)>, mut got: Vec<(u64, u64)>) -> (usize, usize) {
    want.sort_unstable();
    got.sort_unstable();
    let (mut i, mut j, mut missing, mut extra) = (0, 0, 0, 0);
    while i < want.len() || j < got.len() {
        match (want.get(i), got.get(j)) {
            (Some(w), Some(g)) if w == g => (i, j) = (i + 1, j + 1),
            (Some(w), Some(g)) if w < g => (i, missing) = (i + 1, missing + 1),
            (Some(_), None) => (i, missing) = (i + 1, missing + 1),
            _ => (j, extra) = (j + 1, extra + 1),
        }
    }
    (missing, extra)
}

struct Churner {
    name: String,
    client: Client,
    rng: StdRng,
    room: Option<Room>,
    joins: u64,
    exits: u64,
    ledger: Ledger,
    faults: Faults,
    latencies: Vec<Duration>,
}

impl Churner {
    /// The reply, or None (and a fault) if the request was refused.
    async fn request(&mut self, req: Request) -> Option<Response> {
        let sent = Instant::now();
        let reply = self.client.req(req).await;
        self.latencies.push(sent.elapsed());
        // Events that came before the reply happened before it: apply them first.
        self.apply_events();
        match reply {
            Ok(r) => Some(r),
            Err(e) => {
                let what = format!("{}: request refused: {e:?}", self.name);
                self.faults.note(Fault::Unexpected, what);
                None
            }
        }
    }

    async fn join(&mut self, k: usize) {
        let config = ConferenceConfig {
            // Churn is about membership, not about limits.
            max_talker_count: 1000,
            ..Default::default()
        };
        let req = Request::JoinRoom {
            room_name: format!("churn-{k}"),
            password: None,
            role: None,
            confr_type: None,
            config,
            nick_name: None,
            ext: None,
        };
        let Some(Response::Joined(j)) = self.request(req).await else {
            return;
        };
        let me = key(&j.join_id);
        let mut others = BTreeMap::new();
        for m in j.members {
            self.ledger.joins_owed.push((key(&m.id), me));
            self.ledger.shared.push(pair(key(&m.id), me));
            if m.id == j.join_id
                || others
                    .insert(m.id.clone(), (m.name.clone(), m.role))
                    .is_some()
            {
                let what = format!("{}: joined with {} twice in the roster", self.name, m.id);
                self.faults.note(Fault::Duplicated, what);
            }
        }
        self.room = Some(Room {
            confr: j.confr_id,
            me: j.join_id,
            my_role: j.role,
            others,
        });
        self.joins += 1;
    }

    async fn exit(&mut self) {
        let Some(confr_id) = self.room.as_ref().map(|r| r.confr.clone()) else {
            return;
        };
        if let Some(Response::Done) = self.request(Request::Exit { confr_id }).await {
            self.room = None;
            self.exits += 1;
        }
    }

    /// Applies the queued events, in order, to the roster.
    fn apply_events(&mut self) {
        while let Some(e) = self.client.events.pop_front() {
            let name = &self.name;
            let room = match &mut self.room {
                Some(room) if e.confr_id() == Some(&room.confr) => room,
                _ => {
                    let what = format!("{name}: an event outside its room: {e:?}");
                    self.faults.note(Fault::Unexpected, what);
                    continue;
                }
            };
            match e {
                Event::MemberJoined { member, .. } => {
                    self.ledger
                        .joins_seen
                        .push((key(&room.me), key(&member.id)));
                    let known = member.id == room.me || room.others.contains_key(&member.id);
                    if known {
                        let what = format!("{name}: {} joined twice", member.id);
                        self.faults.note(Fault::Duplicated, what);
                    } else {
                        room.others.insert(member.id, (member.name, member.role));
                    }
                }
                Event::MemberExited { member, reason, .. } => {
                    self.ledger
                        .parted
                        .push(pair(key(&room.me), key(&member.id)));
                    if reason != MemberExitReason::Left {
                        let what = format!("{name}: {} left with {reason:?}", member.id);
                        self.faults.note(Fault::Unexpected, what);
                    }
                    if room.others.remove(&member.id).is_none() {
                        let what = format!("{name}: {} left but never joined", member.id);
                        self.faults.note(Fault::Unknown, what);
                    }
                }
                Event::MemberRoleChanged { member, .. } => match room.others.get_mut(&member.id) {
                    Some(seen) => seen.1 = member.role,
                    None => {
                        let what = format!("{name}: role of unknown {}", member.id);
                        self.faults.note(Fault::Unknown, what);
                    }
                },
                Event::RoleChanged { role, .. } => room.my_role = role,
                other => {
                    let what = format!("{name}: unexpected {other:?}");
                    self.faults.note(Fault::Unexpected, what);
                }
            }
        }
    }

    /// Joins and leaves at random until `until`.
    async fn churn(mut self, rooms: usize, until: Instant) -> Self {
        while Instant::now() < until {
            let pause = self.rng.random_range(20..400);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if self.room.is_some() {
                self.exit().await;
            } else {
                let k = self.rng.random_range(0..rooms);
                self.join(k).await;
            }
        }
        self
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rosters_survive_churn() {
    let s = Settings::from_env();
    let mut a = args();
    // Every client connects from 127.0.0.1.
    a.max_connections_per_ip = s.clients + 8;
    let server = emedia_server::start(a).await.unwrap();

    let mut churners = Vec::with_capacity(s.clients);
    for i in 0..s.clients {
        let name = format!("c{i}");
        churners.push(Churner {
            client: Client::login(server.addr, &name).await,
            name,
            rng: StdRng::seed_from_u64(s.seed.wrapping_add(i as u64)),
            room: None,
            joins: 0,
            exits: 0,
            ledger: Ledger::default(),
            faults: Faults::default(),
            latencies: Vec::new(),
        });
    }

    let started = Instant::now();
    let until = started + Duration::from_secs(s.secs);
    let tasks: Vec<_> = churners
        .into_iter()
        .map(|c| tokio::spawn(c.churn(s.conferences, until)))
        .collect();
    let mut churners = Vec::with_capacity(s.clients);
    for t in tasks {
        churners.push(t.await.expect("a churning client panicked"));
    }
    let churned = started.elapsed();

    // Churn has stopped and every request has been answered, so every event has been
    // queued: a ping brings in the last ones.
    for c in &mut churners {
        c.client.sync().await;
        c.apply_events();
    }

    // Each room as its members see it, against the server's own roster.
    let mut rooms: BTreeMap<ConferenceId, Vec<usize>> = BTreeMap::new();
    for (i, c) in churners.iter().enumerate() {
        if let Some(room) = &c.room {
            rooms.entry(room.confr.clone()).or_default().push(i);
        }
    }
    let mut mismatches = Vec::new();
    let mut books = Ledger::default();
    for (confr, members) in &rooms {
        let asker = &mut churners[members[0]].client;
        let info = match asker
            .req(Request::GetInfo {
                confr_id: confr.clone(),
                password: None,
            })
            .await
        {
            Ok(Response::Info(info)) => info,
            other => panic!("get_info {confr}: {other:?}"),
        };
        let server_view: BTreeSet<_> = info
            .members
            .into_iter()
            .map(|m| (m.id.clone(), m.name.clone(), m.role.code()))
            .collect();
        for &i in members {
            let c = &churners[i];
            let view = c.room.as_ref().expect("grouped by room").everyone(&c.name);
            if view != server_view {
                let missing: Vec<_> = server_view.difference(&view).collect();
                let extra: Vec<_> = view.difference(&server_view).collect();
                mismatches.push(format!(
                    "{} in {confr}: missing {missing:?}, extra {extra:?}",
                    c.name
                ));
            }
        }
        // The clients that believe they are in the room are the ones the server seats.
        let names: BTreeSet<_> = server_view.iter().map(|(_, n, _)| n.as_str()).collect();
        let believers: BTreeSet<_> = members.iter().map(|&i| churners[i].name.as_str()).collect();
        if names != believers {
            mismatches.push(format!("{confr}: server {names:?}, clients {believers:?}"));
        }
        // Members still together have not parted, and are owed no exit event.
        let ids: Vec<u64> = server_view.iter().map(|(id, _, _)| key(id)).collect();
        for (n, &a) in ids.iter().enumerate() {
            books
                .parted
                .extend(ids[n + 1..].iter().map(|&b| pair(a, b)));
        }
    }

    let sum = |f: fn(&Churner) -> u64| churners.iter().map(f).sum::<u64>();
    let (joins, exits) = (sum(|c| c.joins), sum(|c| c.exits));
    let (duplicated, unknown) = (sum(|c| c.faults.duplicated), sum(|c| c.faults.unknown));
    let unexpected = sum(|c| c.faults.unexpected);
    let mut latencies: Vec<Duration> = churners
        .iter()
        .flat_map(|c| c.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = latencies.last().copied().unwrap_or_default();
    let seated: usize = rooms.values().map(Vec::len).sum();
    let examples: Vec<String> = churners
        .iter_mut()
        .flat_map(|c| std::mem::take(&mut c.faults.examples))
        .take(20)
        .collect();
    for c in &mut churners {
        books.merge(std::mem::take(&mut c.ledger));
    }
    let events = books.joins_seen.len() + books.parted.len();
    let (joins_lost, joins_extra) = missing_and_extra(books.joins_owed, books.joins_seen);
    let (exits_lost, exits_extra) = missing_and_extra(books.shared, books.parted);
    println!(
        "churn: {} clients, {} rooms, {:.1} s, seed {}\n\
         joins {joins}, exits {exits}, membership events checked {events}\n\
         requests {}: median {median:?}, max {max:?}\n\
         at the end: {seated} seated in {} rooms\n\
         join events lost {joins_lost}, duplicated {joins_extra}; \
         exit events lost {exits_lost}, duplicated {exits_extra}\n\
         roster faults: duplicated {duplicated}, unknown {unknown}, unexpected {unexpected}; \
         mismatches at the end {}",
        s.clients,
        s.conferences,
        churned.as_secs_f64(),
        s.seed,
        latencies.len(),
        rooms.len(),
        mismatches.len(),
    );

    assert_eq!(
        (joins_lost, joins_extra),
        (0, 0),
        "join events lost, duplicated"
    );
    assert_eq!(
        (exits_lost, exits_extra),
        (0, 0),
        "exit events lost, duplicated"
    );
    assert!(examples.is_empty(), "faults: {examples:#?}");
    assert!(mismatches.is_empty(), "rosters differ: {mismatches:#?}");
    assert_eq!(
        health(server.addr).await,
        Health {
            sessions: s.clients as u64,
            conferences: rooms.len() as u64,
            streams: 0,
        }
    );
}
