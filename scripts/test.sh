#!/usr/bin/env bash
# The test command: installs what it needs, then formatting, lints, the optimised wasm build,
# the schema drift check and every test of the workspace (contracts, cw-multi-test scenarios,
# property tests, the optimised wasm in cosmwasm-vm).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "wasm build + wasm-opt"
bash scripts/build-wasm.sh

step "schema drift check"
cargo run -q --locked -p usage-schema -- --check

step "binaries the localnet tests run (usaged, usage-aggregator, usage-attestor, usage)"
# `cargo test` builds a package's binaries only for that package's own integration tests; the
# committee tests also start the attestor and the node, so every binary is built first.
cargo build -q --workspace --bins --locked

step "fuzz targets, ${FUZZ_SECONDS:-10} s each from their seed corpora (longer: bash scripts/fuzz.sh 600)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

step "cargo test: every test binary, ${TEST_JOBS:-2} at a time (scripts/run-tests.py), then the doc tests"
# The localnet tests mostly wait on real windows and periods: side by side they take half the
# time. The whole output is kept in last-test.log.
python3 scripts/run-tests.py --jobs "${TEST_JOBS:-2}" --log "$CARGO_TARGET_DIR/last-test.log"
summary=$(grep -E '^test result:' "$CARGO_TARGET_DIR/last-test.log" |
  awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed", p, f}')
echo
echo "$summary"
