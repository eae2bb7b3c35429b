#!/usr/bin/env bash
# The full-node benchmark on usaged: validators (CometBFT + usaged, nothing else) on loopback, a
# usage-proof contract of the benchmark's own, 1,000 terminals registered and leased, then every
# pre-signed 1,000-record batch broadcast over RPC by scripts/chain_bench.py, which prints the
# records committed per second. The same messages run through wasmd with scripts/wasmd-bench.sh.
#
#   bash scripts/full-node-bench.sh [--validators V] [--batches B] [--terminals N]
#                                   [--max-block-gas G] [--gas-per-batch G] [-- DRIVER ARGS]
#
# --max-block-gas 1000000000 lifts the chain's block gas limit (90 M by default) to compare with
# wasmd, whose default has none.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/build-wasm.sh >/dev/null
cargo build -q --locked --profile native -p usaged -p usage-devtools --bins
exec "$CARGO_TARGET_DIR/native/usage-devtools" full-node-bench --artifacts artifacts "$@"
