#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the nightly toolchain.
#
#   scripts/fuzz.sh            the long run: 1,000,000 inputs per target, then the corpus
#                              is minimized in place (commit fuzz/corpus/ afterwards)
#   scripts/fuzz.sh 20000      a short smoke run, e.g. for CI: reads the committed corpus
#                              but never changes it (new inputs go to a temporary folder)
#
# Any run below 1,000,000 inputs is a smoke run. Targets (fuzz/harness.rs):
# protocol_decode (wire messages decode and round-trip) and server_messages (frames
# from several connections into the sans-IO server core, with its invariants).
# A crash stops that target and saves the input under fuzz/artifacts/<target>/;
# `cargo test -p emedia-server --test fuzz_corpus` then replays it on stable.
#
# Environment: FUZZ_MAX_SECS caps each target's time (default 1800), FUZZ_CMIN=0
# skips the minimizing after a long run, FUZZ_FORK=N fuzzes in N processes that go
# on past crashes (each saved under fuzz/artifacts/) instead of stopping at the first.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

runs=${1:-1000000}
max_secs=${FUZZ_MAX_SECS:-1800}
long_run=$((runs >= 1000000))
targets=(protocol_decode server_messages)
fork=()
[[ -n "${FUZZ_FORK:-}" ]] && fork=(-fork="$FUZZ_FORK" -ignore_crashes=1)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzzing needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
# crates.io here can lag behind cargo-fuzz's lock file: retry without --locked.
command -v cargo-fuzz >/dev/null \
  || cargo install cargo-fuzz --locked \
  || cargo install cargo-fuzz

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
  echo "== fuzzing $target: $runs inputs, at most ${max_secs}s"
  mkdir -p "corpus/$target"
  if ((long_run)); then
    # New interesting inputs are added to the committed corpus.
    dirs=("corpus/$target")
  else
    # The first folder gets the new inputs: a throwaway one.
    mkdir -p "$scratch/$target"
    dirs=("$scratch/$target" "corpus/$target")
  fi
  if ! cargo +nightly fuzz run "$target" "${dirs[@]}" -- \
    -runs="$runs" -max_total_time="$max_secs" -max_len=4096 -timeout=10 \
    -dict=dict/protocol.dict -print_final_stats=1 "${fork[@]}"; then
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing failed for: ${failed[*]} (crashing inputs are under fuzz/artifacts/)" >&2
  exit 1
fi

if ((long_run)) && [[ "${FUZZ_CMIN:-1}" != 0 ]]; then
  for target in "${targets[@]}"; do
    echo "== minimizing the $target corpus"
    cargo +nightly fuzz cmin "$target" -- -max_len=4096
  done
  du -sh corpus/*
fi
