"""Pure logic of the topics package: assignment maths, metrics, counting, caching, readers."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.topics.assign import OUTLIER, TopicIndex, choose_floor
from nlp.topics.data import DEFAULT_TAXONOMY, FALLBACK_SEED_TOPICS, read_export, seed_topics
from nlp.topics.embeddings import CachedEmbedder, content_key, normalize_rows
from nlp.topics.evaluate import CARD_END, CARD_START, npmi_coherence, topic_diversity, write_card_section
from nlp.topics.over_time import topics_over_time
from nlp.topics.space import TopicSpace, load_topic_space
from nlp.topics.store import label_from_keywords
from nlp.train.topic_space import choose_alpha, fit_ridge, mean_cosine


def test_index_assigns_nearest_centroid_and_outlier_below_floor():
    index = TopicIndex(ids=np.array([0, 4]), centroids=np.eye(2, 3, dtype=np.float32), floor=0.5)
    ids, similarity = index.assign(np.array([[2.0, 0.1, 0], [0.1, 3.0, 0], [0, 0, 1.0]]))
    assert ids.tolist() == [0, 4, OUTLIER]
    assert similarity[0] == pytest.approx(2 / np.hypot(2, 0.1), rel=1e-5)


def test_zero_vector_is_an_outlier_not_nan():
    index = TopicIndex(ids=np.array([0]), centroids=np.eye(1, 3, dtype=np.float32), floor=0.1)
    ids, similarity = index.assign(np.zeros((1, 3)))
    assert ids.tolist() == [OUTLIER] and similarity.tolist() == [0.0]


def test_floor_marks_the_chosen_share_of_dev_texts():
    similarities = np.linspace(0, 1, 101)
    floor = choose_floor(similarities, 0.05)
    assert np.mean(similarities < floor) == pytest.approx(0.05, abs=0.01)
    assert choose_floor(np.array([]), 0.05) == 0.0


def test_npmi_extremes():
    docs = ["apple banana", "apple banana", "cherry", "grape"]
    assert npmi_coherence([["apple", "banana"]], docs) == pytest.approx(1.0)
    assert npmi_coherence([["apple", "cherry"]], docs) == -1.0
    assert np.isnan(npmi_coherence([["missing", "words"]], docs))


def test_diversity_is_unique_share_of_top_words():
    assert topic_diversity([["a", "b"], ["a", "c"]]) == 0.75


def test_over_time_counts_and_shares():
    frame = pd.DataFrame(
        {"topic": [1, 1, 2, 2, None], "date": ["2026-01-05", "2026-01-06", "2026-01-06", "2026-01-13", "2026-01-14"]}
    )
    table = topics_over_time(frame, "topic", "date", freq="W")
    assert table.columns.tolist() == ["period", "topic", "count", "share"]
    first_week = table[table.period == table.period.min()]
    assert first_week.set_index("topic")["count"].to_dict() == {1: 2, 2: 1}
    assert first_week["share"].sum() == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 5), st.dates()), min_size=1, max_size=60))
def test_over_time_shares_sum_to_one_per_period(rows):
    frame = pd.DataFrame(rows, columns=["topic", "date"])
    table = topics_over_time(frame, "topic", "date", freq="M")
    assert table["count"].sum() == len(rows)
    np.testing.assert_allclose(table.groupby("period")["share"].sum(), 1.0)


def test_cache_hits_skip_the_inner_embedder(tmp_path):
    calls = []

    class Counting:
        version = "count@1"
        identity: ClassVar[dict] = {}

        def embed(self, texts):
            calls.append(len(texts))
            return np.ones((len(texts), 4))

    cached = CachedEmbedder(Counting(), tmp_path)
    first = cached.embed(["a", "b"])
    second = cached.embed(["a", "b"])
    np.testing.assert_array_equal(first, second)
    assert calls == [2]
    np.testing.assert_array_equal(first, np.ones((2, 4), dtype=np.float32))  # stored as returned
    assert content_key("v", ["ab", "c"]) != content_key("v", ["a", "bc"])


def test_normalize_rows_keeps_zero_rows():
    assert normalize_rows(np.zeros((1, 3))).tolist() == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_read_export_by_extension_drops_empty_texts(tmp_path, suffix):
    frame = pd.DataFrame({"comment": ["fine", "  ", "late parcel"], "when": ["2026-01-01", "2026-01-02", "bad"]})
    path = tmp_path / f"export{suffix}"
    writers = {
        ".csv": lambda: frame.to_csv(path, index=False),
        ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        ".parquet": lambda: frame.to_parquet(path),
        ".xlsx": lambda: frame.to_excel(path, index=False),
    }
    writers[suffix]()
    corpus = read_export(path, "comment", "when")
    assert corpus.texts == ["fine", "late parcel"] and corpus.rows == [0, 2] and corpus.dropped == 1
    assert corpus.dates.isna().tolist() == [False, True]


def test_read_export_names_a_missing_column(tmp_path):
    pd.DataFrame({"a": ["x"]}).to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(ValueError, match="no column 'comment'"):
        read_export(tmp_path / "e.csv", "comment")


def test_seed_topics_from_taxonomy_or_fallback(tmp_path):
    if DEFAULT_TAXONOMY.exists():
        seeds, source = seed_topics()
        assert seeds and all(seeds) and "stages" in source
    seeds, source = seed_topics(tmp_path / "missing.yaml")
    assert seeds == FALLBACK_SEED_TOPICS and source == "built-in fallback"


def test_card_section_is_replaced_not_duplicated(tmp_path):
    card = tmp_path / "README.md"
    card.write_text("# Card\n")
    write_card_section(card, "first")
    write_card_section(card, "second")
    text = card.read_text()
    assert text.count(CARD_START) == 1 and text.count(CARD_END) == 1
    assert "second" in text and "first" not in text and text.startswith("# Card")


def test_labels_skip_inflections_of_chosen_keywords():
    assert label_from_keywords(["refund", "refunded", "item", "currency", "currencies"]) == "refund, item, currency"
    assert label_from_keywords(["transfer", "transaction", "pin"]) == "transfer, transaction, pin"
    assert label_from_keywords([]) == "unlabelled"


def test_ridge_recovers_a_known_linear_map():
    rng = np.random.default_rng(3)
    weight, bias = rng.normal(size=(6, 8)), rng.normal(size=6)
    inputs = rng.normal(size=(400, 8))
    space = fit_ridge(inputs, inputs @ weight.T + bias, alpha=1e-6)
    np.testing.assert_allclose(space.weight, weight, atol=1e-4)
    np.testing.assert_allclose(space.bias, bias, atol=1e-4)


def test_alpha_is_chosen_on_the_held_out_rows():
    rng = np.random.default_rng(4)
    inputs = rng.normal(size=(300, 5))
    targets = inputs @ rng.normal(size=(5, 5)) + 0.01 * rng.normal(size=(300, 5))
    held_out = np.arange(300) % 5 == 0
    alpha, scores = choose_alpha(inputs, targets, held_out, alphas=(0.01, 1e4))
    assert alpha == 0.01 and scores["0.01"] > scores["10000.0"]
    assert mean_cosine(targets, targets) == pytest.approx(1.0)


def test_topic_space_round_trips_and_names_its_file_hash(tmp_path):
    space = TopicSpace(np.arange(12.0).reshape(3, 4), np.array([1.0, 2.0, 3.0]))
    space.save(tmp_path / "topic_space.safetensors")
    loaded = load_topic_space(tmp_path)
    vectors = np.random.default_rng(5).normal(size=(7, 4))
    np.testing.assert_array_equal(loaded.project(vectors), space.project(vectors))
    assert len(loaded.sha256) == 64 and load_topic_space(tmp_path / "elsewhere") is None


def test_topic_space_samples_the_journey_file_it_is_given(tmp_path):
    """`make train` refits the shipped map on the journey train file as it was (git show), not today's."""
    from nlp.train.topic_space import generic_texts

    journey = tmp_path / "train.jsonl"
    texts = ["the parcel never came", "bill doubled overnight", "app keeps crashing"]
    journey.write_text("".join(f'{{"text": "{t}", "stages": []}}\n' for t in texts), encoding="utf-8")
    sampled = generic_texts(per_corpus=2, seed=1, journey=journey)
    assert len(sampled["corpora/journey/train"]) == 2 and set(sampled["corpora/journey/train"]) <= set(texts)
    assert all(len(group) == 2 for group in sampled.values())
