"""Readers for the public labelled corpora in ``../shared/corpora`` (never copied into the repo).

Each reader returns plain Python lists so the training loop does not care where data came from.
Sentiment labels use the ids of ``SENTIMENT_LABELS``; binary corpora mark the neutral class as
unavailable (see ``SentimentExample.binary``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from nlp.bundle import REPO_ROOT

SENTIMENT_LABELS = ["negative", "neutral", "positive"]
NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
# Our labelled feedback (in this repository, not ../shared): journey labels on every row, and an
# overall sentiment on the rows that were labelled for it (see corpora/journey/SENTIMENT.md).
JOURNEY_DATA = REPO_ROOT / "corpora" / "journey"

# GoEmotions' own sentiment grouping (Demszky et al. 2020, sentiment_mapping.json); "ambiguous"
# emotions are left out of the sentiment task rather than forced into a polarity.
GOEMOTIONS_POSITIVE = {
    "amusement",
    "excitement",
    "joy",
    "love",
    "desire",
    "optimism",
    "caring",
    "pride",
    "admiration",
    "gratitude",
    "relief",
    "approval",
}
GOEMOTIONS_NEGATIVE = {
    "fear",
    "nervousness",
    "remorse",
    "embarrassment",
    "disappointment",
    "sadness",
    "grief",
    "disgust",
    "anger",
    "annoyance",
    "disapproval",
}
EKMAN_GROUPS = {
    "anger": ["anger", "annoyance", "disapproval"],
    "disgust": ["disgust"],
    "fear": ["fear", "nervousness"],
    "joy": [
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ],
    "sadness": ["sadness", "disappointment", "embarrassment", "grief", "remorse"],
    "surprise": ["surprise", "realization", "confusion", "curiosity"],
    "neutral": ["neutral"],
}

_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")


def corpora_root() -> Path:
    """``$VOC_CORPORA`` or ``../shared/corpora`` next to the checkout."""
    configured = os.environ.get("VOC_CORPORA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def tweet_style(text: str) -> str:
    """Match TweetEval's preprocessing: mentions become @user, URLs are removed."""
    return " ".join(_URL.sub("", _MENTION.sub("@user", text)).split())


@dataclass(frozen=True)
class SentimentExample:
    text: str
    label: int
    binary: bool = False  # True: the source only knows negative/positive


@dataclass(frozen=True)
class EmotionExample:
    text: str
    labels: tuple[int, ...]


def in_holdout(text: str, share: float = 0.2) -> bool:
    """Stable hash split for corpora that ship without one."""
    bucket = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < share


def semeval_tweets(root: Path | None = None) -> list[SentimentExample]:
    path = (root or corpora_root()) / "semeval_tweets" / "train_no_tweeteval_val.tsv"
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [SentimentExample(tweet_style(r["text"]), SENTIMENT_LABELS.index(r["label"])) for r in rows]


def tweeteval_sentiment(split: str, root: Path | None = None) -> list[SentimentExample]:
    folder = (root or corpora_root()) / "tweeteval" / "sentiment"
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    return [SentimentExample(t.strip(), int(y)) for t, y in zip(texts, labels, strict=True)]


# TweetEval emotion (SemEval-2018 Task 1 tweets, 2016-17, emoji kept) grouped into polarity: joy and
# optimism positive, anger and sadness negative. It is the only emoji-rich labelled tweet set here.
TWEETEVAL_EMOTION_POLARITY = {"anger": NEGATIVE, "joy": POSITIVE, "optimism": POSITIVE, "sadness": NEGATIVE}


def tweeteval_emotion_polarity(split: str, root: Path | None = None) -> list[SentimentExample]:
    folder = (root or corpora_root()) / "tweeteval" / "emotion"
    names = dict(line.split("\t") for line in (folder / "mapping.txt").read_text(encoding="utf-8").splitlines())
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    return [
        SentimentExample(t.strip(), TWEETEVAL_EMOTION_POLARITY[names[y]], binary=True)
        for t, y in zip(texts, labels, strict=True)
    ]


def goemotions_labels(root: Path | None = None) -> list[str]:
    return (root or corpora_root()).joinpath("goemotions", "labels.txt").read_text().split()


def goemotions(split: str, root: Path | None = None) -> list[EmotionExample]:
    path = (root or corpora_root()) / "goemotions" / f"{split}.tsv"
    with open(path, encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [EmotionExample(r[0], tuple(int(i) for i in r[1].split(","))) for r in rows]


def goemotions_sentiment(example: EmotionExample, names: list[str]) -> int | None:
    """Polarity from GoEmotions' grouping; None when the labels are mixed or ambiguous."""
    groups = set()
    for index in example.labels:
        name = names[index]
        if name in GOEMOTIONS_POSITIVE:
            groups.add(POSITIVE)
        elif name in GOEMOTIONS_NEGATIVE:
            groups.add(NEGATIVE)
        elif name == "neutral":
            groups.add(NEUTRAL)
        else:
            groups.add(None)
    return groups.pop() if len(groups) == 1 else None


def sst2(split: str, root: Path | None = None) -> list[SentimentExample]:
    path = (root or corpora_root()) / "sst2" / f"{split}.tsv"
    with open(path, encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        return [SentimentExample(r[1], POSITIVE if r[0] == "1" else NEGATIVE, binary=True) for r in rows]


def uci_sentences(holdout: bool, root: Path | None = None) -> list[SentimentExample]:
    """UCI review sentences; the 20% hash hold-out is never trained on."""
    folder = (root or corpora_root()) / "uci_sentiment_sentences"
    examples = []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        for line in (folder / name).read_text(encoding="utf-8", errors="replace").splitlines():
            text, _, score = line.rpartition("\t")
            if text.strip() and score.strip() in {"0", "1"} and in_holdout(text) == holdout:
                label = POSITIVE if score.strip() == "1" else NEGATIVE
                examples.append(SentimentExample(text.strip(), label, binary=True))
    return examples


def read_jsonl(path: Path) -> list[dict]:
    """One of this repository's labelled JSON-lines files as row dicts (blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_split(name: str, folder: Path = JOURNEY_DATA) -> list[dict]:
    """One split of our journey data as row dicts."""
    return read_jsonl(folder / f"{name}.jsonl")


def feedback_polarity(row: dict) -> int | None:
    """A journey row's sentiment label id; None for rows without one or labelled "mixed",
    which a three-way head cannot learn from."""
    label = row.get("sentiment")
    return SENTIMENT_LABELS.index(label) if label in SENTIMENT_LABELS else None


def feedback_sentiment(split: str, folder: Path = JOURNEY_DATA) -> list[SentimentExample]:
    """The sentiment-labelled rows of a journey split (mixed ones left out)."""
    rows = [(row["text"], feedback_polarity(row)) for row in read_split(split, folder)]
    return [SentimentExample(text, label) for text, label in rows if label is not None]


def airline_tweets(split: str, root: Path | None = None) -> list[dict[str, str]]:
    """Airline customer tweets (CC BY-NC-SA): evaluation only, never in shipped weights."""
    path = (root or corpora_root()) / "twitter_airline_sentiment" / f"{split}.csv"
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
