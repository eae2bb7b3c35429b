# Sourced by the scripts: where tools and build output live (outside the clone, reused across runs).
USAGECHAIN_CACHE="${USAGECHAIN_CACHE:-$HOME/.cache/usagechain}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$USAGECHAIN_CACHE/target}"
# A CI run builds once: incremental state would only fill the disk.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
USAGECHAIN_TOOLS="$USAGECHAIN_CACHE/tools"
BINARYEN_VERSION="132.0.0"
export PATH="$USAGECHAIN_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
COMETBFT_VERSION="v0.38.26"
if command -v go >/dev/null 2>&1; then
  export PATH="$(go env GOPATH)/bin:$PATH"
fi
