#!/usr/bin/env bash
# The fleet benchmark (aggregator/service/examples/fleet_bench.rs): a one-validator localnet, four
# aggregators and a simulated fleet; prints records/s proven and window-close -> block latency.
# Usage: scripts/fleet-bench.sh [terminals=1000] [seconds=120] [interval_ms=1000] [settle_ms=500]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/build-wasm.sh
cargo build -q --locked --profile native -p usaged -p usage-aggregator -p usage-attestor
AGGREGATOR_LOG="${AGGREGATOR_LOG:-warn}" cargo run -q --locked --profile native -p usage-aggregator --example fleet_bench -- "${1:-1000}" "${2:-120}" "${3:-1000}" "${4:-500}"
