"""Fitting, refitting and extending topic models on precomputed encoder vectors.

BERTopic's stages are each swappable: ``build_stages`` makes the defaults (seeded low-memory UMAP,
HDBSCAN, CountVectorizer, c-TF-IDF) and ``fit_topics`` takes any ``TopicStages`` whose members
follow BERTopic's base classes (``BaseDimensionalityReduction``, ``BaseCluster``, a scikit-learn
vectorizer, ``ClassTfidfTransformer``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from nlp.topics.assign import OUTLIER, choose_floor, index_from_model
from nlp.topics.data import Corpus
from nlp.topics.embeddings import Embedder, normalize_rows
from nlp.topics.store import CONFIG_FILE, TABLE_FILE, label_from_keywords, load_bertopic, quiet_bertopic, save_folder

log = logging.getLogger(__name__)


class TopicFitError(RuntimeError):
    """The data gave no topics (too few texts, or min_topic_size too large)."""


class TopicParams(BaseModel):
    """Every knob of a fit; stored in the model's config.json so a refit can repeat it."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 42
    min_topic_size: int = Field(default=15, ge=2, description="HDBSCAN min_cluster_size")
    min_samples: int | None = Field(default=None, ge=1, description="HDBSCAN min_samples (None: min_topic_size)")
    n_neighbors: int = Field(default=15, ge=2)
    n_components: int = Field(default=5, ge=2)
    min_df: int = Field(default=1, ge=1, description="CountVectorizer min_df, counted over topics, not texts")
    top_n_words: int = Field(default=10, ge=3)
    reduce_frequent_words: bool = Field(default=True, description="c-TF-IDF: damp words frequent in every topic")
    outlier_threshold: float = Field(default=0.0, description="reduce_outliers: min cosine to be reassigned")
    dev_share: float = Field(default=0.1, ge=0.0, lt=0.5, description="held out to choose the similarity floor")
    floor_quantile: float = Field(default=0.05, ge=0.0, lt=0.5, description="share of held-out texts below floor")
    guided: bool = False


@dataclass
class TopicStages:
    umap_model: Any
    hdbscan_model: Any
    vectorizer_model: Any
    ctfidf_model: Any


def build_stages(params: TopicParams) -> TopicStages:
    from bertopic.vectorizers import ClassTfidfTransformer
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    return TopicStages(
        umap_model=UMAP(
            n_neighbors=params.n_neighbors,
            n_components=params.n_components,
            min_dist=0.0,
            metric="cosine",
            random_state=params.seed,
            n_jobs=1,  # a seeded UMAP runs single-threaded anyway: the price of reproducibility
            low_memory=True,
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=params.min_topic_size,
            min_samples=params.min_samples,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=False,  # only UMAP/HDBSCAN's transform needs it; we assign by centroid
        ),
        vectorizer_model=CountVectorizer(stop_words="english", min_df=params.min_df),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=params.reduce_frequent_words),
    )


def bertopic_backend(embedder: Embedder):
    """Our embedder behind BERTopic's backend interface: guided mode embeds the seed word lists."""
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return normalize_rows(embedder.embed(list(documents)))

    return _Backend()


@dataclass
class FitOutcome:
    model: Any  # bertopic.BERTopic
    topics: list[int]  # per training text, after outlier reduction
    outlier_share_before: float
    outlier_share_after: float


def fit_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    params: TopicParams,
    stages: TopicStages | None = None,
    seed_topic_list: list[list[str]] | None = None,
    seed_embedder: Embedder | None = None,
) -> FitOutcome:
    """Fit, reassign outliers to their nearest topic, refresh keywords.

    ``embeddings`` are normalised here and nowhere before: callers pass what the embedder returned.
    """
    from bertopic import BERTopic

    if seed_topic_list and seed_embedder is None:
        raise ValueError("guided topics need an embedder for the seed word lists")
    texts = list(texts)
    embeddings = normalize_rows(embeddings)
    stages = stages or build_stages(params)
    model = BERTopic(
        embedding_model=bertopic_backend(seed_embedder) if seed_embedder else None,
        umap_model=stages.umap_model,
        hdbscan_model=stages.hdbscan_model,
        vectorizer_model=stages.vectorizer_model,
        ctfidf_model=stages.ctfidf_model,
        top_n_words=params.top_n_words,
        min_topic_size=params.min_topic_size,  # recorded in bertopic/config.json; HDBSCAN above applies it
        low_memory=True,
        seed_topic_list=seed_topic_list or None,
        calculate_probabilities=False,
    )
    with quiet_bertopic():
        # Guided mode moves vectors towards their seed topic in place: give it a copy then.
        topics, _ = model.fit_transform(texts, embeddings=embeddings.copy() if seed_topic_list else embeddings)
        before = float(np.mean(np.asarray(topics) == OUTLIER))
        if before == 1.0:
            raise TopicFitError(f"no topics among {len(texts)} texts; lower min_topic_size ({params.min_topic_size})")
        if before > 0:
            topics = model.reduce_outliers(
                texts, topics, strategy="embeddings", embeddings=embeddings, threshold=params.outlier_threshold
            )
            model.update_topics(
                texts,
                topics=topics,
                top_n_words=params.top_n_words,
                vectorizer_model=stages.vectorizer_model,
                ctfidf_model=stages.ctfidf_model,
            )
    # Centroids of the final members, from the unshifted vectors: BERTopic 0.17's update_topics keeps
    # a stale outlier row, and guided mode computed them from seed-shifted vectors.
    model.topic_embeddings_ = topic_centroids(embeddings, np.asarray(topics))
    after = float(np.mean(np.asarray(topics) == OUTLIER))
    model.set_topic_labels(_labels(model))
    model.representative_docs_ = {}
    return FitOutcome(model, [int(t) for t in topics], before, after)


