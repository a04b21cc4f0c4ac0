//! The SFU's UDP socket: kernel buffers sized for bursts, batched reads and sends.
//!
//! On the forwarding path the kernel costs more than the SFU itself (on loopback a
//! send also runs the receiver's side of the stack), so what can be shared is: one
//! `sendmmsg` carries up to `BATCH` messages instead of one syscall each, and a
//! frame's packets to one subscriber go as one UDP GSO message (`UDP_SEGMENT`), which
//! the kernel routes and builds once and cuts into datagrams at the end. Reads take
//! whatever has arrived in one `recvmmsg` (quinn-udp's), not one syscall a datagram.

use socket2::SockAddr;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Buffers filled by one `recvmmsg`, and the bytes of each: a buffer may receive a
/// GRO run (datagrams of one sender coalesced by the NIC's driver, at most 64 KB).
const READ_BUFFERS: usize = 16;
const READ_BUFFER_BYTES: usize = 1 << 16;

/// Reads the socket in batches. Each call of `read` takes what has arrived, up to
/// `BATCH` datagrams, and hands them over one by one with their sender.
pub struct Reader {
    state: quinn_udp::UdpSocketState,
    buffers: Box<[[u8; READ_BUFFER_BYTES]; READ_BUFFERS]>,
    meta: [quinn_udp::RecvMeta; READ_BUFFERS],
}

impl Reader {
    pub fn new(socket: &UdpSocket) -> io::Result<Self> {
        Ok(Self {
            state: quinn_udp::UdpSocketState::new(socket.into())?,
            buffers: vec![[0; READ_BUFFER_BYTES]; READ_BUFFERS]
                .into_boxed_slice()
                .try_into()
                .map_err(|_| io::Error::other("read buffers of the wrong length"))?,
            meta: [quinn_udp::RecvMeta::default(); READ_BUFFERS],
        })
    }

    /// Hands every datagram that has arrived, up to `BATCH` (a GRO run may carry the
    /// last read over), to `each` in arrival order and returns how many. Stopping at
    /// an empty socket also tells tokio it is drained.
    pub fn read(&mut self, socket: &UdpSocket, mut each: impl FnMut(SocketAddr, &[u8])) -> usize {
        let mut read = 0;
        while read < BATCH {
            let room = READ_BUFFERS.min(BATCH - read);
            let received = socket.try_io(Interest::READABLE, || {
                let mut slices = self.buffers.each_mut().map(|b| io::IoSliceMut::new(b));
                let meta = &mut self.meta[..room];
                self.state.recv(socket.into(), &mut slices[..room], meta)
            });
            let messages = match received {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::debug!(error = %e, "media socket read failed");
                    break;
                }
            };
            for (meta, buffer) in self.meta[..messages].iter().zip(self.buffers.iter()) {
                // Without GRO the stride is the length: one datagram.
                for datagram in buffer[..meta.len].chunks(meta.stride.max(1)) {
                    each(meta.addr, datagram);
                    read += 1;
                }
            }
        }
        read
    }
}

/// Whether the kernel took UDP GSO sends so far; cleared for good by the first one it
/// refuses (a kernel or path without `UDP_SEGMENT`), after which every datagram goes
/// on its own.
static GSO: AtomicBool = AtomicBool::new(true);

/// Most datagrams in one GSO send (the kernel's `UDP_MAX_SEGMENTS` is 64 or more) and
/// most bytes (one UDP datagram's worth before segmentation).
const GSO_SEGMENTS: usize = 64;
const GSO_BYTES: usize = 60_000;

