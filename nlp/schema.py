"""The one typed result every surface returns: Python API, spaCy ``doc._``, CLI rows, HTTP JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SentimentLabel = Literal["negative", "neutral", "positive"]
ErrorCode = Literal["not_text", "empty_text", "binary_text", "too_long", "undecodable", "malformed_row", "internal"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sentiment(_Model):
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0, description="P(positive) - P(negative)")
    probs: dict[str, float]


class Span(_Model):
    """Characters [start, end) of the analysed text."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Sentence(Span):
    sentiment: Sentiment


class LabelScore(_Model):
    label: str
    score: float = Field(ge=0.0, le=1.0)


class Evidence(Span):
    source: Literal["cue", "sentence"] = Field(
        description="cue: a taxonomy cue phrase matched; sentence: the sentence that drove a learned decision"
    )


class TaggedLabel(_Model):
    """A stage, touchpoint, value dimension or signal found in the text, with why."""

    id: str
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
    sentiment: Sentiment | None = Field(default=None, description="aspect sentiment (stages only)")


class Topic(_Model):
    id: int
    label: str
    keywords: list[str]
    probability: float = Field(ge=0.0, le=1.0)


class Route(_Model):
    team: str
    rule: str | None
    priority: str = "normal"


class ItemError(_Model):
    code: ErrorCode
    message: str


class Result(_Model):
    id: str | None = None
    text_length: int = 0
    truncated: bool = Field(default=False, description="text was cut at the max_chars limit")
    normalized: bool = Field(default=False, description="encoding fixes were applied; offsets refer to the fixed text")
    sentiment: Sentiment | None = None
    sentences: list[Sentence] = Field(default_factory=list)
    emotions: list[LabelScore] = Field(default_factory=list, description="GoEmotions labels, sorted by score")
    emotion_groups: list[LabelScore] = Field(default_factory=list, description="Ekman grouping")
    stages: list[TaggedLabel] = Field(default_factory=list)
    touchpoints: list[TaggedLabel] = Field(default_factory=list)
    value_dimensions: list[TaggedLabel] = Field(default_factory=list)
    signals: list[TaggedLabel] = Field(default_factory=list)
    route: Route | None = None
    topic: Topic | None = None
    models: dict[str, str] = Field(default_factory=dict)
    error: ItemError | None = None
