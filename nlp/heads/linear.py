"""Linear classifier heads over pooled encoder vectors, stored as safetensors.

Training uses torch (``nn.Linear``); inference is a numpy matrix product, cheap next to the
encoder pass. The weights live in one safetensors file keyed ``{task}.weight`` / ``{task}.bias``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class LinearHead:
    """logits = vectors @ weight.T + bias."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight = weight.astype(np.float32)
        self.bias = bias.astype(np.float32)

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        return np.atleast_2d(vectors) @ self.weight.T + self.bias


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def head_tensors(heads: dict[str, LinearHead]) -> dict[str, np.ndarray]:
    tensors = {}
    for task, head in heads.items():
        tensors[f"{task}.weight"] = np.ascontiguousarray(head.weight)
        tensors[f"{task}.bias"] = np.ascontiguousarray(head.bias)
    return tensors


def heads_from_tensors(tensors: dict[str, np.ndarray]) -> dict[str, LinearHead]:
    """Every ``{task}.weight`` / ``{task}.bias`` pair; other tensors are left to the caller."""
    tasks = {key.rsplit(".", 1)[0] for key in tensors if key.endswith(".weight")}
    return {task: LinearHead(tensors[f"{task}.weight"], tensors[f"{task}.bias"]) for task in sorted(tasks)}


def save_heads(path: Path, heads: dict[str, LinearHead]) -> None:
    from safetensors.numpy import save_file

    save_file(head_tensors(heads), str(path))


def load_heads(path: Path) -> dict[str, LinearHead]:
    from safetensors.numpy import load_file

    return heads_from_tensors(load_file(str(path)))
