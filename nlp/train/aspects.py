"""Aspect sentiment checked on MAMS aspect categories (test split).

Runs the product path a user takes with another industry's taxonomy: the journey component with
``corpora/mappings/mams_taxonomy.yaml`` swapped in (cue-only), and reads each detected aspect's
sentiment. Aspects with no cue fall back to the whole text's sentiment.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.bundle import REPO_ROOT
from nlp.train import corpora

MAMS_TAXONOMY = REPO_ROOT / "corpora" / "mappings" / "mams_taxonomy.yaml"


def mams_acsa(split: str = "test") -> list[tuple[str, list[tuple[str, str]]]]:
    tree = ET.parse(corpora.corpora_root() / "mams" / "ACSA" / f"{split}.xml")
    rows = []
    for sentence in tree.getroot().iter("sentence"):
        aspects = [(a.get("category"), a.get("polarity")) for a in sentence.iter("aspectCategory")]
        rows.append((sentence.findtext("text").strip(), aspects))
    return rows


def evaluate_aspects(split: str = "test") -> dict[str, float]:
    analyzer = Analyzer.from_config(
        AnalyzerConfig(
            components=["sentiment", "journey"],
            component_settings={"journey": {"taxonomy": str(MAMS_TAXONOMY), "model_dir": "none"}},
        )
    )
    rows = mams_acsa(split)
    results = analyzer.analyze([text for text, _ in rows])
    gold, aspect_pred, doc_pred, found = [], [], [], 0
    for (_, aspects), result in zip(rows, results):
        stage_sentiment = {s.id: s.sentiment.label for s in result.stages if s.sentiment}
        for category, polarity in aspects:
            gold.append(polarity)
            doc_pred.append(result.sentiment.label)
            aspect_pred.append(stage_sentiment.get(category, result.sentiment.label))
            found += category in stage_sentiment
    majority = max(set(gold), key=gold.count)
    return {
        "aspect_accuracy": round(float(accuracy_score(gold, aspect_pred)), 4),
        "aspect_macro_f1": round(float(f1_score(gold, aspect_pred, average="macro")), 4),
        "document_sentiment_accuracy": round(float(accuracy_score(gold, doc_pred)), 4),
        "majority_class_accuracy": round(float(np.mean([g == majority for g in gold])), 4),
        "aspects_with_cue_found": round(found / len(gold), 4),
        "n_aspects": len(gold),
    }
