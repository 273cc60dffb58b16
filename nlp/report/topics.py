"""Top topics: volume, negative share, and a few example comments for each."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from nlp.report.base import ReportOptions, Section, figure_html, no_data, table_html

KEY = "topics"
TITLE = "Top topics"
TOP = 10
EXAMPLES = 3


def topic_table(facts: pd.DataFrame) -> pd.DataFrame:
    """One line per top topic: rows, negative share, and the most typical example comments."""
    with_topic = facts[facts["ok"] & facts["topic"].notna()]
    lines = []
    for topic, rows in with_topic.groupby("topic"):
        examples = rows.sort_values("topic_probability", ascending=False, kind="stable")["text"].head(EXAMPLES)
        negative = (rows["sentiment"] == "negative").mean() * 100
        lines.append([topic, len(rows), f"{negative:.0f}%", [example for example in examples if example]])
    table = pd.DataFrame(lines, columns=["topic", "rows", "negative", "examples"])
    return table.sort_values(["rows", "topic"], ascending=[False, True]).head(TOP)


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    table = topic_table(facts)
    if table.empty:
        return no_data(KEY, TITLE, "no row has a topic yet")
    figure = go.Figure(go.Bar(x=table["rows"], y=table["topic"], orientation="h", marker_color="#2980b9"))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="rows")
    figure.update_layout(height=120 + 30 * len(table))
    return Section(KEY, TITLE, figure_html(figure) + table_html(table))
