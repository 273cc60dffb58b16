"""Journey stages, touchpoints and value dimensions, each with evidence; aspect sentiment per stage.

A learned multi-label head per family reads the shared document vector, the family's cue
indicators (did any cue of label k match?) and, from journey 1.3, the probabilities of n-gram
classifiers learned from the training texts (``nlp.heads.lexical``), so the matcher's precision,
the training vocabulary and the encoder's recall meet in one calibrated probability. Each label
then decides by that probability, by its cues alone, or by either, whichever training found best
on held-out rows. Every reported label carries evidence: its matched cues, or, when the decision
is learned only, the sentence or clause that scores highest for it.

When a custom taxonomy's labels differ from the trained heads, that family falls back to the
cues alone (score 1 - 0.5^hits) until heads are retrained with ``voc train journey``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from nlp.bundle import ModelBundle, models_root
from nlp.heads.base import FeedbackDoc, Resources, opinion_units, register
from nlp.heads.cues import CueHits, CueMatcher
from nlp.heads.lexical import LexicalModel
from nlp.heads.linear import LinearHead, load_heads, sigmoid
from nlp.heads.sentiment import SentimentScorer
from nlp.schema import Evidence, Sentiment, TaggedLabel
from nlp.taxonomy import DEFAULT_TAXONOMY, Taxonomy

log = logging.getLogger(__name__)

LEARNED_FAMILIES = ("stages", "touchpoints", "value_dimensions")
# Cue indicators enter the heads scaled up, so L2 regularisation, which must stay strong on the
# 384 vector dimensions, does not also shrink the few cue weights (chosen by cross-validation).
CUE_WEIGHT = 3.0
# The same for the n-gram probabilities (3 beat 1 on the journey dev file in a one-off comparison).
LEXICAL_WEIGHT = 3.0
DECISION_MODES = ("learned", "cues", "union")


def head_features(vectors: np.ndarray, indicators: np.ndarray, lexical: np.ndarray | None = None) -> np.ndarray:
    """What a family head reads; ``lexical`` is None for heads trained before journey 1.3."""
    parts = [vectors, CUE_WEIGHT * indicators] + ([LEXICAL_WEIGHT * lexical] if lexical is not None else [])
    return np.hstack(parts)


class FamilyModel:
    """The trained head of one family with a decision rule per label, or cue-only scoring when absent.

    Per label, training chose on held-out rows whichever decides best: the head's probability over
    its threshold ("learned"), any cue match ("cues"), or either of the two ("union"). The matcher
    wins where its phrases are precise and the encoder adds little (most channel touchpoints).
    """

    def __init__(
        self,
        head: LinearHead | None,
        thresholds: np.ndarray | None,
        modes: list[str] | None = None,
        lexical: Callable[[list[str]], np.ndarray] | None = None,
    ):
        self.head = head
        self.lexical = lexical
        self.thresholds = thresholds
        width = 0 if thresholds is None else len(thresholds)
        self.modes = np.asarray(modes if modes is not None else ["learned"] * width)
        unknown = set(self.modes.tolist()) - set(DECISION_MODES)
        if unknown:
            raise ValueError(f"unknown decision modes {sorted(unknown)}; expected {DECISION_MODES}")

    @property
    def learned(self) -> bool:
        return self.head is not None

    def probabilities(
        self, vectors: np.ndarray, indicators: np.ndarray, hit_counts: np.ndarray, texts: list[str]
    ) -> np.ndarray:
        if self.head is None:
            return cue_scores(hit_counts)
        lexical = self.lexical(texts) if self.lexical is not None else None
        return sigmoid(self.head.logits(head_features(vectors, indicators, lexical)))

    def decide(self, probs: np.ndarray, hit_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(reported score, chosen) per row and label, following each label's decision mode."""
        if self.head is None:
            return probs, probs >= 0.5
        hit = hit_counts > 0
        by_head = probs >= self.thresholds
        use_cues, union = self.modes == "cues", self.modes == "union"
        chosen = np.where(use_cues, hit, np.where(union, by_head | hit, by_head))
        # A label chosen for its cues reports the cue score, so its score never sits below the cut.
        cue_decided = use_cues | (union & hit & ~by_head)
        scores = np.where(cue_decided, cue_scores(hit_counts), probs)
        return scores, chosen


def _units_key(family: str) -> str:
    return f"unit_probabilities/{family}"


def cue_scores(hit_counts: np.ndarray) -> np.ndarray:
    """Cue-only score: 0.5 for one matched cue, rising towards 1 with more."""
    return 1.0 - 0.5**hit_counts


def load_family_models(model_dir: Path | None, taxonomy: Taxonomy) -> dict[str, FamilyModel]:
    config_file = model_dir / "config.json" if model_dir else None
    config = json.loads(config_file.read_text()) if config_file and config_file.exists() else {}
    heads = load_heads(model_dir / "heads.safetensors") if config else {}
    lexical = LexicalModel.load(model_dir) if config else None
    models = {}
    for family in LEARNED_FAMILIES:
        trained_labels = config.get("labels", {}).get(family)
        if trained_labels == taxonomy.ids(family) and family in heads:
            thresholds = np.asarray(config["thresholds"][family], dtype=np.float32)
            # Heads trained before per-label decision modes decide by threshold alone.
            modes = config.get("decision", {}).get(family)
            reader = partial(lexical.probabilities, family) if lexical and family in lexical.heads else None
            models[family] = FamilyModel(heads[family], thresholds, modes, reader)
        else:
            if trained_labels is not None:
                log.warning("taxonomy %s labels differ from the trained heads: cue-only scoring", family)
            models[family] = FamilyModel(None, None)
    return models


