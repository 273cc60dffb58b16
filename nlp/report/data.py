"""A tagged file (any format ``voc tag`` writes) boiled down to the few facts the charts use.

The file is streamed in chunks and each chunk is reduced at once, so only the compact frame, not
the full ``voc_result`` JSON of every row, is ever held in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from nlp.io.dates import parse_dates
from nlp.io.formats import chunks, open_table
from nlp.io.table import TableError
from nlp.report.base import ReportOptions, short

READ_CHUNK = 2048
RESULT_COLUMN = "voc_result"
# One row per tagged row. Lists hold (label, detail) pairs where a chart needs both.
FACTS = [
    "id",
    "text",
    "ok",
    "sentiment",
    "sentiment_score",
    "emotions",
    "stages",
    "topic",
    "topic_probability",
    "signals",
]


def _sentiment_label(value: dict[str, Any] | None) -> str | None:
    return value["label"] if value else None


def _flagging_sentence(result: dict[str, Any], signal: dict[str, Any]) -> str | None:
    """The sentence holding a signal's first evidence (a cue phrase alone says too little)."""
    if not signal.get("evidence"):
        return None
    start = signal["evidence"][0]["start"]
    sentence = next((s for s in result.get("sentences", []) if s["start"] <= start < s["end"]), None)
    return sentence["text"] if sentence else signal["evidence"][0]["text"]


def _facts(voc_result: str, text: str | None) -> list[Any]:
    """FACTS of one row; rows that were not analysed (or failed) have ok=False and nothing else."""
    result = json.loads(voc_result) if voc_result else {}
    if not result or "error" in result:
        return [result.get("id"), short(text or ""), False, None, None, [], [], None, None, []]
    text = text if text is not None else " ".join(sentence["text"] for sentence in result.get("sentences", []))
    sentiment = _sentiment_label(result.get("sentiment"))
    stages = [
        (stage["id"], _sentiment_label(stage.get("sentiment")) or sentiment) for stage in result.get("stages", [])
    ]
    signals = [
        (signal["id"], short(_flagging_sentence(result, signal) or text)) for signal in result.get("signals", [])
    ]
    topic = result.get("topic") or {}
    return [
        result.get("id"),
        short(text),
        True,
        sentiment,
        (result.get("sentiment") or {}).get("score"),
        [emotion["label"] for emotion in result.get("emotions", [])],
        stages,
        topic.get("label") if topic.get("id", -1) != -1 else None,  # -1: the topic model's outliers
        topic.get("probability"),
        signals,
    ]


def _compact(frame: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    texts = frame[options.text_col] if options.text_col else [None] * len(frame)
    facts = pd.DataFrame([_facts(value, text) for value, text in zip(frame[RESULT_COLUMN], texts)], columns=FACTS)
    facts["ok"] = facts["ok"].astype(bool)  # also when empty, so facts[facts["ok"]] selects rows
    # Chunk frames and facts share the same 0..n-1 index, so columns line up row for row.
    if options.date_col:
        facts["date"] = parse_dates(frame[options.date_col])
    if options.by_col:
        facts["by"] = frame[options.by_col]
    if options.score_col:
        facts["score"] = pd.to_numeric(frame[options.score_col].str.strip(), errors="coerce")
    return facts


def load_facts(path: Path, options: ReportOptions, format_name: str | None = None) -> pd.DataFrame:
    reader = open_table(path, format_name)
    if RESULT_COLUMN not in reader.columns:
        raise TableError(f"{path.name} has no {RESULT_COLUMN} column: is it a file written by 'voc tag'?")
    named = [column for column in (options.score_col, options.date_col, options.by_col, options.text_col) if column]
    missing = [column for column in named if column not in reader.columns]
    if missing:
        raise TableError(f"{path.name} has no column(s) {missing}; its columns are {reader.columns}")
    frames = [_compact(chunk.frame, options) for chunk in chunks(reader, READ_CHUNK)]
    if not frames:  # still every column the options ask for, so sections can say "no data"
        frames = [_compact(pd.DataFrame(columns=reader.columns, dtype=str), options)]
    return pd.concat(frames, ignore_index=True)
