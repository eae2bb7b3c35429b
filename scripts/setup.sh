#!/usr/bin/env bash
# Installs what building and testing need, idempotently: the pinned Rust toolchain with the
# wasm32 target, and wasm-opt from the npm package `binaryen`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "rust toolchain (rust-toolchain.toml) with wasm32-unknown-unknown"
if ! command -v rustup >/dev/null; then
  echo "rustup is required (https://rustup.rs)" >&2
  exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy --target wasm32-unknown-unknown >/dev/null
rustup target list --installed --toolchain "$toolchain" | grep -q wasm32-unknown-unknown
echo "rust $toolchain ok"

step "wasm-opt (npm binaryen@$BINARYEN_VERSION)"
if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  mkdir -p "$USAGECHAIN_TOOLS"
  npm install --prefix "$USAGECHAIN_TOOLS" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi
wasm-opt --version

step "CometBFT $COMETBFT_VERSION (go install)"
if [ "$(cometbft version 2>/dev/null)" != "${COMETBFT_VERSION#v}" ]; then
  go install "github.com/cometbft/cometbft/cmd/cometbft@$COMETBFT_VERSION"
fi
echo "cometbft $(cometbft version)"

step "CosmJS for the wallet test (npm ci in tests/wallet)"
if [ ! -d tests/wallet/node_modules/@cosmjs/cosmwasm-stargate ] || [ tests/wallet/package-lock.json -nt tests/wallet/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/wallet --no-audit --no-fund --loglevel=error
fi
echo "cosmjs $(node -p 'require("./tests/wallet/node_modules/@cosmjs/cosmwasm-stargate/package.json").version')"
