//! Command-line flags, each with an environment-variable twin.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "emedia-server",
    version,
    about = "emedia's conference server: WebSocket signaling at /ws, the demo at /, the SDK package at /pkg/"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a login token (an HS256 JWT) for a user, as an app's backend would mint it.
    Token(TokenArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address for HTTP and WebSocket signaling.
    #[arg(long, env = "EMEDIA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The app id tokens must name.
    #[arg(long, env = "EMEDIA_APP_ID", default_value = "emedia")]
    pub app_id: String,
    /// Secret that signs tokens and tickets (at least 32 bytes). Without one the server
    /// runs in dev mode: a random secret and GET /dev/token?user=NAME hands out tokens.
    #[arg(long, env = "EMEDIA_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// How long tickets and role tokens stay valid, in seconds.
    #[arg(long, env = "EMEDIA_TICKET_TTL", default_value_t = 600)]
    pub ticket_ttl: u64,
    /// How long a created conference waits for its first member, in seconds.
    #[arg(long, env = "EMEDIA_EMPTY_CONFERENCE_TTL", default_value_t = 120)]
    pub empty_conference_ttl: u64,
    /// How long a client may stay silent (no message, no pong) or disconnected before
    /// its session ends and the others see it leave, in milliseconds. A client that
    /// reconnects within it resumes unnoticed.
    #[arg(long, env = "EMEDIA_LIVENESS_TIMEOUT_MS", default_value_t = 15_000)]
    pub liveness_timeout_ms: u64,
    /// Messages one connection may send in a burst.
    #[arg(long, env = "EMEDIA_RATE_BURST", default_value_t = 100)]
    pub rate_burst: u32,
    /// Messages per second one connection may send over time; beyond it messages are
    /// refused with -510, and a connection that keeps on is closed with 1008.
    #[arg(long, env = "EMEDIA_RATE_PER_SEC", default_value_t = 50)]
    pub rate_per_sec: u32,
    /// Open signaling connections from one IP address at most.
    #[arg(long, env = "EMEDIA_MAX_CONNECTIONS_PER_IP", default_value_t = 64)]
    pub max_connections_per_ip: usize,
    /// Conferences held at once at most.
    #[arg(long, env = "EMEDIA_MAX_CONFERENCES", default_value_t = 10_000)]
    pub max_conferences: usize,
    /// Members of one conference at most, whatever the conference's own config says.
    #[arg(long, env = "EMEDIA_MAX_MEMBERS", default_value_t = 1000)]
    pub max_members: usize,
    /// How long an invitee rings when the caller names no timeout, in milliseconds.
    #[arg(long, env = "EMEDIA_CALL_TIMEOUT_MS", default_value_t = 30_000)]
    pub call_timeout_ms: u64,
    /// UDP address of the SFU; every peer connection shares this one port.
    #[arg(long, env = "EMEDIA_RTC_LISTEN", default_value = "127.0.0.1:0")]
    pub rtc_listen: SocketAddr,
    /// The IP clients reach the SFU at, when it differs from --rtc-listen's (NAT, 0.0.0.0).
    #[arg(long, env = "EMEDIA_RTC_PUBLIC_IP")]
    pub rtc_public_ip: Option<std::net::IpAddr>,
    /// The UDP port clients reach the SFU at, when it differs from the bound one (a
    /// port mapping or a relay in front of the server).
    #[arg(long, env = "EMEDIA_RTC_PUBLIC_PORT")]
    pub rtc_public_port: Option<u16>,
    /// Mini-program push URL template, e.g. rtmp://HOST/live/{streamId}?token={token}
    /// (an RTMP server such as nginx-rtmp, whose on_publish / on_publish_done
    /// callbacks point at this server's /rtmp/ endpoints).
    #[arg(long, env = "EMEDIA_RTMP_PUSH_URL", requires = "rtmp_play_url")]
    pub rtmp_push_url: Option<String>,
    /// Mini-program play URL template, e.g. rtmp://HOST/live/{streamId}?token={token}.
    #[arg(long, env = "EMEDIA_RTMP_PLAY_URL", requires = "rtmp_push_url")]
    pub rtmp_play_url: Option<String>,
    /// Folder served at / (the demo app).
    #[arg(long, env = "EMEDIA_DEMO_DIR", default_value = "demo")]
    pub demo_dir: PathBuf,
    /// Folder served at /pkg/ (the built npm package).
    #[arg(long, env = "EMEDIA_PKG_DIR", default_value = "pkg")]
    pub pkg_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[arg(long, env = "EMEDIA_APP_SECRET", hide_env_values = true)]
    pub app_secret: String,
    #[arg(long, env = "EMEDIA_APP_ID", default_value = "emedia")]
    pub app_id: String,
    /// The user id the token is for.
    #[arg(long)]
    pub user: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
}

/// Smallest secret accepted outside dev mode: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;
