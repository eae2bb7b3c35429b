#!/usr/bin/env bash
# The main job. First the five contracts' optimised wasm run every flow of the design in the real
# cosmwasm-vm (usage batch -> first proofs -> period proof -> settlement; deposit; withdrawal;
# committee rotation). Then the live system on the embedded localnet defaults: a one-validator
# localnet (CometBFT + usaged), four aggregators (threshold 3), a simulated fleet of terminals
# registered on C1 and leased by a tenant account (the key of the committee tests' first tenant,
# 32 bytes 0x7a); it prints batches and first proofs as they land and the second proofs of the
# first closed period, then stops everything (the localnet home stays for inspection;
# `bash scripts/localnet.sh clean` removes it).
# Environment: DEMO_TERMINALS (20), DEMO_SECONDS (150).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup.sh
bash scripts/build-wasm.sh
printf '\n==> whole flow in cosmwasm-vm\n'
cargo run -q --locked -p usage-wasm-vm-tests --bin usage-vm-demo

printf '\n==> the live system: localnet, four aggregators, a simulated fleet\n'
cargo build -q --locked -p usaged -p usage-aggregator -p usage-attestor -p usage
BIN="$CARGO_TARGET_DIR/debug"
HOME_DIR="${USAGECHAIN_LOCALNET:-$USAGECHAIN_CACHE/localnet}"
TERMINALS="${DEMO_TERMINALS:-20}"
SECONDS_TO_RUN="${DEMO_SECONDS:-150}"
bash scripts/localnet.sh clean > /dev/null
bash scripts/localnet.sh start

info() { python3 -c "import json,sys; d=json.load(open('$HOME_DIR/localnet.json')); print($1)"; }
CHAIN_ID=$(info 'd["chain_id"]')
C1=$(info 'dict(d["contracts"])["usage-proof"]')
C2=$(info 'dict(d["contracts"])["period-proof"]')
ADMIN=$(info 'd["admin_address"]')
ADMIN_SECRET=$(info 'd["admin_secret_hex"]')
USAGE=("$BIN/usage" --chain-id "$CHAIN_ID")
TENANT_SECRET=$(printf '7a%.0s' $(seq 32))
TENANT=$("${USAGE[@]}" address --secret "$TENANT_SECRET")

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash scripts/localnet.sh stop > /dev/null
}
trap cleanup EXIT

"$BIN/usage-aggregator" localnet --home "$HOME_DIR/committee" --rpc http://127.0.0.1:26657 \
  --chain-id "$CHAIN_ID" --usage-proof "$C1" --period-proof "$C2" > /dev/null
for i in 0 1 2 3; do
  "$BIN/usage-aggregator" run --config "$HOME_DIR/committee/aggregator-$i.json" \
    > "$HOME_DIR/aggregator-$i.log" 2>&1 &
  pids+=($!)
done
"${USAGE[@]}" register-fleet --c1 "$C1" --admin-secret "$ADMIN_SECRET" --provider "$ADMIN" \
  --terminals "$TERMINALS"
"${USAGE[@]}" open-leases --c1 "$C1" --tenant-secret "$TENANT_SECRET" --provider "$ADMIN" \
  --terminals "$TERMINALS"
"$BIN/usage-attestor" simulate --terminals "$TERMINALS" --tenant "$TENANT" \
  --aggregator http://127.0.0.1:7001 --aggregator http://127.0.0.1:7002 \
  --aggregator http://127.0.0.1:7003 --aggregator http://127.0.0.1:7004 \
  --data-dir "$HOME_DIR/fleet" --seconds "$SECONDS_TO_RUN" > "$HOME_DIR/fleet.log" 2>&1 &
pids+=($!)
echo "aggregators on 127.0.0.1:7001-7004 (metrics at /metrics), $TERMINALS simulated terminals leased by $TENANT; logs in $HOME_DIR"

started=$(date +%s)
first_period=""
while [ $(( $(date +%s) - started )) -lt "$SECONDS_TO_RUN" ]; do
  sleep 10
  batches=$("${USAGE[@]}" query --contract "$C1" --msg '{"config":{}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_batch_id"]-1)')
  proofs=$("${USAGE[@]}" query --contract "$C1" --msg '{"terminal_proofs":{"terminal_id":"sim-00000","from":0,"to":18446744073709551615,"limit":100}}' \
    | python3 -c 'import json,sys; p=json.load(sys.stdin)["proofs"]; print(len(p), p[0]["window_start"] if p else "")')
  set -- $proofs
  [ -z "$first_period" ] && [ -n "${2:-}" ] && first_period=$(( ($2 / 60 + 1) * 60 ))
  period=""
  if [ -n "$first_period" ]; then
    period=$("${USAGE[@]}" query --contract "$C2" \
      --msg "{\"period_proof\":{\"provider\":\"$ADMIN\",\"tenant\":\"$TENANT\",\"period_start\":$first_period}}" \
      | python3 -c 'import json,sys; p=json.load(sys.stdin)["proof"]; print("second proof of period %d: %s records, root %s" % (p["period_start"], p["totals"]["records"], p["root"][:16]) if p else "")')
  fi
  printf '%4ss  batches %s, first proofs of sim-00000 %s %s\n' "$(( $(date +%s) - started ))" "$batches" "${1:-0}" "$period"
done
curl -s http://127.0.0.1:7001/metrics | grep -E '^usage_aggregator_(samples_stored|batches_submitted|records_submitted|keeper_txs)_total' || true
