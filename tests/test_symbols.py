import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nlp.symbols import MAX_REPEATS, spell_symbols, spelled


def test_plain_text_is_read_as_it_is():
    view = spell_symbols("Delivery was late, café staff were kind.")
    assert view.text == "Delivery was late, café staff were kind." and view.starts is None


def test_emoji_are_spelled_and_glued_words_freed():
    assert spell_symbols("great👍 thanks").text.split() == ["great", "thumbs", "up", "sign", "thanks"]
    assert "face with tears of joy" in spell_symbols("😂").text


def test_drawing_modifiers_and_flags_are_dropped():
    # thumbs up + skin tone, heart + variation selector 16, a flag (two regional indicators)
    assert spell_symbols("\U0001f44d\U0001f3fd").text.split() == ["thumbs", "up", "sign"]
    assert spell_symbols("\u2764\ufe0f").text.split() == ["heavy", "black", "heart"]
    assert spell_symbols("\U0001f1fa\U0001f1f8 ok").text.strip() == "ok"


def test_long_runs_of_one_symbol_are_cut():
    assert spell_symbols("😡" * 8).text.count("pouting face") == MAX_REPEATS
    # a skin tone between repeats does not restart the run
    assert spell_symbols("\U0001f44d\U0001f3fb" * 5).text.count("thumbs up") == MAX_REPEATS


def test_marks_below_the_pictograph_blocks_are_kept():
    assert spelled(["© 2024 10°C"]) == ["© 2024 10°C"]


def test_view_offsets_map_back_to_the_original():
    text = "Great👍 but slow 😡😡"
    view = spell_symbols(text)
    thumbs = view.text.index("thumbs")
    great = view.text.index("Great")
    angry = view.text.rindex("pouting")
    mapped = view.original_offsets(np.array([[great, great + 5], [thumbs, thumbs + 6], [angry, angry + 7]]))
    assert [text[s:e] for s, e in mapped] == ["Great", "👍", "😡"]


@given(st.text(max_size=60))
def test_every_view_character_maps_inside_the_original(text):
    view = spell_symbols(text)
    if view.starts is None:
        assert view.text == text
        return
    assert len(view.starts) == len(view.text)
    assert all(0 <= s < len(text) for s in view.starts)
    assert list(view.starts) == sorted(view.starts)
    # characters that are not symbols come through unchanged, in place
    for char, start in zip(view.text, view.starts):
        if text[start] == char:
            continue
        assert char.isspace() or char.isalnum() or char in "-'"


def test_encoder_offsets_index_the_callers_text(analyzer):
    encoder = analyzer.encoder
    text = "Love it 😍😍 but billing 😡 charged me twice."
    start = text.index("billing")
    spelling = encoder.spell_symbols
    encoder.spell_symbols = True
    try:
        spelled_span = encoder.encode([text], [[(start, len(text))]], [[(start, len(text))]])[0]
        alone = encoder.encode([text[start:]])[0]
    finally:
        encoder.spell_symbols = spelling
    assert np.allclose(spelled_span.spans[0], alone.doc, atol=1e-4)
    assert spelled_span.n_tokens > len(text.split())  # the emoji became words the model reads


def test_the_shipped_encoder_reads_emoji(analyzer):
    # voc-multitask 1.3.0 was trained on spelled emoji; before it, both texts were one [UNK].
    assert analyzer.resources.bundle.spell_symbols
    angry, delighted = analyzer.analyze(["😡😡", "😍😍"], tasks=["sentiment"])
    assert angry.sentiment.label == "negative" and delighted.sentiment.label == "positive"
