"""Evidence from the taxonomy: a PhraseMatcher over the cue phrases of every label.

Matching is on lower-cased tokens, so "Cancelled" and "cancelled" match the same cue; inflected
forms are listed in the taxonomy itself. Overlapping matches of one label keep the longest.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from nlp.schema import Evidence
from nlp.taxonomy import FAMILIES, Taxonomy

CueHits = dict[str, dict[str, list[Evidence]]]  # family -> label id -> matched spans


class CueMatcher:
    def __init__(self, nlp: Language, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        # Label ids per family, looked up once: every document asks for them.
        self.ids = {family: taxonomy.ids(family) for family in FAMILIES}
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for family in FAMILIES:
            for label in taxonomy.family(family):
                if label.cues:
                    self.matcher.add(f"{family}/{label.id}", list(nlp.tokenizer.pipe(label.cues)))

    def __call__(self, doc: Doc) -> CueHits:
        spans_by_key = defaultdict(list)
        for span in self.matcher(doc, as_spans=True):  # spans made in Cython, labelled with the key
            spans_by_key[span.label_].append(span)
        hits: CueHits = {family: {} for family in FAMILIES}
        for key, spans in spans_by_key.items():
            family, label_id = key.split("/", 1)
            hits[family][label_id] = [
                Evidence(start=s.start_char, end=s.end_char, text=s.text, source="cue") for s in filter_spans(spans)
            ]
        return hits

    def indicators(self, hits: CueHits, family: str) -> np.ndarray:
        """1.0 per label of ``family`` with at least one cue match: a feature for the learned heads."""
        return np.array([1.0 if hits[family].get(label_id) else 0.0 for label_id in self.ids[family]], dtype=np.float32)

    def hit_counts(self, hits: CueHits, family: str) -> np.ndarray:
        """Number of matched cue spans per label of ``family``."""
        found = hits[family]
        return np.array([len(found.get(label_id, ())) for label_id in self.ids[family]], dtype=np.float32)

    def span_indicators(self, hits: CueHits, family: str, spans: list[tuple[int, int]]) -> np.ndarray:
        """Cue indicators restricted to each span: (n_spans, n_labels)."""
        ids = self.ids[family]
        out = np.zeros((len(spans), len(ids)), dtype=np.float32)
        for column, label_id in enumerate(ids):
            for evidence in hits[family].get(label_id, []):
                for row, (start, end) in enumerate(spans):
                    if start <= evidence.start and evidence.end <= end:
                        out[row, column] = 1.0
        return out
