"""Word n-gram classifiers learned from the journey training texts, stacked into the journey heads.

The taxonomy's cue phrases are what a person thought to write down; the training texts hold many
more words that give a stage or channel away ("kiosk", "parcel", "top up"). A TF-IDF logistic
regression per label learns them, and its probabilities enter each family's head beside the
document vector and the cue indicators (stacking: the head is fitted on out-of-fold lexical
probabilities, so it learns how far to trust them). On the journey dev file, with the
voc-multitask 1.2.0 encoder, it lifted macro-F1 from 0.782 to 0.798 (stages), 0.859 to 0.872
(touchpoints) and 0.658 to 0.673 (value dimensions); ``voc train journey`` prints that dev check.

Stored without pickle: the vocabulary as JSON, the idf and per-family weights as safetensors.
The transform is sklearn's ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` rebuilt
from those arrays (a test holds the two equal).
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
NGRAM_RANGE = (1, 2)
MIN_DF = 2  # a word seen in one training text is that text's, not the label's


def word_counter(vocabulary: list[str] | None = None):
    """Counts of the word 1-2 grams; without a vocabulary, one to fit (terms in >= MIN_DF texts)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        ngram_range=NGRAM_RANGE,
        min_df=1 if vocabulary is not None else MIN_DF,
        vocabulary={term: i for i, term in enumerate(vocabulary)} if vocabulary is not None else None,
    )


@dataclass
class LexicalModel:
    """A shared TF-IDF vocabulary and one multi-label logistic head per journey family."""

    vocabulary: list[str]
    idf: np.ndarray
    heads: dict[str, LinearHead]

    def __post_init__(self) -> None:
        self._counts = word_counter(self.vocabulary)
        # The three families read the same texts in turn: count them once.
        self._last: tuple[tuple[str, ...], sparse.csr_matrix] | None = None

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        """Sublinear tf x idf, rows scaled to unit length (sklearn's TfidfVectorizer)."""
        # Scaled in place on the nonzeros: building diagonal matrices per call cost 3x the counting.
        weighted = self._counts.transform(texts).astype(np.float64).tocsr()
        weighted.data = (1.0 + np.log(weighted.data)) * self.idf[weighted.indices]
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        weighted.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(weighted.indptr))
        return weighted

    def probabilities(self, family: str, texts: list[str]) -> np.ndarray:
        key, cached = tuple(texts), self._last  # a local reference: safe if threads share the model
        if cached is None or cached[0] != key:
            cached = self._last = (key, self.features(texts))
        head = self.heads[family]
        logits = np.asarray(cached[1] @ head.weight.T.astype(np.float64)) + head.bias
        return sigmoid(logits).astype(np.float32)

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        (folder / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False) + "\n")
        save_file({"idf": self.idf.astype(np.float32), **head_tensors(self.heads)}, str(folder / WEIGHTS_FILE))

    @classmethod
    def load(cls, folder: Path) -> LexicalModel | None:
        """The model saved in ``folder``, or None where heads were trained without one."""
        if not (folder / WEIGHTS_FILE).exists():
            return None
        from safetensors.numpy import load_file

        tensors = load_file(str(folder / WEIGHTS_FILE))
        vocabulary = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(vocabulary, tensors["idf"], heads_from_tensors(tensors))
