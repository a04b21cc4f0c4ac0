//! The signaling scenarios: many clients joining one conference at once, and a LIVE
//! conference filling with audience (the media one is in `media_scenario.rs`).

use crate::report::{percentile, Report};
use crate::server_stats::{self, Sample};
use crate::signaling::{Client, Failure};
use crate::token::Minter;
use emedia_protocol::{ConferenceConfig, ConfrType, Request};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Barrier, Semaphore};

/// What every scenario needs: where the server is, how to log in, and which process
/// to measure.
pub struct Target {
    pub ws_url: String,
    pub minter: Minter,
    /// Where the media peers bind.
    pub media_ip: std::net::IpAddr,
    /// Run the media scenario on Janus's VideoRoom instead (side-by-side figures).
    pub janus: Option<crate::janus::Janus>,
    pub server_pid: Option<u32>,
    /// Connections opened at once at most, so a big run does not overflow the
    /// server's accept queue.
    pub connect_parallelism: usize,
}

impl Target {
    pub fn sample(&self) -> Result<Option<Sample>, String> {
        self.server_pid.map(server_stats::sample).transpose()
    }
}

pub fn room_name(scenario: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("load-{scenario}-{}-{nanos}", std::process::id())
}

pub fn join_room(room: &str, confr_type: Option<ConfrType>, config: ConferenceConfig) -> Request {
    Request::JoinRoom {
        room_name: room.to_owned(),
        password: None,
        role: None,
        confr_type,
        config,
        nick_name: None,
        ext: None,
    }
}

/// Logs in `n` clients named `{prefix}{i}`, a bounded number at a time.
pub async fn login_many(t: &Arc<Target>, prefix: &str, n: usize) -> Result<Vec<Client>, Failure> {
    let gate = Arc::new(Semaphore::new(t.connect_parallelism.max(1)));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (t, gate) = (t.clone(), gate.clone());
            let token = t.minter.token(&format!("{prefix}{i}"));
            tokio::spawn(async move {
                let _permit = gate.acquire().await;
                Client::login(&t.ws_url, token).await
            })
        })
        .collect();
    let mut clients = Vec::with_capacity(n);
    for task in tasks {
        clients.push(
            task.await
                .map_err(|e| Failure::Connection(e.to_string()))??,
        );
    }
    Ok(clients)
}

fn add_server_figures(r: &mut Report, before: Option<Sample>, after: Option<Sample>) {
    if let (Some(b), Some(a)) = (before, after) {
        r.millis(
            "server_cpu_ms",
            "server CPU time",
            a.cpu.saturating_sub(b.cpu),
        );
        r.count("server_rss_bytes", "server resident memory (bytes)", a.rss);
    }
}

/// How long a scenario waits for its last join before calling the rest failed.
const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until `counter` reaches `n` (or PATIENCE runs out); returns how long it took.
async fn wait_for(counter: &AtomicU64, n: u64) -> Duration {
    let began = Instant::now();
    while counter.load(Ordering::Relaxed) < n && began.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    began.elapsed()
}

/// Runs one joinRoom per client, all released at once: each reports its latency (send
/// to reply) as soon as it has it, then keeps reading events until `stop`. Returns the
/// latencies in order of arrival, the failures, and the time from release to the last
/// reply; the clients' tasks end when `stop` is sent.
async fn joins_at_once(
    clients: Vec<Client>,
    req: impl Fn() -> Request,
    stop: &watch::Receiver<bool>,
) -> (
    Vec<Duration>,
    u64,
    Duration,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let n = clients.len();
    let start = Arc::new(Barrier::new(n + 1));
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    let tasks = clients
        .into_iter()
        .map(|mut c| {
            let (start, stop, req, done) = (start.clone(), stop.clone(), req(), done_tx.clone());
            tokio::spawn(async move {
                start.wait().await;
                let sent = Instant::now();
                let joined = c.request_ok(req).await.map(|()| sent.elapsed());
                let ok = joined.is_ok();
                let _ = done.send(joined.ok());
                if ok {
                    c.drain_until(&stop).await;
                }
                c.close().await;
            })
        })
        .collect();
    start.wait().await;
    let began = Instant::now();
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        match tokio::time::timeout(PATIENCE, done.recv()).await {
            Ok(Some(Some(d))) => latencies.push(d),
            Ok(Some(None)) => {}
            // Out of patience: whoever has not answered counts as failed.
            _ => break,
        }
    }
    let failures = (n - latencies.len()) as u64;
    (latencies, failures, began.elapsed(), tasks)
}

/// What one join storm measured.
struct Storm {
    latencies: Vec<Duration>,
    failures: u64,
    /// Release to the last reply.
    replied: Duration,
    /// Release to the first member hearing of every join.
    all_heard: Duration,
    server_cpu: Option<Duration>,
    rss: Option<u64>,
    own_cpu: Duration,
}

