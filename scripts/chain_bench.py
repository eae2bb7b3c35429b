#!/usr/bin/env python3
"""Broadcasts pre-signed transactions to any CometBFT chain and measures what it commits.

    python3 scripts/chain_bench.py --rpc http://127.0.0.1:26657 --txs FILE \
        --records-per-tx 1000 [--in-flight 40] [--timeout 600] [--json OUT]

FILE holds one base64-encoded signed transaction a line, in sequence order (one sender). They
are sent with `broadcast_tx_sync`, at most --in-flight of them broadcast but not yet seen in a
block. Blocks are followed from the height before the first broadcast: one line per block
(height, header time, transactions, those that succeeded, gas used, records committed), then
the totals: records committed, the span from the first block holding one of the transactions
to the last (by header time and by wall clock: when the node had the block's results), records
per second both ways (a header time is when the block before was committed, so over the
header-time span count the records of all the blocks but the last; over the wall-clock span, of
all but the first), and from the first broadcast to the last block, blocks, mean
transactions per block, the per-block records' p50/p90/max and the mean gas per transaction.

A CheckTx rejection stops the run (its code and log are printed); a failed transaction (code
!= 0) is reported with its log. The run stops by itself after --timeout seconds with the
figures so far. Exit code 0 only if every transaction was committed with code 0.

Standard library only.
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request

POLL_SECONDS = 0.05


class RpcError(Exception):
    pass


class Rpc:
    def __init__(self, url, timeout=30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def call(self, method, params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(
            self.url + "/", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            answer = json.loads(resp.read())
        if answer.get("error"):
            e = answer["error"]
            raise RpcError(f"{e.get('message', '')} {e.get('data', '')}".strip())
        return answer["result"]


def parse_time(text):
    """RFC 3339 with up to nanoseconds (CometBFT's header time) to Unix seconds."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, sep, rest = text.partition(".")
    frac = ""
    tz = ""
    if sep:
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, tz = rest[:i], rest[i:]
    else:
        for mark in ("+", "-"):
            j = main.rfind(mark)
            if j > 10:
                main, tz = main[:j], main[j:]
                break
    base = dt.datetime.fromisoformat(main + (tz or "+00:00"))
    return base.timestamp() + (int(frac) / 10 ** len(frac) if frac else 0.0)


def percentile(values, p):
    """Nearest rank."""
    if not values:
        return 0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[k]


class Run:
    def __init__(self, args, txs):
        self.args = args
        self.rpc = Rpc(args.rpc)
        self.txs = txs
        # A block lists its transactions in standard base64, as the file does: looked up as
        # text first, by hash if written otherwise.
        self.texts = {t: i for i, t in enumerate(txs)}
        self.hashes = {}
        for i, t in enumerate(txs):
            self.hashes[hashlib.sha256(base64.b64decode(t)).hexdigest().upper()] = i
        self.lock = threading.Condition()
        self.broadcast = 0  # transactions accepted by CheckTx
        self.seen = 0  # of ours, seen in a block
        self.fatal = None  # why the run stopped early
        self.stop = False
        self.first_broadcast_wall = None
        self.latencies = []  # seconds each accepted broadcast_tx_sync took

    # --- broadcasting -------------------------------------------------------------------

    def broadcaster(self, deadline):
        for i, tx in enumerate(self.txs):
            with self.lock:
                while not self.stop and self.broadcast - self.seen >= self.args.in_flight:
                    self.lock.wait(0.5)
                if self.stop:
                    return
            while True:
                if time.monotonic() > deadline:
                    return
                t0 = time.monotonic()
                try:
                    res = self.rpc.call("broadcast_tx_sync", {"tx": tx})
                    self.latencies.append(time.monotonic() - t0)
                except (RpcError, OSError, urllib.error.URLError) as e:
                    text = str(e)
                    if "mempool is full" in text:
                        # Not a rejection: the mempool makes room at the next block.
                        time.sleep(0.2)
                        continue
                    self.fail(f"broadcasting transaction #{i}: {text}")
                    return
                break
            code = int(res.get("code", 0))
            if code != 0:
                self.fail(
                    f"transaction #{i} refused by CheckTx: code {code} "
                    f"(codespace {res.get('codespace', '') or '-'}): {res.get('log', '')}"
                )
                return
            with self.lock:
                if self.first_broadcast_wall is None:
                    self.first_broadcast_wall = time.monotonic()
                self.broadcast += 1

    def fail(self, why):
        with self.lock:
            if self.fatal is None:
                self.fatal = why
            self.stop = True
            self.lock.notify_all()
        print(f"error: {why}", file=sys.stderr, flush=True)

    # --- following blocks ---------------------------------------------------------------

    def block_results(self, height, deadline):
        """The block's results, waiting until the node has them (None past the deadline)."""
        while time.monotonic() < deadline:
            try:
                return self.rpc.call("block_results", {"height": str(height)})
            except RpcError:
                pass  # not there yet
            except (OSError, urllib.error.URLError) as e:
                print(f"warning: block_results {height}: {e}", file=sys.stderr, flush=True)
                time.sleep(0.5)
            with self.lock:
                if self.stop and self.fatal is not None:
                    return None
            time.sleep(POLL_SECONDS)
        return None

    def block(self, height, deadline):
        while time.monotonic() < deadline:
            try:
                return self.rpc.call("block", {"height": str(height)})["block"]
            except (RpcError, OSError, urllib.error.URLError) as e:
                print(f"warning: block {height}: {e}", file=sys.stderr, flush=True)
                time.sleep(0.5)
        return None

    def run(self):
        args = self.args
        start = time.monotonic()
        deadline = start + args.timeout
        status = self.rpc.call("status", {})
        start_height = int(status["sync_info"]["latest_block_height"])
        print(
            f"node {status['node_info'].get('moniker', '?')} on {status['node_info']['network']},"
            f" height {start_height}; {len(self.txs)} transactions, at most {args.in_flight}"
            f" in flight",
            flush=True,
        )
        sender = threading.Thread(target=self.broadcaster, args=(deadline,), daemon=True)
        sender.start()

        self.blocks = []  # per followed block: dict
        total = len(self.txs)
        height = start_height + 1
        while True:
            with self.lock:
                if self.seen >= total or (self.fatal is not None):
                    break
            if time.monotonic() >= deadline:
                print(f"timeout: {args.timeout} s passed", file=sys.stderr, flush=True)
                with self.lock:
                    if self.fatal is None:
                        self.fatal = f"timeout after {args.timeout} s"
                break
            results = self.block_results(height, deadline)
            if results is None:
                continue
            wall = time.monotonic()
            block = self.block(height, deadline)
            if block is None:
                continue
            header_time = parse_time(block["header"]["time"])
            raw_txs = block["data"].get("txs") or []
            tx_results = results.get("txs_results") or []
            ours = ok = gas = gas_ok = 0
            for j, t in enumerate(raw_txs):
                r = tx_results[j] if j < len(tx_results) else {}
                used = int(r.get("gas_used", 0) or 0)
                gas += used
                idx = self.texts.get(t)
                if idx is None:
                    idx = self.hashes.get(hashlib.sha256(base64.b64decode(t)).hexdigest().upper())
                if idx is None:
                    continue
                ours += 1
                code = int(r.get("code", 0) or 0)
                if code == 0:
                    ok += 1
                    gas_ok += used
                else:
                    print(
                        f"  transaction #{idx} failed at height {height}: code {code} "
                        f"(codespace {r.get('codespace', '') or '-'}): {r.get('log', '')}",
                        file=sys.stderr,
                        flush=True,
                    )
            records = ok * args.records_per_tx
            self.blocks.append(
                {
                    "height": height,
                    "time": header_time,
                    "wall": wall,
                    "txs": len(raw_txs),
                    "ours": ours,
                    "ok": ok,
                    "gas": gas,
                    "gas_ok": gas_ok,
                    "records": records,
                }
            )
            with self.lock:
                self.seen += ours
                self.lock.notify_all()
                in_flight = self.broadcast - self.seen
            committed = sum(b["records"] for b in self.blocks)
            print(
                f"height {height}  {block['header']['time'][:23]}Z  txs {len(raw_txs):3d}"
                f" (ours {ours:3d}, ok {ok:3d})  gas {gas:>12,}  records {records:>7,}"
                f"  total {committed:>9,}  in flight {in_flight}",
                flush=True,
            )
            height += 1

        with self.lock:
            self.stop = True
            self.lock.notify_all()
        return self.report(start)

    # --- figures ------------------------------------------------------------------------

    def report(self, start):
        args = self.args
        mine = [i for i, b in enumerate(self.blocks) if b["ours"] > 0]
        total_records = sum(b["records"] for b in self.blocks)
        ok_txs = sum(b["ok"] for b in self.blocks)
        our_txs = sum(b["ours"] for b in self.blocks)
        gas_ok = sum(b["gas_ok"] for b in self.blocks)
        fig = {
            "transactions": len(self.txs),
            "broadcast": self.broadcast,
            "committed_txs": our_txs,
            "succeeded_txs": ok_txs,
            "failed_txs": our_txs - ok_txs,
            "records_committed": total_records,
            "records_per_tx": args.records_per_tx,
        }
        if mine:
            span = self.blocks[mine[0] : mine[-1] + 1]
            first, last = span[0], span[-1]
            per_block = [b["records"] for b in span]
            span_wall = last["wall"] - first["wall"]
            # The wall clock (when a block's results appear, after it is executed) from the first
            # block to the last covers the execution of all but the first. Header times are not
            # used: a block's header time is when the one before it was decided, before it was
            # executed, so a header-time span is shifted by a block, and by a different share of
            # the work on chains whose blocks hold different numbers of transactions.
            after_first = total_records - first["records"]
            fig.update(
                {
                    "first_height": first["height"],
                    "last_height": last["height"],
                    "blocks": len(span),
                    "span_wall_s": round(span_wall, 3),
                    "records_per_s_wall": round(after_first / span_wall, 1)
                    if span_wall > 0
                    else None,
                    "first_block_records": first["records"],
                    "last_block_records": last["records"],
                    "mean_txs_per_block": round(sum(b["ours"] for b in span) / len(span), 2),
                    "records_per_block_p50": percentile(per_block, 50),
                    "records_per_block_p90": percentile(per_block, 90),
                    "records_per_block_max": max(per_block),
                    "mean_gas_per_tx": round(gas_ok / ok_txs) if ok_txs else None,
                }
            )
            if self.first_broadcast_wall is not None:
                end_to_end = last["wall"] - self.first_broadcast_wall
                fig["first_broadcast_to_last_block_wall_s"] = round(end_to_end, 3)
                fig["records_per_s_end_to_end"] = (
                    round(total_records / end_to_end, 1) if end_to_end > 0 else None
                )
        if self.latencies:
            lat = self.latencies
            fig["broadcast_ms_mean"] = round(1000 * sum(lat) / len(lat), 1)
            fig["broadcast_ms_p90"] = round(1000 * percentile(lat, 90), 1)
            fig["broadcast_ms_max"] = round(1000 * max(lat), 1)
        fig["run_wall_s"] = round(time.monotonic() - start, 3)
        fig["complete"] = ok_txs == len(self.txs)
        if self.fatal:
            fig["error"] = self.fatal

        def show(label, value, unit=""):
            if value is None:
                value = "-"
            elif isinstance(value, float):
                value = f"{value:,.1f}"
            elif isinstance(value, int):
                value = f"{value:,}"
            print(f"  {label:<44} {value}{unit}")

        print("\n== figures")
        show(
            "transactions: given / broadcast / in blocks / ok",
            f"{len(self.txs)} / {self.broadcast} / {our_txs} / {ok_txs}",
        )
        show("records committed", total_records)
        if mine:
            show("blocks holding ours", f"{fig['first_height']}..{fig['last_height']} ({fig['blocks']} blocks)")
            show("span by wall clock", fig["span_wall_s"], " s")
            show("records/s by wall clock", fig["records_per_s_wall"])
            if "records_per_s_end_to_end" in fig:
                show("first broadcast to last block (wall)", fig["first_broadcast_to_last_block_wall_s"], " s")
                show("records/s from first broadcast", fig["records_per_s_end_to_end"])
            show("mean txs/block", fig["mean_txs_per_block"])
            show(
                "records/block p50 / p90 / max",
                f"{fig['records_per_block_p50']:,} / {fig['records_per_block_p90']:,} / "
                f"{fig['records_per_block_max']:,}",
            )
            show("mean gas per tx (succeeded)", fig["mean_gas_per_tx"])
        if self.latencies:
            show(
                "broadcast_tx_sync ms mean / p90 / max",
                f"{fig['broadcast_ms_mean']} / {fig['broadcast_ms_p90']} / {fig['broadcast_ms_max']}",
            )
        print(
            "  (records/s by wall clock: the records of all blocks but the first, from the first"
            " block's results to the last's)"
        )
        if not fig["complete"]:
            print(
                f"  INCOMPLETE: {ok_txs} of {len(self.txs)} transactions committed with code 0",
                flush=True,
            )
        if args.json:
            with open(args.json, "w") as f:
                json.dump(fig, f, indent=1)
                f.write("\n")
        return 0 if fig["complete"] else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rpc", required=True, help="CometBFT RPC, e.g. http://127.0.0.1:26657")
    p.add_argument("--txs", required=True, help="one base64 signed transaction a line, in order")
    p.add_argument("--records-per-tx", type=int, required=True)
    p.add_argument("--in-flight", type=int, default=40)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    if args.in_flight < 1:
        p.error("--in-flight must be at least 1")
    with open(args.txs) as f:
        txs = [line.strip() for line in f if line.strip()]
    if not txs:
        p.error(f"{args.txs} holds no transaction")
    try:
        code = Run(args, txs).run()
    except KeyboardInterrupt:
        code = 130
    except (RpcError, OSError, urllib.error.URLError) as e:
        print(f"error: {e}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
