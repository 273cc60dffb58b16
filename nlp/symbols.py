"""Spell emoji and pictographic symbols out as words before the encoder reads a text.

The base encoder's WordPiece vocabulary has no emoji: "😂", "❤️" and "great👍" all become
[UNK], so the sentiment they carry never reaches a head (and a glued symbol drags the word
beside it into the same [UNK]). Social posts and app reviews use them constantly; 6.5% of the
TweetEval sentiment test tweets contain one. Here each symbol is replaced by its Unicode name
("face with tears of joy"), as pysentimiento does with the ``emoji`` package, but from the
standard library's ``unicodedata`` so no dependency or network is needed.

The model reads the spelled view; callers keep the author's text. ``SpelledText`` maps every
character of the view back to the original, so token offsets (and every sentence offset and
evidence span built from them) still index the text the user sent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Runs of one symbol past this many are cut: "😂😂😂😂😂😂" says no more than three, and the
# words would crowd the rest of a tweet out of a 64-token window.
MAX_REPEATS = 3
# The zero-width joiner, variation selectors, the keycap mark, flag letters, skin tones and tag
# characters shape how a symbol is drawn, not what it means; they are dropped.
_DRAWING_MODIFIERS = (
    range(0x200D, 0x200E),
    range(0xFE00, 0xFE10),
    range(0x20E3, 0x20E4),
    range(0x1F1E6, 0x1F200),
    range(0x1F3FB, 0x1F400),
    range(0xE0020, 0xE0080),
)
# Below U+2000 "So" holds ©, ®, ° and the like: marks, not feelings.
_FIRST_PICTOGRAPH = 0x2000


@dataclass(frozen=True)
class SpelledText:
    """The text the model reads and, per character of it, the original character it stands for
    (every character of a spelled name stands for its one symbol)."""

    text: str
    starts: tuple[int, ...] | None = None  # None: the view is the original

    def original_offsets(self, offsets: np.ndarray) -> np.ndarray:
        """(start, end) rows of view characters turned into rows of original characters."""
        if self.starts is None or len(offsets) == 0:
            return offsets
        starts = np.asarray(self.starts)
        return np.stack([starts[offsets[:, 0]], starts[np.maximum(offsets[:, 1] - 1, offsets[:, 0])] + 1], axis=1)


@lru_cache(maxsize=4096)
def _spelling(char: str) -> str | None:
    """Words for a pictographic symbol, "" for a drawing modifier, None for anything else."""
    code = ord(char)
    if any(code in block for block in _DRAWING_MODIFIERS):
        return ""
    if code >= _FIRST_PICTOGRAPH and unicodedata.category(char) == "So":
        name = unicodedata.name(char, "")
        return f" {name.lower()} " if name else None
    return None


def spell_symbols(text: str) -> SpelledText:
    """The text with pictographic symbols spelled out, and its map back to ``text``."""
    if text.isascii():
        return SpelledText(text)
    pieces: list[str] = []
    starts: list[int] = []
    changed = False
    previous, repeats = "", 0
    for index, char in enumerate(text):
        spelling = _spelling(char)
        if spelling is None:
            pieces.append(char)
            starts.append(index)
            previous, repeats = char, 0
            continue
        changed = True
        if not spelling:
            continue  # a modifier neither ends nor extends a run of its symbol
        repeats = repeats + 1 if char == previous else 1
        previous = char
        if repeats <= MAX_REPEATS:
            pieces.append(spelling)
            starts.extend([index] * len(spelling))
    if not changed:
        return SpelledText(text)
    return SpelledText("".join(pieces), tuple(starts))


def spelled(texts: list[str]) -> list[str]:
    """What the model reads for each text (training has no offsets to map back)."""
    return [spell_symbols(text).text for text in texts]
