"""voc report: sections from a synthetic tagged file, the statistics behind them, and a real browser."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats
from typer.testing import CliRunner

from nlp.cli import app
from nlp.io.formats import write_table
from nlp.io.stub import StubAnalyzer
from nlp.io.table import TableError
from nlp.io.tagging import TagOptions, tag_file
from nlp.report import breakdown, drivers, emotions, follow_up, pains_gains, stage_heatmap, timeline, topics
from nlp.report.base import ReportOptions
from nlp.report.data import load_facts
from nlp.report.page import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ALL_SECTIONS = [module.KEY for module in (stage_heatmap, emotions, topics, pains_gains, follow_up, timeline)] + [
    breakdown.KEY,
    drivers.KEY,
]
FULL = ReportOptions(score_col="nps", date_col="submitted_at", by_col="channel", min_rows=5)


def tagged_export(
    folder: Path, rows: int = 240, name: str = "tagged.csv", tasks: tuple[str, ...] | None = None
) -> Path:
    """A synthetic export over 12 weeks, tagged with the model-free stub (all tag kinds present)."""
    dates = pd.date_range("2024-01-01", periods=rows, freq=pd.Timedelta(days=84 / max(rows, 1)))
    export = pd.DataFrame(
        {
            "response_id": [f"R{n}" for n in range(rows)],
            "submitted_at": [date.isoformat() for date in dates],
            "channel": [("email", "app", "")[n % 3] for n in range(rows)],
            "nps": [str(n % 11) if n % 9 else "" for n in range(rows)],
            "comment": [f"Comment {n}: the parcel came late. Support fixed it." if n % 25 else "" for n in range(rows)],
        },
        dtype=str,
    )
    write_table([export], folder / "export.csv")
    run = TagOptions(folder / "export.csv", folder / name, ("comment",), id_col="response_id", tasks=tasks)
    tag_file(run, StubAnalyzer)
    return folder / name


def section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert match, f"section {key} missing"
    return match.group(1)


@pytest.mark.parametrize("name", ["tagged.csv", "tagged.parquet", "tagged.xlsx", "tagged.jsonl"])
def test_report_has_every_section_with_a_chart(tmp_path: Path, name: str) -> None:
    write_report(tagged_export(tmp_path, name=name), tmp_path / "report.html", FULL)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for key in ALL_SECTIONS:
        body = section(page, key)
        assert "No data" not in body, key
    for key in (stage_heatmap.KEY, emotions.KEY, topics.KEY, pains_gains.KEY, timeline.KEY, breakdown.KEY):
        assert "Plotly.newPlot" in section(page, key), key
    assert "<table" in section(page, drivers.KEY) and "<table" in section(page, follow_up.KEY)
    assert page.count(get_plotlyjs()) == 1  # embedded inline, once
    ours = page.replace(get_plotlyjs(), "")
    assert "<script src" not in ours and "http" not in ours  # nothing fetched when the page opens


def test_sections_without_data_say_so(tmp_path: Path) -> None:
    tagged = tagged_export(tmp_path, rows=30, tasks=("sentiment",))  # no stages, topics, signals yet
    write_report(tagged, tmp_path / "report.html", ReportOptions())
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for key in (stage_heatmap.KEY, emotions.KEY, topics.KEY, pains_gains.KEY, follow_up.KEY):
        assert "No data" in section(page, key), key
    for key, option in ((timeline.KEY, "--date-col"), (breakdown.KEY, "--by-col"), (drivers.KEY, "--score-col")):
        assert option in section(page, key)


def test_an_empty_tagged_file_gives_a_page_of_notes(tmp_path: Path) -> None:
    tagged = tagged_export(tmp_path, rows=0, name="tagged.parquet")
    write_report(tagged, tmp_path / "report.html", FULL)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert all("No data" in section(page, key) for key in ALL_SECTIONS)


def test_examples_and_follow_up_show_ids_and_text(tmp_path: Path) -> None:
    facts = load_facts(tagged_export(tmp_path), FULL)
    churn = follow_up.follow_up_rows(facts, "churn_risk")
    assert not churn.empty and churn["id"].str.startswith("R").all()
    assert churn["text"].str.contains("parcel came late").all()
    assert all(len(examples) <= topics.EXAMPLES for examples in topics.topic_table(facts)["examples"])


def test_not_a_tagged_file_is_refused(tmp_path: Path) -> None:
    write_table([pd.DataFrame({"a": ["1"]}, dtype=str)], tmp_path / "plain.csv")
    with pytest.raises(TableError, match="voc_result"):
        load_facts(tmp_path / "plain.csv", ReportOptions())
    with pytest.raises(TableError, match="no column"):
        load_facts(tagged_export(tmp_path, rows=5), ReportOptions(score_col="csat"))


def test_spikes_need_enough_rows_and_two_standard_deviations() -> None:
    rows = pd.Series([20, 20, 20, 20, 20, 20, 9, 20])
    shares = pd.Series([0.10, 0.12, 0.11, 0.09, 0.10, 0.60, 0.90, 0.11])
    assert timeline.flag_spikes(shares, rows).tolist() == [False] * 5 + [True, False, False]
    assert not timeline.flag_spikes(shares[:2], rows[:2]).any()  # too few weeks to judge


def test_welch_interval_matches_scipy() -> None:
    generator = np.random.default_rng(3)
    with_tag, without_tag = generator.normal(5, 2, 25), generator.normal(7, 3, 80)
    expected = stats.ttest_ind(with_tag, without_tag, equal_var=False).confidence_interval(0.95)
    assert welch_close(drivers.welch_interval(with_tag, without_tag), (expected.low, expected.high))
    assert all(math.isnan(v) for v in drivers.welch_interval(np.array([1.0]), without_tag))


def welch_close(got: tuple[float, float], expected: tuple[float, float]) -> bool:
    return all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got, expected))


def test_driver_table_flags_small_groups_and_detractor_shift() -> None:
    facts = pd.DataFrame(
        {
            "ok": True,
            "stages": [[("billing", "negative")]] * 12 + [[("usage", "positive")]] * 40,
            "topic": None,
            "emotions": [[]] * 52,
            "score": [2.0, 3.0] * 6 + [9.0, 10.0] * 20,
        }
    )
    table = drivers.driver_table(facts, min_rows=10).set_index("tag")
    assert table.loc["billing", "difference"] == pytest.approx(2.5 - 9.5)
    assert table.loc["billing", "detractor share diff"] == pytest.approx(1.0)
    assert table.loc["billing", "small group"] and not table.loc["usage", "small group"]
    assert drivers.driver_table(facts, min_rows=41).empty


def test_voc_report_command(tmp_path: Path) -> None:
    tagged = tagged_export(tmp_path, rows=40)
    outcome = CliRunner().invoke(app, ["report", str(tagged), "-o", str(tmp_path / "r.html"), "--by-col", "channel"])
    assert outcome.exit_code == 0, outcome.output
    assert section((tmp_path / "r.html").read_text(encoding="utf-8"), breakdown.KEY)
    outcome = CliRunner().invoke(app, ["report", str(tmp_path / "export.csv"), "-o", str(tmp_path / "x.html")])
    assert outcome.exit_code == 2 and "voc_result" in outcome.output


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_the_report_renders_in_a_headless_browser(tmp_path: Path) -> None:
    write_report(tagged_export(tmp_path), tmp_path / "report.html", FULL)
    screenshot = tmp_path / "report.png"
    command = [
        *(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"),
        *("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"),
        f"--user-data-dir={tmp_path / 'profile'}",
        *("--enable-logging=stderr", "--v=0", "--window-size=1280,6000", "--virtual-time-budget=10000"),
        f"--screenshot={screenshot}",
        "--dump-dom",
        (tmp_path / "report.html").as_uri(),
    ]
    browser = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert browser.returncode == 0, browser.stderr[-2000:]
    dom = browser.stdout
    charts = [key for key in ALL_SECTIONS if key not in (follow_up.KEY, drivers.KEY)]
    for key in charts:
        assert "main-svg" in section(dom, key) and "plot-container" in section(dom, key), key
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    assert screenshot.stat().st_size > 10_000  # kept under the pytest tmp dir for a look


def test_rows_without_a_topic_do_not_break_the_driver_table() -> None:
    from nlp.report.drivers import tag_masks

    scored = pd.DataFrame(
        {"stages": [[("billing", 0.9)], [], []], "topic": ["refunds", None, np.nan], "emotions": [[], ["anger"], []]}
    )
    masks = tag_masks(scored)
    assert ("topic", "refunds") in masks and not any(kind == "topic" and tag != "refunds" for kind, tag in masks)
