"""Decoding text files that analysts export: guess the encoding, keep undecodable bytes visible.

Undecodable bytes are decoded with ``errors="surrogateescape"`` so they survive as lone surrogates
(U+DC80..U+DCFF) instead of crashing the read or being silently replaced; the row reader then
flags the row and swaps them for U+FFFD before the row is written anywhere.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
DECODE_ERRORS = "surrogateescape"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SURROGATES = re.compile("[\ud800-\udfff]")


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def detect_encoding(sample: bytes) -> str:
    """The codec to open a text file with, judged from its first bytes."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    if _mostly_utf8(sample):
        return "utf-8"
    best = from_bytes(sample).best()
    return best.encoding if best is not None else "utf-8"


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 unless invalid bytes outnumber valid multi-byte characters.

    A damaged UTF-8 export (a few stray bytes) must stay UTF-8 so the damage is flagged per row;
    guessing a legacy code page for it would turn every accented character into mojibake silently.
    Legacy code pages almost never form valid multi-byte UTF-8 sequences by chance.
    """
    text = sample.decode("utf-8", DECODE_ERRORS)
    if len(sample) == SAMPLE_BYTES:
        text = text[:-3]  # the sample may end inside a multi-byte character
    invalid = len(_SURROGATES.findall(text))
    valid_non_ascii = sum(1 for char in text if ord(char) > 127) - invalid
    return invalid == 0 or valid_non_ascii > invalid


def has_undecodable(value: str) -> bool:
    return _SURROGATES.search(value) is not None


def replace_undecodable(value: str) -> str:
    """Lone surrogates (undecodable bytes) as U+FFFD, the form every writer can store."""
    return _SURROGATES.sub("\ufffd", value)
