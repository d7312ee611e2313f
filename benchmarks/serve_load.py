"""Load test of ``bioner serve``: throughput and latency at 1, 8 and 32 clients against offline prediction.

Usage (nice -n 10): python benchmarks/serve_load.py MODEL [--seconds 20] [--out serve-load.json]

Offline prediction of the same NCBI-disease test abstracts with the same model is measured first in this
process; then ``bioner serve`` runs as a subprocess on a loopback port and bounded asyncio + httpx clients
each send one abstract at a time for a fixed time. Hostile requests follow, each checked for its status
and for the server still answering ``/health``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

import bioner
from bioner.corpora import load_corpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def clients(url: str, texts: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=120) as session:
            i = offset
            while time.perf_counter() < stop:
                began = time.perf_counter()
                answer = await session.post("/annotate", json={"text": texts[i % len(texts)]})
                if answer.status_code == 200:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors += 1
                i += concurrency

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "clients": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "documents_per_s": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
    }


def hostile(url: str) -> list[dict[str, Any]]:
    """Each hostile request's status, and whether /health still answers right after it."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("body of 11 MB", {"content": b'{"text": "' + b"x" * 11_000_000 + b'"}'}),
        ("texts is a number", {"json": {"texts": 5}}),
        ("invalid UTF-8", {"content": b'{"text": "\xff\xfe\xfd"}'}),
        ("10,000 texts", {"json": {"texts": ["BRCA1 mutations cause breast cancer."] * 10_000}}),
        ("text of 200,000 characters", {"json": {"text": "cancer " * 30_000}}),
        ("not JSON", {"content": b"{{{"}),
        ("unknown field (a path)", {"json": {"text": "a", "model": "/etc/passwd"}}),
    ]
    rows = []
    for name, kwargs in cases:
        headers = {"content-type": "application/json"}
        status = httpx.post(f"{url}/annotate", headers=headers, timeout=60, **kwargs).status_code
        rows.append({"request": name, "status": status, "health_after": httpx.get(f"{url}/health").status_code})
    # a slow client: headers and half a body, then silence; others are still served meanwhile
    host, port = url.removeprefix("http://").split(":")
    slow = socket.create_connection((host, int(port)))
    slow.sendall(
        b"POST /annotate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    began = time.perf_counter()
    served = httpx.post(f"{url}/annotate", json={"text": "Breast cancer."}, timeout=60).status_code
    rows.append(
        {
            "request": "slow client holding a connection",
            "status": served,
            "health_after": httpx.get(f"{url}/health").status_code,
            "other_request_ms": (time.perf_counter() - began) * 1000,
        }
    )
    slow.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", default="serve-load.json")
    args = parser.parse_args()
    docs = load_corpus("ncbi-disease", splits=["test"])["test"]
    texts = [d.text for d in docs]

    tagger = bioner.load(args.model, device="cpu")
    tagger(texts[:8])  # warm-up
    began = time.perf_counter()
    tagger(texts)
    offline = len(texts) / (time.perf_counter() - began)
    del tagger
    print(f"offline: {offline:.1f} documents/s", flush=True)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bioner_cli = [sys.executable, "-m", "bioner", "serve", args.model, "--port", str(port), "--device", "cpu"]
    server = subprocess.Popen(bioner_cli, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        httpx.post(f"{url}/annotate", json={"texts": texts[:8]}, timeout=60)  # warm-up
        rows = []
        for concurrency in (1, 8, 32):
            row = asyncio.run(clients(url, texts, concurrency, args.seconds))
            row["ratio_to_offline"] = row["documents_per_s"] / offline
            row["server_rss_mb"] = rss_mb(server.pid)
            rows.append(row)
            print(json.dumps(row), flush=True)
        hostile_rows = hostile(url)
        for row in hostile_rows:
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait(60)
    result = {"offline_documents_per_s": offline, "documents": len(texts), "load": rows, "hostile": hostile_rows}
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
