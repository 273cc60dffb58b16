"""Property-based contract test: schemathesis generates requests from ``/openapi.json`` (valid and
invalid ones) and the service must never answer 5xx and always answer in its documented schema.

Runs against the real Analyzer (session fixture), so generated texts go through real inference.
The app runs under uvicorn in a thread: schemathesis' in-process ASGI client runs the lifespan on
another event loop than the requests, which no real server does. Hypothesis is driven per operation
because schemathesis' ``from_fixture`` pytest hook fails on pytest 9 (``Function._nodeid``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from api.localserver import serve_in_thread
from api.settings import Settings
from nlp.analyzer import Analyzer

pytestmark = [pytest.mark.slow, pytest.mark.encoder]

EXAMPLES_PER_OPERATION = 30
API_KEY, ADMIN_KEY = "schema-test-key", "schema-test-admin"
CREDENTIALS = {"X-API-Key": API_KEY, "X-Admin-Key": ADMIN_KEY}


@pytest.fixture(scope="module")
def api_schema(analyzer: Analyzer) -> Iterator[schemathesis.schemas.BaseSchema]:
    # Small limits keep generated batches cheap to analyse and reach the limit checks.
    settings = Settings(max_batch=8, max_chars=2_000, max_body_bytes=50_000, api_keys=(API_KEY,), admin_key=ADMIN_KEY)
    app = create_app(settings, analyzer=analyzer)
    with serve_in_thread(app) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_server_errors_and_documented_responses(
    api_schema: schemathesis.schemas.BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/analyze", "GET /v1/models", "POST /v1/topics/assign"}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.body:
            continue  # nothing to make invalid: no request body

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=CREDENTIALS, checks=[not_a_server_error, response_schema_conformance])

        call()
