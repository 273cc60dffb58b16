"""Train and evaluate the journey-stage, touchpoint and value-dimension heads.

The heads sit on the frozen, adapted encoder (the same pass every other head reads) plus the
taxonomy's cue indicators. Regularisation strength and per-label thresholds are chosen on the
dev file; the test file is read by ``evaluate_journey`` alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.bundle import REPO_ROOT
from nlp.heads.cues import CueMatcher
from nlp.heads.journey import CUE_WEIGHT, LEARNED_FAMILIES, head_features
from nlp.heads.linear import LinearHead, save_heads, sigmoid
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from nlp.train import corpora
from nlp.train.evaluate import choose_thresholds

JOURNEY_DATA = REPO_ROOT / "corpora" / "journey"
MAPPINGS = REPO_ROOT / "corpora" / "mappings"
C_GRID = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


@dataclass
class Features:
    vectors: np.ndarray
    indicators: dict[str, np.ndarray]  # family -> (n, n_labels) cue indicators

    def family(self, name: str) -> np.ndarray:
        return head_features(self.vectors, self.indicators[name])


def read_split(name: str, folder: Path = JOURNEY_DATA) -> list[dict]:
    with open(folder / f"{name}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def featurise(analyzer: Analyzer, matcher: CueMatcher, texts: list[str]) -> Features:
    docs = list(analyzer.resources.nlp.pipe(texts))
    hits = [matcher(doc) for doc in docs]
    vectors = np.stack([e.doc for e in analyzer.encoder.encode(texts)])
    indicators = {f: np.stack([matcher.indicators(h, f) for h in hits]) for f in LEARNED_FAMILIES}
    return Features(vectors, indicators)


def targets(rows: list[dict], family: str, ids: list[str]) -> np.ndarray:
    return np.array([[label in row[family] for label in ids] for row in rows], dtype=bool)


def fit_family(x_train, y_train, x_dev, y_dev) -> tuple[LinearHead, list[float], float]:
    """One-vs-rest logistic regression; C and thresholds chosen on dev."""
    best = (-1.0, None, None, None)
    for c in C_GRID:
        head = _fit(x_train, y_train, c)
        probs = sigmoid(head.logits(x_dev))
        thresholds = choose_thresholds(probs, y_dev)
        score = f1_score(y_dev, probs >= thresholds, average="macro", zero_division=0)
        if score > best[0]:
            best = (score, head, thresholds, c)
    return best[1], best[2], best[3]


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LinearHead:
    weights, biases = [], []
    for column in range(y.shape[1]):
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(x, y[:, column])
        weights.append(model.coef_[0])
        biases.append(model.intercept_[0])
    return LinearHead(np.stack(weights), np.array(biases))


def train_journey(out_dir: Path, data_dir: Path = JOURNEY_DATA, taxonomy_path: Path = DEFAULT_TAXONOMY) -> Path:
    taxonomy = Taxonomy.load(taxonomy_path)
    analyzer = Analyzer.from_config(AnalyzerConfig(components=["sentiment"]))
    matcher = CueMatcher(analyzer.resources.nlp, taxonomy)
    train, dev = read_split("train", data_dir), read_split("dev", data_dir)
    x_train = featurise(analyzer, matcher, [r["text"] for r in train])
    x_dev = featurise(analyzer, matcher, [r["text"] for r in dev])
    heads, thresholds, chosen_c = {}, {}, {}
    for family in LEARNED_FAMILIES:
        ids = taxonomy.ids(family)
        head, family_thresholds, c = fit_family(
            x_train.family(family), targets(train, family, ids), x_dev.family(family), targets(dev, family, ids)
        )
        heads[family], thresholds[family], chosen_c[family] = head, family_thresholds, c
    out_dir.mkdir(parents=True, exist_ok=True)
    save_heads(out_dir / "heads.safetensors", heads)
    config = {
        "name": "voc-journey",
        "version": "1.0.0",
        "encoder": analyzer.versions()["encoder"],
        "taxonomy": {"name": taxonomy.name, "version": taxonomy.version},
        "features": f"pooled document vector + {CUE_WEIGHT} x cue indicators of the family",
        "labels": {f: taxonomy.ids(f) for f in LEARNED_FAMILIES},
        "thresholds": thresholds,
        "chosen_C": chosen_c,
        "data": {"train": len(train), "dev": len(dev), "source": data_dir.name},
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out_dir


def _per_class(gold: np.ndarray, predicted: np.ndarray, ids: list[str]) -> dict[str, dict[str, float]]:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, zero_division=0)
    return {
        label: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "n": int(n)}
        for label, p, r, f, n in zip(ids, precision, recall, f1, support)
    }


def evaluate_journey(analyzer: Analyzer, data_dir: Path = JOURNEY_DATA) -> dict:
    """Test-file figures of the full component beside the cue-only baseline, plus external checks."""
    journey = next(c for c in analyzer.components if c.name == "journey")
    test = read_split("test", data_dir)
    results = analyzer.analyze([r["text"] for r in test], tasks=["sentiment", "journey"])
    hits = [journey.matcher(doc) for doc in analyzer.resources.nlp.pipe([r["text"] for r in test])]
    report: dict = {"n_test": len(test)}
    for family in LEARNED_FAMILIES:
        ids = journey.taxonomy.ids(family)
        gold = targets(test, family, ids)
        predicted = np.array([[label in {t.id for t in getattr(r, family)} for label in ids] for r in results])
        rules = np.stack([journey.matcher.indicators(h, family) for h in hits]).astype(bool)
        report[family] = {
            "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
            "micro_f1": round(float(f1_score(gold, predicted, average="micro", zero_division=0)), 4),
            "rules_only_macro_f1": round(float(f1_score(gold, rules, average="macro", zero_division=0)), 4),
            "per_class": _per_class(gold, predicted, ids),
        }
    report["external"] = {"airline_reasons": _airline_check(analyzer), "banking77": _banking_check(analyzer)}
    return report


def _stage_hit_rate(analyzer: Analyzer, texts: list[str], expected: list[str]) -> dict[str, float]:
    """Share of texts whose top stage, and whose stage set, contains the mapped stage."""
    results = analyzer.analyze(texts, tasks=["sentiment", "journey"])
    top = [r.stages[0].id if r.stages else None for r in results]
    any_hit = [stage in {s.id for s in r.stages} for r, stage in zip(results, expected)]
    return {
        "top_stage_accuracy": round(float(np.mean([t == e for t, e in zip(top, expected)])), 4),
        "stage_recall": round(float(np.mean(any_hit)), 4),
        "n": len(texts),
    }


def _airline_check(analyzer: Analyzer) -> dict[str, float]:
    mapping = yaml.safe_load((MAPPINGS / "airline_reasons_stages.yaml").read_text())["reasons"]
    rows = [r for r in corpora.airline_tweets("dev") if mapping.get(r["negativereason"])]
    return _stage_hit_rate(
        analyzer, [corpora.tweet_style(r["text"]) for r in rows], [mapping[r["negativereason"]] for r in rows]
    )


def _banking_check(analyzer: Analyzer) -> dict[str, float]:
    import csv

    mapping = yaml.safe_load((MAPPINGS / "banking77_stages.yaml").read_text())["intents"]
    with open(corpora.corpora_root() / "banking77" / "test.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return _stage_hit_rate(analyzer, [r["text"] for r in rows], [mapping[r["category"]] for r in rows])
