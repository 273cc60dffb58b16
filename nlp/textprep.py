"""Validate and normalise one input text before anything expensive runs.

Every failure becomes an ``ItemError`` for that item alone; nothing here raises on user data.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import ftfy

from nlp.schema import ItemError

DEFAULT_MAX_CHARS = 20_000
# A text where more than this share of characters are control/unassigned code points is
# almost certainly a binary blob pasted into a text field.
BINARY_SHARE = 0.10


@dataclass
class Prepared:
    text: str
    original_length: int
    truncated: bool
    normalized: bool


# Line breaks and tabs are ordinary in feedback; str.isprintable() rejects them, so they are dropped first.
_LAYOUT_CHARACTERS = str.maketrans("", "", "\n\r\t")


def _binary_share(text: str) -> float:
    # Fast path: printable text has no character in the categories below (they are all non-printable).
    if text.translate(_LAYOUT_CHARACTERS).isprintable():
        return 0.0
    bad = sum(1 for ch in text if ch not in "\n\r\t" and unicodedata.category(ch) in {"Cc", "Cn", "Cs", "Co"})
    return bad / max(1, len(text))


def prepare(value: object, max_chars: int = DEFAULT_MAX_CHARS, truncate: bool = True) -> Prepared | ItemError:
    """A cleaned text, or the reason it cannot be analysed."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            return ItemError(code="undecodable", message=f"bytes are not valid UTF-8 (position {exc.start})")
    if not isinstance(value, str):
        return ItemError(code="not_text", message=f"expected a string, got {type(value).__name__}")
    if not value.strip():
        return ItemError(code="empty_text", message="text is empty or whitespace only")
    if "\x00" in value or _binary_share(value) > BINARY_SHARE:
        return ItemError(code="binary_text", message="text looks like binary data (control characters)")
    # Only undo encoding damage (mojibake, broken escapes); keep the author's quotes and widths.
    fixed = ftfy.fix_text(
        value, normalization="NFC", uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False
    )
    truncated = len(fixed) > max_chars
    if truncated and not truncate:
        return ItemError(code="too_long", message=f"text has {len(fixed)} characters; the limit is {max_chars}")
    return Prepared(
        text=fixed[:max_chars] if truncated else fixed,
        original_length=len(value),
        truncated=truncated,
        normalized=fixed != value,
    )
