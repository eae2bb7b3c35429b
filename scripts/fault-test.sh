#!/usr/bin/env bash
# The fault test: four validators (each CometBFT + usaged) under the committee's load; every 30 s
# one is killed (kill -9), paused (SIGSTOP) or cut off (its P2P traffic dropped) for 10 s, then
# the last one rejoins from an empty home. Prints blocks, gaps, catch-up times and the windows
# offered and proven; exits 1 if anything was lost, doubled or stalled.
# Usage: scripts/fault-test.sh [minutes=10] [terminals=100]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/build-wasm.sh
cargo build -q --workspace --bins --locked
"$CARGO_TARGET_DIR/debug/usage-devtools" faults --minutes "${1:-10}" --terminals "${2:-100}" \
  --artifacts artifacts --json "$CARGO_TARGET_DIR/fault-test.json"
