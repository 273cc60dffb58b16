"""Shared fixtures. The trained Analyzer loads once per session: every test that needs the
encoder takes the ``analyzer`` fixture instead of building its own."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer, AnalyzerConfig


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer.from_config(AnalyzerConfig(threads=2))
