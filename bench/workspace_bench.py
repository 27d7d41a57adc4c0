#!/usr/bin/env python3
"""Workspace benchmark: server-render time of an analysis page whose result has 10,000+
patterns, and the gzip size of the WASM bundle.

Starts a release `faultline serve` on a free loopback port with a fresh data directory (SQLite,
local storage), signs up, uploads a generated log with --templates distinct templates (each
seen twice), waits for its analysis, then fetches with the session cookie:

  - the analysis page (summary, events over time, the first 50 rows of the pattern table):
    once cold (the stored result is parsed and kept) and --runs times warm;
  - the same page searched (26 of the patterns match) and sorted by risk;
  - one pattern's detail page;
  - the pattern API alone (`GET /api/v1/analyses/{id}/patterns`).

Reports the cold time and the median and 95th percentile of the warm ones, in milliseconds,
and the gzip -9 size of target/site/pkg/*.wasm.

Usage:
  python3 bench/workspace_bench.py --bin $CARGO_TARGET_DIR/release/faultline --site target/site
"""

import argparse
import glob
import gzip
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def name(k):
    out = ""
    for _ in range(3):
        out += chr(97 + k % 26)
        k //= 26
    return out


def generate(path, templates):
    """Each template's words are its own, so a miner cannot merge two of them."""
    with open(path, "w") as f:
        for i in range(2):
            for k in range(templates):
                second, minute = (i * templates + k) % 60, (i * templates + k) // 60 % 60
                level = "ERROR" if k % 7 == 0 else "INFO"
                f.write(f"2026-12-01T10:{minute:02}:{second:02}Z {level} {name(k)}svc {name(3 * k + 1)}op "
                        f"{name(5 * k + 2)}stage completed with {name(7 * k + 3)}result {i}\n")


def request(method, url, token=None, body=None, cookie=None, raw=None, content_type=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type or "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req) as r:
        return r.read(), r.headers


def timed(url, cookie, runs, expect):
    start = time.perf_counter()
    body, _ = request("GET", url, cookie=cookie)
    cold = (time.perf_counter() - start) * 1000
    assert expect.encode() in body, f"{url} does not show {expect!r}"
    warm = []
    for _ in range(runs):
        start = time.perf_counter()
        request("GET", url, cookie=cookie)
        warm.append((time.perf_counter() - start) * 1000)
    warm.sort()
    p95 = warm[min(len(warm) - 1, int(len(warm) * 0.95))]
    return cold, statistics.median(warm), p95, len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/faultline")
    ap.add_argument("--site", default="target/site")
    ap.add_argument("--templates", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="faultline-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, FAULTLINE_ADDR=f"127.0.0.1:{port}", FAULTLINE_DATA_DIR=data,
               FAULTLINE_SITE_ROOT=args.site, FAULTLINE_LOG="warn", FAULTLINE_WORKERS="1")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/readyz")
                break
            except Exception:
                time.sleep(0.1)
        body, headers = request("POST", f"{base}/api/v1/auth/signup", body={
            "email": "bench@acme.example", "password": "correct horse battery staple", "org_name": "Bench"})
        signed = json.loads(body)
        cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie"))
        token = signed["access_token"]
        slug = signed["org"]["slug"]

        log = os.path.join(data, "many-templates.log")
        generate(log, args.templates)
        def analyse():
            with open(log, "rb") as f:
                upload = json.loads(request("POST", f"{base}/api/v1/uploads?name=many-templates.log&org={slug}",
                                            token, raw=f.read(), content_type="text/plain")[0])
            started = json.loads(request("POST", f"{base}/api/v1/analyses?org={slug}", token,
                                         {"upload_ids": [upload["id"]]})[0])
            while True:
                view = json.loads(request("GET", f"{base}/api/v1/analyses/{started['id']}?result=false&org={slug}", token)[0])
                if view["status"] in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.05)
            assert view["status"] == "done", view
            return started, view

        started, view = analyse()
        # A second analysis of the same log, to compare the two.
        second, _ = analyse()
        patterns = view["summary"]["patterns"]
        print(f"analysis of {os.path.getsize(log) / 1e6:.1f} MB: {patterns:,} patterns", flush=True)
        assert patterns >= args.templates, f"expected {args.templates} patterns, got {patterns}"

        page = f"{base}/orgs/{slug}/analyses/{started['id']}"
        for label, url, expect in [
            ("analysis page", page, f"{patterns:,} patterns"),
            ("analysis page, searched and sorted by risk", f"{page}?q=aasvc&sort=risk", "26 of"),
            ("pattern detail page", f"{page}/patterns/p1", "Pattern p1"),
            ("pattern API", f"{base}/api/v1/analyses/{started['id']}/patterns?org={slug}", '"total":'),
            ("comparison page, two analyses", f"{base}/orgs/{slug}/compare?ids={started['id']},{second['id']}",
             f"{patterns:,} patterns"),
            ("comparison API, two analyses", f"{base}/api/v1/compare?ids={started['id']},{second['id']}&org={slug}",
             '"matched":'),
            ("sample context of the rarest pattern",
             f"{base}/api/v1/analyses/{started['id']}/patterns/p{patterns}/samples/0/context?org={slug}", '"lines":'),
        ]:
            cold, median, p95, size = timed(url, cookie, args.runs, expect)
            print(f"{label}: cold {cold:.0f} ms, warm median {median:.1f} ms, p95 {p95:.1f} ms "
                  f"({size / 1000:.0f} kB)", flush=True)
    finally:
        server.terminate()
        server.wait()

    for wasm in glob.glob(os.path.join(args.site, "pkg", "*.wasm")):
        raw = open(wasm, "rb").read()
        print(f"WASM {os.path.basename(wasm)}: {len(raw) / 1024:.0f} KiB raw, "
              f"{len(gzip.compress(raw, 9)) / 1024:.0f} KiB gzip -9", flush=True)


if __name__ == "__main__":
    main()
