import numpy as np
import pytest

from nlp.analyzer import Analyzer, AnalyzerConfig
from nlp.schema import Result


def test_result_has_sentiment_sentences_and_emotions(analyzer):
    text = "Delivery was quick! But support never answered my emails."
    result = analyzer(text, id="r1")
    assert isinstance(result, Result) and result.id == "r1" and result.error is None
    assert result.sentiment.label in {"negative", "neutral", "positive"}
    assert -1.0 <= result.sentiment.score <= 1.0
    assert abs(sum(result.sentiment.probs.values()) - 1.0) < 1e-3
    assert [s.text for s in result.sentences] == ["Delivery was quick!", "But support never answered my emails."]
    for sentence in result.sentences:
        assert text[sentence.start : sentence.end] == sentence.text
    scores = [e.score for e in result.emotions]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 1
    assert {"encoder", "sentiment", "emotion"} <= set(result.models)


def test_bad_items_get_errors_and_do_not_disturb_the_batch(analyzer):
    texts = ["Great service", "", None, "x\x00\x01\x02", "Terrible wait on hold"]
    results = analyzer.analyze(texts, ids=["a", "b", "c", "d", "e"])
    assert [r.id for r in results] == ["a", "b", "c", "d", "e"]
    assert [r.error.code if r.error else None for r in results] == [None, "empty_text", "not_text", "binary_text", None]
    alone = analyzer.analyze(["Great service"])[0]
    assert results[0].sentiment == alone.sentiment


def test_over_long_text_is_truncated_not_crashed(analyzer):
    result = analyzer("Slow refund. " * 3000)
    assert result.truncated and result.error is None and result.text_length == len("Slow refund. " * 3000)
    assert result.sentences[-1].end <= analyzer.config.max_chars


def test_tasks_select_components(analyzer):
    result = analyzer.analyze(["The bill doubled"], tasks=["sentiment"])[0]
    assert result.sentiment is not None and result.emotions == []
    assert "emotion" not in result.models


def test_pipe_streams_in_order(analyzer):
    texts = [f"comment number {i} about the app" for i in range(10)]
    piped = list(analyzer.pipe(texts, batch_size=3))
    assert [r.sentiment for r in piped] == [r.sentiment for r in analyzer.analyze(texts)]


def test_ids_must_match_texts(analyzer):
    with pytest.raises(ValueError, match="2 texts but 1 ids"):
        analyzer.analyze(["a", "b"], ids=["only-one"])


def test_unknown_component_is_named():
    with pytest.raises(KeyError, match="nope"):
        Analyzer.from_config(AnalyzerConfig(components=["nope"]))


def test_missing_model_folder_gives_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained model"):
        Analyzer.from_config(AnalyzerConfig(model_dir=tmp_path))


def test_spacy_component_sets_extensions(analyzer):
    import spacy

    import nlp.spacy_component

    nlp = spacy.blank("en")
    component = nlp.add_pipe("voc_lens")
    component._analyzer = analyzer  # reuse the session's loaded model
    doc = nlp("The engineer never showed up and nobody called.")
    assert doc._.sentiment == doc._.voc.sentiment and doc._.emotions == doc._.voc.emotions
    docs = list(nlp.pipe(["Lovely staff.", "Awful app."]))
    assert all(d._.voc is not None for d in docs)


def test_documents_keep_the_pass_and_refuse_bad_items(analyzer):
    text = "The delivery was late. Support was kind."
    (doc,) = analyzer.documents([text])
    assert doc.result.sentiment is not None and doc.result.stages
    second = (text.index("Support"), len(text))
    assert np.allclose(doc.encoded.pool(second), doc.sentence_vectors[1], atol=1e-6)
    with pytest.raises(ValueError, match="1 of 2 texts"):
        analyzer.documents([text, "   "])


def test_contrast_clauses_are_read_on_their_own(analyzer):
    text = "Delivery was quick but support never answered my emails."
    (doc,) = analyzer.documents([text])
    assert len(doc.clause_spans) == 2
    for (start, end), vector in zip(doc.clause_spans, doc.clause_vectors):
        alone = analyzer.encoder.encode([text[start:end]])[0].doc
        assert np.allclose(vector, alone, atol=1e-4)
