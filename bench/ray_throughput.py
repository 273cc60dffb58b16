"""Texts/s of ``voc tag`` with the real model: the local engine, and ``--engine ray`` with 1 and 2 workers.

    python bench/ray_throughput.py [--texts 400] [--chunk-size 32] [--local-threads N]

The texts are the bundled sample export's comments, repeated to --texts and written as a CSV
export. Each configuration runs in its own process. Each Ray actor runs torch on one thread, so 2
workers use 2 cores; the local engine runs torch on --local-threads (default: every core).

Two speeds per configuration:
  end to end  rows / wall time of ``tag_file``: Ray start, every model load, reading, tagging, merging
  steady      rows after the first chunk / time from the first chunk done to the last one done,
              i.e. once the model(s) are loaded and the pipeline is full (from 6 chunks up;
              the default 400 texts make 13 chunks of 32)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpora" / "samples" / "feedback_sample.csv"
CONFIGURATIONS = [("local", 0), ("ray", 1), ("ray", 2)]  # (engine, Ray workers)
# Ray hands back finished chunks in bursts: over fewer chunks the steady speed says nothing.
STEADY_MIN_CHUNKS = 6


def write_export(path: Path, count: int) -> None:
    with SAMPLE.open(encoding="utf-8") as handle:
        comments = [row["comment"] for row in csv.DictReader(handle) if row["comment"].strip()]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "comment"])
        writer.writerows([f"T{number}", comments[number % len(comments)]] for number in range(count))


class ChunkClock:
    """A ``TagProgress`` that notes when each chunk is done."""

    def __init__(self) -> None:
        self.done: list[tuple[float, int]] = []  # (perf_counter, rows of the chunk)

    def start(self, total_rows: int | None) -> None:
        pass

    def advance(self, rows: int) -> None:
        self.done.append((time.perf_counter(), rows))

    def steady_rows_per_second(self) -> float | None:
        if len(self.done) < STEADY_MIN_CHUNKS:
            return None
        rows_after_first = sum(rows for _, rows in self.done[1:])
        return rows_after_first / (self.done[-1][0] - self.done[0][0])


def child(source: Path, engine_name: str, workers: int, threads: int, chunk_size: int) -> None:
    """Tag ``source`` once in this process and print one JSON line of figures."""
    from nlp.analyzer import Analyzer, AnalyzerConfig
    from nlp.io.ray_engine import RayEngine
    from nlp.io.tagging import TagOptions, tag_file

    def load() -> Analyzer:
        return Analyzer.from_config(AnalyzerConfig(threads=threads))

    engine = RayEngine(workers=workers) if engine_name == "ray" else None
    output = source.with_name(f"tagged-{engine_name}-{workers}.csv")
    options = TagOptions(source, output, ("comment",), id_col="response_id", chunk_size=chunk_size)
    clock = ChunkClock()
    summary = tag_file(options, load, clock, engine)
    figures = {"rows": summary.rows, "seconds": summary.seconds, "steady": clock.steady_rows_per_second()}
    print(json.dumps(figures))


def measure(source: Path, engine_name: str, workers: int, threads: int, chunk_size: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(source), "--engine", engine_name]
    command += ["--workers", str(workers), "--threads", str(threads), "--chunk-size", str(chunk_size)]
    finished = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def label(engine_name: str, workers: int) -> str:
    return f"ray {workers}" if engine_name == "ray" else engine_name


def speed(figures: dict[str, float]) -> float:
    return figures["rows"] / figures["seconds"]


def print_table(lines: list[tuple[str, int, int, dict[str, float]]]) -> None:
    header = f"{'engine':<8}{'workers':>8}{'threads':>8}{'texts':>7}{'seconds':>9}{'texts/s':>9}{'steady texts/s':>16}"
    print(header)
    print("-" * len(header))
    for engine_name, workers, threads, figures in lines:
        steady = f"{figures['steady']:.1f}" if figures["steady"] else "-"
        shown_workers = str(workers) if engine_name == "ray" else "-"
        print(
            f"{engine_name:<8}{shown_workers:>8}{threads:>8}{figures['rows']:>7}{figures['seconds']:>9.1f}"
            f"{speed(figures):>9.1f}{steady:>16}"
        )


def print_ratios(by_name: dict[str, dict[str, float]]) -> None:
    for numerator, denominator in (("ray 2", "ray 1"), ("ray 2", "local")):
        top, bottom = by_name[numerator], by_name[denominator]
        steady = f"{top['steady'] / bottom['steady']:.2f}" if top["steady"] and bottom["steady"] else "-"
        print(f"{numerator} / {denominator}: {speed(top) / speed(bottom):.2f} end to end, {steady} steady")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--chunk-size", type=int, default=32, help="rows per chunk: what one actor call tags")
    parser.add_argument("--local-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.engine, arguments.workers, arguments.threads, arguments.chunk_size)
        return
    lines = []
    with tempfile.TemporaryDirectory(prefix="ray-throughput-") as folder:
        source = Path(folder) / "export.csv"
        write_export(source, arguments.texts)
        for engine_name, workers in CONFIGURATIONS:
            threads = arguments.local_threads if engine_name == "local" else 1
            figures = measure(source, engine_name, workers, threads, arguments.chunk_size)
            lines.append((engine_name, workers, threads, figures))
            print(f"done: {label(engine_name, workers)}", file=sys.stderr)
    print_table(lines)
    print_ratios({label(name, workers): figures for name, workers, _, figures in lines})


if __name__ == "__main__":
    main()
