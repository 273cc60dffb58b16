"""The topic space: a linear map from the adapted encoder's document vectors to the base encoder's.

The sentiment/emotion adapter washes topical features out of the document vectors (BANKING77
AMI falls well below that of the base MiniLM vectors). A second encoder pass would cost every
request, so topics instead read ``vectors @ weight.T + bias``: a ridge regression fitted on
unlabelled texts to predict the base encoder's vector from the adapted one (``voc train
topic-space``). The map lives next to the adapter as ``topic_space.safetensors``; a bundle
without one leaves vectors as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOPIC_SPACE_FILE = "topic_space.safetensors"


class TopicSpace:
    """projected = vectors @ weight.T + bias (weight is (out, in), as in ``nn.Linear``)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, sha256: str = "unsaved") -> None:
        self.weight = np.ascontiguousarray(weight, dtype=np.float32)
        self.bias = np.ascontiguousarray(bias, dtype=np.float32)
        self.sha256 = sha256

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(np.asarray(vectors, dtype=np.float32)) @ self.weight.T + self.bias).astype(np.float32)

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        save_file({"weight": self.weight, "bias": self.bias}, str(path))

    @classmethod
    def load(cls, path: Path) -> TopicSpace:
        from safetensors.numpy import load_file

        from nlp.base_encoders import file_sha256

        tensors = load_file(str(path))
        return cls(tensors["weight"], tensors["bias"], file_sha256(path))


def load_topic_space(model_dir: Path) -> TopicSpace | None:
    """The bundle's topic space, or None when it ships without one."""
    path = model_dir / TOPIC_SPACE_FILE
    return TopicSpace.load(path) if path.exists() else None


def project_or_keep(space: TopicSpace | None, vectors: np.ndarray) -> np.ndarray:
    return space.project(vectors) if space is not None else np.asarray(vectors, dtype=np.float32)
