"""Dates from export columns, whatever their spelling."""

from __future__ import annotations

import pandas as pd


def parse_dates(values: pd.Series) -> pd.Series:
    """UTC timestamps; NaT where a value is empty or not a date.

    ISO 8601 (what most survey tools export) is parsed in one vectorised pass; only the values it
    misses are tried one by one with the slower mixed-format parser.
    """
    text = values.astype(str).str.strip()
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    retry = parsed.isna() & (text != "")
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    return parsed
