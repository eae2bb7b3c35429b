#!/usr/bin/env bash
# The full-node benchmark on wasmd, the stock Go CosmWasm chain: the same usage-proof wasm
# (artifacts/usage_proof.wasm) and the same committee-signed 1,000-record batches as
# `usage-devtools full-node-bench` runs through usaged, broadcast over CometBFT RPC by
# scripts/chain_bench.py, on one validator with the consensus settings of our localnet
# (timeout_commit 1s, block max_gas -1, max_bytes 22020096, kv tx indexer).
#
#   bash scripts/wasmd-bench.sh [--batches B] [--terminals N] [--in-flight K] [--timeout S]
#                               [--gas-per-batch G] [--json FILE] [--bank-sends K]
#
# Steps: installs wasmd (once, under $USAGECHAIN_CACHE/tools/go/bin), makes a fresh validator
# home in a temporary folder, starts wasmd on loopback ports (RPC 36657, P2P 36656; gRPC and
# the REST API off), stores and instantiates usage_proof.wasm, registers and leases the
# terminals (100 messages a transaction), runs one batch alone to measure its gas, signs the
# other B batches offline and hands them to scripts/chain_bench.py. wasmd is stopped and the
# folder removed on exit (its log is kept when the run failed). State pruning "everything" (two
# versions kept, as usaged keeps). Stock wasmd runs its ABCI connections under one lock (the
# SDK's in-process client), so CheckTx waits while a block executes: a block holds the
# batches that were accepted between two blocks.
#
# --bank-sends K skips the contract and benchmarks K bank sends instead (a check of the chain
# and of the driver that needs neither the wasm nor the generator).
#
# Needs: Go (CGO, a C compiler), python3; builds artifacts/usage_proof.wasm and usage-devtools
# (native profile) first unless $USAGE_DEVTOOLS names a usage-devtools to use.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
source scripts/env.sh

# wasmd v0.61.x is the line with wasmvm v3 (CosmWasm 3.0) on Cosmos SDK 0.53 and CometBFT 0.38
# (our node runs CometBFT 0.38 too); v0.70 moves to CometBFT 0.39 / SDK 0.54.
WASMD_VERSION="v0.61.14"
# sonic (a JSON library the SDK pulls in) at the version wasmd pins does not build with Go 1.26;
# this one does, and supports Go 1.17 to 1.27.
SONIC_VERSION="v1.15.5"
SONIC_LOADER_VERSION="v0.5.3"
GOBIN_DIR="$USAGECHAIN_CACHE/tools/go/bin"
WASMD="$GOBIN_DIR/wasmd"
CHAIN_ID="wasmd-bench"
RPC_PORT="${WASMD_BENCH_RPC_PORT:-36657}"
P2P_PORT="${WASMD_BENCH_P2P_PORT:-36656}"
RPC="http://127.0.0.1:$RPC_PORT"
NODE="tcp://127.0.0.1:$RPC_PORT"
DENOM="stake"
# wasmd stops by itself after this long even if this script is killed.
MAX_SECONDS="${WASMD_BENCH_MAX_SECONDS:-5400}"
SETUP_MSGS_PER_TX=100

BATCHES=120
TERMINALS=1000
IN_FLIGHT=40
TIMEOUT=600
GAS_PER_BATCH=""
JSON_OUT=""
BANK_SENDS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --batches) BATCHES="$2"; shift 2 ;;
    --terminals) TERMINALS="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --gas-per-batch) GAS_PER_BATCH="$2"; shift 2 ;;
    --json) JSON_OUT="$(realpath -m "$2")"; shift 2 ;;
    --bank-sends) BANK_SENDS="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

WASM="$ROOT/artifacts/usage_proof.wasm"
DEVTOOLS="${USAGE_DEVTOOLS:-$CARGO_TARGET_DIR/native/usage-devtools}"
if [ -z "$BANK_SENDS" ] && [ -z "${USAGE_DEVTOOLS:-}" ]; then
  # The optimised contracts and the message generator, as full-node-bench.sh builds them.
  bash scripts/build-wasm.sh >/dev/null
  cargo build -q --locked --profile native -p usage-devtools --bins
fi
if [ -z "$BANK_SENDS" ]; then
  if [ ! -s "$WASM" ]; then
    echo "error: $WASM is missing or empty: build it with 'bash scripts/build-wasm.sh'" >&2
    exit 1
  fi
  if [ ! -x "$DEVTOOLS" ]; then
    echo "error: $DEVTOOLS is missing: build it with 'cargo build -p usage-devtools'" >&2
    exit 1
  fi
