#!/usr/bin/env bash
# The application's benchmark (abci-app/usaged/examples/finalize_bench.rs): blocks of 1,000-record
# SubmitBatch txs through CheckTx, FinalizeBlock and Commit on the durable store, against the same
# batches on bare cosmwasm-vm in the same run. Prints records/s per minute, FinalizeBlock, Commit
# and CheckTx percentiles, the ratio to the bare VM and the store's size per million records;
# draws finalize-bench.png into $CARGO_TARGET_DIR/bench.
# Usage: scripts/finalize-bench.sh [flags of finalize_bench], e.g.
#   scripts/finalize-bench.sh --minutes 10 --txs-per-block 5 --prefill 10000000 --state "$HOME/.cache/usagechain/bench-state" --bare-every 10
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/build-wasm.sh
cargo build -q --locked --profile native -p usaged --example finalize_bench
exec "$CARGO_TARGET_DIR/native/examples/finalize_bench" --out "$CARGO_TARGET_DIR/bench" "$@"
