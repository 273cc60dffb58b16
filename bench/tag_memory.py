"""Peak memory and speed of ``voc tag`` as exports grow: RSS should stay flat, rows are streamed.

Each measurement runs in its own subprocess (peak RSS is per process), on a generated CSV:

    python bench/tag_memory.py                      # stub analyzer, 1k and 10k rows
    python bench/tag_memory.py --sizes 1000,100000,1000000   # the issue's sizes (~10 min, ~2 GB of temp files)
    python bench/tag_memory.py --real               # ... plus the real Analyzer on the smallest size
    python bench/tag_memory.py --real-sizes 1000,10000       # the real Analyzer on several sizes
    python bench/tag_memory.py --out-format parquet # the merge of another output format

The stub analyzer (``nlp.io.stub``) returns well-formed Results without a model, so the figures
are those of the reading, chunking, part writing and merging around the model.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = "1000,10000"
CHANNELS = ("email", "app", "web", "phone")
PHRASES = (
    "The courier was late again",
    "support sorted it out quickly, thanks",
    'the app says "error 42" when I pay',
    "billing charged me twice, I want a refund",
    "great onboarding, clear steps",
    "line one\nline two after a newline",
)


def generate_export(path: Path, rows: int, seed: int = 7) -> None:
    chooser = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "submitted_at", "channel", "nps", "comment"])
        for number in range(rows):
            comment = ". ".join(chooser.choice(PHRASES) for _ in range(chooser.randint(1, 4)))
            day = f"2024-{number % 12 + 1:02d}-{number % 28 + 1:02d}"
            writer.writerow([f"R{number}", day, chooser.choice(CHANNELS), chooser.randint(0, 10), comment])


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child(source: Path, analyzer_kind: str, chunk_size: int, out_format: str) -> None:
    """Tag ``source`` in this process and print one JSON line of figures."""
    from nlp.io.stub import StubAnalyzer
    from nlp.io.tagging import TagOptions, tag_file

    if analyzer_kind == "real":
        from nlp.analyzer import Analyzer

        def load() -> Analyzer:
            return Analyzer.from_config()
    else:
        load = StubAnalyzer
    baseline = peak_rss_mib()  # libraries imported, nothing read yet
    output = source.with_name(f"{source.stem}.tagged.{out_format}")
    options = TagOptions(source, output, ("comment",), id_col="response_id", chunk_size=chunk_size)
    started = time.perf_counter()
    summary = tag_file(options, load)
    seconds = time.perf_counter() - started
    figures = {"rows": summary.rows, "seconds": seconds, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}
    print(json.dumps(figures))


def measure(source: Path, analyzer_kind: str, chunk_size: int, out_format: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(source), "--analyzer", analyzer_kind]
    command += ["--chunk-size", str(chunk_size), "--out-format", out_format]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def print_table(lines: list[tuple[str, dict[str, float]]]) -> None:
    header = f"{'analyzer':<9}{'rows':>9}{'seconds':>10}{'rows/s':>10}"
    header += f"{'RSS base MiB':>14}{'RSS peak MiB':>14}{'growth':>9}"
    print(header)
    print("-" * len(header))
    for kind, figures in lines:
        speed = figures["rows"] / figures["seconds"]
        growth = figures["peak_mib"] - figures["baseline_mib"]
        print(
            f"{kind:<9}{figures['rows']:>9,}{figures['seconds']:>10.2f}{speed:>10,.0f}"
            f"{figures['baseline_mib']:>14.1f}{figures['peak_mib']:>14.1f}{growth:>9.1f}"
        )


def row_counts(text: str) -> list[int]:
    return sorted({int(part) for part in text.split(",") if part.strip()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=SIZES, help="comma-separated row counts for the stub analyzer")
    parser.add_argument("--real", action="store_true", help="also the real Analyzer on the smallest size")
    parser.add_argument("--real-sizes", default="", help="comma-separated row counts for the real Analyzer")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for generated exports (default: system temp)")
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--out-format", default="csv", choices=["csv", "tsv", "jsonl", "parquet", "xlsx"])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--analyzer", default="stub", choices=["stub", "real"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.analyzer, arguments.chunk_size, arguments.out_format)
        return
    sizes = row_counts(arguments.sizes)
    real_sizes = row_counts(arguments.real_sizes) or ([min(sizes)] if arguments.real else [])
    runs = [("stub", rows) for rows in sizes] + [("real", rows) for rows in real_sizes]
    lines = []
    with tempfile.TemporaryDirectory(prefix="tag-memory-", dir=arguments.tmp) as folder:
        for kind, rows in runs:
            source = Path(folder) / f"export-{rows}.csv"
            if not source.exists():
                generate_export(source, rows)
            lines.append((kind, measure(source, kind, arguments.chunk_size, arguments.out_format)))
            print(f"done: {kind} {rows:,} rows", file=sys.stderr)
    print_table(lines)


if __name__ == "__main__":
    main()