fi

# ---- 1. wasmd, installed once ----------------------------------------------------------------
install_wasmd() {
  command -v go >/dev/null || { echo "error: Go is not installed" >&2; exit 1; }
  local t0=$SECONDS src dir
  echo "==> installing wasmd $WASMD_VERSION into $GOBIN_DIR"
  # `go install github.com/CosmWasm/wasmd/cmd/wasmd@$WASMD_VERSION` refuses this module: its go.mod
  # holds replace directives. So its source comes from the module proxy and is built as the main
  # module, with wasmd's own build flags (Makefile: netgo, -checklinkname=0, version strings).
  src=$(go mod download -json "github.com/CosmWasm/wasmd@$WASMD_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  dir="$USAGECHAIN_CACHE/tools/go/src/wasmd-$WASMD_VERSION"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")" "$GOBIN_DIR"
  cp -r "$src" "$dir"
  chmod -R u+w "$dir"
  (
    cd "$dir"
    timeout 600 go get "github.com/bytedance/sonic@$SONIC_VERSION" "github.com/bytedance/sonic/loader@$SONIC_LOADER_VERSION"
    local v=${WASMD_VERSION#v}
    CGO_ENABLED=1 GOBIN="$GOBIN_DIR" timeout 3600 go install -mod=readonly -trimpath -tags netgo \
      -ldflags "-checklinkname=0 -X github.com/cosmos/cosmos-sdk/version.Name=wasm \
        -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd \
        -X github.com/cosmos/cosmos-sdk/version.Version=$v \
        -X github.com/CosmWasm/wasmd/app.Bech32Prefix=wasm \
        -X github.com/cosmos/cosmos-sdk/version.BuildTags=netgo" \
      ./cmd/wasmd
  )
  rm -rf "$dir"
  echo "    wasmd installed in $((SECONDS - t0)) s"
}
if [ "$("$WASMD" version 2>/dev/null || true)" != "${WASMD_VERSION#v}" ]; then
  install_wasmd
else
  echo "==> wasmd $WASMD_VERSION already installed"
fi
if [ "$("$WASMD" version 2>&1)" != "${WASMD_VERSION#v}" ]; then
  echo "error: $WASMD does not run:" >&2
  "$WASMD" version >&2 || true
  ldd "$WASMD" >&2 || true
  exit 1
fi
# libwasmvm is linked from the Go module cache (wasmvm ships it); the binary finds it by RUNPATH.
if ldd "$WASMD" | grep -q 'libwasmvm.*not found'; then
  echo "error: $WASMD cannot find libwasmvm (was the Go module cache removed?): reinstall with" >&2
  echo "       rm $WASMD && bash scripts/wasmd-bench.sh" >&2
  exit 1
fi
echo "==> wasmd $("$WASMD" version) ($WASMD), $(ldd "$WASMD" | awk '/libwasmvm/ {print $1 " from " $3}')"

for port in "$RPC_PORT" "$P2P_PORT"; do
  if python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
    echo "error: port $port is in use (another wasmd-bench running?); set WASMD_BENCH_RPC_PORT/WASMD_BENCH_P2P_PORT" >&2
    exit 1
  fi
done

# ---- 2. a fresh validator home -----------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmd-bench.XXXXXX")
WHOME="$WORK/home"
LOG="$WORK/wasmd.log"
WASMD_PID=""
OK=0
cleanup() {
  local rc=$?
  if [ -n "$WASMD_PID" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
    kill -TERM "$WASMD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$WASMD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$WASMD_PID" 2>/dev/null || true
    wait "$WASMD_PID" 2>/dev/null || true
  fi
  if [ "$OK" = 1 ]; then
    rm -rf "$WORK"
  else
    rm -rf "$WHOME" "$WORK/tx" "$WORK/msgs" "$WORK"/*.b64
    echo "wasmd-bench failed (exit $rc); wasmd's log and the drivers' logs are kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

w() { "$WASMD" "$@" --home "$WHOME"; }
echo "==> validator home in $WHOME"
w init bench --chain-id "$CHAIN_ID" >/dev/null 2>&1
w keys add admin --keyring-backend test --output json >/dev/null 2>&1
ADMIN=$(w keys show admin -a --keyring-backend test)
w genesis add-genesis-account admin "1000000000000000$DENOM" --keyring-backend test >/dev/null
w genesis gentx admin "1000000000$DENOM" --chain-id "$CHAIN_ID" --keyring-backend test >/dev/null 2>&1
w genesis collect-gentxs >/dev/null 2>&1

python3 - "$WHOME" "$RPC_PORT" "$P2P_PORT" "$NODE" <<'EOF'
import json, re, sys
home, rpc, p2p, node = sys.argv[1:]

def set_toml(path, edits):
    lines = open(path).read().split("\n")
    section = ""
    todo = dict(edits)
    for i, line in enumerate(lines):
        m = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*=", line)
        if m and (section, m.group(1)) in todo:
            lines[i] = f"{m.group(1)} = {todo.pop((section, m.group(1)))}"
    if todo:
        sys.exit(f"{path}: no {sorted(todo)}")
    open(path, "w").write("\n".join(lines))

set_toml(f"{home}/config/config.toml", {
    ("rpc", "laddr"): f'"tcp://127.0.0.1:{rpc}"',
    ("rpc", "pprof_laddr"): '""',
    ("p2p", "laddr"): f'"tcp://127.0.0.1:{p2p}"',
    ("p2p", "pex"): "false",
    ("p2p", "addr_book_strict"): "false",
    ("consensus", "timeout_commit"): '"1s"',
    ("tx_index", "indexer"): '"kv"',
    ("mempool", "size"): "5000",
    ("instrumentation", "prometheus"): "false",
})
set_toml(f"{home}/config/app.toml", {
    ("", "minimum-gas-prices"): '"0stake"',
    # Like usaged, which keeps two tree versions.
    ("", "pruning"): '"everything"',
    ("api", "enable"): "false",
    ("grpc", "enable"): "false",
    ("grpc-web", "enable"): "false",
    ("telemetry", "enabled"): "false",
})
set_toml(f"{home}/config/client.toml", {
    ("", "node"): f'"{node}"',
    ("", "keyring-backend"): '"test"',
})
path = f"{home}/config/genesis.json"
g = json.load(open(path))
block = g["consensus"]["params"]["block"]
block["max_gas"] = "-1"
block["max_bytes"] = "22020096"
wasm = g["app_state"]["wasm"]["params"]
wasm["code_upload_access"] = {"permission": "Everybody", "addresses": []}
wasm["instantiate_default_permission"] = "Everybody"
json.dump(g, open(path, "w"), indent=1)
EOF
w genesis validate-genesis >/dev/null

# ---- 3. wasmd running --------------------------------------------------------------------------
echo "==> starting wasmd (RPC $RPC, log $LOG)"
timeout --kill-after=10 "$MAX_SECONDS" "$WASMD" start --home "$WHOME" --log_no_color >"$LOG" 2>&1 &
WASMD_PID=$!
height() {
  python3 - "$RPC" <<'EOF' 2>/dev/null || echo 0
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/status", timeout=2) as r:
    print(json.load(r)["result"]["sync_info"]["latest_block_height"])
EOF
}
for _ in $(seq 1 120); do
  kill -0 "$WASMD_PID" 2>/dev/null || { tail -20 "$LOG" >&2; echo "error: wasmd exited" >&2; exit 1; }
  [ "$(height)" -ge 2 ] && break
  sleep 0.5
done
[ "$(height)" -ge 2 ] || { tail -20 "$LOG" >&2; echo "error: wasmd made no block in 60 s" >&2; exit 1; }
echo "    height $(height)"

ACCOUNT=$(w q auth account "$ADMIN" --node "$NODE" -o json | python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        # Amino JSON leaves out a zero account number.
        if "address" in o and ("sequence" in o or "account_number" in o):
            return o
        for v in o.values():
            r = find(v)
            if r: return r
find_ = find(json.load(sys.stdin)); print(find_.get("account_number", "0"), find_.get("sequence", "0"))')
ACCOUNT_NUMBER=${ACCOUNT% *}
SEQUENCE=${ACCOUNT#* }
echo "    admin $ADMIN (account $ACCOUNT_NUMBER, sequence $SEQUENCE)"

TXDIR="$WORK/tx"
MSGDIR="$WORK/msgs"
mkdir -p "$TXDIR" "$MSGDIR"

# unsigned_txs KIND OUT_PREFIX GAS [ARGS]: writes OUT_PREFIX.NNNNN.json, unsigned transactions
# (the --generate-only shape) built from messages read from files, never from the command line.
unsigned_txs() {
  python3 - "$@" <<'EOF'
import json, sys
kind, prefix, gas, sender = sys.argv[1:5]
rest = sys.argv[5:]

def tx(msgs):
    return {
        "body": {"messages": msgs, "memo": "", "timeout_height": "0", "unordered": False,
                 "timeout_timestamp": None, "extension_options": [],
                 "non_critical_extension_options": []},
        "auth_info": {"signer_infos": [], "fee": {"amount": [], "gas_limit": str(gas),
                      "payer": "", "granter": ""}, "tip": None},
        "signatures": [],
    }

def execute(contract, msg):
    return {"@type": "/cosmwasm.wasm.v1.MsgExecuteContract", "sender": sender,
            "contract": contract, "msg": msg, "funds": []}

def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]

txs = []
if kind == "instantiate":
    code_id, init = rest
    txs.append(tx([{"@type": "/cosmwasm.wasm.v1.MsgInstantiateContract", "sender": sender,
                    "admin": sender, "code_id": code_id, "label": "usage-proof-bench",
                    "msg": json.load(open(init)), "funds": []}]))
elif kind == "execute":
    # execute CONTRACT FILE PER_TX FIRST LAST: lines FIRST..LAST-1 of FILE (LAST -1: to the end)
    contract, path, per_tx, first, last = rest
    msgs = lines(path)
    msgs = msgs[int(first):] if int(last) < 0 else msgs[int(first):int(last)]
    per_tx = int(per_tx)
    for i in range(0, len(msgs), per_tx):
        txs.append(tx([execute(contract, m) for m in msgs[i:i + per_tx]]))
elif kind == "bank":
    (count,) = rest
    for i in range(int(count)):
        txs.append(tx([{"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": sender,
                        "to_address": sender, "amount": [{"denom": "stake", "amount": "1"}]}]))
else:
    sys.exit(f"unknown kind {kind}")
for i, t in enumerate(txs):
    with open(f"{prefix}.{i:05d}.json", "w") as f:
        json.dump(t, f)
print(len(txs))
EOF
}

# sign_all OUT_PREFIX TXS_FILE: signs OUT_PREFIX.*.json offline at consecutive sequences from
# $SEQUENCE (advanced) and writes one base64 transaction a line to TXS_FILE.
sign_all() {
  local prefix=$1 out=$2 f
  : >"$out"
  for f in "$prefix".*.json; do
    w tx sign "$f" --offline --account-number "$ACCOUNT_NUMBER" --sequence "$SEQUENCE" \
      --chain-id "$CHAIN_ID" --keyring-backend test --from admin --output-document "$f.signed"
    w tx encode "$f.signed" >>"$out"
    rm -f "$f" "$f.signed"
    SEQUENCE=$((SEQUENCE + 1))
  done
}

# run_txs NAME TXS_FILE RECORDS_PER_TX TIMEOUT [driver args]: broadcasts and waits for them all.
run_txs() {
  local name=$1 file=$2 rpt=$3 limit=$4
  shift 4
  if ! python3 "$ROOT/scripts/chain_bench.py" --rpc "$RPC" --txs "$file" --records-per-tx "$rpt" \
      --timeout "$limit" --json "$WORK/$name.json" "$@" >"$WORK/$name.log" 2>&1; then
    tail -30 "$WORK/$name.log" >&2
    echo "error: $name failed (log $WORK/$name.log)" >&2
    exit 1
  fi
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$@"; }

mb() { du -sb "$1" 2>/dev/null | awk '{printf "%.1f MB", $1 / 1e6}'; }
store_size() {
  echo "data $(mb "$WHOME/data") (application.db $(mb "$WHOME/data/application.db"), blockstore.db $(mb "$WHOME/data/blockstore.db"), tx_index.db $(mb "$WHOME/data/tx_index.db")), wasm $(mb "$WHOME/wasm")"
}

if [ -n "$BANK_SENDS" ]; then
  echo "==> $BANK_SENDS bank sends (signed offline)"
  n=$(unsigned_txs bank "$TXDIR/bank" 200000 "$ADMIN" "$BANK_SENDS")
  sign_all "$TXDIR/bank" "$WORK/bank.b64"
  echo "    $n signed; broadcasting"
  python3 "$ROOT/scripts/chain_bench.py" --rpc "$RPC" --txs "$WORK/bank.b64" --records-per-tx 1 \
    --in-flight "$IN_FLIGHT" --timeout "$TIMEOUT" ${JSON_OUT:+--json "$JSON_OUT"}
  echo "==> wasmd $("$WASMD" version), store on disk: $(store_size)"
  OK=1
  exit 0
fi

# ---- 4. the contract ---------------------------------------------------------------------------
echo "==> storing $WASM ($(stat -c %s "$WASM") bytes)"
w tx wasm store "$WASM" --from admin --keyring-backend test --chain-id "$CHAIN_ID" \
  --gas 100000000 --generate-only >"$TXDIR/store.00000.json"
sign_all "$TXDIR/store" "$WORK/store.b64"
run_txs store "$WORK/store.b64" 0 120
CODE_ID=$(w q wasm list-code --node "$NODE" -o json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["code_infos"][-1]["code_id"])')
echo "    code id $CODE_ID, gas $(json_field "$WORK/store.json" mean_gas_per_tx)"

NOW=$(date +%s)
# init.json does not depend on the contract's address: a first run with a placeholder.
generate() {
  "$DEVTOOLS" bench-msgs --chain-id "$CHAIN_ID" --admin "$ADMIN" --now "$NOW" "$@" \
    >"$WORK/generate.log" 2>&1 || { cat "$WORK/generate.log" >&2; exit 1; }
}
generate --contract "-" --terminals 1 --batches 1 --out "$MSGDIR/pre"
unsigned_txs instantiate "$TXDIR/inst" 100000000 "$ADMIN" "$CODE_ID" "$MSGDIR/pre/init.json" >/dev/null
sign_all "$TXDIR/inst" "$WORK/inst.b64"
run_txs instantiate "$WORK/inst.b64" 0 120
C1=$(w q wasm list-contract-by-code "$CODE_ID" --node "$NODE" -o json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["contracts"][0])')
echo "==> C1 instantiated at $C1 (gas $(json_field "$WORK/instantiate.json" mean_gas_per_tx))"

# ---- 5. the benchmark's messages, the terminals registered and leased --------------------------
# One batch more than asked: the first runs alone to measure a batch's gas.
t0=$SECONDS
generate --contract "$C1" --terminals "$TERMINALS" --batches "$((BATCHES + 1))" --out "$MSGDIR/bench"
echo "==> messages generated in $((SECONDS - t0)) s: $(wc -l <"$MSGDIR/bench/setup.jsonl") set-up," \
  "$(wc -l <"$MSGDIR/bench/batches.jsonl") batches ($(stat -c %s "$MSGDIR/bench/batches.jsonl") bytes)"
n=$(unsigned_txs execute "$TXDIR/setup" 2000000000 "$ADMIN" "$C1" "$MSGDIR/bench/setup.jsonl" \
  "$SETUP_MSGS_PER_TX" 0 -1)
t0=$SECONDS
sign_all "$TXDIR/setup" "$WORK/setup.b64"
run_txs setup "$WORK/setup.b64" 0 600 --in-flight 60
echo "    $TERMINALS terminals registered and leased in $n transactions ($((SECONDS - t0)) s)," \
  "gas per transaction $(json_field "$WORK/setup.json" mean_gas_per_tx)"

# ---- 6. one batch alone, then the benchmark ----------------------------------------------------
unsigned_txs execute "$TXDIR/probe" 2000000000 "$ADMIN" "$C1" "$MSGDIR/bench/batches.jsonl" 1 0 1 >/dev/null
sign_all "$TXDIR/probe" "$WORK/probe.b64"
run_txs probe "$WORK/probe.b64" 1000 120
PROBE_GAS=$(json_field "$WORK/probe.json" mean_gas_per_tx)
if [ -z "$GAS_PER_BATCH" ]; then
  GAS_PER_BATCH=$((PROBE_GAS * 2))
fi
echo "==> one batch alone used $PROBE_GAS gas; the batches' gas limit is $GAS_PER_BATCH"

t0=$SECONDS
n=$(unsigned_txs execute "$TXDIR/batch" "$GAS_PER_BATCH" "$ADMIN" "$C1" "$MSGDIR/bench/batches.jsonl" 1 1 -1)
sign_all "$TXDIR/batch" "$WORK/batches.b64"
echo "    $n batch transactions signed in $((SECONDS - t0)) s ($(stat -c %s "$WORK/batches.b64") bytes of base64)"

echo "==> broadcasting $n batches of 1,000 records to wasmd"
python3 "$ROOT/scripts/chain_bench.py" --rpc "$RPC" --txs "$WORK/batches.b64" --records-per-tx 1000 \
  --in-flight "$IN_FLIGHT" --timeout "$TIMEOUT" ${JSON_OUT:+--json "$JSON_OUT"} && rc=0 || rc=$?
echo "==> wasmd $("$WASMD" version) ($WASMD_VERSION, wasmvm v3, Cosmos SDK 0.53, CometBFT 0.38)," \
  "$TERMINALS terminals, batch gas $PROBE_GAS"
echo "    store on disk: $(store_size)"
if [ "$rc" != 0 ]; then
  echo "error: the benchmark did not commit every batch" >&2
  exit "$rc"
fi
OK=1
