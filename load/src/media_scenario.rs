//! The media scenario: C conferences, each with P publishers sending synthetic VP8 +
//! Opus and S subscribers receiving every publisher's stream over one connection.
//! After a warm-up it measures, over the run, the packets and bytes the subscribers
//! got per second, the loss, and the server's CPU time per forwarded packet; and,
//! from setup, each subscriber's time to its first media packet and the server's
//! memory per peer connection.

use crate::janus::Janus;
use crate::media_peer::{Counters, Peer, Source};
use crate::report::Report;
use crate::scenarios::{join_room, login_many, room_name, Target};
use crate::signaling::Client;
use emedia_protocol::{ConferenceConfig, ConferenceId, Request, Response, StreamId, StreamType};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::media::Direction;
use tokio::sync::watch;

pub struct Shape {
    pub conferences: usize,
    pub publishers: usize,
    pub subscribers: usize,
    /// Publishers also receive every other publisher (all publish and subscribe).
    pub mesh: bool,
    pub secs: u64,
    pub source: Source,
}

const WARM_UP: Duration = Duration::from_secs(1);

/// A member kept in its conference until the run ends: its signaling reads events
/// meanwhile.
fn keep(mut client: Client, stop: &watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let stop = stop.clone();
    tokio::spawn(async move {
        client.drain_until(&stop).await;
        client.close().await;
    })
}

async fn publish(
    media_ip: IpAddr,
    client: &mut Client,
    confr_id: &emedia_protocol::ConferenceId,
    i: usize,
    source: Source,
    counters: Arc<Counters>,
    stop: &watch::Receiver<bool>,
) -> Result<(StreamId, tokio::task::JoinHandle<()>), String> {
    let mut peer = Peer::new(media_ip, false).await?;
    let (sdp, p) = peer.offer(Direction::SendOnly)?;
    let req = Request::Publish {
        confr_id: confr_id.clone(),
        rtc_id: format!("load{i}"),
        stream_type: StreamType::Camera,
        audio: true,
        video: true,
        ext: None,
        sdp,
    };
    let Response::Published { sdp, stream } =
        client.request(req).await.map_err(|e| e.to_string())?
    else {
        return Err("unexpected reply to publish".into());
    };
    peer.accept(p.pending, &sdp)?;
    let media = Some((source, p.audio, p.video));
    let task = tokio::spawn(peer.drive(media, counters, stop.clone()));
    Ok((stream.id, task))
}

/// Subscribes to `streams` on one connection (renegotiated per stream, as the SDK
/// does) and adds the receiving peer to `run`, timed from the first subscribe.
async fn subscribe_all(
    media_ip: IpAddr,
    client: &mut Client,
    confr_id: &ConferenceId,
    streams: &[StreamId],
    run: &mut Running,
    stop: &watch::Receiver<bool>,
) -> Result<(), String> {
    let mut peer = Peer::new(media_ip, true).await?;
    let asked = Instant::now();
    for stream_id in streams {
        let (sdp, p) = peer.offer(Direction::RecvOnly)?;
        let req = Request::Subscribe {
            confr_id: confr_id.clone(),
            stream_id: stream_id.clone(),
            sdp,
            audio_mid: Some(p.audio.to_string()),
            video_mid: Some(p.video.to_string()),
        };
        let Response::Subscribed { sdp, .. } =
            client.request(req).await.map_err(|e| e.to_string())?
        else {
            return Err("unexpected reply to subscribe".into());
        };
        peer.accept(p.pending, &sdp)?;
        let ready = Request::SubscriptionReady {
            confr_id: confr_id.clone(),
            stream_id: stream_id.clone(),
        };
        client.request(ready).await.map_err(|e| e.to_string())?;
    }
    let counters = Arc::new(Counters::default());
    run.receivers.push((asked, counters.clone()));
    run.tasks
        .push(tokio::spawn(peer.drive(None, counters, stop.clone())));
    Ok(())
}

/// What setting up a run leaves: the peers' and members' tasks, and each receiving
/// peer with the moment it asked for its streams.
#[derive(Default)]
struct Running {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    receivers: Vec<(Instant, Arc<Counters>)>,
    /// Each publisher's counters, and how many receivers its stream goes to.
    senders: Vec<(Arc<Counters>, u64)>,
}

impl Shape {
    /// How many receivers each publisher's stream goes to.
    fn fanout(&self) -> u64 {
        (self.subscribers + if self.mesh { self.publishers - 1 } else { 0 }) as u64
    }
}