/// `storms` times over, `clients` logged-in clients join a new conference at the same
/// moment; each times its own joinRoom, from send to reply. Every join is announced to
/// everyone already in, so the server also sends about clients²/2 events per storm.
/// Latency percentiles are over every join of every storm; the other figures are the
/// median storm's (CPU: per storm), so one storm disturbed by the machine does not
/// decide the run.
pub async fn join_storms(t: Arc<Target>, clients: usize, storms: usize) -> Result<Report, String> {
    let clients = clients.max(2);
    let mut runs = Vec::with_capacity(storms.max(1));
    for _ in 0..storms.max(1) {
        runs.push(join_storm(&t, clients).await?);
    }
    let mut latencies: Vec<Duration> = runs.iter().flat_map(|s| s.latencies.clone()).collect();
    latencies.sort();
    let median_of = |f: fn(&Storm) -> Duration| median(runs.iter().map(f).collect());
    let mut r = Report::new("joins");
    r.count("clients", "clients joining at once", clients as u64 - 1);
    r.count(
        "storms",
        "storms (a new conference each)",
        runs.len() as u64,
    );
    r.count(
        "failed",
        "joins failed",
        runs.iter().map(|s| s.failures).sum(),
    );
    r.percentiles("join_ms", "join latency", &latencies);
    r.millis(
        "join_ms_max",
        "join latency max",
        percentile(&latencies, 100),
    );
    r.millis(
        "storm_ms",
        "release to last reply",
        median_of(|s| s.replied),
    );
    r.millis(
        "all_heard_ms",
        "release to the first member hearing every join",
        median_of(|s| s.all_heard),
    );
    if let Some(cpu) = runs.iter().map(|s| s.server_cpu).collect() {
        r.millis("server_cpu_ms", "server CPU time per storm", median(cpu));
    }
    if let Some(rss) = runs.last().and_then(|s| s.rss) {
        r.count("server_rss_bytes", "server resident memory (bytes)", rss);
    }
    // The generator shares the machine's cores with the server it measures.
    r.millis(
        "load_cpu_ms",
        "generator CPU time per storm",
        median_of(|s| s.own_cpu),
    );
    Ok(r)
}

/// The middle value (the upper one of an even count); `values` is never empty.
fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

async fn join_storm(t: &Arc<Target>, clients: usize) -> Result<Storm, String> {
    let room = room_name("joins");
    let mut all = login_many(t, "joiner", clients)
        .await
        .map_err(|e| e.to_string())?;
    let mut creator = all.remove(0);
    let config = ConferenceConfig {
        max_talker_count: clients.min(1000) as u32,
        ..ConferenceConfig::default()
    };
    let req = || join_room(&room, None, config.clone());
    creator
        .join(req())
        .await
        .map_err(|e| format!("creating the room: {e}"))?;
    let (stop_tx, stop) = watch::channel(false);
    let creator_stop = stop.clone();
    let heard = creator.events.clone();
    let creator_task = tokio::spawn(async move { creator.drain_until(&creator_stop).await });
    let before = t.sample()?;
    let own_before = server_stats::sample(std::process::id())?;
    let (latencies, failures, replied, tasks) = joins_at_once(all, req, &stop).await;
    // Done when the first member has heard of every join too.
    let all_heard = replied + wait_for(&heard, clients as u64 - 1).await;
    let after = t.sample()?;
    let own_after = server_stats::sample(std::process::id())?;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let _ = creator_task.await;
    Ok(Storm {
        latencies,
        failures,
        replied,
        all_heard,
        server_cpu: before
            .zip(after.as_ref())
            .map(|(b, a)| a.cpu.saturating_sub(b.cpu)),
        rss: after.map(|a| a.rss),
        own_cpu: own_after.cpu.saturating_sub(own_before.cpu),
    })
}

/// A LIVE conference: one talker, then `audience` clients log in and join as
/// audience (seen by the talker only, as ADMIN). Reports the time from the first
/// audience connection to the last join reply, and the server memory each audience
/// member costs (resident memory after, minus before, over the audience).
pub async fn live(t: Arc<Target>, audience: usize) -> Result<Report, String> {
    let room = room_name("live");
    let config = ConferenceConfig {
        max_audience_count: audience as u32,
        ..ConferenceConfig::default()
    };
    let req = || join_room(&room, Some(ConfrType::Live), config.clone());
    let mut talker = login_many(&t, "talker", 1)
        .await
        .map_err(|e| e.to_string())?
        .remove(0);
    talker
        .join(req())
        .await
        .map_err(|e| format!("opening the LIVE room: {e}"))?;
    let (stop_tx, stop) = watch::channel(false);
    let talker_stop = stop.clone();
    let heard = talker.events.clone();
    let talker_task = tokio::spawn(async move { talker.drain_until(&talker_stop).await });
    let before = t.sample()?;
    let began = Instant::now();
    let crowd = login_many(&t, "viewer", audience)
        .await
        .map_err(|e| e.to_string())?;
    let (mut latencies, failures, _, tasks) = joins_at_once(crowd, req, &stop).await;
    wait_for(&heard, audience as u64).await;
    let filled = began.elapsed();
    let after = t.sample()?;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let _ = talker_task.await;
    let talker_events = heard.load(Ordering::Relaxed);
    latencies.sort();
    let mut r = Report::new("live");
    r.count("audience", "audience members", audience as u64);
    r.count("failed", "joins failed", failures);
    r.millis(
        "filled_ms",
        "first connection to the talker hearing every join",
        filled,
    );
    r.percentiles("join_ms", "join latency", &latencies);
    r.count(
        "talker_events",
        "join events the talker received",
        talker_events,
    );
    if let (Some(b), Some(a)) = (before, after) {
        let per = a.rss.saturating_sub(b.rss) / audience.max(1) as u64;
        r.count(
            "server_bytes_per_audience",
            "server memory per audience member (bytes)",
            per,
        );
    }
    add_server_figures(&mut r, before, after);
    Ok(r)
}
