"""A model-free stand-in for the Analyzer: well-formed, deterministic Results in microseconds.

For measuring the I/O path of ``voc tag`` on its own (bench/tag_memory.py) and for fast tests of
tagging and the report. Texts are validated exactly as the Analyzer does (``prepare``), so error
rows are real; the tags themselves are picked from a small vocabulary by a stable hash of the
text and mean nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from nlp.schema import Evidence, ItemError, LabelScore, Result, Sentence, Sentiment, TaggedLabel, Topic
from nlp.textprep import DEFAULT_MAX_CHARS, prepare

SENTIMENTS = ("negative", "neutral", "positive")
EMOTIONS = ("anger", "annoyance", "disappointment", "gratitude", "joy", "neutral")
STAGES = ("purchase", "delivery", "onboarding", "usage", "support", "billing")
SIGNALS = ("effort", "churn_risk", "needs_followup", "pain_point", "gain_creator")
TOPICS = (("late delivery", ["late", "courier"]), ("app login", ["login", "app"]), ("billing errors", ["invoice"]))


class StubConfig(BaseModel):
    max_chars: int = DEFAULT_MAX_CHARS
    truncate: bool = True


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class StubAnalyzer:
    component_names = ("sentiment", "emotion", "journey", "signals", "topics")

    def __init__(self, config: StubConfig | None = None) -> None:
        self.config = config or StubConfig()

    def versions(self) -> dict[str, str]:
        return {"encoder": "stub@0"}

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]:
        ids = list(ids) if ids is not None else [None] * len(texts)
        wanted = set(tasks) if tasks is not None else set(self.component_names)
        return [self._one(text, item_id, wanted) for text, item_id in zip(texts, ids)]

    def _one(self, text: object, item_id: str | None, wanted: set[str]) -> Result:
        prepared = prepare(text, self.config.max_chars, self.config.truncate)
        if isinstance(prepared, ItemError):
            return Result(id=item_id, error=prepared)
        digest = _digest(prepared.text)
        result = Result(
            id=item_id, text_length=prepared.original_length, truncated=prepared.truncated, models=self.versions()
        )
        whole = Evidence(start=0, end=len(prepared.text), text=prepared.text, source="sentence")
        if "sentiment" in wanted:
            label = SENTIMENTS[digest[0] % 3]
            sentiment = Sentiment(label=label, score=(digest[0] % 3 - 1) * 0.5, probs={label: 1.0})
            result.sentiment = sentiment
            result.sentences = [Sentence(**whole.model_dump(exclude={"source"}), sentiment=sentiment)]
        if "emotion" in wanted:
            result.emotions = [LabelScore(label=EMOTIONS[digest[1] % len(EMOTIONS)], score=0.8)]
        if "journey" in wanted and digest[2] % 4:  # some texts have no stage, as in real data
            result.stages = [TaggedLabel(id=STAGES[digest[2] % len(STAGES)], score=0.7, sentiment=result.sentiment)]
        if "signals" in wanted and digest[3] % 2:
            result.signals = [TaggedLabel(id=SIGNALS[digest[3] % len(SIGNALS)], score=0.6, evidence=[whole])]
        if "topics" in wanted:
            topic_id = digest[4] % len(TOPICS)
            label, keywords = TOPICS[topic_id]
            result.topic = Topic(id=topic_id, label=label, keywords=keywords, probability=0.9)
        return result