async fn set_up_emedia(
    t: &Arc<Target>,
    shape: &Shape,
    stop: &watch::Receiver<bool>,
) -> Result<Running, String> {
    let mut run = Running::default();
    for c in 0..shape.conferences {
        let room = room_name(&format!("media{c}"));
        let config = ConferenceConfig {
            max_video_count: 64,
            max_talker_count: (shape.publishers + shape.subscribers).clamp(1, 1000) as u32,
            ..ConferenceConfig::default()
        };
        let pubs = login_many(t, &format!("pub{c}-"), shape.publishers)
            .await
            .map_err(|e| e.to_string())?;
        let (mut publishers, mut streams) = (Vec::new(), Vec::new());
        for (i, mut client) in pubs.into_iter().enumerate() {
            let joined = client
                .join(join_room(&room, None, config.clone()))
                .await
                .map_err(|e| format!("publisher join: {e}"))?;
            let sent = Arc::new(Counters::default());
            run.senders.push((sent.clone(), shape.fanout()));
            let (stream, task) = publish(
                t.media_ip,
                &mut client,
                &joined.confr_id,
                i,
                shape.source,
                sent,
                stop,
            )
            .await?;
            streams.push(stream);
            run.tasks.push(task);
            publishers.push((client, joined.confr_id));
        }
        for (i, (mut client, confr_id)) in publishers.into_iter().enumerate() {
            if shape.mesh {
                let mut others = streams.clone();
                others.remove(i);
                subscribe_all(t.media_ip, &mut client, &confr_id, &others, &mut run, stop).await?;
            }
            run.tasks.push(keep(client, stop));
        }
        let subs = login_many(t, &format!("sub{c}-"), shape.subscribers)
            .await
            .map_err(|e| e.to_string())?;
        for mut client in subs {
            let joined = client
                .join(join_room(&room, None, config.clone()))
                .await
                .map_err(|e| format!("subscriber join: {e}"))?;
            let streams: Vec<StreamId> = joined.streams.iter().map(|s| s.id.clone()).collect();
            let confr_id = joined.confr_id;
            subscribe_all(t.media_ip, &mut client, &confr_id, &streams, &mut run, stop).await?;
            run.tasks.push(keep(client, stop));
        }
    }
    Ok(run)
}

/// The same shape on Janus's VideoRoom: a room per conference, a feed per publisher.
async fn set_up_janus(
    janus: &Janus,
    shape: &Shape,
    stop: &watch::Receiver<bool>,
) -> Result<Running, String> {
    let mut run = Running::default();
    let base = std::process::id() as u64 * 1000;
    for c in 0..shape.conferences {
        let room = base + c as u64;
        janus.create_room(room, shape.publishers).await?;
        let mut feeds = Vec::new();
        for _ in 0..shape.publishers {
            let sent = Arc::new(Counters::default());
            run.senders.push((sent.clone(), shape.fanout()));
            let (feed, task) = janus.publish(room, shape.source, sent, stop).await?;
            feeds.push(feed);
            run.tasks.push(task);
        }
        let mut receivers: Vec<Vec<u64>> = vec![feeds.clone(); shape.subscribers];
        if shape.mesh {
            for i in 0..feeds.len() {
                let mut others = feeds.clone();
                others.remove(i);
                receivers.push(others);
            }
        }
        for wanted in receivers {
            let counters = Arc::new(Counters::default());
            let (asked, task) = janus
                .subscribe_all(room, &wanted, counters.clone(), stop)
                .await?;
            run.receivers.push((asked, counters));
            run.tasks.push(task);
        }
    }
    Ok(run)
}

