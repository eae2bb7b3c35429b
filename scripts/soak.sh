#!/usr/bin/env bash
# The soak: a localnet (validators, the committee, the bank side, a simulated fleet) under load for
# hours; prints every process's resident memory each minute, then each one's growth since the
# warm-up, and draws soak-memory.png into $CARGO_TARGET_DIR/bench. Exits 1 if a process grew more
# than 20 %.
# Usage: scripts/soak.sh [--hours 2] [--terminals 100] [--validators 1] [other usage-devtools soak flags]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/build-wasm.sh
cargo build -q --locked --profile native --bins
exec "$CARGO_TARGET_DIR/native/usage-devtools" soak --artifacts artifacts \
  --out "$CARGO_TARGET_DIR/bench" --json "$CARGO_TARGET_DIR/bench/soak.json" "$@"
