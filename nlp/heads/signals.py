"""CX signals (effort, churn risk, needs follow-up, pain point, gain creator) and team routing.

Signals are rule-based on purpose: no public corpus labels them. Each comes from the taxonomy's
signal cues, and where the other components already know something relevant (a churn stage, a
clearly negative or positive sentence) that becomes evidence too. Every signal names its spans.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlp.heads.base import FeedbackDoc, Resources, opinion_units, register
from nlp.heads.cues import CueMatcher
from nlp.heads.sentiment import SentimentScorer
from nlp.schema import Evidence, Result, Route, TaggedLabel
from nlp.taxonomy import DEFAULT_ROUTING, DEFAULT_TAXONOMY, Routing, RuleCondition, Taxonomy

# A sentence this sure of its polarity is a pain point (negative) or gain creator (positive).
OPINION_FLOOR = 0.6
# Signals that sentence polarity can raise, with the sentiment class that raises them.
POLARITY_SIGNALS = {"pain_point": "negative", "gain_creator": "positive"}
# Signals that a detected journey stage raises.
STAGE_SIGNALS = {"churn_risk": "churn"}


def cue_score(hits: int) -> float:
    return 1.0 - 0.5**hits


class SignalsComponent:
    name = "signals"

    def __init__(self, resources: Resources, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.matcher = CueMatcher(resources.nlp, taxonomy)
        self.sentiment = SentimentScorer(resources.bundle)

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        for doc in docs:
            hits = doc.scratch.get("cues") or self.matcher(doc.spacy_doc)
            signals = [self._signal(doc, s.id, hits["signals"].get(s.id, [])) for s in self.taxonomy.signals]
            doc.result.signals = sorted((s for s in signals if s.score >= 0.5), key=lambda s: -s.score)

    def _signal(self, doc: FeedbackDoc, signal_id: str, cues: list[Evidence]) -> TaggedLabel:
        score, evidence = cue_score(len(cues)), list(cues)
        if signal_id in STAGE_SIGNALS:
            for stage in doc.result.stages:
                if stage.id == STAGE_SIGNALS[signal_id] and stage.score > score:
                    score, evidence = stage.score, evidence + stage.evidence
        if signal_id in POLARITY_SIGNALS:
            spans, _ = opinion_units(doc)
            if spans:
                probs = self._unit_sentiment(doc)[:, self.sentiment.labels.index(POLARITY_SIGNALS[signal_id])]
                sure = np.flatnonzero(probs >= OPINION_FLOOR)
                for index in sure.tolist():
                    start, end = spans[index]
                    evidence.append(Evidence(start=start, end=end, text=doc.text[start:end], source="sentence"))
                score = max(score, float(probs.max()) if len(sure) else 0.0)
        unique = {(e.start, e.end): e for e in evidence}  # a cue can also be a stage's evidence
        return TaggedLabel(
            id=signal_id, score=round(min(score, 1.0), 4), evidence=sorted(unique.values(), key=lambda e: e.start)
        )

    def _unit_sentiment(self, doc: FeedbackDoc) -> np.ndarray:
        """Sentiment probabilities of every opinion unit, once per doc for both polarity signals."""
        if "unit_sentiment" not in doc.scratch:
            doc.scratch["unit_sentiment"] = self.sentiment.probabilities(opinion_units(doc)[1])
        return doc.scratch["unit_sentiment"]

    def versions(self) -> dict[str, str]:
        return {"signals": f"rules@{self.taxonomy.name}-{self.taxonomy.version}"}


def matches(condition: RuleCondition, result: Result, text: str) -> bool:
    """All keys of a rule must hold; a list key holds when any of its values is present."""
    for key in ("stages", "touchpoints", "signals"):
        wanted = getattr(condition, key)
        if wanted and not any(tag.id in wanted for tag in getattr(result, key)):
            return False
    if condition.sentiment and (result.sentiment is None or result.sentiment.label != condition.sentiment):
        return False
    if condition.topics:
        haystack = " ".join([text, result.topic.label if result.topic else ""]).lower()
        if not any(keyword.lower() in haystack for keyword in condition.topics):
            return False
    return True


class RouteComponent:
    name = "route"

    def __init__(self, routing: Routing) -> None:
        self.routing = routing

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        for doc in docs:
            rule = next((r for r in self.routing.rules if matches(r.when, doc.result, doc.text)), None)
            doc.result.route = (
                Route(team=rule.team, rule=rule.name, priority=rule.priority)
                if rule
                else Route(team=self.routing.default_team, rule=None, priority="low")
            )

    def versions(self) -> dict[str, str]:
        return {"route": f"rules@{len(self.routing.rules)}"}


@register("signals")
def make_signals(resources: Resources, taxonomy: str | None = None, **_: object) -> SignalsComponent:
    return SignalsComponent(resources, Taxonomy.load(Path(taxonomy) if taxonomy else DEFAULT_TAXONOMY))


@register("route")
def make_route(resources: Resources, routing: str | None = None, **_: object) -> RouteComponent:
    return RouteComponent(Routing.load(Path(routing) if routing else DEFAULT_ROUTING))