/// Sends every datagram of `queue` (and empties it), `BATCH` messages per syscall,
/// waiting when the socket's buffer is full. A datagram the kernel refuses (an
/// unreachable address) is dropped like a lost packet; the rest still go.
pub async fn send_all(socket: &UdpSocket, queue: &mut Vec<(SocketAddr, Vec<u8>)>) {
    let mut sent = 0;
    while sent < queue.len() {
        let rest = &queue[sent..];
        let gso = GSO.load(Ordering::Relaxed);
        match socket.try_io(Interest::WRITABLE, || send_batch(socket, rest, gso)) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.writable().await {
                    tracing::debug!(error = %e, "media socket not writable");
                    break;
                }
            }
            Err(e) if gso && gso_refused(&e) && segments(rest) > 1 => {
                tracing::info!(error = %e, "UDP GSO refused: sending datagram by datagram");
                GSO.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::debug!(to = %rest[0].0, error = %e, "media send failed");
                sent += 1;
            }
        }
    }
    queue.clear();
}

/// What the kernel answers a GSO send it cannot do: EIO (no checksum offload on the
/// way), EINVAL (segments that do not fit the path), ENOPROTOOPT (no `UDP_SEGMENT`).
fn gso_refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT)
    )
}

/// How many datagrams at the head of `queue` one GSO send can carry: the following
/// ones to the same address and of the same size as the first, and one shorter last.
/// This is a frame's packets to one subscriber: the packetizer cuts them equal.
fn segments(queue: &[(SocketAddr, Vec<u8>)]) -> usize {
    let Some((to, first)) = queue.first() else {
        return 0;
    };
    let size = first.len();
    let (mut n, mut bytes) = (1, size);
    for (addr, data) in &queue[1..] {
        if addr != to || data.len() > size || n == GSO_SEGMENTS || bytes + data.len() > GSO_BYTES {
            break;
        }
        n += 1;
        bytes += data.len();
        if data.len() < size {
            break;
        }
    }
    n
}

/// One `sendmmsg` of up to `BATCH` messages, each a datagram or (with `gso`) a run of
/// `segments` that the kernel cuts back into datagrams: one pass through the stack
/// for the run instead of one per datagram. Returns how many datagrams of `queue`
/// (never empty) the kernel took, at least one.
fn send_batch(socket: &UdpSocket, queue: &[(SocketAddr, Vec<u8>)], gso: bool) -> io::Result<usize> {
    // (first datagram, datagrams) of each message.
    let mut runs = Vec::with_capacity(BATCH);
    let mut at = 0;
    while at < queue.len() && runs.len() < BATCH {
        let n = if gso { segments(&queue[at..]) } else { 1 };
        runs.push((at, n));
        at += n;
    }
    let datagrams = &queue[..at];
    let addrs: Vec<SockAddr> = runs
        .iter()
        .map(|&(first, _)| SockAddr::from(datagrams[first].0))
        .collect();
    let mut iovecs: Vec<libc::iovec> = datagrams
        .iter()
        .map(|(_, data)| libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        })
        .collect();
    // One control message per run: UDP_SEGMENT with the segment size (a u16). u64s
    // keep the buffer aligned as a cmsghdr must be.
    let mut controls = vec![[0u64; 4]; runs.len()];
    let mut headers: Vec<libc::mmsghdr> = runs
        .iter()
        .zip(&addrs)
        .zip(&mut controls)
        .map(|((&(first, n), addr), control)| {
            // SAFETY: msghdr is plain data; all-zero is its empty value.
            let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
            hdr.msg_name = addr.as_ptr() as *mut libc::c_void;
            hdr.msg_namelen = addr.len();
            hdr.msg_iov = iovecs[first..].as_mut_ptr();
            hdr.msg_iovlen = n;
            if n > 1 {
                set_segment_size(&mut hdr, control, datagrams[first].1.len() as u16);
            }
            libc::mmsghdr {
                msg_hdr: hdr,
                msg_len: 0,
            }
        })
        .collect();
    // SAFETY: every header points into `addrs`, `iovecs`, `controls` and `queue`,
    // which outlive the call; the kernel only reads them (and writes `msg_len`).
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
    // The kernel reports an error only when the first message fails.
    let messages = (sent as usize).max(1);
    Ok(runs[..messages].iter().map(|&(_, n)| n).sum())
}

