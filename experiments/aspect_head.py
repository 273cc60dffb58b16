"""Experiment: a learned aspect-sentiment head, read around each mention, against the clause's tone.

    python experiments/aspect_head.py     # ~4 min on 2 cores; reads no test split, saves nothing

The product gives a stage the sentiment of the clauses that mention it, which reads MAMS aspect
categories at 0.46 (its sentences judge two aspects differently, or name one without judging it).
This fits a linear head (3 classes, balanced, C chosen on MAMS val) over the mention's own token
vectors and windows of 2, 4 and 8 words either side of it within its sentence, all pooled from the
encoder pass the text already had (``Encoded.pool``). Training aspects are MAMS ACSA train found
by the MAMS cue taxonomy, as the product finds stages; the second arm adds 80% of SemEval-2014's
laptop terms (hash split of the sentence). It prints accuracy on the aspects found by cues, head
against clause: MAMS val, the laptop hold-out, and ``corpora/aspects/journey_check.jsonl`` (stages
of the shipped taxonomy), the domain the product is for.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from spacy.tokens import Doc

from nlp.analyzer import Analyzer
from nlp.heads.base import FeedbackDoc
from nlp.heads.journey import JourneyComponent
from nlp.heads.linear import LinearHead
from nlp.train.aspects import (
    MAMS_TAXONOMY,
    clause_label,
    journey_analyzer,
    journey_check,
    laptop_terms,
    mams_acsa,
)

WINDOWS = (0, 2, 4, 8)  # words either side of the mention; 0 is the mention alone
C_GRID = (0.03, 0.1, 0.3)


def mention_windows(doc: Doc, mention: tuple[int, int]) -> list[tuple[int, int]]:
    """Character spans of the mention widened by each width in tokens, never past its sentence."""
    span = doc.char_span(mention[0], mention[1], alignment_mode="expand")
    if span is None or len(span) == 0:
        return [mention] * len(WINDOWS)
    sentence = span.sent
    windows = []
    for width in WINDOWS:
        first = doc[max(sentence.start, span.start - width)]
        last = doc[min(sentence.end, span.end + width) - 1]
        windows.append((first.idx, last.idx + len(last.text)))
    return windows


def aspect_features(doc: FeedbackDoc, mentions: list[tuple[int, int]]) -> np.ndarray:
    """The window vectors side by side, averaged over the aspect's mentions."""
    rows = [np.concatenate([doc.encoded.pool(w) for w in mention_windows(doc.spacy_doc, m)]) for m in mentions]
    return np.mean(rows, axis=0)


@dataclass
class AspectSet:
    """Aspects found by cues (or given as spans): features, gold polarity, the clause's label."""

    features: list[np.ndarray]
    gold: list[str]
    clause: list[str]

    def add(self, features: np.ndarray, gold: str, clause: str) -> None:
        self.features.append(features)
        self.gold.append(gold)
        self.clause.append(clause)


def cued_aspects(analyzer: Analyzer, rows: list[tuple[str, list[tuple[str, str]]]]) -> AspectSet:
    found = AspectSet([], [], [])
    for doc, (_, aspects) in zip(analyzer.documents([text for text, _ in rows]), rows):
        stages = {s.id: s for s in doc.result.stages}
        for stage_id, polarity in aspects:
            stage = stages.get(stage_id)
            if stage and stage.evidence[0].source == "cue":
                mentions = [(e.start, e.end) for e in stage.evidence]
                found.add(aspect_features(doc, mentions), polarity, stage.sentiment.label)
    return found


def laptop_sets(analyzer: Analyzer) -> tuple[AspectSet, AspectSet]:
    """Laptop terms split 80/20 by a hash of the sentence: (train share, hold-out)."""
    component = next(c for c in analyzer.components if isinstance(c, JourneyComponent))
    rows = laptop_terms()
    train, held_out = AspectSet([], [], []), AspectSet([], [], [])
    for doc, (text, terms) in zip(analyzer.documents([text for text, _ in rows]), rows):
        target = held_out if zlib.crc32(text.encode()) % 5 == 0 else train
        for start, end, polarity in terms:
            target.add(aspect_features(doc, [(start, end)]), polarity, clause_label(component, doc, start))
    return train, held_out


def fit(sets: list[AspectSet], c: float) -> LogisticRegression:
    features, gold = np.vstack([f for s in sets for f in s.features]), [g for s in sets for g in s.gold]
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(features, gold)


def window_labels(head: LinearHead, aspects: AspectSet, k: int, labels: list[str]) -> list[str]:
    dim = head.weight.shape[1]
    vectors = np.array([f[k * dim : (k + 1) * dim] for f in aspects.features])
    return [labels[i] for i in head.logits(vectors).argmax(axis=1)]


def accuracy(predicted: list[str], gold: list[str]) -> float:
    return round(float(np.mean([p == g for p, g in zip(predicted, gold)])), 4)


def main() -> None:
    mams = journey_analyzer(MAMS_TAXONOMY)
    labels = mams.resources.bundle.labels("sentiment")
    mams_train, mams_val = cued_aspects(mams, mams_acsa("train")), cued_aspects(mams, mams_acsa("val"))
    laptops_train, laptops_held_out = laptop_sets(mams)
    ours = cued_aspects(journey_analyzer(), journey_check())
    checks = {"MAMS val": mams_val, "laptops hold-out": laptops_held_out, "journey check": ours}
    print(f"| model | {' | '.join(f'{name} ({len(s.gold)})' for name, s in checks.items())} |")
    print(f"|---|{'---|' * len(checks)}")
    print(f"| clause sentiment (shipped) | {' | '.join(str(accuracy(s.clause, s.gold)) for s in checks.values())} |")
    scorer = mams.resources.bundle.heads["sentiment"]
    for k, width in enumerate(WINDOWS):
        # The shipped sentiment head over one window instead of the clause: localising alone.
        figures = [accuracy(window_labels(scorer, s, k, labels), s.gold) for s in checks.values()]
        print(f"| sentiment head over the mention +- {width} words | {' | '.join(map(str, figures))} |")
    for arm, sets in {"MAMS": [mams_train], "MAMS + laptops": [mams_train, laptops_train]}.items():
        by_c = {c: fit(sets, c) for c in C_GRID}
        best = max(C_GRID, key=lambda c: accuracy(list(by_c[c].predict(np.array(mams_val.features))), mams_val.gold))
        figures = [accuracy(list(by_c[best].predict(np.array(s.features))), s.gold) for s in checks.values()]
        print(f"| head on {arm} (C {best}) | {' | '.join(map(str, figures))} |")


if __name__ == "__main__":
    main()
