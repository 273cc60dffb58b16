"""The report page: every section in order, plotly.js embedded once, no network needed to view it."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from nlp.report import breakdown, drivers, emotions, follow_up, pains_gains, stage_heatmap, timeline, topics
from nlp.report.base import ReportOptions, Section
from nlp.report.data import load_facts

__all__ = ["ReportOptions", "build_sections", "render_page", "write_report"]

SectionBuilder = Callable[[pd.DataFrame, ReportOptions], Section]
SECTIONS: tuple[SectionBuilder, ...] = (
    stage_heatmap.build,
    emotions.build,
    topics.build,
    pains_gains.build,
    follow_up.build,
    timeline.build,
    breakdown.build,
    drivers.build,
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; margin-top: 2.5rem; }
nav a { margin-right: 1rem; } .note, .summary { color: #555; } .no-data { color: #888; font-style: italic; }
table.data { border-collapse: collapse; width: 100%; font-size: .9rem; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: .3rem .5rem; text-align: left; }
table.data td { vertical-align: top; }
table.data ul { margin: 0; padding-left: 1rem; } .columns { display: flex; gap: 2rem; } .columns > div { flex: 1; }
"""


def build_sections(facts: pd.DataFrame, options: ReportOptions) -> list[Section]:
    return [build(facts, options) for build in SECTIONS]


def render_page(sections: list[Section], title: str, facts: pd.DataFrame) -> str:
    analysed = int(facts["ok"].sum())
    summary = f"{len(facts):,} rows, {analysed:,} analysed, {len(facts) - analysed:,} with errors or not analysed."
    nav = "".join(f'<a href="#{section.key}">{html.escape(section.title)}</a>' for section in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        # plotly.js inline, once for all charts (what include_plotlyjs=True does per figure).
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<h1>{html.escape(title)}</h1><p class="summary">{html.escape(summary)}</p><nav>{nav}</nav>'
        + "".join(section.html() for section in sections)
        + "</body></html>"
    )


def write_report(tagged: Path, output: Path, options: ReportOptions, format_name: str | None = None) -> None:
    facts = load_facts(tagged, options, format_name)
    page = render_page(build_sections(facts, options), f"Voice of the customer: {tagged.name}", facts)
    output.write_text(page, encoding="utf-8")
