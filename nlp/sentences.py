"""The spaCy pipeline that splits feedback into sentences with character offsets.

A blank English pipeline with the rule-based sentencizer is ~50x faster than the parser and good
enough for feedback; a line break also ends a sentence, since exports put bullet points and
separate answers on their own lines.
"""

from __future__ import annotations

import spacy
from spacy.language import Language
from spacy.tokens import Doc


@Language.component("voc_newline_sentences")
def newline_sentences(doc: Doc) -> Doc:
    for token in doc[:-1]:
        if "\n" in token.text or "\n" in token.whitespace_:
            doc[token.i + 1].is_sent_start = True
    return doc


def build_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("voc_newline_sentences")
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_spans(doc: Doc) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences, whitespace-only sentences dropped."""
    spans = []
    for sent in doc.sents:
        text = sent.text
        if not text.strip():
            continue
        leading = len(text) - len(text.lstrip())
        spans.append((sent.start_char + leading, sent.start_char + len(text.rstrip())))
    return spans


# Words that start a contrasting clause: "quick delivery but rude staff" holds two opinions.
CONTRAST_WORDS = {"but", "however", "although", "though", "whereas", "yet", "while", "except", "unfortunately"}


def clause_spans(doc: Doc) -> list[tuple[int, int]]:
    """Spans of the clauses of sentences that hold a contrast (split before the contrast word,
    after a semicolon); sentences without one yield nothing, their sentence span suffices."""
    spans: list[tuple[int, int]] = []
    for sent in doc.sents:
        starts = [sent.start]
        previous = sent[0].text
        for token in sent[1:]:
            if token.lower_ in CONTRAST_WORDS or previous == ";":
                starts.append(token.i)
            previous = token.text
        if len(starts) < 2:
            continue
        for begin, end in zip(starts, [*starts[1:], sent.end]):
            piece = doc[begin:end]
            text = piece.text.rstrip(" ;,.\n\t")
            if text.strip():
                spans.append((piece.start_char, piece.start_char + len(text)))
    return spans
