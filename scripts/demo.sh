#!/usr/bin/env bash
# Builds the SDK package and runs emedia-server with the demo at http://127.0.0.1:8080/
# (dev mode: no secret needed). Extra arguments go to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
scripts/build-pkg.sh
exec cargo run --release -p emedia-server -- --demo-dir demo --pkg-dir pkg "$@"
