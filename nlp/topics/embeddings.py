"""Document vectors for topic modelling: the Analyzer's own encoder pass, cached on disk.

Topics are fitted on exactly the vectors the topics component reads at inference: ``Encoded.doc``,
mean-pooled, mapped through the bundle's topic space when it ships one (``nlp.topics.space``).
Embedders return them as they are; the fit L2-normalises them, once, in one place
(renormalising float32 unit vectors changes their last bits, and UMAP amplifies that into other
topics). Encoding is the slow part of a fit, so vectors are cached under
``.cache/voc-lens/embeddings/`` keyed by a hash of the encoder identity and the texts: a refit
with other clustering parameters never re-encodes. The cache holds the encoder's own vectors and
the topic space is applied after it, so a refitted map never re-encodes either.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from nlp.bundle import REPO_ROOT, models_root
from nlp.topics.space import TopicSpace, load_topic_space

if TYPE_CHECKING:
    from nlp.encoder import Encoder

log = logging.getLogger(__name__)

ENCODE_CHUNK = 512  # texts per Encoder.encode call: bounds the memory of one pass


def cache_root() -> Path:
    """``$VOC_CACHE`` or the checkout's gitignored ``.cache/voc-lens``."""
    return Path(os.environ.get("VOC_CACHE", REPO_ROOT / ".cache" / "voc-lens"))


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows; all-zero rows (texts with no tokens) stay zero instead of NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Embedder(Protocol):
    """Anything that turns texts into one vector per text.

    ``version`` names it in cache keys; ``identity`` describes it in a topic model's config.json.
    """

    version: str
    identity: dict[str, object]

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class EncoderEmbedder:
    """The project's encoder (base MiniLM + LoRA adapter from a model bundle), doc vectors only."""

    def __init__(self, model_dir: Path | None = None, max_tokens: int = 256) -> None:
        from nlp.bundle import ModelBundle

        bundle = ModelBundle.load(model_dir or models_root() / "voc-multitask")
        self.bundle_path = bundle.path
        self._bundle = bundle
        adapter_sha = bundle.adapter_sha256 or "none"
        self.max_tokens = max_tokens
        self._encoder: Encoder | None = None
        self.identity = {
            "name": bundle.name,
            "version": bundle.version,
            "adapter_sha256": adapter_sha,
            "max_tokens": max_tokens,
        }
        self.version = f"{bundle.name}@{bundle.version}+adapter:{adapter_sha[:12]}+tokens:{max_tokens}"

    @property
    def encoder(self) -> Encoder:
        """Built on first use: a fully cached refit never loads the transformer."""
        if self._encoder is None:
            from nlp.encoder import Encoder

            self._encoder = Encoder.for_bundle(self._bundle, max_tokens=self.max_tokens)
        return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from nlp.encoder import doc_vectors

        return doc_vectors(self.encoder, list(texts), ENCODE_CHUNK)


CACHE_FORMAT = "doc-vectors-as-returned-1"  # change when what a cache file holds changes


def content_key(version: str, texts: Sequence[str]) -> str:
    """Hash of the embedder identity and every text, in order (NUL cannot occur in prepared text)."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{version}".encode())
    for text in texts:
        digest.update(b"\x00")
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


class CachedEmbedder:
    """Wraps an embedder with an on-disk ``.npy`` cache (plain float32 arrays, never pickle)."""

    def __init__(self, inner: Embedder, folder: Path | None = None) -> None:
        self.inner = inner
        self.version = inner.version
        self.identity = inner.identity
        self.folder = folder or cache_root() / "embeddings"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        path = self.folder / f"{content_key(self.version, texts)}.npy"
        if path.exists():
            log.info("embeddings for %d texts read from cache %s", len(texts), path.name)
            return np.load(path, allow_pickle=False)
        vectors = np.asarray(self.inner.embed(texts), dtype=np.float32)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npy")
        np.save(partial, vectors, allow_pickle=False)
        partial.replace(path)  # atomic: a killed run never leaves a truncated cache entry
        return vectors


class TopicSpaceEmbedder:
    """Maps another embedder's vectors through a topic space; its identity names the map's hash."""

    def __init__(self, inner: Embedder, space: TopicSpace) -> None:
        self.inner = inner
        self.space = space
        self.identity = {**inner.identity, "topic_space_sha256": space.sha256}
        self.version = f"{inner.version}+space:{space.sha256[:12]}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.inner.embed(texts)
        return self.space.project(vectors) if len(vectors) else vectors


def project_embedder(model_dir: Path | None = None) -> Embedder:
    """The default for training and evaluation: the project encoder behind the disk cache, in topic space."""
    encoder = EncoderEmbedder(model_dir)
    cached = CachedEmbedder(encoder)
    space = load_topic_space(encoder.bundle_path)
    return TopicSpaceEmbedder(cached, space) if space is not None else cached
