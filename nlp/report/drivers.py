"""Score drivers: how the score (e.g. NPS 0-10) differs between rows with and without each tag.

For every stage, topic and emotion present in at least ``min_rows`` scored rows: the mean score
with and without it, the difference with a 95% Welch confidence interval, and the difference in
detractor share (score <= 6). Groups under 30 rows are flagged: their intervals are wide and the
t approximation is rough. These are associations, not causes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from nlp.report.base import ReportOptions, Section, no_data, note, table_html

KEY = "drivers"
TITLE = "Score drivers"
DETRACTOR_MAX = 6
SMALL_GROUP = 30


def welch_interval(with_tag: np.ndarray, without_tag: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of mean(with) - mean(without), unequal variances (Welch-Satterthwaite)."""
    n1, n2 = len(with_tag), len(without_tag)
    if n1 < 2 or n2 < 2:
        return math.nan, math.nan
    v1, v2 = with_tag.var(ddof=1) / n1, without_tag.var(ddof=1) / n2
    difference = with_tag.mean() - without_tag.mean()
    if v1 + v2 == 0:  # every score identical on both sides
        return difference, difference
    freedom = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    margin = stats.t.ppf(0.5 + level / 2, freedom) * math.sqrt(v1 + v2)
    return difference - margin, difference + margin


def tag_masks(scored: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """(kind, tag) -> which scored rows carry it, for stages, topics and emotions."""
    masks: dict[tuple[str, str], pd.Series] = {}
    per_kind = {
        "stage": scored["stages"].map(lambda stages: {stage for stage, _ in stages}),
        # Rows without a topic hold None or NaN (pandas), never a label.
        "topic": scored["topic"].map(lambda topic: {topic} if isinstance(topic, str) and topic else set()),
        "emotion": scored["emotions"].map(set),
    }
    for kind, tag_sets in per_kind.items():
        for tag in sorted(set().union(*tag_sets)) if len(tag_sets) else []:
            masks[(kind, tag)] = tag_sets.map(lambda tags, tag=tag: tag in tags)
    return masks


def driver_table(facts: pd.DataFrame, min_rows: int) -> pd.DataFrame:
    scored = facts[facts["ok"] & facts["score"].notna()]
    scores = scored["score"].to_numpy(dtype=float)
    detractor = scores <= DETRACTOR_MAX
    lines = []
    for (kind, tag), mask in tag_masks(scored).items():
        has = mask.to_numpy(dtype=bool)
        if has.sum() < min_rows or has.all():
            continue
        low, high = welch_interval(scores[has], scores[~has])
        lines.append(
            {
                "kind": kind,
                "tag": tag,
                "rows": int(has.sum()),
                "mean with": scores[has].mean(),
                "mean without": scores[~has].mean(),
                "difference": scores[has].mean() - scores[~has].mean(),
                "95% CI": (low, high),
                "detractor share diff": detractor[has].mean() - detractor[~has].mean(),
                "small group": "yes (n<30)" if has.sum() < SMALL_GROUP else "",
            }
        )
    return pd.DataFrame(lines).sort_values("difference", kind="stable") if lines else pd.DataFrame()


def _formatted(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.copy()
    for column in ("mean with", "mean without"):
        shown[column] = shown[column].map("{:.2f}".format)
    shown["difference"] = shown["difference"].map("{:+.2f}".format)
    shown["95% CI"] = shown["95% CI"].map(lambda ci: "n/a" if math.isnan(ci[0]) else f"[{ci[0]:+.2f}, {ci[1]:+.2f}]")
    shown["detractor share diff"] = shown["detractor share diff"].map(lambda value: f"{value * 100:+.0f} pts")
    return shown


def build(facts: pd.DataFrame, options: ReportOptions) -> Section:
    if not options.score_col:
        return no_data(KEY, TITLE, "no score column given (--score-col)")
    table = driver_table(facts, options.min_rows)
    if table.empty:
        return no_data(KEY, TITLE, f"no stage, topic or emotion in at least {options.min_rows} scored rows")
    explain = (
        f"Mean {options.score_col} of rows with each tag vs without it; detractors score {DETRACTOR_MAX} or less. "
        "Sorted from the most negative difference. Associations, not causes."
    )
    return Section(KEY, TITLE, note(explain) + table_html(_formatted(table)))
