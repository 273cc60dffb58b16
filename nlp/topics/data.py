"""Inputs for topic modelling: feedback exports, taxonomy seed words and the public benchmark corpora."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from nlp.bundle import REPO_ROOT
from nlp.schema import ItemError
from nlp.textprep import prepare

log = logging.getLogger(__name__)

DEFAULT_TAXONOMY = REPO_ROOT / "corpora" / "taxonomy" / "default.yaml"

# Used only when the taxonomy file is missing: a few cue words per customer-journey stage.
FALLBACK_SEED_TOPICS = [
    ["delivery", "courier", "parcel", "shipping", "arrived"],
    ["refund", "return", "money back", "reimbursed"],
    ["bill", "charged", "invoice", "payment", "fee"],
    ["support", "agent", "call centre", "waited", "helpline"],
    ["app", "website", "login", "password", "crash"],
    ["cancel", "switch provider", "close my account", "leaving"],
]


@dataclass
class Corpus:
    """Clean texts with their source row numbers (rows that fail text validation are dropped)."""

    texts: list[str]
    rows: list[int]
    dates: pd.Series | None = None
    dropped: int = 0


def clean_texts(values: list[object]) -> Corpus:
    """Run every value through the Analyzer's ``prepare`` so topics see what the Analyzer sees."""
    texts, rows = [], []
    for row, value in enumerate(values):
        prepared = prepare(value)
        if isinstance(prepared, ItemError):
            continue
        texts.append(prepared.text)
        rows.append(row)
    return Corpus(texts, rows, dropped=len(values) - len(texts))


def read_export(path: Path, text_col: str, date_col: str | None = None) -> Corpus:
    """Texts (and dates) of an export in any format ``nlp.io`` reads (csv, tsv, jsonl, parquet, xlsx)."""
    from nlp.io.dates import parse_dates
    from nlp.io.formats import read_table

    table = read_table(path)
    for column in filter(None, (text_col, date_col)):
        if column not in table.columns:
            raise ValueError(f"{path.name} has no column {column!r}; columns: {list(table.columns)}")
    corpus = clean_texts(table[text_col].tolist())
    if date_col:
        corpus.dates = parse_dates(table[date_col].iloc[corpus.rows]).reset_index(drop=True)
    if corpus.dropped:
        log.warning("%d rows of %s had no usable text and were skipped", corpus.dropped, path.name)
    return corpus


def seed_topics(taxonomy: Path = DEFAULT_TAXONOMY) -> tuple[list[list[str]], str]:
    """Guided-topic seed lists: the cue words of each taxonomy stage, and where they came from."""
    if not taxonomy.exists():
        log.warning("%s not found; guided topics use the built-in fallback seed list", taxonomy)
        return [list(words) for words in FALLBACK_SEED_TOPICS], "built-in fallback"
    stages = yaml.safe_load(taxonomy.read_text(encoding="utf-8")).get("stages", [])
    seeds = [list(stage["cues"]) for stage in stages if stage.get("cues")]
    return seeds, f"{taxonomy.name} stages ({len(seeds)})"


def labelled_split(dataset: str, split: str, root: Path) -> tuple[list[str], list[str]]:
    """(texts, intents) of BANKING77 (train/test) or CLINC150 (train/val/test, in-scope only)."""
    if dataset == "banking77":
        table = pd.read_csv(root / "banking77" / f"{split}.csv")
        return table["text"].astype(str).tolist(), table["category"].astype(str).tolist()
    if dataset == "clinc150":
        rows = json.loads((root / "clinc150" / "data_full.json").read_text())[split]
        return [text for text, _ in rows], [intent for _, intent in rows]
    raise ValueError(f"unknown dataset {dataset!r}; use banking77 or clinc150")
