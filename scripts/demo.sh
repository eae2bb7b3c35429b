#!/usr/bin/env bash
# The main job for now: builds the five contracts, loads their optimised wasm into the real
# cosmwasm-vm and runs every flow of the design (usage batch -> first proofs -> period proof ->
# settlement; deposit; withdrawal; committee rotation) with a 4-member BLS committee, printing
# each step.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup.sh
bash scripts/build-wasm.sh
printf '\n==> whole flow in cosmwasm-vm\n'
cargo run -q --locked -p usage-wasm-vm-tests --bin usage-vm-demo