pub async fn media(t: Arc<Target>, shape: Shape) -> Result<Report, String> {
    let (stop_tx, stop) = watch::channel(false);
    let before = t.sample()?;
    let setup = Instant::now();
    let Running {
        tasks,
        receivers: subscribers,
        senders,
    } = match &t.janus {
        Some(janus) => set_up_janus(janus, &shape, &stop).await?,
        None => set_up_emedia(&t, &shape, &stop).await?,
    };
    let set_up = setup.elapsed();
    tokio::time::sleep(WARM_UP).await;
    let total = |f: fn(&Counters) -> u64| -> u64 { subscribers.iter().map(|(_, c)| f(c)).sum() };
    let packets = |c: &Counters| c.packets.load(Ordering::Relaxed);
    let bytes = |c: &Counters| c.bytes.load(Ordering::Relaxed);
    let lost = |c: &Counters| c.lost.load(Ordering::Relaxed);
    // What the receivers should have got: every packet each publisher sent, once
    // per receiver of its stream.
    let owed = || -> u64 {
        senders
            .iter()
            .map(|(c, fanout)| c.sent.load(Ordering::Relaxed) * fanout)
            .sum()
    };
    let owed_at_start = owed();
    for (_, c) in &subscribers {
        c.take_delays();
    }
    let at_start = (total(packets), total(bytes), total(lost), t.sample()?);
    tokio::time::sleep(Duration::from_secs(shape.secs)).await;
    let at_end = (total(packets), total(bytes), total(lost), t.sample()?);
    let mut delays: Vec<Duration> = subscribers
        .iter()
        .flat_map(|(_, c)| c.take_delays())
        .map(|us| Duration::from_micros(us.into()))
        .collect();
    delays.sort();
    let owed_in_run = owed() - owed_at_start;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }

    let secs = shape.secs.max(1) as f64;
    let got = at_end.0 - at_start.0;
    let missing = at_end.2 - at_start.2;
    let mut first: Vec<Duration> = subscribers
        .iter()
        .map(|(asked, c)| {
            c.first_packet
                .get()
                .map_or(Duration::MAX, |t| t.duration_since(*asked))
        })
        .collect();
    first.sort();
    let silent = first.iter().filter(|d| **d == Duration::MAX).count();
    let receivers = shape.subscribers + if shape.mesh { shape.publishers } else { 0 };
    let peers = shape.conferences * (shape.publishers + receivers);
    let mut r = Report::new("media");
    let server = if t.janus.is_some() { "janus" } else { "emedia" };
    r.add("server", "server", server, server.to_owned());
    r.count("conferences", "conferences", shape.conferences as u64);
    r.count(
        "publishers",
        "publishers per conference",
        shape.publishers as u64,
    );
    r.count(
        "subscribers",
        "subscribers per conference",
        shape.subscribers as u64,
    );
    r.add(
        "mesh",
        "publishers also subscribe",
        shape.mesh,
        shape.mesh.to_string(),
    );
    r.millis("setup_ms", "setup (joins, publishes, subscribes)", set_up);
    r.count(
        "silent_subscribers",
        "subscribers that got no media",
        silent as u64,
    );
    r.percentiles("first_packet_ms", "subscribe to first media packet", &first);
    // Writing in the publisher to reading in the subscriber, both in this process: the
    // server's forwarding plus the two str0m peers' own (the same for either server).
    r.percentiles(
        "audio_delay_ms",
        "publisher to subscriber audio delay",
        &delays,
    );
    r.add(
        "packets_per_sec",
        "forwarded packets per second",
        (got as f64 / secs).round(),
        format!("{:.0}", got as f64 / secs),
    );
    let mbps = (at_end.1 - at_start.1) as f64 * 8.0 / secs / 1e6;
    r.add(
        "mbit_per_sec",
        "forwarded payload Mbit/s",
        (mbps * 100.0).round() / 100.0,
        format!("{mbps:.2}"),
    );
    // Gaps in the sequence the receivers saw (an SFU that repacketizes renumbers, so
    // packets it never got leave no gap: `delivered` counts those).
    let loss = missing as f64 * 100.0 / (got + missing).max(1) as f64;
    r.add(
        "seq_gaps_percent",
        "sequence gaps at receivers",
        (loss * 1000.0).round() / 1000.0,
        format!("{loss:.3} %"),
    );
    // Received over sent × fan-out, from str0m's egress stats (sampled every 200 ms,
    // so a few tenths of a percent either way).
    let delivered = got as f64 * 100.0 / owed_in_run.max(1) as f64;
    r.add(
        "delivered_percent",
        "delivered (received ÷ sent × fan-out)",
        (delivered * 10.0).round() / 10.0,
        format!("{delivered:.1} %"),
    );
    if let (Some(b), Some(a), Some(start), Some(end)) = (before, at_start.3, at_start.3, at_end.3) {
        let cpu = end.cpu.saturating_sub(start.cpu);
        let per_packet = cpu.as_secs_f64() * 1e6 / got.max(1) as f64;
        r.add(
            "server_cpu_us_per_packet",
            "server CPU per forwarded packet",
            (per_packet * 100.0).round() / 100.0,
            format!("{per_packet:.2} µs"),
        );
        let share = cpu.as_secs_f64() * 100.0 / secs;
        r.add(
            "server_cpu_percent",
            "server CPU (one core = 100 %)",
            share.round(),
            format!("{share:.0} %"),
        );
        let per_peer = a.rss.saturating_sub(b.rss) / peers.max(1) as u64;
        r.count(
            "server_bytes_per_peer",
            "server memory per peer connection (bytes)",
            per_peer,
        );
    }
    Ok(r)
}
