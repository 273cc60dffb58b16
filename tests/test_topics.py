"""Topic models end to end on a tiny synthetic corpus whose vectors cluster by construction.

A fake embedder stands in for the encoder (it maps each word to a vector near its cluster's
centre), so fits are small and fast; one test at the end runs the real encoder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nlp.cli import app
from nlp.encoder import Encoded
from nlp.heads.base import FeedbackDoc, get_factory
from nlp.heads.linear import save_heads
from nlp.schema import Result
from nlp.topics.assign import centroid_rows
from nlp.topics.component import OUTLIER_LABEL, TopicsComponent
from nlp.topics.data import Corpus
from nlp.topics.embeddings import normalize_rows, project_embedder
from nlp.topics.space import TOPIC_SPACE_FILE, TopicSpace, load_topic_space
from nlp.topics.store import MODEL_SUBDIR, TABLE_FILE, load_bertopic, load_folder
from nlp.topics.train import TopicParams, build_stages, fit_topics, fit_with_floor, train_model, update_model

CLUSTERS = {
    "cards": ["card", "arrived", "delivery", "post", "envelope", "courier"],
    "refunds": ["refund", "money", "returned", "reimburse", "cashback", "credited"],
    "app": ["app", "login", "password", "crash", "screen", "update"],
    "fees": ["fee", "charged", "commission", "exchange", "rate", "surcharge"],
}
DIM = 32
PARAMS = TopicParams(min_topic_size=10, n_neighbors=10)


class FakeEmbedder:
    """Deterministic text vectors: the mean of per-word vectors, cluster words near their centre."""

    version = "fake@1"

    def __init__(self) -> None:
        self.identity = {"name": "fake", "adapter_sha256": "fake"}
        rng = np.random.default_rng(0)
        centres = normalize_rows(rng.normal(size=(len(CLUSTERS), DIM)))
        self.words = {
            word: centre + 0.05 * rng.normal(size=DIM)
            for centre, words in zip(centres, CLUSTERS.values())
            for word in words
        }

    def word_vector(self, word: str) -> np.ndarray:
        if word in self.words:
            return self.words[word]
        return 0.02 * np.random.default_rng(sum(map(ord, word))).normal(size=DIM)  # filler: near zero

    def embed(self, texts: list[str]) -> np.ndarray:
        return normalize_rows(np.stack([np.mean([self.word_vector(w) for w in t.split()], axis=0) for t in texts]))


def synthetic_texts(clusters: list[str], per_cluster: int = 50, seed: int = 1) -> tuple[list[str], list[str]]:
    """(texts, cluster names): each text is five words of its cluster plus a filler word."""
    rng = np.random.default_rng(seed)
    texts, names = [], []
    for name in clusters:
        for _ in range(per_cluster):
            words = [*rng.choice(CLUSTERS[name], size=5).tolist(), str(rng.choice(["please", "today", "again"]))]
            texts.append(" ".join(words))
            names.append(name)
    return texts, names


class KMeansWithOutliers:
    """A swapped-in clustering stage: k-means, with the points farthest from their centre as outliers."""

    def __init__(self, k: int, outlier_share: float) -> None:
        self.k, self.outlier_share = k, outlier_share

    def fit(self, points: np.ndarray, y=None) -> KMeansWithOutliers:
        from sklearn.cluster import KMeans

        kmeans = KMeans(self.k, n_init=3, random_state=0).fit(points)
        distance = np.linalg.norm(points - kmeans.cluster_centers_[kmeans.labels_], axis=1)
        self.labels_ = np.where(distance > np.quantile(distance, 1 - self.outlier_share), -1, kmeans.labels_)
        return self


def train_folder(folder: Path, clusters: list[str], params: TopicParams = PARAMS) -> dict:
    texts, _ = synthetic_texts(clusters)
    return train_model(Corpus(texts, list(range(len(texts)))), FakeEmbedder(), params, folder, {"file": "synthetic"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("topics") / "three"
    train_folder(folder, ["cards", "refunds", "app"])
    return folder


def feedback_docs(vectors: np.ndarray) -> list[FeedbackDoc]:
    return [FeedbackDoc("", None, [], v, np.zeros((0, len(v))), Result()) for v in vectors]


def test_round_trip_train_save_load_assign(trained):
    loaded = load_folder(trained)
    texts, names = synthetic_texts(["cards", "refunds", "app"], per_cluster=20, seed=7)
    assigned, similarity = loaded.index.assign(FakeEmbedder().embed(texts))
    assert len(loaded.table) >= 2
    assert set(assigned.tolist()) <= {row["id"] for row in loaded.table} | {-1}
    assert np.all((similarity >= -1) & (similarity <= 1))
    # Texts of one synthetic cluster mostly land in one topic.
    for name in ("cards", "refunds", "app"):
        ids = [a for a, n in zip(assigned.tolist(), names) if n == name]
        assert max(ids.count(i) for i in set(ids)) >= 0.8 * len(ids)
    # The component reads centroids without importing BERTopic; they must be what BERTopic.load gives.
    ids, centroids = centroid_rows(load_bertopic(trained))
    np.testing.assert_array_equal(ids, loaded.index.ids)
    np.testing.assert_allclose(centroids, loaded.index.centroids)
    config = loaded.config
    assert 0 <= config["fit"]["outlier_share_after_reduction"] <= config["fit"]["outlier_share_before_reduction"]
    assert config["encoder"]["id"] == "fake@1"
    assert all(row["label"] and row["keywords"] and row["size"] > 0 for row in loaded.table)


def test_same_seed_gives_identical_topics(trained, tmp_path):
    train_folder(tmp_path / "again", ["cards", "refunds", "app"])
    assert (tmp_path / "again" / TABLE_FILE).read_text() == (trained / TABLE_FILE).read_text()
    first, second = load_folder(trained).index, load_folder(tmp_path / "again").index
    np.testing.assert_array_equal(first.centroids, second.centroids)
    assert first.floor == second.floor


def test_cli_path_and_direct_fit_agree_bit_for_bit(trained):
    """Vectors are normalised once, inside the fit: any extra pass would change last bits and topics."""
    texts, _ = synthetic_texts(["cards", "refunds", "app"])
    outcome, floor = fit_with_floor(texts, FakeEmbedder().embed(texts), PARAMS)
    ids, centroids = centroid_rows(outcome.model)
    saved = load_folder(trained).index
    np.testing.assert_array_equal(ids, saved.ids)
    np.testing.assert_array_equal(centroids, saved.centroids)
    assert floor.floor == saved.floor


def test_saved_folder_holds_no_texts_and_no_pickles(trained):
    texts, _ = synthetic_texts(["cards", "refunds", "app"])
    files = [p for p in trained.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".safetensors"}
    for path in files:
        content = path.read_bytes().decode("utf-8", errors="ignore")
        assert not any(text in content for text in texts), path
    assert load_bertopic(trained).representative_docs_ in ({}, None)


def test_update_keeps_old_ids_and_appends_new_topics(trained, tmp_path):
    before = json.loads((trained / TABLE_FILE).read_text())
    new_texts, _ = synthetic_texts(["app", "fees"], seed=3)
    _, added = update_model(
        trained, Corpus(new_texts, list(range(len(new_texts)))), FakeEmbedder(), tmp_path / "merged", {}
    )
    after = json.loads((tmp_path / "merged" / TABLE_FILE).read_text())
    old_ids = [row["id"] for row in before]
    assert [(r["id"], r["label"], r["keywords"]) for r in after[: len(before)]] == [
        (r["id"], r["label"], r["keywords"]) for r in before
    ]
    assert added and min(added) > max(old_ids)
    fees_topic, _ = load_folder(tmp_path / "merged").index.assign(FakeEmbedder().embed(["fee charged commission"]))
    assert fees_topic[0] in added


def test_component_assigns_topics_from_vectors_only(trained):
    component = TopicsComponent(trained)
    vectors = FakeEmbedder().embed(["card arrived courier", "refund money credited"])
    far_away = -normalize_rows(vectors.sum(axis=0, keepdims=True))  # opposite to every topic
    docs = feedback_docs(np.vstack([vectors, far_away]))
    component(docs)
    first, second, outlier = (d.result.topic for d in docs)
    assert first.id != second.id and first.id >= 0 and second.id >= 0
    assert first.keywords and 0.0 <= first.probability <= 1.0
    assert (outlier.id, outlier.label) == (-1, OUTLIER_LABEL)
    assert [row["id"] for row in component.topic_table()] == [row["id"] for row in load_folder(trained).table]
    assert component.versions()["topics"].startswith("three@")


class RawEncoder:
    """Stands in for the transformer: hands back fixed document vectors."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts: list[str]) -> list[Encoded]:
        return [Encoded(self.vectors[t], np.zeros((0, DIM), dtype=np.float32), 1) for t in texts]


