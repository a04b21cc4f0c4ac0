//! Drives the SFU: one UDP socket, the core's commands in, media events out.

use super::Sfu;
use crate::core::{MediaCommand, MediaEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Largest datagram we read; WebRTC keeps under the path MTU.
const MAX_DATAGRAM: usize = 2048;

/// The running SFU as the rest of the server sees it.
pub struct SfuHandle {
    /// The address peers are told to send to (the host candidate).
    pub candidate: SocketAddr,
    pub commands: mpsc::UnboundedSender<MediaCommand>,
    /// Live peer connections, for /healthz and /metrics.
    pub peers: Arc<AtomicUsize>,
}

/// Binds `listen` and runs the SFU in the background. `public` (ip, port) replaces the
/// bound address or port in the candidate, for a server behind a 1:1 NAT or a port
/// mapping.
pub async fn start(
    listen: SocketAddr,
    (public_ip, public_port): (Option<IpAddr>, Option<u16>),
    on_event: impl Fn(MediaEvent) + Send + 'static,
) -> Result<SfuHandle, String> {
    let socket = UdpSocket::bind(listen)
        .await
        .map_err(|e| format!("cannot bind the media socket {listen}: {e}"))?;
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
    let (tx, rx) = mpsc::unbounded_channel();
    let peers = Arc::new(AtomicUsize::new(0));
    tokio::spawn(run(
        Sfu::new(candidate),
        socket,
        rx,
        peers.clone(),
        on_event,
    ));
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
    mut commands: mpsc::UnboundedReceiver<MediaCommand>,
    peers: Arc<AtomicUsize>,
    on_event: impl Fn(MediaEvent),
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let wake = sfu
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, source)) => sfu.handle_datagram(source, &buf[..n], Instant::now()),
                Err(e) => tracing::debug!(error = %e, "media socket read failed"),
            },
            cmd = commands.recv() => match cmd {
                Some(cmd) => handle(&mut sfu, cmd, &on_event),
                None => break,
            },
            _ = tokio::time::sleep_until(wake.into()) => sfu.handle_timeout(Instant::now()),
        }
        while let Some((to, data)) = sfu.poll_transmit() {
            if let Err(e) = socket.send_to(&data, to).await {
                tracing::debug!(%to, error = %e, "media send failed");
            }
        }
        while let Some(ev) = sfu.poll_event() {
            on_event(ev);
        }
        peers.store(sfu.peer_count(), Ordering::Relaxed);
    }
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
