import json
from pathlib import Path

import numpy as np
import pytest

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.heads.journey import FamilyModel
from nlp.heads.linear import LinearHead
from nlp.heads.signals import matches
from nlp.schema import Evidence, Result, Sentiment, TaggedLabel
from nlp.taxonomy import DEFAULT_TAXONOMY, Routing, RuleCondition, Taxonomy
from nlp.train.aspects import journey_check, stage_sentiment_figures
from nlp.train.evaluate import bootstrap_interval, macro_recall
from nlp.train.journey import NEVER_SEEN_LOGIT, PARALLEL_MIN_ROWS, _fit, _fit_label, choose_decisions, f1_per_threshold

MIXED = "The courier lost my parcel, and when I rang customer service they hung up on me."


def ids(labels):
    return {label.id for label in labels}


def test_mixed_text_gets_both_stages_with_evidence_offsets(analyzer):
    result = analyzer(MIXED)
    assert {"delivery", "support"} <= ids(result.stages)
    for stage in result.stages:
        assert stage.evidence, stage.id
        for span in stage.evidence:
            assert MIXED[span.start : span.end] == span.text
        assert stage.sentiment is not None


def test_aspect_sentiment_follows_the_clause_that_mentions_the_stage(analyzer):
    text = "Delivery was really quick and the parcel arrived early, but customer service was rude and useless."
    stages = {s.id: s for s in analyzer(text).stages}
    assert stages["delivery"].sentiment.score > stages["support"].sentiment.score


def test_survey_non_answers_have_no_stage(analyzer):
    for text in ["n/a", "nothing to add", "no comment"]:
        assert analyzer(text).stages == [], text


def test_off_topic_greeting_has_no_stage(analyzer):
    assert analyzer("Happy new year everyone!").stages == []


def test_touchpoints_and_signals_are_tagged(analyzer):
    result = analyzer("I called the call centre three times and was on hold for an hour. I'm cancelling.")
    assert "call_centre" in ids(result.touchpoints)
    assert {"effort", "churn_risk"} <= ids(result.signals)
    assert result.route is not None and result.route.team


def test_custom_taxonomy_swaps_labels_without_code(tmp_path: Path):
    taxonomy = tmp_path / "hotel.yaml"
    taxonomy.write_text(
        "name: hotel\nversion: 1\nstages:\n"
        "  - {id: checkin, label: Check-in, cues: [check-in, front desk, key card]}\n"
        "  - {id: room, label: Room, cues: [room, bed, shower]}\n"
    )
    custom = Analyzer.from_config(
        AnalyzerConfig(components=["sentiment", "journey"], component_settings={"journey": {"taxonomy": str(taxonomy)}})
    )
    result = custom("The front desk lost our booking, but the room was spotless.")
    assert ids(result.stages) == {"checkin", "room"}
    assert result.touchpoints == []
    room = next(s for s in result.stages if s.id == "room")
    assert room.evidence[0].text == "room" and room.evidence[0].source == "cue"


def test_taxonomy_rejects_bad_ids(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages:\n  - {id: Not An Id, label: X}\n")
    with pytest.raises(ValueError):
        Taxonomy.load(bad)


def _result(stages=(), signals=(), sentiment="negative") -> Result:
    def tagged(label_id):
        return TaggedLabel(id=label_id, score=0.9, evidence=[Evidence(start=0, end=1, text="x", source="cue")])

    probs = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
    return Result(
        sentiment=Sentiment(label=sentiment, score=-0.7, probs=probs),
        stages=[tagged(s) for s in stages],
        signals=[tagged(s) for s in signals],
    )


def test_routing_rule_needs_every_key_and_any_value():
    rule = RuleCondition(stages=["billing"], signals=["churn_risk"], sentiment="negative")
    assert matches(rule, _result(stages=["billing"], signals=["churn_risk", "effort"]), "")
    assert not matches(rule, _result(stages=["billing"]), "")
    assert not matches(rule, _result(stages=["billing"], signals=["churn_risk"], sentiment="positive"), "")


def test_default_routing_sends_billing_churn_to_retention():
    routing = Routing.load()
    result = _result(stages=["billing"], signals=["churn_risk"])
    first = next(r for r in routing.rules if matches(r.when, result, "charged twice"))
    assert first.team == "retention-desk"


def test_bootstrap_interval_brackets_the_figure_and_is_repeatable():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 3, 300)
    predicted = np.where(rng.random(300) < 0.7, gold, rng.integers(0, 3, 300))
    low, high = bootstrap_interval(macro_recall, gold, predicted)
    assert low < macro_recall(gold, predicted) < high < low + 0.2
    assert bootstrap_interval(macro_recall, gold, predicted) == [low, high]
    assert bootstrap_interval(macro_recall, gold, gold) == [1.0, 1.0]


