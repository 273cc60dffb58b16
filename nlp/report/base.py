"""What every report section shares: the Section it returns, its options, and HTML helpers."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_COLORS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
SHORT_TEXT = 160


@dataclass(frozen=True)
class ReportOptions:
    score_col: str | None = None
    date_col: str | None = None
    by_col: str | None = None
    text_col: str | None = None  # examples come from voc_result's sentences without it
    min_rows: int = 10  # least rows a tag needs to get a line in the driver table


@dataclass(frozen=True)
class Section:
    key: str  # the HTML id
    title: str
    body: str  # an HTML fragment

    def html(self) -> str:
        return f'<section id="{self.key}"><h2>{html.escape(self.title)}</h2>{self.body}</section>'


def no_data(key: str, title: str, reason: str) -> Section:
    return Section(key, title, f'<p class="no-data">No data: {html.escape(reason)}</p>')


def figure_html(figure: go.Figure) -> str:
    """A chart div; plotly.js itself is embedded once for the whole page (see page.py)."""
    figure.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def _cell(value: object) -> str:
    return bullet_list(value) if isinstance(value, list) else html.escape(str(value))


def table_html(frame: pd.DataFrame, css_class: str = "data") -> str:
    """An escaped HTML table; list cells become bullet lists (format numbers before)."""
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def bullet_list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def short(text: str, limit: int = SHORT_TEXT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'
