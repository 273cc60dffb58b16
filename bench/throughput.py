"""Throughput (texts/s) and peak RSS of voc-lens beside its peers, side by side in one run.

    python bench/throughput.py [--texts 1000] [--threads 2] [--paired 5]

Each system runs in its own subprocess so its peak RSS is its own. Texts are the bundled sample
export's comments, repeated to --texts. Systems:
  encoder   the Analyzer with no components: documents and, read on their own in the same
            batched pass, each sentence of multi-sentence texts and each contrast clause (no heads)
  encoder-docs  documents only (sentences and clauses pooled from the document pass:
            sentence_mode="pooled")
  voc-lens  the full Analyzer (every configured component) on the same texts
  vader     VADER compound score (lexicon)
  textblob  TextBlob polarity (lexicon)
  naive     one transformers text-classification pipeline per task, each re-encoding the text
            (heads untrained: this measures the cost of the naive design, not its accuracy)

Each row above runs at its own time, so on a shared CPU their ratio also measures how the load
changed in between. --paired N adds the ratio that holds there: encoder and voc-lens timed in one
process, N rounds, in alternating order, so both see the same load; the median round counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpora" / "samples" / "feedback_sample.csv"
SYSTEMS = ["encoder", "encoder-docs", "voc-lens", "vader", "textblob", "naive"]


def load_texts(count: int) -> list[str]:
    with open(SAMPLE, encoding="utf-8") as handle:
        comments = [row["comment"] for row in csv.DictReader(handle) if row["comment"].strip()]
    return [comments[i % len(comments)] for i in range(count)]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(system: str, threads: int):
    """Return a callable that processes a list of texts (model loading is not timed)."""
    import torch

    torch.set_num_threads(threads)
    if system in {"encoder", "encoder-docs", "voc-lens"}:
        from nlp.analyzer import Analyzer, AnalyzerConfig

        mode = "pooled" if system == "encoder-docs" else "isolated"
        analyzer = Analyzer.from_config(AnalyzerConfig(threads=threads, sentence_mode=mode))
        if system == "voc-lens":
            return analyzer.analyze, len(analyzer.components)
        return encoder_pass(analyzer), 0
    if system == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        vader = SentimentIntensityAnalyzer()
        return (lambda texts: [vader.polarity_scores(t) for t in texts]), 1
    if system == "textblob":
        from textblob import TextBlob

        return (lambda texts: [TextBlob(t).sentiment for t in texts]), 1
    if system == "naive":
        return naive_pipelines(), 0
    raise ValueError(system)


def encoder_pass(analyzer):
    """The Analyzer's own pass with no components: same splitting, same spans read alone, same batches."""
    return lambda texts: analyzer.analyze(texts, tasks=[])


def naive_pipelines():
    """One pipeline per task the Analyzer serves, each with its own copy of the encoder."""
    from transformers import AutoModelForSequenceClassification, pipeline

    from nlp.analyzer import AnalyzerConfig
    from nlp.bundle import ModelBundle
    from nlp.encoder import base_model_path, load_tokenizer

    config = AnalyzerConfig()
    base = ModelBundle.load(config.model_dir).base_encoder  # the encoder voc-lens runs, so the rows compare
    tokenizer = load_tokenizer(base)
    pipes = []
    for _ in config.components:
        model = AutoModelForSequenceClassification.from_pretrained(str(base_model_path(base)), num_labels=8)
        pipes.append(pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1))

    def run(texts: list[str]) -> None:
        for pipe in pipes:
            pipe(texts, batch_size=64, truncation=True, max_length=256)

    return run


def measure(system: str, count: int, threads: int) -> dict:
    texts = load_texts(count)
    run, _ = build(system, threads)
    run(texts[:32])  # warm-up: lazy init, first-call allocations
    started = time.perf_counter()
    run(texts)
    seconds = time.perf_counter() - started
    return {
        "system": system,
        "texts": count,
        "seconds": round(seconds, 2),
        "texts_per_s": round(count / seconds, 1),
        "peak_rss_mib": round(peak_rss_mib(), 0),
    }


def measure_paired(count: int, threads: int, rounds: int) -> dict:
    """encoder and voc-lens alternately on one loaded Analyzer (see the module docstring)."""
    import statistics

    import torch

    from nlp.analyzer import Analyzer, AnalyzerConfig

    torch.set_num_threads(threads)
    texts = load_texts(count)
    analyzer = Analyzer.from_config(AnalyzerConfig(threads=threads))
    runs = {"encoder": encoder_pass(analyzer), "voc-lens": analyzer.analyze}
    for run in runs.values():
        run(texts[:32])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for round_index in range(rounds):
        for name in runs if round_index % 2 == 0 else reversed(runs):
            started = time.perf_counter()
            runs[name](texts)
            seconds[name].append(time.perf_counter() - started)
    ratios = [full / encoder for full, encoder in zip(seconds["voc-lens"], seconds["encoder"])]
    return {
        "system": "paired",
        "texts": count,
        "rounds": rounds,
        "encoder_texts_per_s": round(count / statistics.median(seconds["encoder"]), 1),
        "voc_lens_texts_per_s": round(count / statistics.median(seconds["voc-lens"]), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=[*SYSTEMS, "paired"], help="measure one system in this process (internal)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--paired", type=int, default=0, metavar="ROUNDS", help="also the same-process ratio")
    args = parser.parse_args()
    if args.only == "paired":
        print(json.dumps(measure_paired(args.texts, args.threads, args.paired)))
        return
    if args.only:
        print(json.dumps(measure(args.only, args.texts, args.threads)))
        return
    rows = [run_alone(system, args) for system in args.systems.split(",") if system]
    print_table(rows)
    if args.paired:
        paired = run_alone("paired", args)
        print(
            f"paired, {paired['rounds']} rounds in one process: encoder {paired['encoder_texts_per_s']} texts/s, "
            f"voc-lens {paired['voc_lens_texts_per_s']} texts/s; full analysis costs {paired['ratio_median']:.2f}x "
            f"the encoder pass (rounds {paired['ratio_min']:.2f}-{paired['ratio_max']:.2f})"
        )


def run_alone(system: str, args: argparse.Namespace) -> dict:
    """One measurement in a fresh subprocess, so its peak RSS is its own."""
    command = [sys.executable, __file__, "--only", system, "--texts", str(args.texts), "--threads", str(args.threads)]
    out = subprocess.run([*command, "--paired", str(args.paired)], capture_output=True, text=True, check=True)
    print(f"measured {system}", file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    by_name = {r["system"]: r for r in rows}
    reference = by_name.get("voc-lens")
    encoder = by_name.get("encoder")
    print(f"\n{'system':10} {'texts/s':>9} {'peak RSS MiB':>13} {'speed vs voc-lens':>18}")
    for row in rows:
        ratio = row["texts_per_s"] / reference["texts_per_s"] if reference else float("nan")
        print(f"{row['system']:10} {row['texts_per_s']:>9} {row['peak_rss_mib']:>13} {ratio:>17.2f}x")
    if reference and encoder:
        print(f"\nfull analysis costs {encoder['texts_per_s'] / reference['texts_per_s']:.2f}x the encoder pass alone")
    if reference and "naive" in by_name:
        print(f"voc-lens is {reference['texts_per_s'] / by_name['naive']['texts_per_s']:.2f}x the naive pipelines")


if __name__ == "__main__":
    main()
