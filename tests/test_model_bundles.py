"""The committed bundles hang together: each journey head and topic model was fitted on the
adapter it ships beside (a stale refit would read vectors from another space)."""

import json
from pathlib import Path

import pytest

from nlp.base_encoders import MPNET_SHA256
from nlp.bundle import REPO_ROOT, ModelBundle
from nlp.topics.space import load_topic_space

BUNDLES = [REPO_ROOT / "models", REPO_ROOT / "models" / "quality"]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("root", BUNDLES, ids=["default", "quality"])
def test_journey_heads_and_topics_were_fitted_on_the_adapter_beside_them(root: Path):
    multitask = ModelBundle.load(root / "voc-multitask")
    assert read_json(root / "voc-journey" / "config.json")["encoder"] == f"{multitask.name}@{multitask.version}"
    topics_encoder = read_json(root / "topics" / "default" / "config.json")["encoder"]
    assert topics_encoder["adapter_sha256"] == multitask.adapter_sha256
    assert topics_encoder["topic_space_sha256"] == load_topic_space(multitask.path).sha256
    assert multitask.config["train_config"]["base_model"] == multitask.base_encoder


def test_quality_bundle_names_the_mpnet_weights_it_was_trained_on():
    multitask = ModelBundle.load(REPO_ROOT / "models" / "quality" / "voc-multitask")
    assert multitask.base_encoder == "all-mpnet-base-v2"
    assert multitask.config["base_model"]["sha256"] == MPNET_SHA256
