"""Emotion mix: how many of the analysed rows carry each emotion."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from nlp.report.base import ReportOptions, Section, figure_html, no_data

KEY = "emotions"
TITLE = "Emotion mix"
TOP = 15


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    analysed = facts[facts["ok"]]
    counts = analysed["emotions"].explode().dropna().value_counts().head(TOP)
    if counts.empty:
        return no_data(KEY, TITLE, "no emotions in the tagged rows")
    shares = counts / len(analysed) * 100
    figure = go.Figure(
        go.Bar(
            x=shares.to_numpy(),
            y=list(counts.index),
            orientation="h",
            text=[f"{share:.0f}% ({count})" for share, count in zip(shares, counts)],
            marker_color="#8e44ad",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="% of analysed rows")
    figure.update_layout(height=120 + 28 * len(counts))
    return Section(KEY, TITLE, figure_html(figure))