def test_labels_fitted_in_parallel_match_fits_one_at_a_time():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(PARALLEL_MIN_ROWS, 6))
    y = np.column_stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0.5, np.zeros(len(x), dtype=bool)])
    head = _fit(x, y, 1.0)
    for column in range(y.shape[1]):
        weights, bias = _fit_label(x, y[:, column], 1.0)
        assert np.allclose(head.weight[column], weights, atol=1e-6) and np.isclose(head.bias[column], bias)
    assert head.bias[2] == -NEVER_SEEN_LOGIT


def test_f1_per_threshold_matches_a_hand_count():
    scores = np.array([0.9, 0.6, 0.4, 0.1])
    gold = np.array([True, False, True, False])
    # At 0.5: one true positive, one false positive, one miss -> F1 = 2 / (2 + 1 + 1).
    assert f1_per_threshold(scores, gold, np.array([0.5]))[0] == pytest.approx(0.5)
    assert f1_per_threshold(scores, gold, np.array([0.3]))[0] == pytest.approx(0.8)


def test_decisions_pick_the_cues_the_head_or_either_per_label():
    rng = np.random.default_rng(0)
    gold = rng.random((200, 3)) < 0.3
    probs = rng.random((200, 3))
    hit = np.zeros_like(gold)
    hit[:, 0] = gold[:, 0]  # label 0: the cues are exact, the head is noise
    probs[:, 1] = np.where(gold[:, 1], 0.8, 0.2)  # label 1: the head is exact, no cue ever matches
    half = np.arange(200) % 2 == 0
    hit[:, 2] = gold[:, 2] & half  # label 2: cues find half, the head the other half
    probs[:, 2] = np.where(gold[:, 2] & ~half, 0.9, 0.1)
    modes, thresholds, macro_f1 = choose_decisions(probs, hit, gold)
    assert modes == ["cues", "learned", "union"]
    assert 0.2 < thresholds[1] <= 0.8 and 0.1 < thresholds[2] <= 0.9
    assert macro_f1 == pytest.approx(1.0)


def test_family_model_decides_per_label_mode():
    head = LinearHead(np.zeros((3, 2)), np.zeros(3))
    model = FamilyModel(head, np.array([0.5, 0.5, 0.5]), ["learned", "cues", "union"])
    probs = np.array([[0.7, 0.9, 0.2], [0.2, 0.1, 0.1]])
    hit_counts = np.array([[0, 0, 2], [3, 1, 0]])
    scores, chosen = model.decide(probs, hit_counts)
    assert chosen.tolist() == [[True, False, True], [False, True, False]]
    # Labels chosen for their cues report the cue score, not the head's low probability.
    assert scores[0, 2] == pytest.approx(0.75) and scores[1, 1] == pytest.approx(0.5)
    assert scores[0, 0] == pytest.approx(0.7)


def test_heads_without_decision_modes_decide_by_threshold():
    model = FamilyModel(LinearHead(np.zeros((2, 2)), np.zeros(2)), np.array([0.3, 0.6]))
    _, chosen = model.decide(np.array([[0.4, 0.4]]), np.array([[0, 5]]))
    assert chosen.tolist() == [[True, False]]


def test_family_model_rejects_unknown_modes():
    with pytest.raises(ValueError, match="decision modes"):
        FamilyModel(LinearHead(np.zeros((1, 2)), np.zeros(1)), np.array([0.5]), ["vote"])


def test_lexical_features_match_sklearns_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlp.train.journey import vocabulary_of

    texts = ["The parcel was late.", "Parcel left at the door", "late refund, late parcel", "door code wrong"]
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True).fit_transform(texts)
    expected = np.hstack([words.toarray(), chars.toarray()]) / np.sqrt(2)
    assert np.allclose(vocabulary_of(texts).features(texts).toarray(), expected, atol=1e-6)


