//! The SFU's UDP socket: kernel buffers sized for bursts, and batched sends.
//!
//! On the forwarding path the kernel costs more than the SFU itself (on loopback a
//! send also runs the receiver's side of the stack), so what can be shared is: one
//! `sendmmsg` carries up to `BATCH` datagrams instead of one syscall each.

use socket2::SockAddr;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams per `sendmmsg` and reads per wake-up.
pub const BATCH: usize = 64;

/// Asked for both buffers; Linux caps it at net.core.rmem_max / wmem_max. The default
/// (~200 KB) overflows when a keyframe is fanned out to many subscribers while
/// publishers keep sending: those datagrams are lost in the kernel, not in the SFU.
const BUFFER_BYTES: usize = 4 << 20;

/// A non-blocking UDP socket bound to `listen`, buffers enlarged as far as allowed.
pub fn bind(listen: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(listen),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    // Best effort: a smaller buffer still works, it just drops sooner under bursts.
    if let Err(e) = socket.set_recv_buffer_size(BUFFER_BYTES) {
        tracing::warn!(error = %e, "cannot enlarge the media socket's receive buffer");
    }
    if let Err(e) = socket.set_send_buffer_size(BUFFER_BYTES) {
        tracing::warn!(error = %e, "cannot enlarge the media socket's send buffer");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&listen.into())?;
    Ok(socket.into())
}

/// Sends every datagram of `queue` (and empties it), `BATCH` per syscall, waiting when
/// the socket's buffer is full. A datagram the kernel refuses (an unreachable
/// address) is dropped like a lost packet; the rest still go.
pub async fn send_all(socket: &UdpSocket, queue: &mut Vec<(SocketAddr, Vec<u8>)>) {
    let mut sent = 0;
    while sent < queue.len() {
        let chunk = &queue[sent..queue.len().min(sent + BATCH)];
        match socket.try_io(Interest::WRITABLE, || send_batch(socket, chunk)) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.writable().await {
                    tracing::debug!(error = %e, "media socket not writable");
                    break;
                }
            }
            Err(e) => {
                tracing::debug!(to = %chunk[0].0, error = %e, "media send failed");
                sent += 1;
            }
        }
    }
    queue.clear();
}

/// One `sendmmsg`: how many of `chunk` (never empty) the kernel took, at least one.
fn send_batch(socket: &UdpSocket, chunk: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    let addrs: Vec<SockAddr> = chunk.iter().map(|(to, _)| SockAddr::from(*to)).collect();
    let mut iovecs: Vec<libc::iovec> = chunk
        .iter()
        .map(|(_, data)| libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .zip(&addrs)
        .map(|(iov, addr)| {
            // SAFETY: msghdr is plain data; all-zero is its empty value.
            let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
            hdr.msg_name = addr.as_ptr() as *mut libc::c_void;
            hdr.msg_namelen = addr.len();
            hdr.msg_iov = iov;
            hdr.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: hdr,
                msg_len: 0,
            }
        })
        .collect();
    // SAFETY: every header points into `addrs`, `iovecs` and `chunk`, which outlive
    // the call; the kernel only reads them (and writes `msg_len`).
    let sent = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            headers.len() as libc::c_uint,
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    // The kernel reports an error only when the first datagram fails.
    Ok((sent as usize).max(1))
}
