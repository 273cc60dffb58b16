"""Aspect sentiment checked on three sets: MAMS aspect categories, laptop review terms, our own.

The product gives each stage the sentiment of the clauses (or sentences) that mention it. MAMS
(Jiang et al. 2019, test split, Apache-2.0), where every sentence judges at least two aspects
differently, runs the path a user takes with another industry: the journey component with
``corpora/mappings/mams_taxonomy.yaml`` swapped in (cue-only); aspects with no cue fall back to the
whole text's sentiment. SemEval-2014's laptop reviews (train file, research use) give each aspect
term's own span as the mention. ``corpora/aspects/journey_check.jsonl`` (ours) has feedback texts
whose stages carry a sentiment each, read with the shipped taxonomy and heads: the domain the
product is for. No figure here is trained or tuned on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.bundle import REPO_ROOT
from nlp.heads.base import FeedbackDoc
from nlp.heads.journey import JourneyComponent
from nlp.train import corpora

MAMS_TAXONOMY = REPO_ROOT / "corpora" / "mappings" / "mams_taxonomy.yaml"
JOURNEY_CHECK = REPO_ROOT / "corpora" / "aspects" / "journey_check.jsonl"
Aspect = tuple[str, str]  # (category or stage, polarity)


def mams_acsa(split: str = "test", root: Path | None = None) -> list[tuple[str, list[Aspect]]]:
    tree = ET.parse((root or corpora.corpora_root()) / "mams" / "ACSA" / f"{split}.xml")
    rows = []
    for sentence in tree.getroot().iter("sentence"):
        aspects = [(a.get("category"), a.get("polarity")) for a in sentence.iter("aspectCategory")]
        rows.append((sentence.findtext("text").strip(), aspects))
    return rows


def laptop_terms(root: Path | None = None) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """SemEval-2014 laptop sentences with their aspect terms' (start, end, polarity); "conflict" dropped."""
    tree = ET.parse((root or corpora.corpora_root()) / "semeval14_absa" / "Laptop_Train_v2.xml")
    rows = []
    for sentence in tree.getroot().iter("sentence"):
        terms = [
            (int(t.get("from")), int(t.get("to")), t.get("polarity"))
            for t in sentence.iter("aspectTerm")
            if t.get("polarity") != "conflict"
        ]
        if terms:
            rows.append((sentence.findtext("text"), terms))
    return rows


def journey_check(path: Path = JOURNEY_CHECK) -> list[tuple[str, list[Aspect]]]:
    rows = corpora.read_jsonl(path)
    return [(row["text"], [(a["stage"], a["sentiment"]) for a in row["aspects"]]) for row in rows]


def journey_analyzer(taxonomy: Path | None = None) -> Analyzer:
    """Sentiment and journey; a swapped-in taxonomy is scored by its cues alone."""
    settings = {"taxonomy": str(taxonomy), "model_dir": "none"} if taxonomy else {}
    return Analyzer.from_config(
        AnalyzerConfig(components=["sentiment", "journey"], component_settings={"journey": settings})
    )


def evaluate_aspects(split: str = "test") -> dict[str, dict[str, float | int]]:
    mams = journey_analyzer(MAMS_TAXONOMY)  # loaded once: both reviews sets read the MAMS taxonomy
    return {
        "mams": stage_sentiment_figures(mams, mams_acsa(split)),
        "laptops": laptop_figures(mams),
        "journey_check": stage_sentiment_figures(journey_analyzer(), journey_check()),
    }


def stage_sentiment_figures(analyzer: Analyzer, rows: list[tuple[str, list[Aspect]]]) -> dict[str, float | int]:
    """Accuracy of each aspect's stage sentiment (the document's where the stage is not found), and
    on the aspects found by cues alone, beside the document's sentiment and the majority class."""
    results = analyzer.analyze([text for text, _ in rows])
    gold, by_stage, by_document, cued = [], [], [], []
    for (_, aspects), result in zip(rows, results):
        stages = {s.id: s for s in result.stages if s.sentiment}
        for stage_id, polarity in aspects:
            stage = stages.get(stage_id)
            gold.append(polarity)
            by_document.append(result.sentiment.label)
            by_stage.append(stage.sentiment.label if stage else result.sentiment.label)
            cued.append(bool(stage) and stage.evidence[0].source == "cue")
    found = np.array(cued)
    return {
        "aspect_accuracy": _accuracy(gold, by_stage),
        "aspect_macro_f1": round(float(f1_score(gold, by_stage, average="macro")), 4),
        "document_sentiment_accuracy": _accuracy(gold, by_document),
        "majority_class_accuracy": _accuracy(gold, [max(set(gold), key=gold.count)] * len(gold)),
        "aspects_with_cue_found": round(float(found.mean()), 4),
        "accuracy_where_cue_found": _accuracy(list(np.array(gold)[found]), list(np.array(by_stage)[found])),
        "n_aspects": len(gold),
    }


def laptop_figures(analyzer: Analyzer) -> dict[str, float | int]:
    """Each term's gold span as its mention, read as the product reads a stage's cue."""
    component = next(c for c in analyzer.components if isinstance(c, JourneyComponent))
    rows = laptop_terms()
    docs = analyzer.documents([text for text, _ in rows])
    gold, by_clause, by_document = [], [], []
    for doc, (_, terms) in zip(docs, rows):
        for start, _, polarity in terms:
            gold.append(polarity)
            by_document.append(doc.result.sentiment.label)
            by_clause.append(clause_label(component, doc, start))
    return {
        "aspect_accuracy": _accuracy(gold, by_clause),
        "document_sentiment_accuracy": _accuracy(gold, by_document),
        "majority_class_accuracy": _accuracy(gold, [max(set(gold), key=gold.count)] * len(gold)),
        "n_terms": len(gold),
    }


def clause_label(component: JourneyComponent, doc: FeedbackDoc, start: int) -> str:
    """A mention's sentiment as stages get theirs (the document's when no clause holds it)."""
    sentiment = component.mention_sentiment(doc, [start]) or doc.result.sentiment
    return sentiment.label


def _accuracy(gold: list[str], predicted: list[str]) -> float:
    return round(float(accuracy_score(gold, predicted)), 4) if gold else 0.0
