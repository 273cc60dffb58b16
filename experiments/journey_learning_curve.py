"""Experiment: does the journey component still gain from more training texts?

    python experiments/journey_learning_curve.py                              # the current train file
    python experiments/journey_learning_curve.py --train runs/old/train.jsonl --shares 0.5 1

For each share it keeps that fraction of the train file (shuffled with a fixed seed), runs the whole
``voc train journey`` selection on it and prints the dev check (heads chosen and fitted on the subset,
macro-F1 on the unchanged dev file). It reads no test file and writes nothing outside a temporary
folder. About 1-4 min per share on 2 cores.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.heads.journey import LEARNED_FAMILIES
from nlp.train.journey import JOURNEY_DATA, Grids, train_journey


def dev_check_on_share(analyzer: Analyzer, rows: list[str], share: float, seed: int, grids: Grids) -> dict[str, float]:
    kept = list(rows)
    random.Random(seed).shuffle(kept)
    kept = kept[: int(len(kept) * share)]
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch)
        (data / "train.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
        shutil.copy(JOURNEY_DATA / "dev.jsonl", data / "dev.jsonl")
        config = train_journey(data / "model", data_dir=data, analyzer=analyzer, grids=grids)
    return {family: config["dev_check"][family]["macro_f1"] for family in LEARNED_FAMILIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=JOURNEY_DATA / "train.jsonl", help="journey train file")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--c-grid", type=float, nargs="+", default=list(Grids.head), help="the heads' C values")
    parser.add_argument("--lexical-c-grid", type=float, nargs="+", default=list(Grids.lexical))
    args = parser.parse_args()
    grids = Grids(head=tuple(args.c_grid), lexical=tuple(args.lexical_c_grid))
    rows = [line for line in args.train.read_text(encoding="utf-8").splitlines() if line.strip()]
    analyzer = Analyzer.from_config(AnalyzerConfig(components=["sentiment"]))
    print(f"| share | train texts | {' | '.join(LEARNED_FAMILIES)} |\n|---|---|{'---|' * len(LEARNED_FAMILIES)}")
    for share in args.shares:
        scores = dev_check_on_share(analyzer, rows, share, args.seed, grids)
        figures = " | ".join(f"{scores[family]:.3f}" for family in LEARNED_FAMILIES)
        print(f"| {share:g} | {int(len(rows) * share)} | {figures} |", flush=True)


if __name__ == "__main__":
    main()
