"""Sentiment by journey stage: the share of each sentiment among the rows tagged with a stage."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from nlp.report.base import SENTIMENTS, ReportOptions, Section, figure_html, no_data

KEY = "stage-sentiment"
TITLE = "Sentiment by journey stage"


def stage_sentiment_counts(facts: pd.DataFrame) -> pd.DataFrame:
    """Rows per stage (index) and sentiment (columns); a stage's own sentiment when it has one."""
    pairs = [(stage, label) for stages in facts.loc[facts["ok"], "stages"] for stage, label in stages if label]
    if not pairs:
        return pd.DataFrame(columns=list(SENTIMENTS))
    frame = pd.DataFrame(pairs, columns=["stage", "sentiment"])
    counts = pd.crosstab(frame["stage"], frame["sentiment"]).reindex(columns=list(SENTIMENTS), fill_value=0)
    return counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    counts = stage_sentiment_counts(facts)
    if counts.empty:
        return no_data(KEY, TITLE, "no row has a journey stage yet")
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    labels = [
        [f"{share:.0f}% ({count})" for share, count in zip(share_row, count_row)]
        for share_row, count_row in zip(shares.to_numpy(), counts.to_numpy())
    ]
    figure = go.Figure(
        go.Heatmap(
            z=shares.to_numpy(),
            x=list(SENTIMENTS),
            y=[f"{stage} (n={total})" for stage, total in counts.sum(axis=1).items()],
            text=labels,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": "% of stage"},
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=140 + 36 * len(counts))
    return Section(KEY, TITLE, figure_html(figure))
