import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from nlp.schema import ItemError
from nlp.textprep import Prepared, _binary_share, prepare


def test_empty_and_whitespace_are_errors():
    for value in ["", "   ", "\n\t "]:
        result = prepare(value)
        assert isinstance(result, ItemError) and result.code == "empty_text"


def test_non_string_is_error_naming_the_type():
    result = prepare(42)
    assert isinstance(result, ItemError) and result.code == "not_text" and "int" in result.message


def test_invalid_utf8_bytes_are_reported():
    result = prepare(b"caf\xe9 ok")
    assert isinstance(result, ItemError) and result.code == "undecodable"


def test_binary_blob_is_rejected():
    result = prepare("abc\x00\x01\x02\x03" * 10)
    assert isinstance(result, ItemError) and result.code == "binary_text"


def test_long_text_is_truncated_and_flagged():
    result = prepare("a" * 50, max_chars=10)
    assert isinstance(result, Prepared)
    assert result.truncated and result.text == "a" * 10 and result.original_length == 50


def test_long_text_rejected_when_truncation_is_off():
    result = prepare("a" * 50, max_chars=10, truncate=False)
    assert isinstance(result, ItemError) and result.code == "too_long" and "10" in result.message


def test_mojibake_is_fixed_and_flagged():
    result = prepare("The app doesnâ€™t load")
    assert isinstance(result, Prepared) and result.normalized and "doesn’t" in result.text


@given(st.one_of(st.text(), st.binary(), st.integers(), st.none(), st.floats()))
def test_prepare_never_raises(value):
    result = prepare(value, max_chars=100)
    assert isinstance(result, Prepared | ItemError)
    if isinstance(result, Prepared):
        assert result.text.strip() and len(result.text) <= 100


def _counted_binary_share(text: str) -> float:
    """The definition _binary_share implements (with a fast path for printable text)."""
    bad = sum(1 for ch in text if ch not in "\n\r\t" and unicodedata.category(ch) in {"Cc", "Cn", "Cs", "Co"})
    return bad / max(1, len(text))


# Cc, Cf (non-printable but not binary), Co, Cn and Cs characters among ordinary ones.
@given(st.text() | st.text(alphabet="ab \n\t\x00\x07\u200b\ue000\u0378\ud800"))
def test_binary_share_fast_path_matches_the_character_count(text):
    assert _binary_share(text) == _counted_binary_share(text)
