//! Driving Janus's VideoRoom plugin (Janus 1.1, HTTP API) with the same media peers,
//! for side-by-side figures from one run: one Janus session and plugin handle per
//! publisher or subscriber, events by long poll. Janus offers to subscribers (the
//! reverse of emedia, where the client always offers).

use crate::media_peer::{Counters, Peer, Source};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::media::Direction;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Janus {
    http: reqwest::Client,
    /// Where our peers bind: Janus (libnice) gathers no loopback candidates, so its
    /// runs use the host's own address (the traffic still never leaves the machine).
    media_ip: IpAddr,
    /// e.g. http://127.0.0.1:8088/janus
    base: String,
}

/// One session with one VideoRoom handle.
struct Handle {
    session: u64,
    handle: u64,
}

/// How long a subscriber waits for the feeds it asked for to come up.
const FEED_PATIENCE: Duration = Duration::from_secs(10);

/// Sends an API request and reads its JSON reply.
async fn json_of(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let reply = request.send().await.map_err(|e| format!("janus: {e}"))?;
    reply.json().await.map_err(|e| format!("janus: {e}"))
}

fn transaction() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Janus {
    pub fn new(base: &str, media_ip: IpAddr) -> Self {
        Self {
            http: reqwest::Client::new(),
            media_ip,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    async fn post(&self, path: &str, mut body: Value) -> Result<Value, String> {
        body["transaction"] = transaction().into();
        let reply = json_of(self.http.post(format!("{}{path}", self.base)).json(&body)).await?;
        match reply["janus"].as_str() {
            Some("success" | "ack") => Ok(reply),
            _ => Err(format!("janus refused {body}: {reply}")),
        }
    }

    async fn open(&self) -> Result<Handle, String> {
        let created = self.post("", json!({"janus": "create"})).await?;
        let session = created["data"]["id"]
            .as_u64()
            .ok_or("janus: no session id")?;
        let attached = self
            .post(
                &format!("/{session}"),
                json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
            )
            .await?;
        let handle = attached["data"]["id"]
            .as_u64()
            .ok_or("janus: no handle id")?;
        Ok(Handle { session, handle })
    }

    async fn message(&self, h: &Handle, body: Value, jsep: Option<Value>) -> Result<Value, String> {
        let mut msg = json!({"janus": "message", "body": body});
        if let Some(jsep) = jsep {
            msg["jsep"] = jsep;
        }
        self.post(&format!("/{}/{}", h.session, h.handle), msg)
            .await
    }

    /// Our SDP carries all our candidates: tell Janus to expect no trickled ones.
    async fn candidates_complete(&self, h: &Handle) -> Result<(), String> {
        let msg = json!({"janus": "trickle", "candidate": {"completed": true}});
        self.post(&format!("/{}/{}", h.session, h.handle), msg)
            .await
            .map(drop)
    }

    /// The next plugin event of the session (long poll), skipping keepalives and
    /// WebRTC state notices.
    async fn event(&self, h: &Handle) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let poll = self
                .http
                .get(format!("{}/{}?maxev=1", self.base, h.session));
            let events = json_of(poll).await?;
            let events = match events {
                Value::Array(list) => list,
                one => vec![one],
            };
            for e in events {
                if e["janus"] == "event" {
                    if let Some(err) = e["plugindata"]["data"].get("error") {
                        return Err(format!("janus: {err}"));
                    }
                    return Ok(e);
                }
            }
        }
        Err("janus: no event in 30 s".into())
    }

    /// Creates a VideoRoom room for the run.
    pub async fn create_room(&self, room: u64, publishers: usize) -> Result<(), String> {
        let h = self.open().await?;
        let body = json!({
            "request": "create", "room": room, "publishers": publishers.max(1),
            "audiocodec": "opus", "videocodec": "vp8", "bitrate": 0,
        });
        let reply = self.message(&h, body, None).await?;
        match reply["plugindata"]["data"]["videoroom"].as_str() {
            Some("created") => Ok(()),
            _ => Err(format!("janus: room not created: {reply}")),
        }
    }

    /// Publishes synthetic media into `room`; returns the feed id and the peer's task.
    pub async fn publish(
        &self,
        room: u64,
        source: Source,
        counters: Arc<Counters>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(u64, JoinHandle<()>), String> {
        let h = self.open().await?;
        let mut peer = Peer::new(self.media_ip, false).await?;
        let (sdp, p) = peer.offer(Direction::SendOnly)?;
        let body = json!({"request": "joinandconfigure", "room": room, "ptype": "publisher",
            "audio": true, "video": true});
        self.message(&h, body, Some(json!({"type": "offer", "sdp": sdp})))
            .await?;
        self.candidates_complete(&h).await?;
        // Other publishers of the room may be announced first (a mesh joins them all).
        let joined = loop {
            let e = self.event(&h).await?;
            if e["plugindata"]["data"]["videoroom"] == "joined" {
                break e;
            }
        };
        let feed = joined["plugindata"]["data"]["id"]
            .as_u64()
            .ok_or_else(|| format!("janus: no feed id in {joined}"))?;
        let answer = joined["jsep"]["sdp"]
            .as_str()
            .ok_or_else(|| format!("janus: no answer in {joined}"))?;
        peer.accept(p.pending, answer)?;
        let media = Some((source, p.audio, p.video));
        Ok((
            feed,
            tokio::spawn(peer.drive(media, counters, stop.clone())),
        ))
    }

    /// Subscribes to `feeds` on one connection (Janus's offer, our answer); returns
    /// when the subscription was asked for, and the peer's task.
    pub async fn subscribe_all(
        &self,
        room: u64,
        feeds: &[u64],
        counters: Arc<Counters>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(Instant, JoinHandle<()>), String> {
        let h = self.open().await?;
        let mut peer = Peer::new(self.media_ip, true).await?;
        let asked = Instant::now();
        let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
        let body =
            json!({"request": "join", "room": room, "ptype": "subscriber", "streams": streams});
        // A feed can be subscribed once its publisher's connection is up: until then
        // Janus answers "No such feed".
        let attached = loop {
            self.message(&h, body.clone(), None).await?;
            match self.event(&h).await {
                Err(e) if e.contains("No such feed") && asked.elapsed() < FEED_PATIENCE => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => break other?,
            }
        };
        let offer = attached["jsep"]["sdp"]
            .as_str()
            .ok_or_else(|| format!("janus: no offer in {attached}"))?;
        let answer = peer.answer(offer)?;
        let start = json!({"request": "start", "room": room});
        self.message(&h, start, Some(json!({"type": "answer", "sdp": answer})))
            .await?;
        self.candidates_complete(&h).await?;
        Ok((
            asked,
            tokio::spawn(peer.drive(None, counters, stop.clone())),
        ))
    }
}
