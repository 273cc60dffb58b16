"""Load test of the HTTP service against in-process batch throughput on the same texts.

    python bench/load.py                      # 1, 8 and 32 clients, 256 requests each
    python bench/load.py --requests 64 --json runs/load.json

Starts ``uvicorn api.app:create_app`` in a subprocess on 127.0.0.1 (a free port), drives it with
N concurrent single-text clients (httpx, asyncio) and reports p50/p95/p99 latency, texts/s and
errors per level. Then, with the server stopped, times ``analyzer.analyze`` in batches on the
same texts in this process; ``ratio`` = served texts/s / in-process texts/s (target >= 0.70 at
32 clients). Client and server share the machine's cores, so the ratio is a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from api.localserver import HOST, free_port  # noqa: E402

SAMPLE = REPO / "corpora" / "samples" / "feedback_sample.csv"


@dataclass
class LevelReport:
    clients: int
    requests: int
    errors: int
    seconds: float
    texts_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def load_texts(path: Path, column: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle) if row.get(column, "").strip()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@contextmanager
def running_server(env: dict[str, str], ready_timeout_s: float) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with code {server.returncode}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"server not ready after {ready_timeout_s} s")
        yield url
    finally:
        server.terminate()
        server.wait(30)


async def run_level(url: str, texts: list[str], clients: int, requests: int, headers: dict[str, str]) -> LevelReport:
    latencies: list[float] = []
    errors = 0
    next_index = iter(range(requests))

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal errors
        for index in next_index:  # a shared iterator: clients take the next request until none are left
            started = time.perf_counter()
            try:
                response = await session.post("/v1/analyze", json={"text": texts[index % len(texts)]})
                ok = response.status_code == 200 and response.json().get("error") is None
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, headers=headers) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        seconds = time.perf_counter() - started
    ms = [latency * 1000 for latency in latencies]
    return LevelReport(
        clients=clients,
        requests=requests,
        errors=errors,
        seconds=round(seconds, 3),
        texts_per_s=round((requests - errors) / seconds, 2),
        p50_ms=round(percentile(ms, 0.50), 1),
        p95_ms=round(percentile(ms, 0.95), 1),
        p99_ms=round(percentile(ms, 0.99), 1),
    )


def in_process_texts_per_s(texts: list[str], batch_size: int, threads: int | None) -> float:
    from nlp.analyzer import Analyzer, AnalyzerConfig

    analyzer = Analyzer.from_config(AnalyzerConfig(threads=threads))
    analyzer.analyze(texts[:batch_size])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        analyzer.analyze(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,8,32", help="comma-separated concurrency levels")
    parser.add_argument("--requests", type=int, default=256, help="single-text requests per level")
    parser.add_argument("--texts", type=Path, default=SAMPLE, help="CSV of texts")
    parser.add_argument("--column", default="comment", help="text column of --texts")
    parser.add_argument("--threads", type=int, default=None, help="torch threads, server and in-process alike")
    parser.add_argument("--batch-size", type=int, default=32, help="micro-batch size and in-process batch size")
    parser.add_argument("--ready-timeout", type=float, default=180, help="seconds to wait for /readyz")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()

    texts = load_texts(args.texts, args.column)
    levels = [int(part) for part in args.clients.split(",")]
    api_key = "bench-key"
    env = os.environ | {"VOC_BATCH_SIZE": str(args.batch_size), "VOC_API_KEYS": api_key}
    if args.threads:
        env["VOC_THREADS"] = str(args.threads)

    reports: list[LevelReport] = []
    with running_server(env, args.ready_timeout) as url:
        headers = {"X-API-Key": api_key}
        asyncio.run(run_level(url, texts, 4, 16, headers))  # warm-up, not reported
        for clients in levels:
            reports.append(asyncio.run(run_level(url, texts, clients, args.requests, headers)))
            print(json.dumps(asdict(reports[-1])), flush=True)

    sample = [texts[i % len(texts)] for i in range(args.requests)]
    baseline = in_process_texts_per_s(sample, args.batch_size, args.threads)
    summary = {
        "texts": len(sample),
        "in_process_texts_per_s": round(baseline, 2),
        "levels": [asdict(report) | {"ratio": round(report.texts_per_s / baseline, 3)} for report in reports],
    }
    print(f"\nin-process analyzer.analyze (batch {args.batch_size}): {baseline:.1f} texts/s")
    print(f"{'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'texts/s':>8} {'errors':>6} {'ratio':>6}")
    for level in summary["levels"]:
        print(
            f"{level['clients']:>7} {level['p50_ms']:>8} {level['p95_ms']:>8} {level['p99_ms']:>8} "
            f"{level['texts_per_s']:>8} {level['errors']:>6} {level['ratio']:>6}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
