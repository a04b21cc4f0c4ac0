//! emedia-load: drives an emedia-server with many clients and reports latency and
//! the server's CPU time and memory. See `--help`, and scripts/bench-load.sh for the
//! standard runs.

mod janus;
mod media_peer;
mod media_scenario;
mod report;
mod scenarios;
mod server_stats;
mod signaling;
mod token;

use clap::{Parser, Subcommand};
use scenarios::Target;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "emedia-load",
    about = "Load generator for emedia-server: prints a table and one JSON line per run",
    long_about = "Load generator for emedia-server. Each scenario prints a table and one JSON line.\n\
        The server must know the same app secret (--app-secret), and accept many connections \
        from one address (start it with --max-connections-per-ip above the client count). \
        With --server-pid the server's CPU time and resident memory are read from /proc."
)]
struct Cli {
    /// The server's base URL (http:// or ws://).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The server's app secret, to mint login tokens.
    #[arg(long, env = "EMEDIA_APP_SECRET", default_value = "")]
    app_secret: String,
    /// Run the media scenario against Janus's VideoRoom at this URL instead
    /// (e.g. http://127.0.0.1:8088/janus); --server-pid is then Janus's pid.
    #[arg(long)]
    janus: Option<String>,
    /// The address the media peers bind to. Loopback by default; Janus gathers no
    /// loopback candidates, so its runs need the host's own address (and so do
    /// emedia's, to compare like with like: start it with --rtc-listen on it).
    #[arg(long, default_value = "127.0.0.1")]
    media_ip: std::net::IpAddr,
    /// The app id the server expects in tokens.
    #[arg(long, default_value = "emedia")]
    app_id: String,
    /// The server's process id: report its CPU time and memory (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Connections opened at once at most.
    #[arg(long, default_value_t = 256)]
    connect_parallelism: usize,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Clients join one conference at the same moment: join latency p50 / p99.
    Joins {
        /// Clients in the conference at the end (one creates it, the rest join at once).
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Storms to run, each in a new conference with newly connected clients:
        /// latency percentiles pool every join, other figures are the median storm's.
        #[arg(long, default_value_t = 1)]
        storms: usize,
    },
    /// A LIVE conference: one talker, then this many audience members join; time until
    /// all joined and server memory per audience member.
    Live {
        #[arg(long, default_value_t = 10_000)]
        audience: usize,
    },
    /// Conferences of publishers sending synthetic VP8 + Opus and subscribers receiving
    /// every stream: forwarded packets per second, loss, server CPU per forwarded
    /// packet, time to first media packet, publisher-to-subscriber audio delay,
    /// server memory per peer connection.
    Media {
        #[arg(long, default_value_t = 1)]
        conferences: usize,
        /// Publishers per conference.
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        /// Subscribers per conference (each receives every publisher).
        #[arg(long, default_value_t = 10)]
        subscribers: usize,
        /// Publishers also receive every other publisher of their conference.
        #[arg(long)]
        mesh: bool,
        /// Seconds measured, after a one-second warm-up.
        #[arg(long, default_value_t = 10)]
        secs: u64,
        /// Video bitrate of each publisher, kbit/s (Opus adds about 64).
        #[arg(long, default_value_t = 1500)]
        video_kbps: u32,
        /// Video frames per second.
        #[arg(long, default_value_t = 30)]
        fps: u32,
    },
}

/// `http://h:p` → `ws://h:p/ws` (and `https` → `wss`).
fn ws_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let url = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    if url.ends_with("/ws") {
        url
    } else {
        format!("{url}/ws")
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let target = Arc::new(Target {
        ws_url: ws_url(&cli.server),
        minter: token::Minter::new(&cli.app_id, &cli.app_secret),
        media_ip: cli.media_ip,
        janus: cli
            .janus
            .as_deref()
            .map(|url| janus::Janus::new(url, cli.media_ip)),
        server_pid: cli.server_pid,
        connect_parallelism: cli.connect_parallelism,
    });
    let report = match cli.scenario {
        Scenario::Joins { clients, storms } => {
            scenarios::join_storms(target, clients, storms).await
        }
        Scenario::Live { audience } => scenarios::live(target, audience).await,
        Scenario::Media {
            conferences,
            publishers,
            subscribers,
            mesh,
            secs,
            video_kbps,
            fps,
        } => {
            let shape = media_scenario::Shape {
                conferences,
                publishers,
                subscribers,
                mesh,
                secs,
                source: media_peer::Source { video_kbps, fps },
            };
            media_scenario::media(target, shape).await
        }
    };
    match report {
        Ok(r) => r.print(),
        Err(e) => {
            eprintln!("emedia-load: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ws_url;

    #[test]
    fn signaling_url_from_the_base() {
        assert_eq!(ws_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
        assert_eq!(ws_url("https://h/"), "wss://h/ws");
        assert_eq!(ws_url("ws://h:1/ws"), "ws://h:1/ws");
    }
}
