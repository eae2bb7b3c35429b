#!/usr/bin/env bash
# A one-validator localnet on loopback: `start` (installs and builds what it needs, initialises
# the home on first use, starts usaged and CometBFT, waits for the first blocks), `stop`,
# `status`, `clean` (stop and delete the home). Home: $USAGECHAIN_LOCALNET or
# ~/.cache/usagechain/localnet.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

HOME_DIR="${USAGECHAIN_LOCALNET:-$USAGECHAIN_CACHE/localnet}"
RPC="http://127.0.0.1:${RPC_PORT:-26657}"

# The node's latest height through the `usage` command line (0 when the node does not answer).
height() {
  local h
  h=$("$CARGO_TARGET_DIR/debug/usage" --rpc "$RPC" status 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p')
  echo "${h:-0}"
}

stop() {
  for p in cometbft usaged; do
    if [ -f "$HOME_DIR/$p.pid" ]; then
      kill "$(cat "$HOME_DIR/$p.pid")" 2>/dev/null || true
      rm -f "$HOME_DIR/$p.pid"
    fi
  done
}

case "${1:-start}" in
  start)
    bash scripts/setup.sh
    bash scripts/build-wasm.sh
    cargo build --locked -p usaged -p usage-devtools -p usage
    USAGED="$CARGO_TARGET_DIR/debug/usaged"
    if [ ! -f "$HOME_DIR/localnet.json" ]; then
      "$CARGO_TARGET_DIR/debug/usage-devtools" localnet init --home "$HOME_DIR" --artifacts artifacts > /dev/null
      echo "initialised $HOME_DIR"
    fi
    stop
    "$USAGED" start --home "$HOME_DIR" --abci "127.0.0.1:${ABCI_PORT:-26658}" > "$HOME_DIR/usaged.log" 2>&1 &
    echo $! > "$HOME_DIR/usaged.pid"
    sleep 1
    cometbft start --home "$HOME_DIR/cometbft" > "$HOME_DIR/cometbft.log" 2>&1 &
    echo $! > "$HOME_DIR/cometbft.pid"
    for _ in $(seq 1 60); do
      h=$(height)
      if [ "${h:-0}" -ge 2 ]; then
        echo "localnet up: height $h, RPC $RPC, home $HOME_DIR"
        exit 0
      fi
      sleep 1
    done
    echo "localnet did not produce blocks; see $HOME_DIR/*.log" >&2
    tail -20 "$HOME_DIR/usaged.log" "$HOME_DIR/cometbft.log" >&2
    stop
    exit 1
    ;;
  stop) stop; echo "stopped" ;;
  status)
    h=$(height)
    if [ "$h" -gt 0 ]; then echo "height $h, RPC $RPC, home $HOME_DIR"; else echo "localnet not running (no answer at $RPC)" >&2; exit 1; fi
    ;;
  clean) stop; rm -rf "$HOME_DIR"; echo "removed $HOME_DIR" ;;
  *) echo "usage: $0 start|stop|status|clean" >&2; exit 2 ;;
esac
