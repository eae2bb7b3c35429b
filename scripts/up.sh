#!/usr/bin/env bash
# The main job: installs what is missing (scripts/setup.sh), builds the contracts' wasm and every
# binary with the same command and profile as the test command (so nothing it built is built
# again), then `usage localnet up`: a localnet with one validator, four aggregators (threshold 3),
# the bank simulator, the relayer, the dashboard and a simulated fleet, all on 127.0.0.1 under
# ~/.usage/localnet, and the scenario of every flow on it with its summary. The localnet keeps
# running: `usage localnet status | logs <service> | down` (the binary is
# $CARGO_TARGET_DIR/debug/usage; the script prints its path).
# Arguments go to `usage localnet up` (`--terminals 20`, `--ports free`, `--no-scenario`,
# `--down-after`); a localnet already in ~/.usage/localnet is stopped and removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "setup: toolchain, wasm target, wasm-opt, CometBFT, xmllint, Chromium (skipped when present)"
bash scripts/setup.sh
step "the five contracts' wasm (rebuilt only when their sources changed)"
bash scripts/build-wasm.sh
step "every binary (cargo build --workspace --bins, as the test command builds them)"
cargo build --workspace --bins --locked

usage="$CARGO_TARGET_DIR/debug/usage"
if [ -d "${USAGE_HOME:-$HOME/.usage}/localnet" ]; then
  step "removing the previous localnet in ${USAGE_HOME:-$HOME/.usage}/localnet"
  "$usage" localnet down --purge
fi
step "usage localnet up $*"
"$usage" localnet up "$@"
printf '\nthe command line: %s (try `%s localnet status`, `%s --help`)\n' "$usage" "$usage" "$usage"
