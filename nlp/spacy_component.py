"""A spaCy component for users who already run a spaCy pipeline.

    import spacy
    nlp = spacy.load("en_core_web_sm")  # or spacy.blank("en")
    nlp.add_pipe("voc_lens")
    doc = nlp("The engineer never showed up.")
    doc._.sentiment, doc._.emotions, doc._.voc  # Sentiment, [LabelScore], full Result

The Analyzer loads lazily on the first document, once per component.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.schema import Result

for _name in ("voc", "sentiment", "emotions"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


class VocLensComponent:
    def __init__(self, model_dir: str | None, components: list[str] | None, batch_size: int) -> None:
        self.model_dir = model_dir
        self.components = components
        self.batch_size = batch_size
        self._analyzer = None

    @property
    def analyzer(self):
        if self._analyzer is None:
            from nlp.analyzer import Analyzer, AnalyzerConfig

            overrides: dict = {}
            if self.model_dir:
                overrides["model_dir"] = Path(self.model_dir)
            if self.components:
                overrides["components"] = self.components
            self._analyzer = Analyzer.from_config(AnalyzerConfig(**overrides))
        return self._analyzer

    @staticmethod
    def _set(doc: Doc, result: Result) -> Doc:
        doc._.voc = result
        doc._.sentiment = result.sentiment
        doc._.emotions = result.emotions
        return doc

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self.analyzer.analyze([doc.text])[0])

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        iterator = iter(docs)
        while batch := list(islice(iterator, batch_size or self.batch_size)):
            results = self.analyzer.analyze([doc.text for doc in batch])
            yield from (self._set(doc, result) for doc, result in zip(batch, results))


@Language.factory(
    "voc_lens",
    default_config={"model_dir": None, "components": None, "batch_size": 64},
)
def make_voc_lens(
    nlp: Language, name: str, model_dir: str | None, components: list[str] | None, batch_size: int
) -> VocLensComponent:
    return VocLensComponent(model_dir, components, batch_size)
