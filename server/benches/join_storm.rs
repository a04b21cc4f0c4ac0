//! The signaling core's share of a join storm, without sockets: N logged-in
//! connections send one joinRoom each into the same room, one after another, through
//! the hub (core, output routing, serialization, the per-connection queues). Every
//! join costs O(members): the joiner's member list and one memberJoined per member.
//!
//!   cargo bench -p emedia-server --bench join_storm [-- JOINERS [ROUNDS]]
//!
//! Prints the median and fastest storm and the median time of the middle join, as a
//! line and as JSON. The end-to-end figure (real sockets, the generator on the same
//! cores) is `scripts/load.sh --release joins --clients 200`.

use emedia_server::auth::Keys;
use emedia_server::core::{Core, CoreConfig};
use emedia_server::hub::Hub;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let joiners: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(41);
    let mut storms = Vec::with_capacity(rounds);
    let mut middles = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (storm, middle) = storm(joiners);
        storms.push(storm);
        middles.push(middle);
    }
    storms.sort();
    middles.sort();
    let (median, fastest, middle) = (storms[rounds / 2], storms[0], middles[rounds / 2]);
    println!(
        "{joiners} joins, {rounds} rounds: storm median {median:.2?} (fastest {fastest:.2?}), \
         middle join median {middle:.2?}"
    );
    println!(
        "{{\"bench\":\"join_storm\",\"joiners\":{joiners},\"storm_ms_median\":{:.3},\
         \"storm_ms_fastest\":{:.3},\"middle_join_us\":{:.1}}}",
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        middle.as_secs_f64() * 1e6
    );
}

/// One storm into a fresh hub: its duration and the middle joiner's.
fn storm(joiners: usize) -> (Duration, Duration) {
    let keys = Keys::new("bench", b"join-storm-bench-secret-32-bytes");
    let config = CoreConfig {
        max_members: joiners + 1,
        ..CoreConfig::default()
    };
    let hub = Hub::new(Core::new(config, keys, 1), joiners + 1);
    let ip = IpAddr::from([127, 0, 0, 1]);
    let conns: Vec<_> = (0..joiners)
        .map(|i| {
            let (conn, rx) = hub.connect(ip).expect("under the per-address limit");
            let token = hub.mint_user_token(&format!("joiner-{i}"), 3600);
            let auth = format!(
                r#"{{"rid":1,"req":{{"auth":{{"token":"{token}","protocol":{}}}}}}}"#,
                emedia_protocol::PROTOCOL_VERSION
            );
            hub.text(conn, auth.into());
            (conn, rx)
        })
        .collect();
    let join = format!(
        r#"{{"rid":2,"req":{{"join_room":{{"roomName":"storm","config":{{"maxTalkerCount":{joiners}}}}}}}}}"#
    );
    let mut middle = Duration::ZERO;
    let began = Instant::now();
    for (i, (conn, _)) in conns.iter().enumerate() {
        let sent = Instant::now();
        hub.text(*conn, join.as_str().into());
        if i == joiners / 2 {
            middle = sent.elapsed();
        }
    }
    let storm = began.elapsed();
    // Every joiner got its login and join replies and heard of everyone after it.
    let frames: usize = conns
        .into_iter()
        .map(|(_, mut rx)| std::iter::from_fn(|| rx.try_recv().ok()).count())
        .sum();
    assert_eq!(frames, joiners * 2 + joiners * (joiners - 1) / 2);
    (storm, middle)
}
