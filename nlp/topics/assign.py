"""Assigning texts to topics from their vectors alone: cosine to the topic centroids, with a floor.

Pure numpy, so the Analyzer assigns topics without another encoder pass and without BERTopic's
UMAP/HDBSCAN (which a safetensors-saved model does not carry anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlp.topics.embeddings import normalize_rows

OUTLIER = -1


@dataclass(frozen=True)
class TopicIndex:
    """Unit-length topic centroids and what to call each topic."""

    ids: np.ndarray  # (n_topics,) int topic ids, no outlier row
    centroids: np.ndarray  # (n_topics, dim), unit rows
    floor: float  # best similarity below this => OUTLIER

    def nearest(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(topic id, cosine similarity) of the closest centroid for each row of ``vectors``."""
        similarity = normalize_rows(vectors) @ self.centroids.T
        best = similarity.argmax(axis=1)
        return self.ids[best], similarity[np.arange(len(best)), best]

    def assign(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest topic ids, OUTLIER where the similarity is under the floor, and the similarities."""
        ids, similarity = self.nearest(vectors)
        return np.where(similarity >= self.floor, ids, OUTLIER), similarity


def centroid_rows(model) -> tuple[np.ndarray, np.ndarray]:
    """(topic ids, centroid matrix) of a fitted or loaded BERTopic model, outlier row dropped."""
    return split_centroids(list(model.topic_representations_), model.topic_embeddings_)


def split_centroids(topic_ids: list[int], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair BERTopic's ``topic_embeddings_`` rows with topic ids and drop the outlier row.

    BERTopic keeps one row per topic in ``topic_representations_``, in ascending id order, the
    outlier topic -1 first when the model has one (also after merging models).
    """
    ids = np.array(sorted(topic_ids), dtype=int)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if len(ids) != len(embeddings):
        raise ValueError(f"topic model has {len(ids)} topics but {len(embeddings)} topic embeddings")
    keep = ids != OUTLIER
    return ids[keep], normalize_rows(embeddings[keep])


def index_from_model(model, floor: float) -> TopicIndex:
    ids, centroids = centroid_rows(model)
    return TopicIndex(ids=ids, centroids=centroids, floor=floor)


def choose_floor(dev_similarities: np.ndarray, outlier_share: float) -> float:
    """The similarity floor that marks ``outlier_share`` of held-out in-domain texts as outliers.

    Held-out texts come from the same distribution as the training data, so the floor is the
    similarity under which a text is less typical than all but that share of genuine feedback.
    """
    if len(dev_similarities) == 0:
        return 0.0
    return round(float(np.quantile(dev_similarities, outlier_share)), 4)
