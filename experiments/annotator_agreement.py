"""Experiment: how far do two annotations of the journey dev and test files agree, and the model with each?

    python experiments/annotator_agreement.py    # agreement on dev, test and a train sample; the model on test

The stage sentiment check (``corpora/aspects/journey_check.jsonl``) has a second annotation too
(``corpora/aspects/second_annotation/``); the last table gives the two annotations' agreement and
the shipped model's stage sentiment accuracy against each (as ``voc eval aspects`` reads it). The
very last gives the agreement of the dev file's two overall sentiment annotations.

The first annotation is the gold file (`corpora/journey/{dev,test}.jsonl`, and for 300 of the texts
journey data 1.4 and 1.5 added, their rows in `train.jsonl`); the second is
`corpora/journey/second_annotation/{dev,test,train_sample}.jsonl`, made blind (texts only, shuffled, the taxonomy's
definitions and examples as the guide; see that folder's README). Per-class F1 is symmetric in the two
annotations, so the macro-F1 of one against the other is the agreement figure, comparable with the
model's macro-F1 against gold: it is the score a second careful labeller gets on the same file.

On the test file the shipped model is scored against each annotation and against gold on the texts
where the two annotations give the family the same label set. Dev is annotations only: the shipped
heads were fitted on train + dev, so their dev predictions would be in-sample. Nothing is fitted or
chosen here; the test figures are for reading, as `voc eval journey` prints them.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.heads.journey import LEARNED_FAMILIES
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from nlp.train.aspects import JOURNEY_CHECK, journey_analyzer, journey_check, stage_sentiment_figures
from nlp.train.journey import JOURNEY_DATA, read_split, reported_labels, targets

SECOND = JOURNEY_DATA / "second_annotation"


def paired_annotations(name: str) -> tuple[list[dict], list[dict]]:
    """(gold rows, second-annotation rows) in the same order, matched by text (texts are unique
    across the files). ``dev`` and ``test`` cover their whole file; ``train_sample`` is a sample of
    the training texts that journey data 1.4 and 1.5 added."""
    second = read_split(name, SECOND)
    if name == "train_sample":
        train = {row["text"]: row for row in read_split("train")}
        return [train[row["text"]] for row in second], second
    gold = read_split(name)
    by_text = {row["text"]: row for row in second}
    missing = [row["text"][:40] for row in gold if row["text"] not in by_text]
    if missing:
        raise SystemExit(f"{len(missing)} {name} texts have no second annotation, e.g. {missing[0]!r}")
    return gold, [by_text[row["text"]] for row in gold]


def macro_f1(reference: np.ndarray, other: np.ndarray) -> float:
    """Macro-F1 over the labels present in either annotation (a label neither uses says nothing)."""
    used = reference.any(axis=0) | other.any(axis=0)
    return float(f1_score(reference[:, used], other[:, used], average="macro", zero_division=0))


def agreement_rows(gold: list[dict], second: list[dict], taxonomy: Taxonomy) -> dict[str, dict[str, float]]:
    rows = {}
    for family in LEARNED_FAMILIES:
        ids = taxonomy.ids(family)
        a, b = targets(gold, family, ids), targets(second, family, ids)
        rows[family] = {"macro_f1": macro_f1(a, b), "same_set": float((a == b).all(axis=1).mean())}
    return rows


def model_rows(gold: list[dict], second: list[dict], taxonomy: Taxonomy) -> dict[str, dict[str, float]]:
    analyzer = Analyzer.from_config(AnalyzerConfig(components=["sentiment", "journey"]))
    results = analyzer.analyze([row["text"] for row in gold], tasks=["sentiment", "journey"])
    rows = {}
    for family in LEARNED_FAMILIES:
        ids = taxonomy.ids(family)
        a, b = targets(gold, family, ids), targets(second, family, ids)
        predicted = reported_labels(results, family, ids)
        agreed = (a == b).all(axis=1)
        rows[family] = {
            "vs_gold": macro_f1(a, predicted),
            "vs_second": macro_f1(b, predicted),
            "vs_gold_where_agreed": macro_f1(a[agreed], predicted[agreed]),
            "agreed_texts": int(agreed.sum()),
        }
    return rows


def main() -> None:
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    print("| split | texts | family | annotators' macro-F1 | same label set |\n|---|---|---|---|---|")
    tests = {}
    for split in ("dev", "test", "train_sample"):
        gold, second = paired_annotations(split)
        tests[split] = (gold, second)
        for family, row in agreement_rows(gold, second, taxonomy).items():
            print(f"| {split} | {len(gold)} | {family} | {row['macro_f1']:.3f} | {row['same_set']:.3f} |")
    gold, second = tests["test"]
    print(
        "\n| family (test) | model vs gold | model vs second | model vs gold, texts both annotations agree on |"
        "\n|---|---|---|---|"
    )
    for family, row in model_rows(gold, second, taxonomy).items():
        print(
            f"| {family} | {row['vs_gold']:.3f} | {row['vs_second']:.3f} |"
            f" {row['vs_gold_where_agreed']:.3f} ({row['agreed_texts']} texts) |"
        )
    stage_sentiment_agreement()
    feedback_sentiment_agreement(*tests["dev"])


def feedback_sentiment_agreement(gold: list[dict], second: list[dict]) -> None:
    """The dev file's overall sentiment labels (negative / neutral / positive / mixed), annotated twice."""
    a, b = [row["sentiment"] for row in gold], [row["sentiment"] for row in second]
    agreed = sum(x == y for x, y in zip(a, b, strict=True))
    three_way = [(x, y) for x, y in zip(a, b, strict=True) if "mixed" not in (x, y)]
    print(
        "\n| feedback sentiment (dev) | texts | annotations agree | Cohen's kappa | agree where neither says mixed |"
        "\n|---|---|---|---|---|"
        f"\n| overall sentiment | {len(a)} | {agreed / len(a):.3f} ({agreed}) | {cohen_kappa_score(a, b):.3f}"
        f" | {sum(x == y for x, y in three_way) / len(three_way):.3f} ({len(three_way)} texts) |"
    )


def stage_sentiment_agreement() -> None:
    first, second = journey_check(), journey_check(JOURNEY_CHECK.parent / "second_annotation" / JOURNEY_CHECK.name)
    pairs = [(a, b) for (_, x), (_, y) in zip(first, second) for a, b in zip(x, y)]
    if any(a[0] != b[0] for a, b in pairs):
        raise SystemExit("the two stage sentiment annotations list different stages")
    agreed = sum(a[1] == b[1] for a, b in pairs)
    analyzer = journey_analyzer()
    model = {name: stage_sentiment_figures(analyzer, rows) for name, rows in (("gold", first), ("second", second))}
    print(
        "\n| stage sentiment check | pairs | annotations agree | model vs gold | model vs second |"
        "\n|---|---|---|---|---|"
        f"\n| all pairs | {len(pairs)} | {agreed / len(pairs):.3f} ({agreed}) | {model['gold']['aspect_accuracy']:.3f}"
        f" | {model['second']['aspect_accuracy']:.3f} |"
        f"\n| pairs whose stage the cues find | | | {model['gold']['accuracy_where_cue_found']:.3f}"
        f" | {model['second']['accuracy_where_cue_found']:.3f} |"
    )


if __name__ == "__main__":
    main()