def units_holding(spans: list[tuple[int, int]], starts: list[int]) -> list[int]:
    """Indices of the opinion units (clauses or sentences) in which any of the mentions starts."""
    return [i for i, (begin, end) in enumerate(spans) if any(begin <= start < end for start in starts)]


class JourneyComponent:
    name = "journey"

    def __init__(self, bundle: ModelBundle, resources: Resources, taxonomy: Taxonomy, model_dir: Path | None):
        self.taxonomy = taxonomy
        self.matcher = CueMatcher(resources.nlp, taxonomy)
        self.models = load_family_models(model_dir, taxonomy)
        self.sentiment = SentimentScorer(bundle)
        config_file = model_dir / "config.json" if model_dir else None
        meta = json.loads(config_file.read_text()) if config_file and config_file.exists() else {}
        self.version = f"{meta.get('name', 'cues-only')}@{meta.get('version', taxonomy.version)}"

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        if not docs:
            return
        hits = [self.matcher(doc.spacy_doc) for doc in docs]
        for doc, doc_hits in zip(docs, hits):
            doc.scratch["cues"] = doc_hits
        vectors = np.stack([d.vector for d in docs])
        texts = [doc.text for doc in docs]
        for family in LEARNED_FAMILIES:
            model = self.models[family]
            counts = np.stack([self.matcher.hit_counts(h, family) for h in hits])
            indicators = (counts > 0).astype(np.float32)
            scores, chosen = model.decide(model.probabilities(vectors, indicators, counts, texts), counts)
            # One nonzero over the batch instead of one per document.
            chosen_rows, chosen_columns = np.nonzero(chosen)
            ids = self.matcher.ids[family]
            # Docs with a learned-only label take their evidence from unit scores, computed here in one call.
            uncued = sorted({r for r, c in zip(chosen_rows, chosen_columns) if not hits[r][family].get(ids[c])})
            self._score_units([docs[row] for row in uncued], [hits[row] for row in uncued], family)
            labels: list[list[TaggedLabel]] = [[] for _ in docs]
            for row, column in zip(chosen_rows.tolist(), chosen_columns.tolist()):
                labels[row].append(self._tag(docs[row], hits[row], family, column, float(scores[row, column])))
            for doc, doc_labels in zip(docs, labels):
                setattr(doc.result, family, sorted(doc_labels, key=lambda t: -t.score))

    def _tag(self, doc: FeedbackDoc, hits: CueHits, family: str, column: int, score: float) -> TaggedLabel:
        label_id = self.matcher.ids[family][column]
        evidence = hits[family].get(label_id, [])
        if not evidence:
            spans, _ = opinion_units(doc)
            start, end = spans[int(np.argmax(doc.scratch[_units_key(family)][:, column]))]
            evidence = [Evidence(start=start, end=end, text=doc.text[start:end], source="sentence")]
        tag = TaggedLabel(id=label_id, score=round(min(1.0, max(0.0, score)), 4), evidence=evidence)
        if family == "stages":
            tag.sentiment = self.mention_sentiment(doc, [e.start for e in evidence])
        return tag

    def mention_sentiment(self, doc: FeedbackDoc, starts: list[int]) -> Sentiment | None:
        """Aspect sentiment: the mean over the opinion units (clauses or sentences) in which the
        mentions start; None when no unit holds one."""
        spans, unit_vectors = opinion_units(doc)
        mentioned = units_holding(spans, starts)
        if not mentioned:
            return None
        return self.sentiment.to_sentiment(self.sentiment.probabilities(unit_vectors[mentioned]).mean(axis=0))

    def _score_units(self, docs: list[FeedbackDoc], hits: list[CueHits], family: str) -> None:
        """Head probabilities of every sentence/clause of the docs given, in one call: the evidence
        of a learned-only label is the unit that scores highest for it. (Scored one doc at a time,
        the n-gram counting's fixed cost per call made the journey component twice as slow.)"""
        if not docs:
            return
        units = [opinion_units(doc) for doc in docs]
        # Per-span cue counts are 0/1 here; counts only matter for cue-only scoring.
        indicators = np.vstack([self.matcher.span_indicators(h, family, s) for h, (s, _) in zip(hits, units)])
        texts = [doc.text[start:end] for doc, (spans, _) in zip(docs, units) for start, end in spans]
        vectors = np.vstack([unit_vectors for _, unit_vectors in units])
        probs = self.models[family].probabilities(vectors, indicators, indicators, texts)
        bounds = np.cumsum([len(spans) for spans, _ in units])[:-1]
        for doc, block in zip(docs, np.split(probs, bounds)):
            doc.scratch[_units_key(family)] = block

    def versions(self) -> dict[str, str]:
        return {"journey": self.version}


@register("journey")
def make_journey(
    resources: Resources, taxonomy: str | None = None, model_dir: str | None = None, **_: object
) -> JourneyComponent:
    chosen_taxonomy = Taxonomy.load(Path(taxonomy) if taxonomy else DEFAULT_TAXONOMY)
    # model_dir "none" asks for cue-only scoring explicitly.
    folder = None if model_dir == "none" else Path(model_dir) if model_dir else models_root() / "voc-journey"
    return JourneyComponent(resources.bundle, resources, chosen_taxonomy, folder)
