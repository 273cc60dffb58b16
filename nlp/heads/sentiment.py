"""Document and sentence sentiment from one linear head over the shared vectors."""

from __future__ import annotations

import numpy as np

from nlp.bundle import ModelBundle
from nlp.heads.base import FeedbackDoc, Resources, register
from nlp.heads.linear import softmax
from nlp.schema import Sentence, Sentiment


class SentimentScorer:
    """Turns pooled vectors into ``Sentiment`` values (used by other components too)."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.head = bundle.heads["sentiment"]
        self.labels = bundle.labels("sentiment")
        # Log-prior offsets chosen on TweetEval val to balance recall across classes.
        self.bias = bundle.array("sentiment_bias", 0.0, len(self.labels))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return softmax(self.head.logits(vectors) + self.bias)

    def to_sentiment(self, probs: np.ndarray) -> Sentiment:
        # Plain floats from here: numpy calls on three numbers cost more than the arithmetic.
        values = probs.tolist()
        named = dict(zip(self.labels, (round(p, 4) for p in values)))
        score = min(1.0, max(-1.0, named["positive"] - named["negative"]))
        return Sentiment(label=self.labels[values.index(max(values))], score=round(score, 4), probs=named)

    def score(self, vectors: np.ndarray) -> list[Sentiment]:
        return [self.to_sentiment(p) for p in self.probabilities(vectors)]


class SentimentComponent:
    name = "sentiment"

    def __init__(self, bundle: ModelBundle) -> None:
        self.scorer = SentimentScorer(bundle)
        self.version = f"{bundle.name}@{bundle.version}"

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        if not docs:
            return
        doc_sentiments = self.scorer.score(np.stack([d.vector for d in docs]))
        for doc, sentiment in zip(docs, doc_sentiments):
            doc.result.sentiment = sentiment
            sentence_sentiments = self.scorer.score(doc.sentence_vectors) if len(doc.sentence_spans) else []
            doc.result.sentences = [
                Sentence(start=start, end=end, text=doc.text[start:end], sentiment=s)
                for (start, end), s in zip(doc.sentence_spans, sentence_sentiments)
            ]

    def versions(self) -> dict[str, str]:
        return {"sentiment": self.version}


@register("sentiment")
def make_sentiment(resources: Resources, **_: object) -> SentimentComponent:
    return SentimentComponent(resources.bundle)
