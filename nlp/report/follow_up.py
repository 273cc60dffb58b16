"""Rows to follow up: churn risk, high effort and explicit follow-up requests, most negative first."""

from __future__ import annotations

import html

import pandas as pd

from nlp.report.base import ReportOptions, Section, no_data, note, table_html

KEY = "follow-up"
TITLE = "Follow-up lists"
LISTS = (("churn_risk", "Churn risk"), ("effort", "High effort"), ("needs_followup", "Asked for follow-up"))
LIMIT = 50


def _evidence(signals: list[tuple[str, str]], signal: str) -> str | None:
    return next((evidence for kind, evidence in signals if kind == signal), None)


def follow_up_rows(facts: pd.DataFrame, signal: str) -> pd.DataFrame:
    """Rows with ``signal``: id, sentiment and the evidence text, most negative first."""
    lines = []
    columns = ["id", "sentiment", "sentiment_score", "signals"]
    for row_id, sentiment, score, signals in facts.loc[facts["ok"], columns].itertuples(index=False):
        evidence = _evidence(signals, signal)
        if evidence is not None:
            lines.append((row_id or "", sentiment or "", score, evidence))
    rows = pd.DataFrame(lines, columns=["id", "sentiment", "score", "text"])
    return rows.sort_values("score", kind="stable", na_position="last").drop(columns="score")


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    parts = []
    for signal, title in LISTS:
        rows = follow_up_rows(facts, signal)
        if rows.empty:
            continue
        shown = f" (the {LIMIT} most negative shown)" if len(rows) > LIMIT else ""
        parts.append(f"<h3>{html.escape(title)}: {len(rows)} rows{shown}</h3>" + table_html(rows.head(LIMIT)))
    if not parts:
        return no_data(KEY, TITLE, "no churn-risk, effort or follow-up signals yet")
    return Section(
        KEY,
        TITLE,
        note("Ids and evidence for follow-up; the text is the sentence that raised the flag.") + "".join(parts),
    )
