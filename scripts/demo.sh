#!/usr/bin/env bash
# The main job. First the five contracts' optimised wasm run every flow of the design in the real
# cosmwasm-vm (usage batch -> first proofs -> period proof -> settlement; deposit; withdrawal;
# committee rotation). Then the live system on the embedded localnet defaults: a one-validator
# localnet (CometBFT + usaged), four aggregators (threshold 3), a simulated fleet of terminals
# registered on C1 and leased by a tenant account (the key of the committee tests' first tenant,
# 32 bytes 0x7a); it prints batches and first proofs as they land and the second proofs of the
# first closed period, then stops everything (the localnet home stays for inspection;
# `bash scripts/localnet.sh clean` removes it).
# The live part is `usage-devtools demo` (crates/devtools/src/demo.rs).
# Environment: DEMO_TERMINALS (20), DEMO_SECONDS (150).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup.sh
bash scripts/build-wasm.sh
printf '\n==> whole flow in cosmwasm-vm\n'
cargo run -q --locked -p usage-wasm-vm-tests --bin usage-vm-demo

printf '\n==> the live system: localnet, four aggregators, a simulated fleet\n'
cargo build -q --locked -p usaged -p usage-aggregator -p usage-attestor -p usage-devtools
HOME_DIR="${USAGECHAIN_LOCALNET:-$USAGECHAIN_CACHE/localnet}"
bash scripts/localnet.sh clean > /dev/null
"$CARGO_TARGET_DIR/debug/usage-devtools" demo --home "$HOME_DIR" \
  --terminals "${DEMO_TERMINALS:-20}" --seconds "${DEMO_SECONDS:-150}"
