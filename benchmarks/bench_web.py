"""How fast `govpost serve` answers a draft: the check endpoint under a local load generator.

Starts `govpost serve` on a free port of the loopback address (its own data directory, no rate
limit), then for a bounded time (``--seconds``, default 10) keeps ``--connections`` keep-alive
connections busy posting drafts to /check exactly as the page's script does (a form with its CSRF
token, the result fragment back), and prints the median and 99th-percentile latency and the
requests per second. Nothing leaves this machine.

    .venv/bin/python benchmarks/bench_web.py [--seconds 10] [--connections 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "in" / "ais-social-media.policy"
DRAFTS = [
    "Proud of what the BJP has done for Kerala. Vote BJP on 5 May!",
    "Applications for the PM-KISAN e-KYC camp open tomorrow at all taluk offices. Carry your Aadhaar card.",
    "Denied promotion again while juniors go ahead. This is the reward for honesty. Harassed by seniors.",
    "भाजपा को वोट दें! मोदी जी जिंदाबाद",
    "Lovely photography! The flamingos at Thol are back this monsoon.",
    "Use my code GOVPOST10 for 10% off these running shoes! #ad",
]


def start_server(data: Path) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", str(POLICY), "--port", "0", "--check-rate", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                            env={**os.environ, "GOVPOST_DATA_DIR": str(data)})
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"Serving on http://([\d.]+):(\d+)/", line)
        if found:
            return proc, found.group(1), int(found.group(2))
    raise SystemExit("govpost serve did not start")


def session(host: str, port: int) -> tuple[http.client.HTTPConnection, str, str]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.connect()
    # As browsers do: no Nagle delay, or each request waits 40 ms for the server's delayed ACK.
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.request("GET", "/check")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = response.getheader("set-cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
    assert token and cookie, "no CSRF token or cookie"
    return conn, cookie, token.group(1)


def worker(host: str, port: int, until: float, latencies: list[float], errors: list[int]) -> None:
    conn, cookie, token = session(host, port)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "X-Govpost-Fragment": "1"}
    i = 0
    while time.perf_counter() < until:
        body = urlencode({"csrf": token, "text": DRAFTS[i % len(DRAFTS)], "platform": "x", "account": "personal",
                          "action": "post"}).encode()  # one send with the headers: no Nagle delay
        i += 1
        start = time.perf_counter()
        conn.request("POST", "/check", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            errors.append(response.status)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        proc, host, port = start_server(Path(data))
        try:
            warm: list[float] = []
            worker(host, port, time.perf_counter() + 1.0, warm, [])  # templates compiled, caches filled
            latencies: list[float] = []
            errors: list[int] = []
            start = time.perf_counter()
            until = start + args.seconds
            threads = [threading.Thread(target=worker, args=(host, port, until, latencies, errors))
                       for _ in range(args.connections)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"policy            {POLICY.relative_to(ROOT)}")
    print(f"load              {args.connections} keep-alive connections for {args.seconds:.0f} s, "
          f"{len(DRAFTS)} drafts in turn (English, Hindi; permitted to prohibited)")
    print(f"requests          {len(ms):,} ({len(errors)} not 200)")
    print(f"latency p50       {statistics.median(ms):.2f} ms")
    print(f"latency p99       {p99:.2f} ms")
    print(f"throughput        {len(ms) / elapsed:,.0f} requests/s")


if __name__ == "__main__":
    main()