/// Puts a `UDP_SEGMENT` control message with `size` into `control`, for `hdr`.
fn set_segment_size(hdr: &mut libc::msghdr, control: &mut [u64; 4], size: u16) {
    hdr.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: CMSG_SPACE of a u16 (24 bytes on 64-bit Linux) fits the 32-byte buffer,
    // so CMSG_FIRSTHDR is non-null and its data has room for the u16.
    unsafe {
        hdr.msg_controllen = libc::CMSG_SPACE(2) as _;
        let cmsg = libc::CMSG_FIRSTHDR(hdr);
        (*cmsg).cmsg_level = libc::SOL_UDP;
        (*cmsg).cmsg_type = libc::UDP_SEGMENT;
        (*cmsg).cmsg_len = libc::CMSG_LEN(2) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut u16, size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(items: &[(u16, usize)]) -> Vec<(SocketAddr, Vec<u8>)> {
        items
            .iter()
            .map(|&(port, len)| (SocketAddr::from(([127, 0, 0, 1], port)), vec![7; len]))
            .collect()
    }

    #[test]
    fn a_run_is_one_address_equal_sizes_and_one_shorter_last() {
        assert_eq!(
            segments(&queue(&[(1, 1200), (1, 1200), (1, 300), (1, 1200)])),
            3
        );
        assert_eq!(segments(&queue(&[(1, 1200), (2, 1200)])), 1);
        assert_eq!(
            segments(&queue(&[(1, 300), (1, 1200)])),
            1,
            "a longer one ends it"
        );
        assert_eq!(segments(&queue(&[(1, 1000); 70])), 60, "at most GSO_BYTES");
        assert_eq!(segments(&queue(&[(1, 100); 70])), GSO_SEGMENTS);
        assert_eq!(segments(&[]), 0);
    }

    #[tokio::test]
    async fn a_read_takes_what_has_arrived_in_order_with_each_sender_up_to_a_batch() {
        let server = UdpSocket::from_std(bind("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let to = server.local_addr().unwrap();
        let mut reader = Reader::new(&server).unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut sent = Vec::new();
        for i in 0..BATCH + 10 {
            let (from, len) = if i % 3 == 0 { (&b, 160) } else { (&a, 1200) };
            let data = vec![i as u8; len];
            from.send_to(&data, to).await.unwrap();
            sent.push((from.local_addr().unwrap(), data));
        }
        let mut got = Vec::new();
        server.readable().await.unwrap();
        let n = reader.read(&server, |from, d| got.push((from, d.to_vec())));
        assert_eq!(n, BATCH, "one read stops at a batch");
        while got.len() < sent.len() {
            server.readable().await.unwrap();
            reader.read(&server, |from, d| got.push((from, d.to_vec())));
        }
        assert_eq!(
            got, sent,
            "every datagram, whole, in order, with its sender"
        );
    }

    #[tokio::test]
    async fn every_datagram_arrives_whole_and_in_order_at_its_address() {
        let server = UdpSocket::from_std(bind("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (pa, pb) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        // A frame's run to `a`, an audio packet to `b`, another run to `a`.
        let mut sent: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
        for (to, len, n) in [(pa, 1200, 5), (pb, 160, 1), (pa, 1100, 3)] {
            for i in 0..n {
                let len = if i == n - 1 { len / 2 } else { len };
                sent.push((to, vec![sent.len() as u8; len]));
            }
        }
        let mut queue = sent.clone();
        send_all(&server, &mut queue).await;
        assert!(queue.is_empty());
        let mut buf = vec![0; 2048];
        for (to, data) in &sent {
            let sock = if *to == pa { &a } else { &b };
            let (n, from) = sock.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server.local_addr().unwrap());
            assert_eq!(&buf[..n], data.as_slice(), "each datagram as it was queued");
        }
    }
}
