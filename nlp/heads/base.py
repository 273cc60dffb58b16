"""What every analysis component shares: the document it reads and writes, and the registry.

A component is built by a registered factory from the loaded resources and its own settings,
reads the encoder vectors and spaCy doc of a batch of ``FeedbackDoc`` and writes its part of
each ``Result``. Components never encode text themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from spacy.tokens import Doc

from nlp.schema import Result

if TYPE_CHECKING:
    from spacy.language import Language

    from nlp.bundle import ModelBundle
    from nlp.encoder import Encoded


@dataclass
class FeedbackDoc:
    """One text as it moves through the pipeline."""

    text: str
    spacy_doc: Doc
    sentence_spans: list[tuple[int, int]]
    vector: np.ndarray  # pooled document vector
    sentence_vectors: np.ndarray  # (n_sentences, dim), aligned with sentence_spans
    result: Result
    clause_spans: list[tuple[int, int]] = field(default_factory=list)  # contrast clauses (see sentences.py)
    clause_vectors: np.ndarray | None = None
    encoded: Encoded | None = None  # the pass itself, to pool spans found after it (aspect windows)
    scratch: dict[str, Any] = field(default_factory=dict)  # hand-offs between components


@dataclass
class Resources:
    """What factories build components from: loaded once per Analyzer."""

    bundle: ModelBundle
    nlp: Language
    settings: dict[str, Any] = field(default_factory=dict)  # the AnalyzerConfig as a dict


def opinion_units(doc: FeedbackDoc) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The finest spans that carry one opinion: clauses where a sentence was split, else sentences.
    Cached on the doc: several components ask for them."""
    if "units" not in doc.scratch:
        doc.scratch["units"] = _opinion_units(doc)
    return doc.scratch["units"]


def _opinion_units(doc: FeedbackDoc) -> tuple[list[tuple[int, int]], np.ndarray]:
    spans, vectors = list(doc.clause_spans), [] if doc.clause_vectors is None else list(doc.clause_vectors)
    for span, vector in zip(doc.sentence_spans, doc.sentence_vectors):
        if not any(span[0] <= c[0] and c[1] <= span[1] for c in doc.clause_spans):
            spans.append(span)
            vectors.append(vector)
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    if not spans:
        return [], np.zeros((0, doc.vector.shape[0]), dtype=np.float32)
    return [spans[i] for i in order], np.stack([vectors[i] for i in order])


class Component(Protocol):
    name: str

    def __call__(self, docs: list[FeedbackDoc]) -> None: ...

    def versions(self) -> dict[str, str]: ...


Factory = Callable[..., Component]
_REGISTRY: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Register a component factory under ``name`` (used in ``AnalyzerConfig.components``)."""

    def wrap(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return wrap


def get_factory(name: str) -> Factory:
    if name not in _REGISTRY:
        raise KeyError(f"unknown component {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def registered() -> list[str]:
    return sorted(_REGISTRY)
