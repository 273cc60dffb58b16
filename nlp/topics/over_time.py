"""How often each topic is raised per period: plain counting over an analysed export."""

from __future__ import annotations

import pandas as pd


def topics_over_time(df: pd.DataFrame, topic_col: str, date_col: str, freq: str = "W") -> pd.DataFrame:
    """Long table with one row per (period, topic) that occurs: ``period, topic, count, share``.

    ``period`` is the start timestamp of the pandas period ``freq`` ("D", "W", "M", "Q"...);
    ``share`` is the topic's fraction of that period's rows. Rows with a missing or unparseable
    date or topic are left out. Periods and topics with no rows are absent (not zero rows).
    """
    dates = pd.to_datetime(df[date_col], errors="coerce", utc=True).dt.tz_localize(None)
    frame = pd.DataFrame({"period": dates.dt.to_period(freq).dt.start_time, "topic": df[topic_col]}).dropna()
    counts = frame.groupby(["period", "topic"]).size().rename("count").reset_index()
    counts["share"] = counts["count"] / counts.groupby("period")["count"].transform("sum")
    return counts.sort_values(["period", "topic"], ignore_index=True)
