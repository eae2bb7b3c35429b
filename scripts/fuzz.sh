#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through libfuzzer-sys) of the decoders a hostile peer reaches.
#
#   bash scripts/fuzz.sh [seconds_per_target] [target ...]
#
# Builds fuzz/ with SanitizerCoverage instrumentation on the stable toolchain (the flags
# cargo-fuzz passes, without needing nightly), then runs each target (all eight by default) for
# the given time (default 60 s) on a working copy of its committed seed corpus, and prints per
# target: runs, runs/s, coverage (edges), corpus size and crashes. New crash inputs are kept in
# fuzz/artifacts/<target>/; replay one with `fuzz/run <target> <file>`.
# Exit status: non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(tx_decode contract_execute payload_codec sample_decode ingest_body iso_pain001 iso_pain002 iso_camt054)
fi

host=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="$USAGECHAIN_CACHE/fuzz-target"
# What cargo-fuzz sets with `--sanitizer none`: coverage counters, the PC table and comparison
# tracing for libFuzzer, and `cfg(fuzzing)`. Applied to the target only (`--target`), not to
# build scripts.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"

echo "==> building fuzz targets (instrumented, $host)"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
(cd fuzz && cargo build --release --locked --target "$host" "${bins[@]}")
bin_dir="$CARGO_TARGET_DIR/$host/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '\n%-18s %12s %10s %8s %8s %8s\n' target runs runs/s edges corpus crashes
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "fuzz/artifacts/$t"
  cp fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null || true
  log="$work/$t.log"
  started=$(date +%s.%N)
  set +e
  "$bin_dir/$t" "$work/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=4096 -max_len=65536 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  status=$?
  set -e
  ended=$(date +%s.%N)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  runs=${runs:-0}
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(ls "$work/$t" | wc -l)
  crashes=$(ls "fuzz/artifacts/$t" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-' || true)
  rate=$(awk -v r="$runs" -v a="$started" -v b="$ended" 'BEGIN {printf "%.0f", r / (b - a)}')
  printf '%-18s %12s %10s %8s %8s %8s\n' "$t" "$runs" "$rate" "${edges:-?}" "$corpus" "$crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "   $t: exit $status; last lines of its log:" >&2
    tail -20 "$log" >&2
  fi
done
exit $failed
