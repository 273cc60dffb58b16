import numpy as np

from nlp.encoder import Encoded, Encoder


def test_span_pooling_averages_tokens_inside_each_span():
    tokens = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    offsets = [(0, 3), (4, 8), (9, 12)]
    encoded = Encoder._pool(np.pad(tokens, ((0, 0), (0, 382))), offsets, [(0, 8), (9, 12)])
    assert isinstance(encoded, Encoded)
    assert np.allclose(encoded.spans[0][:2], [2.0, 0.0])
    assert np.allclose(encoded.spans[1][:2], [0.0, 4.0])
    assert np.allclose(encoded.doc[:2], [4 / 3, 4 / 3])


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
