//! The socket path alone: what sending a 1 → N fan-out's datagrams costs the sending
//! thread on this machine, with no SFU in front. Every 33 ms the sender sends a
//! 1.5 Mbit/s video frame (6 datagrams of 1,250 bytes) to each of N receivers, and
//! every 20 ms a 160-byte audio datagram, through the SFU's own socket code
//! (`sfu::socket`: `sendmmsg`, UDP GSO); the receivers are tasks on another runtime
//! reading with UDP GRO, as the load generator's are. On loopback the kernel delivers each datagram to its
//! receiver inside the sender's call, so the sender's CPU per datagram here is the floor
//! under `scripts/load.sh --release media --subscribers N`'s server CPU per forwarded
//! packet; `sfu_fanout` times the SFU's work on top of it.
//!
//!   cargo bench -p emedia-server --bench udp_floor [-- RECEIVERS [SECONDS]]

use emedia_server::sfu::socket;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const VIDEO_DATAGRAMS: usize = 6;
const VIDEO_BYTES: usize = 1_250;
const AUDIO_BYTES: usize = 160;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let receivers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let received = Arc::new(AtomicU64::new(0));
    let addrs: Vec<SocketAddr> = (0..receivers)
        .map(|_| {
            let socket = runtime
                .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
                .expect("a receiver");
            let addr = socket.local_addr().expect("an address");
            let received = received.clone();
            let udp = quinn_udp::UdpSocketState::new((&socket).into()).expect("a receiver");
            runtime.spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                while socket.readable().await.is_ok() {
                    let mut meta = [quinn_udp::RecvMeta::default()];
                    let read = socket.try_io(tokio::io::Interest::READABLE, || {
                        let mut bufs = [std::io::IoSliceMut::new(&mut buf)];
                        udp.recv((&socket).into(), &mut bufs, &mut meta)
                    });
                    if read.is_ok() {
                        // A GRO read holds a run of datagrams `stride` bytes apart.
                        let n = meta[0].len.div_ceil(meta[0].stride.max(1));
                        received.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
            });
            addr
        })
        .collect();

    let sender = std::thread::spawn(move || send(&addrs, Duration::from_secs(secs)));
    let (sent, cpu) = sender.join().expect("the sender");
    std::thread::sleep(Duration::from_millis(200));
    let got = received.load(Ordering::Relaxed);
    let per = cpu.as_secs_f64() * 1e6 / sent.max(1) as f64;
    println!(
        "1 → {receivers}, {secs} s: {sent} datagrams sent, {got} received, sender CPU \
         {per:.2} µs per datagram"
    );
    println!(
        "{{\"bench\":\"udp_floor\",\"receivers\":{receivers},\"sent\":{sent},\"received\":{got},\
         \"sender_us_per_datagram\":{per:.3}}}"
    );
}

/// Sends the fan-out for `run`; returns the datagrams sent and this thread's CPU time.
fn send(to: &[SocketAddr], run: Duration) -> (u64, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let std_socket = socket::bind("127.0.0.1:0".parse().expect("an address")).expect("bind");
        let socket = tokio::net::UdpSocket::from_std(std_socket).expect("a socket");
        let (video, audio) = (vec![0x5a; VIDEO_BYTES], vec![0xfc; AUDIO_BYTES]);
        let mut queue = Vec::new();
        let (mut sent, mut frame) = (0u64, 0u64);
        let started = Instant::now();
        let cpu_before = thread_cpu();
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        while started.elapsed() < run {
            tick.tick().await;
            let elapsed = started.elapsed().as_millis() as u64;
            // Video at 30 frames a second, audio every 20 ms, on a 10 ms tick.
            let video_due = elapsed * 30 / 1000 >= frame;
            let audio_due = (elapsed / 10) % 2 == 0;
            for addr in to {
                if video_due {
                    queue.extend((0..VIDEO_DATAGRAMS).map(|_| (*addr, video.clone())));
                }
                if audio_due {
                    queue.push((*addr, audio.clone()));
                }
            }
            frame += u64::from(video_due);
            sent += queue.len() as u64;
            socket::send_all(&socket, &mut queue).await;
        }
        (sent, thread_cpu() - cpu_before)
    })
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}
