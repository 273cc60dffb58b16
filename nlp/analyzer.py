"""The Analyzer: one pipeline object built from a config, one encoder pass feeding every component.

analyzer = Analyzer.from_config(AnalyzerConfig())
result = analyzer("The courier was late but support sorted it out.")
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Importing the component modules registers their factories.
import nlp.heads.emotion
import nlp.heads.journey
import nlp.heads.sentiment
import nlp.heads.signals
import nlp.topics.component  # noqa: F401
from nlp.bundle import ModelBundle, models_root
from nlp.encoder import Encoder
from nlp.heads.base import Component, FeedbackDoc, Resources, get_factory
from nlp.schema import ItemError, Result
from nlp.sentences import build_pipeline, clause_spans, sentence_spans
from nlp.textprep import DEFAULT_MAX_CHARS, Prepared, prepare

log = logging.getLogger(__name__)

# Order matters: signals read stages, routing reads everything before it.
DEFAULT_COMPONENTS = ["sentiment", "emotion", "journey", "topics", "signals", "route"]


class AnalyzerConfig(BaseModel):
    """Everything that decides what an Analyzer does; serialisable to JSON."""

    model_config = ConfigDict(extra="forbid")

    model_dir: Path = Field(default_factory=lambda: models_root() / "voc-multitask")
    components: list[str] = Field(default_factory=lambda: list(DEFAULT_COMPONENTS))
    component_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, gt=0)
    truncate: bool = True  # over-long texts are cut (and flagged) rather than rejected
    max_tokens: int = Field(default=256, ge=16, le=512)
    # isolated: each sentence of a multi-sentence text, and each clause of a sentence split at a
    # contrast ("..., but ..."), is also read on its own (accurate sentence and stage sentiment,
    # ~1.6x the tokens); pooled: sentences and clauses are pooled from the document's pass (fastest).
    sentence_mode: Literal["isolated", "pooled"] = "isolated"
    batch_size: int = Field(default=64, gt=0)
    threads: int | None = None


class Analyzer:
    def __init__(self, config: AnalyzerConfig, encoder: Encoder, resources: Resources, components: list[Component]):
        self.config = config
        self.encoder = encoder
        self.resources = resources
        self.components = components

    @classmethod
    def from_config(cls, config: AnalyzerConfig | None = None) -> Analyzer:
        config = config or AnalyzerConfig()
        bundle = ModelBundle.load(config.model_dir)
        encoder = Encoder.for_bundle(bundle, max_tokens=config.max_tokens, threads=config.threads)
        resources = Resources(bundle=bundle, nlp=build_pipeline(), settings=config.model_dump(mode="json"))
        components = [
            get_factory(name)(resources, **config.component_settings.get(name, {})) for name in config.components
        ]
        return cls(config, encoder, resources, components)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    def versions(self) -> dict[str, str]:
        versions: dict[str, str] = {"encoder": f"{self.resources.bundle.name}@{self.resources.bundle.version}"}
        for component in self.components:
            versions.update(component.versions())
        return versions

    def __call__(self, text: object, id: str | None = None) -> Result:
        return self.analyze([text], ids=[id])[0]

    def analyze(
        self,
        texts: Sequence[object],
        ids: Sequence[str | None] | None = None,
        tasks: Iterable[str] | None = None,
    ) -> list[Result]:
        """Analyse a batch; bad items get ``Result.error`` and never affect the others."""
        ids = list(ids) if ids is not None else [None] * len(texts)
        if len(ids) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
        wanted = set(tasks) if tasks is not None else None
        active = [c for c in self.components if wanted is None or c.name in wanted]
        versions = {k: v for k, v in self.versions().items() if k == "encoder" or wanted is None or k in wanted}
        results, good = self._prepare(texts, ids, versions)
        for start in range(0, len(good), self.config.batch_size):
            self._run(good[start : start + self.config.batch_size], active)
        return results

    def documents(self, texts: Sequence[str]) -> list[FeedbackDoc]:
        """The pipeline's documents after every component ran, token vectors included: evaluation
        and experiment code reads features from them. Unlike ``analyze``, a text that fails raises."""
        results, good = self._prepare(texts, [None] * len(texts), self.versions())
        failed = [result.error for result in results if result.error]
        if failed:
            raise ValueError(f"{len(failed)} of {len(texts)} texts cannot be analysed, e.g. {failed[0].message}")
        docs: list[FeedbackDoc] = []
        for start in range(0, len(good), self.config.batch_size):
            docs += self._run(good[start : start + self.config.batch_size], self.components)
        return docs

    def _prepare(
        self, texts: Sequence[object], ids: Sequence[str | None], versions: dict[str, str]
    ) -> tuple[list[Result], list[tuple[Prepared, Result]]]:
        """A result per item (bad items carry their error) and the items worth analysing."""
        results: list[Result] = []
        good: list[tuple[Prepared, Result]] = []
        for text, item_id in zip(texts, ids):
            prepared = prepare(text, self.config.max_chars, self.config.truncate)
            if isinstance(prepared, ItemError):
                results.append(Result(id=item_id, error=prepared))
                continue
            result = Result(
                id=item_id,
                text_length=prepared.original_length,
                truncated=prepared.truncated,
                normalized=prepared.normalized,
                models=versions,
            )
            results.append(result)
            good.append((prepared, result))
        return results, good

    def pipe(self, texts: Iterable[object], batch_size: int | None = None) -> Iterator[Result]:
        """Stream results for an iterable of texts, in order, one batch in memory at a time."""
        size = batch_size or self.config.batch_size
        iterator = iter(texts)
        while batch := list(islice(iterator, size)):
            yield from self.analyze(batch)

    def _run(self, items: list[tuple[Prepared, Result]], components: list[Component]) -> list[FeedbackDoc]:
        texts = [prepared.text for prepared, _ in items]
        spacy_docs = list(self.resources.nlp.pipe(texts))
        sentences = [sentence_spans(doc) for doc in spacy_docs]
        clauses = [clause_spans(doc) for doc in spacy_docs]
        isolated = self.config.sentence_mode == "isolated"
        isolate = [(s if len(s) > 1 else []) + c if isolated else [] for s, c in zip(sentences, clauses)]
        # One batched pass: documents, their sentences and contrast clauses.
        encoded = self.encoder.encode(texts, [s + c for s, c in zip(sentences, clauses)], isolate)
        docs = []
        for text, doc, sents, clauses_, enc, (_, result) in zip(texts, spacy_docs, sentences, clauses, encoded, items):
            n = len(sents)
            docs.append(FeedbackDoc(text, doc, sents, enc.doc, enc.spans[:n], result, clauses_, enc.spans[n:], enc))
        for component in components:
            component(docs)
        return docs
