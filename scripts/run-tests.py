#!/usr/bin/env python3
"""Runs every test binary of the workspace, several at a time, then the doc tests.

Most of the test time is spent by localnet tests waiting on real windows and periods, not on the
CPU: running two or three binaries side by side roughly halves the wall time. Each binary runs
as `cargo test` would run it (working directory = its package, the same arguments); the longest
ones (timed by the previous run, kept in the target folder; else by scripts/test-times.json)
start first. A line is printed as
each binary finishes; the output of a failed one is printed whole. The combined output goes to
`--log`, with cargo's `test result:` lines, so the summary can be read from it.

Usage: run-tests.py --jobs N --log FILE [-- extra test-binary arguments]
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def build(cargo_args):
    """Builds every test target; returns [(name, executable, package folder, kind)]."""
    cmd = ["cargo", "test", "--workspace", "--locked", "--no-run",
           "--message-format=json-render-diagnostics"] + cargo_args
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, check=False, text=True)
    if proc.returncode != 0:
        sys.exit(proc.returncode)
    binaries = []
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("profile", {}).get("test"):
            continue
        exe = msg.get("executable")
        if not exe:
            continue
        target = msg["target"]
        kind = target["kind"][0]
        package = os.path.dirname(msg["manifest_path"])
        name = os.path.relpath(target["src_path"], os.getcwd())
        binaries.append((name, exe, package, kind))
    return binaries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--log", required=True)
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()

    binaries = build([])
    times_path = os.path.join(os.path.dirname(args.log), "test-times.json")
    # The previous run's times; on a fresh machine, the ones recorded in the repository.
    previous = {}
    for path in (times_path, os.path.join(os.path.dirname(__file__), "test-times.json")):
        try:
            with open(path) as f:
                previous = json.load(f)
            break
        except (OSError, ValueError):
            continue
    # Longest first; an integration test never timed is assumed long.
    binaries.sort(key=lambda b: -previous.get(b[0], 60.0 if b[3] == "test" else 1.0))

    lock = threading.Lock()
    results = {}
    started = time.monotonic()
    print(f"{len(binaries)} test binaries, {args.jobs} at a time", flush=True)

    def run(binary):
        name, exe, package, _ = binary
        t0 = time.monotonic()
        env = dict(os.environ, CARGO_MANIFEST_DIR=package)
        proc = subprocess.run([exe] + args.rest, cwd=package, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                              errors="replace", check=False)
        took = time.monotonic() - t0
        with lock:
            results[name] = (proc.returncode, took, proc.stdout)
            done = len(results)
            status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            print(f"[{done:>3}/{len(binaries)} {time.monotonic() - started:6.0f} s] "
                  f"{name}: {status} in {took:.1f} s", flush=True)
            if proc.returncode != 0:
                print(proc.stdout, flush=True)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(run, binaries))

    doc = subprocess.run(["cargo", "test", "--workspace", "--locked", "--doc"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace", check=False)
    print(f"doc tests: {'ok' if doc.returncode == 0 else 'FAILED'}", flush=True)
    if doc.returncode != 0:
        print(doc.stdout, flush=True)

    with open(args.log, "w") as log:
        for name, _, _, _ in binaries:
            code, took, out = results[name]
            log.write(f"     Running {name} ({took:.1f} s, exit {code})\n{out}\n")
        log.write(doc.stdout)
    with open(times_path, "w") as f:
        json.dump({name: round(r[1], 1) for name, r in results.items()}, f, indent=1)

    failed = [n for n, r in results.items() if r[0] != 0]
    if failed or doc.returncode != 0:
        print("failed: " + ", ".join(failed + (["doc tests"] if doc.returncode else [])))
        sys.exit(1)


if __name__ == "__main__":
    main()
