#!/usr/bin/env bash
# Builds the five contracts for wasm32 and runs the mandatory wasm-opt pass (it lowers the
# bulk-memory instructions that cosmwasm-vm refuses). Output: artifacts/<contract>.wasm and
# artifacts/checksums.txt. Fails if any contract is 800 KB or more.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

# The five contracts (package usagechain-<contract>, named as their cw2 name), and a small test
# contract (tests/probe-contract, package usage-probe) for the chain's tests.
CONTRACTS=(usage-proof period-proof settlement ledger withdrawal usage-probe)
MAX_BYTES=$((800 * 1024))
mkdir -p artifacts

args=()
for c in "${CONTRACTS[@]}"; do
  if [ "$c" = usage-probe ]; then args+=(-p "$c"); else args+=(-p "usagechain-$c"); fi
done
echo "==> cargo build --release --lib --target wasm32-unknown-unknown ${args[*]}"
RUSTFLAGS="" cargo build --release --lib --target wasm32-unknown-unknown --locked "${args[@]}"

: > artifacts/checksums.txt
for c in "${CONTRACTS[@]}"; do
  name=${c//-/_}
  in="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$name.wasm"
  out="artifacts/$name.wasm"
  # wasm-opt only when cargo produced a newer module than the optimised one.
  if [ ! -f "$out" ] || [ "$in" -nt "$out" ]; then
    wasm-opt -O3 --llvm-memory-copy-fill-lowering --strip-debug "$in" -o "$out"
  fi
  size=$(stat -c %s "$out")
  printf '%-16s %8d bytes (raw %d)\n' "$name.wasm" "$size" "$(stat -c %s "$in")"
  if [ "$size" -ge "$MAX_BYTES" ]; then
    echo "error: $out is $size bytes, the limit is $MAX_BYTES" >&2
    exit 1
  fi
  (cd artifacts && sha256sum "$name.wasm" >> checksums.txt)
done
