"""The topic model folder: BERTopic's safetensors files plus a readable table and our config.

    NAME/
      bertopic/       BERTopic.save(serialization="safetensors", save_ctfidf=True): topic
                      embeddings, c-TF-IDF, vocabulary, per-topic keywords; no documents
      topics.json     [{id, label, keywords, size}] - labels may be edited by hand to rename topics
      config.json     encoder identity, parameters, outlier shares, similarity floor, training data
      README.md       model card (kept when the folder is rewritten)

BERTopic writes its own ``topics.json``/``config.json``, hence its files live in ``bertopic/``.
Nothing here uses pickle, and representative documents are dropped before saving so a model
trained on private feedback carries keywords but never texts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.topics.assign import OUTLIER, TopicIndex, split_centroids

MODEL_SUBDIR = "bertopic"
TABLE_FILE = "topics.json"
CONFIG_FILE = "config.json"
KEPT_FILES = ("README.md",)
LABEL_WORDS = 3


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


@contextlib.contextmanager
def quiet_bertopic() -> Iterator[None]:
    """Silence BERTopic's advice-level warnings (no embedding model saved, custom topic lists).

    A filter rather than a level: BERTopic resets its logger's level when a model is created.
    """
    logger = logging.getLogger("BERTopic")
    logger.addFilter(_errors_only)
    try:
        yield
    finally:
        logger.removeFilter(_errors_only)


def _same_stem(first: str, second: str) -> bool:
    """Crude inflection match (refund/refunded, currency/currencies) without a stemmer."""
    shared = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), min(len(first), len(second)))
    return shared >= min(6, len(first), len(second))


def label_from_keywords(keywords: list[str]) -> str:
    """A cheap readable label: the top keywords, skipping inflections of one already used."""
    chosen: list[str] = []
    for word in keywords:
        if not any(_same_stem(word, kept) for kept in chosen):
            chosen.append(word)
        if len(chosen) == LABEL_WORDS:
            break
    return ", ".join(chosen) or "unlabelled"


def topic_table(model, labels: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """One row per topic (outliers excluded), in id order; ``labels`` overrides the keyword labels."""
    labels = labels or {}
    rows = []
    for topic_id in sorted(model.topic_representations_):
        if topic_id == OUTLIER:
            continue
        keywords = [word for word, _ in model.get_topic(topic_id) if word]
        size = int(model.topic_sizes_.get(topic_id, 0))
        label = labels.get(topic_id) or label_from_keywords(keywords)
        rows.append({"id": int(topic_id), "label": label, "keywords": keywords, "size": size})
    return rows


def _fingerprint(folder: Path) -> str:
    """Content hash of what decides assignments: centroids and the topic table."""
    digest = hashlib.sha256()
    for path in (folder / MODEL_SUBDIR / "topic_embeddings.safetensors", folder / TABLE_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def save_folder(model, folder: Path, config: dict[str, Any], labels: dict[int, str] | None = None) -> dict[str, Any]:
    """Write the whole folder next to the target, then swap it in (a reader never sees half a model).

    ``labels`` keeps names chosen earlier (e.g. hand-edited in topics.json) for those topic ids.
    """
    staging = folder.with_name(f".{folder.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.representative_docs_ = {}
    with quiet_bertopic():
        model.save(
            staging / MODEL_SUBDIR,
            serialization="safetensors",
            save_ctfidf=model.c_tf_idf_ is not None,  # merged models have no c-TF-IDF
            save_embedding_model=False,
        )
    for path in (staging / MODEL_SUBDIR).glob("*.safetensors"):
        path.chmod(0o644)  # safetensors writes 0600; the serving user may not be the training user
    table = topic_table(model, labels)
    _write_json(staging / TABLE_FILE, table)
    config = {**config, "n_topics": len(table), "version": _fingerprint(staging)}
    _write_json(staging / CONFIG_FILE, config)
    for name in KEPT_FILES:
        if (folder / name).exists():
            shutil.copy2(folder / name, staging / name)
    retired = folder.with_name(f".{folder.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)
    return config


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class TopicFolder:
    """What assignment needs from a model folder (BERTopic itself is not loaded: see ``load_folder``)."""

    path: Path
    config: dict[str, Any]
    table: list[dict[str, Any]]
    index: TopicIndex

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name)

    @property
    def version(self) -> str:
        return self.config.get("version", "0")


def load_bertopic(folder: Path):
    """The full BERTopic model (no embedding, UMAP or HDBSCAN model): for updating and inspection."""
    from bertopic import BERTopic

    with quiet_bertopic():
        return BERTopic.load(str(folder / MODEL_SUBDIR))


def read_centroids(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Topic ids and centroids straight from BERTopic's saved files, exactly as ``BERTopic.load``
    reads them, without importing BERTopic (whose import alone takes several seconds)."""
    from safetensors.numpy import load_file

    embeddings = load_file(folder / MODEL_SUBDIR / "topic_embeddings.safetensors")["topic_embeddings"]
    saved = json.loads((folder / MODEL_SUBDIR / "topics.json").read_text(encoding="utf-8"))
    return split_centroids([int(key) for key in saved["topic_representations"]], embeddings)


def load_folder(folder: Path) -> TopicFolder:
    if not (folder / CONFIG_FILE).exists() or not (folder / MODEL_SUBDIR).is_dir():
        raise FileNotFoundError(f"no topic model at {folder}; train one with 'voc topics train' (see models/topics)")
    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    table = json.loads((folder / TABLE_FILE).read_text(encoding="utf-8"))
    ids, centroids = read_centroids(folder)
    if sorted(row["id"] for row in table) != ids.tolist():
        raise ValueError(f"{folder / TABLE_FILE} does not list the same topic ids as the model in {MODEL_SUBDIR}/")
    index = TopicIndex(ids=ids, centroids=centroids, floor=float(config["assignment"]["similarity_floor"]))
    return TopicFolder(folder, config, table, index)