def test_component_and_embedder_project_through_the_same_topic_space(trained, tmp_path, monkeypatch):
    """Raw vectors are a permutation of the fitted space; both paths must undo it the same way."""
    permutation = np.eye(DIM, dtype=np.float32)[np.random.default_rng(2).permutation(DIM)]
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps({"name": "fake-bundle", "version": "0"}))
    save_heads(bundle / "heads.safetensors", {})
    TopicSpace(permutation, np.zeros(DIM)).save(bundle / TOPIC_SPACE_FILE)
    texts = ["card arrived courier", "refund money credited", "app login crash"]
    raw = FakeEmbedder().embed(texts) @ permutation  # the space maps raw @ P.T back to the fitted vectors
    monkeypatch.setenv("VOC_CACHE", str(tmp_path / "cache"))
    embedder = project_embedder(bundle)
    embedder.inner.inner._encoder = RawEncoder(dict(zip(texts, raw)))  # the transformer under cache and map
    space = load_topic_space(bundle)
    component = TopicsComponent(trained, embedder.identity, space)
    docs = feedback_docs(raw)
    component(docs)
    ids, similarity = load_folder(trained).index.assign(embedder.embed(texts))
    assert [d.result.topic.id for d in docs] == ids.tolist() and len(set(ids.tolist())) == 3
    assert [d.result.topic.probability for d in docs] == [round(min(1.0, s), 4) for s in similarity.tolist()]
    assert embedder.identity["topic_space_sha256"] == space.sha256 and space.sha256[:12] in embedder.version


