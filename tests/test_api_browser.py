"""The page at ``/`` in a real headless browser, against a real server and the real Analyzer.

The page runs an analysis on load for ``/?text=...&auto=1``; chromium's ``--dump-dom`` prints the
DOM once the page's scripts (and their fetch) are done within the virtual-time budget.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from api.app import create_app
from api.localserver import serve_in_thread
from api.settings import Settings
from nlp.analyzer import Analyzer
from nlp.schema import Evidence, Result, TaggedLabel

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.encoder,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)"),
]


class WithEvidence:
    """The real analyzer plus a stage whose evidence is the word "late", so the page's highlighting
    is exercised whether or not the journey components are registered yet."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.components = analyzer.components

    @property
    def component_names(self) -> list[str]:
        return self.analyzer.component_names

    def versions(self) -> dict[str, str]:
        return self.analyzer.versions()

    def analyze(
        self, texts: list[str], ids: list[str | None] | None = None, tasks: list[str] | None = None
    ) -> list[Result]:
        results = self.analyzer.analyze(texts, ids=ids, tasks=tasks)
        for text, result in zip(texts, results):
            start = text.find("late")
            if start >= 0 and result.error is None:
                evidence = Evidence(start=start, end=start + 4, text="late", source="cue")
                result.stages.append(TaggedLabel(id="test_delivery", score=0.9, evidence=[evidence]))
        return results


@pytest.fixture(scope="module")
def server_url(analyzer: Analyzer) -> Iterator[str]:
    with serve_in_thread(create_app(Settings(), analyzer=WithEvidence(analyzer))) as url:
        yield url


def dump_dom(url: str) -> str:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # running as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


def test_the_page_renders_an_analysis(server_url: str) -> None:
    text = "🙂 The parcel arrived two days late. The driver was lovely though! Thanks."
    dom = dump_dom(f"{server_url}/?auto=1&text={quote(text)}")
    label = re.search(r'id="sentiment-label"[^>]*>([^<]*)<', dom)
    assert label is not None, dom[:2000]
    assert label.group(1) in {"negative", "neutral", "positive"}
    highlighted = re.search(r'<div id="highlighted">(.*?)</div>', dom, re.S)
    assert highlighted is not None
    assert re.search(r'class="s-(negative|neutral|positive)"', highlighted.group(1))
    # The rendered text is the sent text: offsets were mapped by code point, emoji included.
    assert re.sub(r"<[^>]+>", "", highlighted.group(1)) == text
    marked = r'<mark [^>]*data-evidence="[^"]*\btest_delivery\b[^"]*"[^>]*>late</mark>'
    assert re.search(marked, highlighted.group(1)), highlighted.group(1)
    assert 'id="tags-stages"' in dom
    assert 'class="bar emotion"' in dom or "none above threshold" in dom


def test_the_page_shows_an_item_error(server_url: str) -> None:
    dom = dump_dom(f"{server_url}/?auto=1&text={quote('   ')}")
    assert re.search(r'id="sentiment-label"[^>]*>error<', dom)
    assert "empty_text" in dom
