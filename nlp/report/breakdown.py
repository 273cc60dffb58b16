"""Sentiment broken down by a metadata column (channel, segment, ...)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from nlp.report.base import SENTIMENT_COLORS, SENTIMENTS, ReportOptions, Section, figure_html, no_data

KEY = "breakdown"
TITLE = "Sentiment by metadata"
TOP = 15
BLANK = "(blank)"


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    if not options.by_col:
        return no_data(KEY, TITLE, "no column given to break down by (--by-col)")
    analysed = facts[facts["ok"] & facts["sentiment"].notna()]
    if analysed.empty:
        return no_data(KEY, TITLE, "no analysed rows")
    values = analysed["by"].replace("", BLANK)
    counts = pd.crosstab(values, analysed["sentiment"]).reindex(columns=list(SENTIMENTS), fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index].head(TOP)
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    labels = [f"{value} (n={total})" for value, total in counts.sum(axis=1).items()]
    figure = go.Figure(
        [
            go.Bar(
                name=sentiment,
                y=labels,
                x=shares[sentiment],
                orientation="h",
                marker_color=SENTIMENT_COLORS[sentiment],
                text=[f"{s:.0f}%" for s in shares[sentiment]],
            )
            for sentiment in SENTIMENTS
        ]
    )
    figure.update_layout(barmode="stack", height=140 + 30 * len(counts), title=f"by {options.by_col}")
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="% of rows", range=[0, 100])
    return Section(KEY, TITLE, figure_html(figure))
