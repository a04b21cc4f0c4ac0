//! Replays the fuzz corpus (fuzz/corpus/<target>/) and any saved crash inputs
//! (fuzz/artifacts/<target>/) through the fuzz targets' own code, so that every input
//! the fuzzer kept is a regression test on stable, without cargo-fuzz or nightly.
//! The long fuzzing run is `scripts/fuzz.sh`.

#[path = "../../fuzz/harness.rs"]
mod harness;

use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> (Vec<PathBuf>, usize) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = vec![];
    let mut corpus = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        let before = files.len();
        files.extend(entries.map(|e| e.expect("readable directory").path()));
        if dir == "corpus" {
            corpus = files.len() - before;
        }
    }
    files.sort();
    (files, corpus)
}

fn replay(target: &str, run: fn(&[u8])) {
    let (files, corpus) = inputs(target);
    // An empty or misplaced corpus would make this test pass without testing anything.
    assert!(corpus > 0, "no corpus for {target} under fuzz/corpus/");
    let failed: Vec<_> = files
        .iter()
        .filter(|file| {
            let data = fs::read(file).expect("readable corpus file");
            catch_unwind(|| run(&data)).is_err()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs fail {target} (each one's panic is printed above): {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn protocol_decode_corpus() {
    replay("protocol_decode", harness::protocol_decode);
}

#[test]
fn server_messages_corpus() {
    replay("server_messages", harness::server_messages);
}