def topic_centroids(embeddings: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """Mean vector of each topic's texts, rows in ascending topic id (outliers first if any remain)."""
    return np.stack([embeddings[topics == topic].mean(axis=0) for topic in np.unique(topics)])


def _labels(model) -> dict[int, str]:
    return {t: label_from_keywords([w for w, _ in model.get_topic(t) if w]) for t in model.topic_representations_}


def dev_split(size: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows); nothing is held out when the slice would be under 20 texts."""
    order = np.random.default_rng(seed).permutation(size)
    held = int(size * share)
    if held < 20:
        return np.arange(size), np.arange(0)
    return np.sort(order[held:]), np.sort(order[:held])


@dataclass
class FloorChoice:
    floor: float
    rows: int
    source: str  # "held-out texts" or "training texts"


def fit_with_floor(
    texts: Sequence[str],
    vectors: np.ndarray,
    params: TopicParams,
    seed_topic_list: list[list[str]] | None = None,
    seed_embedder: Embedder | None = None,
) -> tuple[FitOutcome, FloorChoice]:
    """Fit on all but a seeded held-out slice, and choose the similarity floor on that slice."""
    fit_rows, dev_rows = dev_split(len(texts), params.dev_share, params.seed)
    outcome = fit_topics(
        [texts[i] for i in fit_rows],
        vectors[fit_rows],
        params,
        seed_topic_list=seed_topic_list,
        seed_embedder=seed_embedder,
    )
    floor_rows, source = (dev_rows, "held-out texts") if len(dev_rows) else (fit_rows, "training texts")
    _, similarity = index_from_model(outcome.model, floor=0.0).nearest(vectors[floor_rows])
    return outcome, FloorChoice(choose_floor(similarity, params.floor_quantile), len(floor_rows), source)


def train_model(
    corpus: Corpus,
    embedder: Embedder,
    params: TopicParams,
    out: Path,
    data_description: dict[str, Any],
    seed_topic_list: list[list[str]] | None = None,
    seeds_source: str | None = None,
) -> dict[str, Any]:
    """Encode (or read cached vectors), fit, choose the similarity floor on held-out texts, save."""
    vectors = embedder.embed(corpus.texts)
    guided = params.guided and bool(seed_topic_list)
    outcome, floor = fit_with_floor(
        corpus.texts,
        vectors,
        params,
        seed_topic_list=seed_topic_list if guided else None,
        seed_embedder=embedder if guided else None,
    )
    config = {
        "name": out.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": {**embedder.identity, "id": embedder.version},
        "params": params.model_dump(),
        "guided_seeds": seeds_source if guided else None,
        "training_data": {**data_description, "texts": len(corpus.texts), "skipped_rows": corpus.dropped},
        "fit": {
            "texts": len(outcome.topics),
            "outlier_share_before_reduction": round(outcome.outlier_share_before, 4),
            "outlier_share_after_reduction": round(outcome.outlier_share_after, 4),
        },
        "assignment": {
            "method": "cosine to L2-normalised topic centroids; probability = cosine clipped to [0, 1]",
            "similarity_floor": floor.floor,
            "floor_chosen_on": f"{floor.source} ({floor.rows}), quantile {params.floor_quantile}",
        },
        "updates": [],
        "bertopic_version": _bertopic_version(),
    }
    return save_folder(outcome.model, out, config)


def update_model(
    folder: Path,
    corpus: Corpus,
    embedder: Embedder,
    out: Path,
    data_description: dict[str, Any],
    min_similarity: float = 0.7,
) -> tuple[dict[str, Any], list[int]]:
    """Fit the new texts alone and merge: old topic ids stay, topics not seen before are appended.

    Returns the new config and the ids of the topics that were added.
    """
    from bertopic import BERTopic

    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    kept_labels = {row["id"]: row["label"] for row in json.loads((folder / TABLE_FILE).read_text(encoding="utf-8"))}
    if config["encoder"]["id"] != embedder.version:
        log.warning("model was fitted with encoder %s, new texts use %s", config["encoder"]["id"], embedder.version)
    params = TopicParams(**config["params"])
    new = fit_topics(corpus.texts, embedder.embed(corpus.texts), params).model
    old = load_bertopic(folder)
    with quiet_bertopic():
        merged = BERTopic.merge_models([old, new], min_similarity=min_similarity)
    added = sorted(set(merged.topic_representations_) - set(old.topic_representations_))
    config["updates"] = [
        *config.get("updates", []),
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": {**data_description, "texts": len(corpus.texts), "skipped_rows": corpus.dropped},
            "min_similarity": min_similarity,
            "topics_added": added,
        },
    ]
    config["name"] = out.name
    return save_folder(merged, out, config, labels=kept_labels), added


def _bertopic_version() -> str:
    from importlib.metadata import version

    return version("bertopic")
