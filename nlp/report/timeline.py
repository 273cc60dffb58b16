"""Sentiment over time, by week, with spikes in the negative share flagged."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nlp.report.base import SENTIMENT_COLORS, SENTIMENTS, ReportOptions, Section, bullet_list, figure_html, no_data

KEY = "timeline"
TITLE = "Sentiment over time"
MIN_WEEK_ROWS = 10  # fewer rows than this in a week: its share is too noisy to call a spike
SPIKE_SD = 2.0


def weekly_sentiment(facts: pd.DataFrame) -> pd.DataFrame:
    """Rows per week (starting Monday) and sentiment, with the negative share and spike flag."""
    dated = facts[facts["ok"] & facts["date"].notna() & facts["sentiment"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=[*SENTIMENTS, "rows", "negative_share", "spike"])
    week = dated["date"].dt.tz_convert(None).dt.to_period("W-SUN").dt.start_time.rename("week")
    weekly = pd.crosstab(week, dated["sentiment"]).reindex(columns=list(SENTIMENTS), fill_value=0)
    weekly = weekly.asfreq("7D", fill_value=0)  # quiet weeks show as zero, not as a gap
    weekly["rows"] = weekly[list(SENTIMENTS)].sum(axis=1)
    weekly["negative_share"] = weekly["negative"] / weekly["rows"].where(weekly["rows"] > 0)
    weekly["spike"] = flag_spikes(weekly["negative_share"], weekly["rows"])
    return weekly


def flag_spikes(negative_share: pd.Series, rows: pd.Series) -> pd.Series:
    """Weeks with at least MIN_WEEK_ROWS rows whose negative share is above mean + 2 sd of such weeks."""
    eligible = rows >= MIN_WEEK_ROWS
    shares = negative_share[eligible]
    if len(shares) < 3:  # no meaningful spread from fewer weeks
        return pd.Series(False, index=negative_share.index)
    threshold = shares.mean() + SPIKE_SD * shares.std()
    return eligible & (negative_share > threshold)


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    if not options.date_col:
        return no_data(KEY, TITLE, "no date column given (--date-col)")
    weekly = weekly_sentiment(facts)
    if weekly.empty:
        return no_data(KEY, TITLE, f"no analysed row has a readable date in {options.date_col}")
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for sentiment in SENTIMENTS:
        figure.add_trace(
            go.Bar(x=weekly.index, y=weekly[sentiment], name=sentiment, marker_color=SENTIMENT_COLORS[sentiment])
        )
    figure.add_trace(
        go.Scatter(
            x=weekly.index,
            y=weekly["negative_share"] * 100,
            name="% negative",
            mode="lines+markers",
            line_color="#2c3e50",
        ),
        secondary_y=True,
    )
    spikes = weekly[weekly["spike"]]
    figure.add_trace(
        go.Scatter(
            x=spikes.index,
            y=spikes["negative_share"] * 100,
            name="spike",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": "#e74c3c"},
        ),
        secondary_y=True,
    )
    figure.update_layout(barmode="stack", height=420)
    figure.update_yaxes(title_text="rows per week", secondary_y=False)
    figure.update_yaxes(title_text="% negative", secondary_y=True, rangemode="tozero")
    spike_lines = [
        f"week of {week:%Y-%m-%d}: {share:.0%} negative of {rows} rows"
        for week, share, rows in spikes[["negative_share", "rows"]].itertuples()
    ]
    rule = (
        f"A spike is a week with at least {MIN_WEEK_ROWS} rows whose negative share is more than "
        f"{SPIKE_SD:g} standard deviations above the mean of such weeks."
    )
    flagged = bullet_list(spike_lines) if spike_lines else "<p>No spikes.</p>"
    return Section(KEY, TITLE, figure_html(figure) + f'<p class="note">{rule}</p>' + flagged)
