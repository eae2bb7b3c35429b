#!/usr/bin/env bash
# Installs what building and testing need, idempotently: the pinned Rust toolchain with the
# wasm32 target, wasm-opt from the npm package `binaryen`, xmllint for the ISO 20022 schema checks,
# CometBFT, the npm packages of the wallet and chain-files tests, headless Chromium driven by
# playwright-core for the dashboard's browser test, and cosmpy (in a Python venv) for the REST
# endpoint's client test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PLAYWRIGHT_CORE_VERSION="1.65.1"
COSMPY_VERSION="0.12.2"

step() { printf '\n==> %s\n' "$*"; }

step "rust toolchain (rust-toolchain.toml) with wasm32-unknown-unknown"
if ! command -v rustup >/dev/null; then
  echo "rustup is required (https://rustup.rs)" >&2
  exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy --target wasm32-unknown-unknown >/dev/null
rustup target list --installed --toolchain "$toolchain" | grep wasm32-unknown-unknown >/dev/null
echo "rust $toolchain ok"

step "wasm-opt (npm binaryen@$BINARYEN_VERSION)"
if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  mkdir -p "$USAGECHAIN_TOOLS"
  npm install --prefix "$USAGECHAIN_TOOLS" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi
wasm-opt --version

step "xmllint (Debian libxml2-utils) for the ISO 20022 schema checks"
if ! command -v xmllint >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "xmllint is missing and apt-get is unavailable: install libxml2 (xmllint) by hand" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null
fi
xmllint --version 2>&1 | sed -n 1p  # sed reads to the end: head would close the pipe early and pipefail would see SIGPIPE (141)

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

step "Ajv and Keplr's chain-info validator for the chain-files check (npm ci in tests/chain-files)"
if [ ! -d tests/chain-files/node_modules/@keplr-wallet/chain-validator ] || [ tests/chain-files/package-lock.json -nt tests/chain-files/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/chain-files --no-audit --no-fund --loglevel=error
fi
echo "ajv $(node -p 'require("./tests/chain-files/node_modules/ajv/package.json").version'), @keplr-wallet/chain-validator $(node -p 'require("./tests/chain-files/node_modules/@keplr-wallet/chain-validator/package.json").version')"

step "Chromium (Debian chromium) and playwright-core@$PLAYWRIGHT_CORE_VERSION for the dashboard's browser test"
if [ ! -x /usr/bin/chromium ]; then
  if ! command -v apt-get >/dev/null; then
    echo "/usr/bin/chromium is missing and apt-get is unavailable: install Chromium by hand" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ "$(node -p "require('$USAGECHAIN_TOOLS/node_modules/playwright-core/package.json').version" 2>/dev/null)" != "$PLAYWRIGHT_CORE_VERSION" ]; then
  mkdir -p "$USAGECHAIN_TOOLS"
  npm install --prefix "$USAGECHAIN_TOOLS" --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi
echo "$(/usr/bin/chromium --version 2>/dev/null | tail -1), playwright-core $(node -p "require('$USAGECHAIN_TOOLS/node_modules/playwright-core/package.json').version")"

step "cosmpy $COSMPY_VERSION (PyPI, in the venv $USAGECHAIN_TOOLS/py) for the REST endpoint's client test"
py="$USAGECHAIN_TOOLS/py/bin/python3"
cosmpy_version() { "$py" -c 'import importlib.metadata as m; print(m.version("cosmpy"))' 2>/dev/null || true; }
if [ "$(cosmpy_version)" != "$COSMPY_VERSION" ]; then
  mkdir -p "$USAGECHAIN_TOOLS"
  if [ ! -x "$py" ] && ! python3 -m venv "$USAGECHAIN_TOOLS/py" >/dev/null 2>&1; then
    # Debian's python3 creates venvs only with python3-venv (ensurepip).
    if ! command -v apt-get >/dev/null; then
      echo "python3 -m venv failed and apt-get is unavailable: install Python's venv module by hand" >&2
      exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$USAGECHAIN_TOOLS/py"
    python3 -m venv "$USAGECHAIN_TOOLS/py"
  fi
  "$py" -m pip install --quiet --disable-pip-version-check "cosmpy==$COSMPY_VERSION"
fi
echo "cosmpy $(cosmpy_version)"
