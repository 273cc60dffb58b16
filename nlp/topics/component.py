"""The ``topics`` component: each text's topic from its document vector, with no extra encoder pass.

Document vectors go through the encoder bundle's topic space first (``nlp.topics.space``), the
same map topic models were fitted through.

A text goes to the topic whose centroid is closest in cosine; ``Topic.probability`` is that
cosine clipped to [0, 1] (a similarity, not a calibrated probability). Below the model's
similarity floor the text gets topic -1 ("outlier"), with the similarity it did reach.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from nlp.bundle import models_root
from nlp.heads.base import FeedbackDoc, Resources, register
from nlp.schema import Topic
from nlp.topics.assign import OUTLIER
from nlp.topics.space import TopicSpace, load_topic_space, project_or_keep
from nlp.topics.store import load_folder

log = logging.getLogger(__name__)

OUTLIER_LABEL = "outlier"
KEYWORDS_PER_RESULT = 5


class TopicsComponent:
    name = "topics"

    def __init__(
        self, model_dir: Path, encoder_identity: dict[str, Any] | None = None, space: TopicSpace | None = None
    ) -> None:
        self.model_dir = model_dir
        self.encoder_identity = encoder_identity or {}
        self.space = space
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Re-read the model folder; batches already running keep the model they started with."""
        with self._lock:
            loaded = load_folder(self.model_dir)
            self._warn_on_encoder_mismatch(loaded.config.get("encoder", {}))
            topics = {
                row["id"]: Topic(
                    id=row["id"], label=row["label"], keywords=row["keywords"][:KEYWORDS_PER_RESULT], probability=0.0
                )
                for row in loaded.table
            }
            self._state = (loaded, topics)  # one assignment: a batch sees the old or the new model, never a mix

    def _warn_on_encoder_mismatch(self, trained_with: dict[str, Any]) -> None:
        for key in ("adapter_sha256", "topic_space_sha256"):
            sha = self.encoder_identity.get(key)
            if sha and trained_with.get(key, "none") != sha:
                log.warning(
                    "topic model %s was fitted on another encoder (%s, %s differs); refit it: vectors no longer match",
                    self.model_dir,
                    trained_with.get("id"),
                    key,
                )

    def __call__(self, docs: list[FeedbackDoc]) -> None:
        if not docs:
            return
        loaded, topics = self._state
        ids, similarity = loaded.index.assign(project_or_keep(self.space, np.stack([d.vector for d in docs])))
        for doc, topic_id, score in zip(docs, ids.tolist(), similarity.tolist()):
            probability = round(min(1.0, max(0.0, score)), 4)
            if topic_id == OUTLIER:
                doc.result.topic = Topic(id=OUTLIER, label=OUTLIER_LABEL, keywords=[], probability=probability)
            else:
                doc.result.topic = topics[topic_id].model_copy(update={"probability": probability})

    def topic_table(self) -> list[dict[str, Any]]:
        """Every topic: id, label, keywords, size (training texts)."""
        return [dict(row) for row in self._state[0].table]

    def versions(self) -> dict[str, str]:
        loaded = self._state[0]
        return {"topics": f"{loaded.name}@{loaded.version}"}


def _encoder_identity(resources: Resources, space: TopicSpace | None) -> dict[str, Any]:
    adapter_sha = resources.bundle.adapter_sha256
    if adapter_sha is None:
        return {}
    return {"adapter_sha256": adapter_sha, "topic_space_sha256": space.sha256 if space else "none"}


@register("topics")
def make_topics(resources: Resources, model_dir: str | None = None) -> TopicsComponent:
    folder = Path(model_dir) if model_dir else models_root() / "topics" / "default"
    space = load_topic_space(resources.bundle.path)
    return TopicsComponent(folder, _encoder_identity(resources, space), space)