def test_lexical_model_survives_save_and_load(tmp_path: Path):
    from nlp.heads.lexical import LexicalModel
    from nlp.train.journey import vocabulary_of

    texts = ["refund please", "refund was quick", "app keeps crashing", "the app crashed"]
    model = vocabulary_of(texts)
    width = sum(len(terms) for terms in model.vocabularies.values())
    model.heads["stages"] = LinearHead(np.arange(2 * width).reshape(2, -1) / 1000, np.array([0.1, -0.2]))
    model.save(tmp_path)
    loaded = LexicalModel.load(tmp_path)
    assert loaded.vocabularies == model.vocabularies
    assert np.allclose(loaded.probabilities("stages", texts), model.probabilities("stages", texts), atol=1e-3)
    assert LexicalModel.load(tmp_path / "elsewhere") is None


def test_labels_without_examples_get_a_constant_head():
    from nlp.train.journey import _fit

    x = np.random.default_rng(0).normal(size=(8, 3))
    y = np.array([[i % 2, 0, 1] for i in range(8)], dtype=bool)
    head = _fit(x, y, 1.0)
    probs = 1 / (1 + np.exp(-head.logits(x)))
    assert (probs[:, 1] < 0.01).all() and (probs[:, 2] > 0.99).all()


def test_train_journey_on_tiny_data_writes_a_loadable_model(tmp_path: Path, analyzer):
    from nlp.heads.journey import load_family_models
    from nlp.train.journey import JOURNEY_DATA, Grids, read_split, train_journey

    data = tmp_path / "data"
    data.mkdir()
    for split, rows in (("train", 40), ("dev", 15)):
        lines = [json.dumps(row) for row in read_split(split, JOURNEY_DATA)[:rows]]
        (data / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    config = train_journey(tmp_path / "model", data, analyzer=analyzer, grids=Grids(head=(0.5,), lexical=(4.0,)))
    assert set(config["dev_check"]) == {"stages", "touchpoints", "value_dimensions"}
    assert set(config["chosen_C"].values()) == {0.5} and set(config["chosen_lexical_C"].values()) == {4.0}
    models = load_family_models(tmp_path / "model", Taxonomy.load(DEFAULT_TAXONOMY))
    assert all(model.learned and model.lexical is not None for model in models.values())
    vectors = analyzer.encoder.encode(["The courier left my parcel in the rain."])[0].doc[None, :]
    stage_count = len(Taxonomy.load(DEFAULT_TAXONOMY).ids("stages"))
    empty = np.zeros((1, stage_count))
    probs = models["stages"].probabilities(vectors, empty, empty, ["The courier left my parcel in the rain."])
    assert probs.shape == (1, stage_count) and ((probs >= 0) & (probs <= 1)).all()


def test_aspect_check_file_uses_the_taxonomys_stages_and_sentiment_labels():
    rows = journey_check()
    stages = set(Taxonomy.load(DEFAULT_TAXONOMY).ids("stages"))
    assert len(rows) >= 50
    for _, aspects in rows:
        assert aspects and all(stage in stages for stage, _ in aspects)
        assert all(sentiment in {"negative", "neutral", "positive"} for _, sentiment in aspects)


def test_feedback_sentiment_labels_cover_every_split_and_skip_mixed():
    from nlp.train.corpora import JOURNEY_DATA, SENTIMENT_LABELS, feedback_sentiment, read_split

    allowed = {*SENTIMENT_LABELS, "mixed"}
    for split in ("dev", "test"):
        rows = read_split(split, JOURNEY_DATA)
        assert all(row["sentiment"] in allowed for row in rows)
        examples = feedback_sentiment(split)
        assert len(examples) == sum(row["sentiment"] != "mixed" for row in rows)
        assert {e.label for e in examples} == {0, 1, 2} and not any(e.binary for e in examples)
    assert all(row["sentiment"] in allowed for row in read_split("train", JOURNEY_DATA))


def test_stage_sentiment_figures_count_every_aspect(analyzer):
    mixed = "Delivery was quick but support never answered my emails."
    rows = [
        (mixed, [("delivery", "positive"), ("support", "negative")]),
        ("Thanks.", [("billing", "neutral")]),
    ]
    figures = stage_sentiment_figures(analyzer, rows)
    assert figures["n_aspects"] == 3
    assert figures["aspects_with_cue_found"] == round(2 / 3, 4)
    stages = {s.id: s.sentiment.label for s in analyzer(mixed).stages}
    right = (stages["delivery"] == "positive") + (stages["support"] == "negative")
    assert figures["accuracy_where_cue_found"] == round(right / 2, 4)
    assert figures["aspect_accuracy"] >= round(right / 3, 4)
