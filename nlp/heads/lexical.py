"""N-gram classifiers learned from the journey training texts, stacked into the journey heads.

The taxonomy's cue phrases are what a person thought to write down; the training texts hold many
more words that give a stage or channel away ("kiosk", "parcel", "top up"). A TF-IDF logistic
regression per label learns them, and its probabilities enter each family's head beside the
document vector and the cue indicators (stacking: the head is fitted on out-of-fold n-gram
probabilities, so it learns how far to trust them). Two views of the text are counted: word 1-2
grams, and character 3-5 grams inside word boundaries, which also catch typos and word forms
("deliverd", "refunded"). On the journey dev file (482 texts, voc-multitask 1.2.0), word n-grams
lifted macro-F1 from 0.782 to 0.798 (stages), 0.859 to 0.872 (touchpoints) and 0.658 to 0.673
(value dimensions); on the 588-text dev file with 1.3.0, adding the character view took stages
0.784 -> 0.793 and touchpoints 0.860 -> 0.876 (value 0.667 -> 0.666). ``voc train journey``
prints that dev check.

Stored without pickle: vocabularies as JSON, idf and per-family weights as safetensors. Each view
is sklearn's ``TfidfVectorizer(..., min_df=2, sublinear_tf=True)`` rebuilt from those arrays (a
test holds them equal); the two views are concatenated and scaled by 1/sqrt(2), so a row keeps
unit length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from nlp.heads.linear import LinearHead, head_tensors, heads_from_tensors, sigmoid

VOCABULARY_FILE = "lexical_vocabulary.json"
WEIGHTS_FILE = "lexical.safetensors"
# name -> CountVectorizer settings of that view of the text
VIEWS = {
    "word": {"ngram_range": (1, 2)},
    "char": {"analyzer": "char_wb", "ngram_range": (3, 5)},
}
MIN_DF = 2  # an n-gram seen in one training text is that text's, not the label's


def ngram_counter(view: str, vocabulary: list[str] | None = None):
    """Counts of one view's n-grams; without a vocabulary, one to fit (n-grams in >= MIN_DF texts)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        **VIEWS[view],
        min_df=1 if vocabulary is not None else MIN_DF,
        vocabulary={term: i for i, term in enumerate(vocabulary)} if vocabulary is not None else None,
    )


def head_probabilities(head: LinearHead, features: sparse.csr_matrix) -> np.ndarray:
    """Sigmoid of a logistic head over sparse n-gram features."""
    logits = np.asarray(features @ head.weight.T.astype(np.float64)) + head.bias
    return sigmoid(logits).astype(np.float32)


@dataclass
class LexicalModel:
    """TF-IDF vocabularies of each view and one multi-label logistic head per journey family."""

    vocabularies: dict[str, list[str]]
    idf: dict[str, np.ndarray]
    heads: dict[str, LinearHead]

    def __post_init__(self) -> None:
        self._counters = {view: ngram_counter(view, terms) for view, terms in self.vocabularies.items()}
        self._idf = {view: weights.astype(np.float64) for view, weights in self.idf.items()}
        # The three families read the same texts in turn: count them once.
        self._last: tuple[tuple[str, ...], sparse.csr_matrix] | None = None

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        views = [self._view_features(view, texts) for view in self.vocabularies]
        return sparse.hstack(views, format="csr") * (1.0 / np.sqrt(len(views)))

    def _view_features(self, view: str, texts: list[str]) -> sparse.csr_matrix:
        """Sublinear tf x idf, rows scaled to unit length (sklearn's TfidfVectorizer)."""
        # Scaled in place on the nonzeros: building diagonal matrices per call cost 3x the counting.
        weighted = self._counters[view].transform(texts).astype(np.float64).tocsr()
        weighted.data = (1.0 + np.log(weighted.data)) * self._idf[view][weighted.indices]
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        weighted.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(weighted.indptr))
        return weighted

    def probabilities(self, family: str, texts: list[str]) -> np.ndarray:
        key, cached = tuple(texts), self._last  # a local reference: safe if threads share the model
        if cached is None or cached[0] != key:
            cached = self._last = (key, self.features(texts))
        return head_probabilities(self.heads[family], cached[1])

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        (folder / VOCABULARY_FILE).write_text(json.dumps(self.vocabularies, ensure_ascii=False) + "\n")
        idf = {f"idf.{view}": weights.astype(np.float32) for view, weights in self.idf.items()}
        # Half precision halves the file (~26k n-grams x 27 labels); probabilities move < 0.001.
        heads = {key: value.astype(np.float16) for key, value in head_tensors(self.heads).items()}
        save_file({**idf, **heads}, str(folder / WEIGHTS_FILE))

    @classmethod
    def load(cls, folder: Path) -> LexicalModel | None:
        """The model saved in ``folder``, or None where heads were trained without one."""
        if not (folder / WEIGHTS_FILE).exists():
            return None
        from safetensors.numpy import load_file

        tensors = load_file(str(folder / WEIGHTS_FILE))
        vocabularies = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        idf = {view: tensors[f"idf.{view}"] for view in vocabularies}
        return cls(vocabularies, idf, heads_from_tensors(tensors))
