"""Multi-label GoEmotions emotions with per-label thresholds, plus the Ekman grouping."""

from __future__ import annotations

import numpy as np

from nlp.bundle import ModelBundle
from nlp.heads.base import FeedbackDoc, Resources, register
from nlp.heads.linear import sigmoid
from nlp.schema import LabelScore
from nlp.train.corpora import EKMAN_GROUPS


def predict_labels(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Labels over their threshold; the single best label when none is (every text has one)."""
    chosen = probs >= thresholds
    empty = ~chosen.any(axis=1)
    chosen[empty, probs[empty].argmax(axis=1)] = True
    return chosen


def ekman_scores(probs: np.ndarray, labels: list[str]) -> dict[str, np.ndarray]:
    """A group's score is its most probable member emotion."""
    index = {label: i for i, label in enumerate(labels)}
    return {group: probs[:, [index[m] for m in members]].max(axis=1) for group, members in EKMAN_GROUPS.items()}


class EmotionComponent:
    name = "emotion"

    def __init__(self, bundle: ModelBundle) -> None:
        self.head = bundle.heads["emotion"]
        self.labels = bundle.labels("emotion")
        self.thresholds = bundle.array("emotion_thresholds", 0.5, len(self.labels))
        self.version = f"{bundle.name}@{bundle.version}"

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        if not docs:
            return
        probs = sigmoid(self.head.logits(np.stack([d.vector for d in docs])))
        chosen = predict_labels(probs, self.thresholds)
        groups = {group: scores.tolist() for group, scores in ekman_scores(probs, self.labels).items()}
        # Plain lists: per-document numpy indexing costs more than these few comparisons.
        for row, (doc, doc_probs, doc_chosen) in enumerate(zip(docs, probs.tolist(), chosen.tolist())):
            picked = [
                LabelScore(label=label, score=round(p, 4))
                for label, p, keep in zip(self.labels, doc_probs, doc_chosen)
                if keep
            ]
            doc.result.emotions = sorted(picked, key=lambda s: -s.score)
            members = {p.label for p in picked}
            doc.result.emotion_groups = sorted(
                (
                    LabelScore(label=group, score=round(groups[group][row], 4))
                    for group, names in EKMAN_GROUPS.items()
                    if not members.isdisjoint(names)
                ),
                key=lambda s: -s.score,
            )

    def versions(self) -> dict[str, str]:
        return {"emotion": self.version}


@register("emotion")
def make_emotion(resources: Resources, **_: object) -> EmotionComponent:
    return EmotionComponent(resources.bundle)
