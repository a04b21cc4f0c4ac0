//! Drives the SFU: one UDP socket, the core's commands in, media events out.

use super::{socket, Sfu};
use crate::core::{MediaCommand, MediaEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// How long a timer may wait for the loop's next wake-up: str0m's timers (NACK
/// rounds every 33 ms, TWCC feedback every 50 ms, reports, ICE keep-alives) tolerate
/// a few milliseconds, and most then ride along with a read instead of waking the
/// thread themselves. Media is forwarded as it is read, never on a timer.
const TIMER_SLACK: Duration = Duration::from_millis(5);

/// The running SFU as the rest of the server sees it.
pub struct SfuHandle {
    /// The address peers are told to send to (the host candidate).
    pub candidate: SocketAddr,
    pub commands: mpsc::UnboundedSender<MediaCommand>,
    /// Live peer connections, for /healthz and /metrics.
    pub peers: Arc<AtomicUsize>,
}

/// Binds `listen` and runs the SFU on a thread of its own. `public` (ip, port)
/// replaces the bound address or port in the candidate, for a server behind a 1:1 NAT
/// or a port mapping. The loop ends when every sender of `commands` is dropped.
///
/// Its own thread and single-threaded runtime: the forwarding loop wakes thousands of
/// times a second and must not queue behind signaling tasks or hop between worker
/// threads (measured in BENCHMARKS.md).
pub fn start(
    listen: SocketAddr,
    (public_ip, public_port): (Option<IpAddr>, Option<u16>),
    on_event: impl Fn(MediaEvent) + Send + 'static,
) -> Result<SfuHandle, String> {
    let socket =
        socket::bind(listen).map_err(|e| format!("cannot bind the media socket {listen}: {e}"))?;
    let bound = socket.local_addr().map_err(|e| e.to_string())?;
    let ip = match (public_ip, bound.ip()) {
        (Some(ip), _) => ip,
        (None, ip) if ip.is_unspecified() => return Err(
            "--rtc-listen binds all addresses: say which one clients reach with --rtc-public-ip"
                .into(),
        ),
        (None, ip) => ip,
    };
    let candidate = SocketAddr::new(ip, public_port.unwrap_or(bound.port()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the SFU's runtime: {e}"))?;
    let socket = {
        let _inside = runtime.enter();
        UdpSocket::from_std(socket).map_err(|e| e.to_string())?
    };
    let reader = socket::Reader::new(&socket)
        .map_err(|e| format!("cannot set up reads on the media socket: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let peers = Arc::new(AtomicUsize::new(0));
    let counter = peers.clone();
    std::thread::Builder::new()
        .name("emedia-sfu".into())
        .spawn(move || {
            let sfu = Sfu::new(candidate);
            runtime.block_on(run(sfu, socket, reader, rx, counter, on_event));
        })
        .map_err(|e| format!("cannot start the SFU's thread: {e}"))?;
    tracing::info!(%bound, %candidate, "SFU listening");
    Ok(SfuHandle {
        candidate,
        commands: tx,
        peers,
    })
}

async fn run(
    mut sfu: Sfu,
    socket: UdpSocket,
    mut reader: socket::Reader,
    mut commands: mpsc::UnboundedReceiver<MediaCommand>,
    peers: Arc<AtomicUsize>,
    on_event: impl Fn(MediaEvent),
) {
    let mut outgoing = Vec::new();
    loop {
        let due = sfu.poll_timeout();
        let wake = due.map_or_else(
            || Instant::now() + Duration::from_secs(1),
            |d| d + TIMER_SLACK,
        );
        tokio::select! {
            ready = socket.readable() => match ready {
                Ok(()) => receive_batch(&mut sfu, &socket, &mut reader),
                Err(e) => tracing::debug!(error = %e, "media socket failed"),
            },
            cmd = commands.recv() => match cmd {
                Some(cmd) => handle(&mut sfu, cmd, &on_event),
                None => break,
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        flush(&mut sfu, &socket, &mut outgoing, &on_event).await;
        // Whatever woke us, timers that are due now have their turn: after the
        // forwards of what was read, which should not wait for them.
        if due.is_some_and(|d| d <= Instant::now()) {
            sfu.handle_timeout(Instant::now());
            flush(&mut sfu, &socket, &mut outgoing, &on_event).await;
        }
        peers.store(sfu.peer_count(), Ordering::Relaxed);
    }
}

/// Sends what the SFU has to send and reports its events.
async fn flush(
    sfu: &mut Sfu,
    socket: &UdpSocket,
    outgoing: &mut Vec<(SocketAddr, Vec<u8>)>,
    on_event: &impl Fn(MediaEvent),
) {
    outgoing.extend(std::iter::from_fn(|| sfu.poll_transmit()));
    socket::send_all(socket, outgoing).await;
    while let Some(ev) = sfu.poll_event() {
        on_event(ev);
    }
}

/// Reads what has arrived, up to `BATCH` datagrams, so their forwards go out in as
/// few sends as possible.
fn receive_batch(sfu: &mut Sfu, socket: &UdpSocket, reader: &mut socket::Reader) {
    reader.read(socket, |source, datagram| {
        sfu.handle_datagram(source, datagram, Instant::now())
    });
    sfu.end_batch(Instant::now());
}

fn handle(sfu: &mut Sfu, cmd: MediaCommand, on_event: &impl Fn(MediaEvent)) {
    let now = Instant::now();
    let (peer, result) = match cmd {
        MediaCommand::Publish { peer, offer } => (peer, sfu.add_publisher(peer, &offer, now)),
        MediaCommand::Subscribe {
            peer,
            source,
            offer,
            audio_mid,
            video_mid,
        } => {
            let mids = (audio_mid.as_deref(), video_mid.as_deref());
            (
                peer,
                sfu.add_subscriber(peer, source, &offer, mids.0, mids.1, now),
            )
        }
        MediaCommand::Unroute { peer, source } => {
            sfu.unroute(peer, source);
            return;
        }
        MediaCommand::RequestKeyframe { source } => {
            sfu.request_keyframe_now(source, now);
            return;
        }
        MediaCommand::Close { peer } => {
            sfu.remove(peer);
            return;
        }
        MediaCommand::RestartIce { peer, offer } => (peer, sfu.restart_ice(peer, &offer, now)),
    };
    on_event(match result {
        Ok(sdp) => MediaEvent::Answered { peer, sdp },
        Err((code, message)) => MediaEvent::Refused {
            peer,
            code,
            message,
        },
    });
}
