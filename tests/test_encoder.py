import numpy as np

from nlp.encoder import segment_of, span_vector


def test_span_vector_averages_tokens_inside_the_span():
    tokens = np.pad(np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0]]), ((0, 0), (0, 382)))
    offsets = np.array([(0, 3), (4, 8), (9, 12)])
    assert np.allclose(span_vector((tokens, offsets), (0, 8))[:2], [2.0, 0.0])
    assert np.allclose(span_vector((tokens, offsets), (9, 12))[:2], [0.0, 4.0])


def test_spans_inside_an_isolated_sentence_use_its_own_window():
    assert segment_of((5, 9), [(0, 4), (5, 20)]) == 1
    assert segment_of((0, 20), [(0, 4), (5, 20)]) == -1


def test_isolated_sentence_equals_encoding_it_alone(analyzer):
    first, second = "The delivery was fast.", "Support was useless."
    text = f"{first} {second}"
    spans = [(0, len(first)), (len(first) + 1, len(text))]
    together = analyzer.encoder.encode([text], [spans], [spans])[0]
    alone = analyzer.encoder.encode([second])[0]
    assert np.allclose(together.spans[1], alone.doc, atol=1e-4)
    pooled = analyzer.encoder.encode([text], [spans])[0]
    assert not np.allclose(pooled.spans[1], alone.doc, atol=1e-3)


def test_pooling_after_the_pass_equals_requesting_the_span_before(analyzer):
    first, second = "The delivery was fast.", "Support was useless and slow."
    text = f"{first} {second}"
    sentences = [(0, len(first)), (len(first) + 1, len(text))]
    later = [(4, 12), (len(first) + 1, len(first) + 8), (0, len(text))]
    encoded = analyzer.encoder.encode([text], [sentences + later], [sentences])[0]
    for row, span in enumerate(later, start=len(sentences)):
        assert np.allclose(encoded.pool(span), encoded.spans[row], atol=1e-6)


def test_encoder_runs_one_window_per_256_tokens(analyzer):
    encoder = analyzer.encoder
    calls = []
    original = encoder.model.forward

    def counting(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape)
        return original(*args, **kwargs)

    encoder.model.forward = counting
    try:
        long_text = "The delivery was late again. " * 120  # ~720 word pieces -> 3 windows
        short = "Great support."
        encoded = encoder.encode([long_text, short], [[(0, 28)], []])
    finally:
        del encoder.model.forward
    assert sum(shape[0] for shape in calls) == 4  # 3 windows + 1, each text encoded once
    assert encoded[0].n_tokens > 600 and encoded[0].spans.shape == (1, 384)
    assert encoded[1].spans.shape == (0, 384)


def test_batched_and_single_encoding_agree(analyzer):
    texts = ["Billing charged me twice.", "The app is lovely and quick, thanks!"]
    together = analyzer.encoder.encode(texts)
    alone = [analyzer.encoder.encode([t])[0] for t in texts]
    for a, b in zip(together, alone):
        assert np.allclose(a.doc, b.doc, atol=1e-4)
