"""Pain points vs gain creators (CX signals), by journey stage, with example evidence."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from nlp.report.base import ReportOptions, Section, bullet_list, figure_html, no_data

KEY = "pains-gains"
TITLE = "Pain points vs gain creators"
PAIN, GAIN = "pain_point", "gain_creator"
NO_STAGE = "(no stage)"
EXAMPLES = 3


def signal_mentions(facts: pd.DataFrame) -> pd.DataFrame:
    """One line per (row, stage, pain or gain): stage, kind, evidence."""
    lines = [
        (stage, kind, evidence)
        for stages, signals in facts.loc[facts["ok"], ["stages", "signals"]].itertuples(index=False)
        for kind, evidence in signals
        if kind in (PAIN, GAIN)
        for stage in ([stage for stage, _ in stages] or [NO_STAGE])
    ]
    return pd.DataFrame(lines, columns=["stage", "kind", "evidence"])


def _examples(mentions: pd.DataFrame, kind: str) -> list[str]:
    evidence = mentions.loc[mentions["kind"] == kind, "evidence"]
    return [text for text in evidence.drop_duplicates().head(EXAMPLES) if text]


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    mentions = signal_mentions(facts)
    if mentions.empty:
        return no_data(KEY, TITLE, "no pain point or gain creator signals yet")
    counts = pd.crosstab(mentions["stage"], mentions["kind"]).reindex(columns=[PAIN, GAIN], fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
    figure = go.Figure(
        [
            go.Bar(
                name="pain points",
                y=counts.index,
                x=-counts[PAIN],
                orientation="h",
                marker_color="#c0392b",
                customdata=counts[PAIN],
                hovertemplate="%{y}: %{customdata} pain points<extra></extra>",
            ),
            go.Bar(
                name="gain creators",
                y=counts.index,
                x=counts[GAIN],
                orientation="h",
                marker_color="#27ae60",
                hovertemplate="%{y}: %{x} gain creators<extra></extra>",
            ),
        ]
    )
    figure.update_layout(barmode="relative", height=140 + 30 * len(counts))
    figure.update_yaxes(autorange="reversed")
    widest = int(counts.to_numpy().max())
    ticks = list(range(-widest, widest + 1, max(1, widest // 4)))
    figure.update_xaxes(
        title="rows (pains to the left, gains to the right)", tickvals=ticks, ticktext=[abs(t) for t in ticks]
    )
    examples = (
        f'<div class="columns"><div><h3>Pain points</h3>{bullet_list(_examples(mentions, PAIN))}</div>'
        f"<div><h3>Gain creators</h3>{bullet_list(_examples(mentions, GAIN))}</div></div>"
    )
    return Section(KEY, TITLE, figure_html(figure) + examples)