def test_component_reload_picks_up_a_retrained_folder(tmp_path):
    folder = tmp_path / "live"
    train_folder(folder, ["cards", "refunds", "app"])
    component = TopicsComponent(folder)
    version = component.versions()["topics"]
    train_folder(folder, ["cards", "fees"])
    component.reload()
    assert component.versions()["topics"] != version
    assert len(component.topic_table()) == len(load_folder(folder).table)


def test_outliers_are_reassigned_and_centroids_rebuilt():
    texts, _ = synthetic_texts(["cards", "refunds", "app"], per_cluster=30)
    vectors = FakeEmbedder().embed(texts)
    stages = build_stages(PARAMS)
    stages.hdbscan_model = KMeansWithOutliers(3, outlier_share=0.1)
    outcome = fit_topics(texts, vectors, PARAMS, stages=stages)
    assert outcome.outlier_share_before == pytest.approx(0.1, abs=0.02) and outcome.outlier_share_after == 0
    topics = np.asarray(outcome.topics)
    ids, centroids = centroid_rows(outcome.model)
    assert ids.tolist() == sorted(set(outcome.topics))
    expected = normalize_rows(np.stack([vectors[topics == t].mean(axis=0) for t in ids]))
    np.testing.assert_allclose(centroids, expected, atol=1e-6)


def test_guided_fit_uses_seed_words():
    texts, _ = synthetic_texts(["cards", "refunds", "app", "fees"], per_cluster=30)
    seeds = [CLUSTERS["fees"][:3], CLUSTERS["cards"][:3]]
    outcome = fit_topics(
        texts, FakeEmbedder().embed(texts), PARAMS, seed_topic_list=seeds, seed_embedder=FakeEmbedder()
    )
    assert len(set(outcome.topics) - {-1}) >= 2
    assert outcome.model.seed_topic_list == seeds


def test_cli_train_and_info_on_a_tiny_csv(tmp_path, monkeypatch):
    monkeypatch.setattr("nlp.topics.cli._embedder", lambda encoder: FakeEmbedder())
    texts, _ = synthetic_texts(["cards", "refunds", "app"])
    dates = pd.date_range("2026-01-01", periods=len(texts), freq="D")
    pd.DataFrame({"comment": texts, "date": dates}).to_csv(tmp_path / "export.csv", index=False)
    out = tmp_path / "model"
    runner = CliRunner()
    trained = runner.invoke(
        app,
        [
            *("topics", "train", str(tmp_path / "export.csv"), "--text-col", "comment", "--date-col", "date"),
            *("--min-topic-size", "10", "-o", str(out)),
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert (out / MODEL_SUBDIR).is_dir() and (out / "over_time.csv").exists()
    shown_table = (out / TABLE_FILE).read_text()
    shown = runner.invoke(app, ["topics", "info", str(out)])
    assert shown.exit_code == 0, shown.output
    assert json.loads((out / TABLE_FILE).read_text())[0]["label"] in shown.output
    new_texts, _ = synthetic_texts(["fees"])
    pd.DataFrame({"comment": new_texts}).to_csv(tmp_path / "new.csv", index=False)
    updated = runner.invoke(app, ["topics", "update", str(out), str(tmp_path / "new.csv"), "--text-col", "comment"])
    assert updated.exit_code == 0, updated.output
    assert len(json.loads((out / TABLE_FILE).read_text())) > len(json.loads(shown_table))


@pytest.mark.encoder
def test_factory_assigns_topics_to_encoded_texts(analyzer):
    default = Path(__file__).resolve().parents[1] / "models" / "topics" / "default"
    if not (default / "config.json").exists():
        pytest.skip("no default topic model yet")
    component = get_factory("topics")(analyzer.resources)
    texts = ["My card still has not arrived.", "Why was I charged a fee for the transfer?"]
    encoded = analyzer.encoder.encode(texts)
    docs = feedback_docs(np.stack([e.doc for e in encoded]))
    component(docs)
    ids = {row["id"] for row in component.topic_table()} | {-1}
    assert all(d.result.topic is not None and d.result.topic.id in ids for d in docs)
