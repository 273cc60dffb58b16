"""The HTTP service through FastAPI's TestClient.

Most tests use ``FakeAnalyzer`` (instant, records what it was asked); the ``encoder`` ones
check the real Analyzer behind the same routes, through the session fixture.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observability import JsonFormatter
from api.settings import Settings
from nlp.analyzer import Analyzer
from nlp.schema import Result, Sentiment, Topic
from nlp.textprep import prepare

TEXT = "The courier was late but support sorted it out."
SECRET_TEXT = "my-very-private-feedback-4711"


class FakeComponent:
    def __init__(self, name: str) -> None:
        self.name = name

    def versions(self) -> dict[str, str]:
        return {self.name: "fake@1"}


class FakeTopics(FakeComponent):
    """The interface the topics routes rely on: ``topic_table()`` and optional ``reload()``."""

    def __init__(self) -> None:
        super().__init__("topics")
        self.reloads = 0

    def topic_table(self) -> list[dict]:
        return [{"id": 0, "label": "delivery", "keywords": ["courier", "late"], "size": 3}]

    def reload(self) -> None:
        self.reloads += 1


class FakeAnalyzer:
    """Analyzer-shaped: validates texts like the library, fills sentiment/topic when asked."""

    def __init__(self, components: Iterable[FakeComponent] = ()) -> None:
        self.components = [FakeComponent("sentiment"), FakeComponent("emotion"), *components]
        self.calls: list[tuple[list[str], list[str] | None]] = []

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    def versions(self) -> dict[str, str]:
        return {"encoder": "fake@1"} | {k: v for c in self.components for k, v in c.versions().items()}

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]:
        wanted = list(tasks) if tasks is not None else None
        self.calls.append(([str(t) for t in texts], wanted))
        ids = ids or [None] * len(texts)
        return [self._one(text, item_id, wanted or self.component_names) for text, item_id in zip(texts, ids)]

    @staticmethod
    def _one(text: object, item_id: str | None, tasks: list[str]) -> Result:
        prepared = prepare(text)
        if not hasattr(prepared, "text"):
            return Result(id=item_id, error=prepared)
        result = Result(id=item_id, text_length=prepared.original_length)
        if "sentiment" in tasks:
            result.sentiment = Sentiment(label="neutral", score=0.0, probs={"neutral": 1.0})
        if "topics" in tasks:
            result.topic = Topic(id=0, label="delivery", keywords=["courier"], probability=0.9)
        return result


@pytest.fixture
def fake() -> FakeAnalyzer:
    return FakeAnalyzer()


def client_for(analyzer: object, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(**settings), analyzer=analyzer))


@pytest.fixture
def client(fake: FakeAnalyzer) -> Iterator[TestClient]:
    with client_for(fake) as test_client:
        yield test_client


def error_locs(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


# --- health and loading -------------------------------------------------------------------------


def test_readyz_is_503_until_the_analyzer_is_loaded_while_healthz_is_200(fake: FakeAnalyzer) -> None:
    release = threading.Event()

    def slow_loader(settings: Settings) -> FakeAnalyzer:
        release.wait(10)
        return fake

    with TestClient(create_app(Settings(), loader=slow_loader)) as client:
        assert client.get("/healthz").status_code == 200
        loading = client.get("/readyz")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        busy = client.post("/v1/analyze", json={"text": TEXT})
        assert busy.status_code == 503 and "Retry-After" in busy.headers
        release.set()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.get("/readyz").json()["status"] == "ok"
        assert client.post("/v1/analyze", json={"text": TEXT}).status_code == 200


def test_a_failed_load_keeps_readyz_503_and_says_why() -> None:
    def broken_loader(settings: Settings) -> FakeAnalyzer:
        raise FileNotFoundError("no trained model at /nowhere")

    with TestClient(create_app(Settings(), loader=broken_loader)) as client:
        deadline = time.monotonic() + 10
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "no trained model" in ready.json()["detail"]
        assert client.get("/healthz").status_code == 200


# --- analyze: shapes, per-item errors, tasks ----------------------------------------------------


def test_one_text_answers_with_a_result_and_echoes_metadata(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": TEXT, "id": "r-1", "metadata": {"channel": "email", "n": 3}})
    assert response.status_code == 200
    body = response.json()
    Result.model_validate({k: v for k, v in body.items() if k != "metadata"})
    assert body["id"] == "r-1" and body["metadata"] == {"channel": "email", "n": 3}


def test_bad_items_get_their_own_error_and_never_fail_the_others(client: TestClient) -> None:
    items = [
        {"id": "a", "text": TEXT, "metadata": {"row": 1}},
        {"id": "b", "text": "   "},
        {"id": "c", "text": "\x00\x01\x02binary"},
        {"id": "d", "text": "Great app."},
    ]
    response = client.post("/v1/analyze", json={"items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["a", "b", "c", "d"]
    assert [r["error"] and r["error"]["code"] for r in results] == [None, "empty_text", "binary_text", None]
    assert results[0]["metadata"] == {"row": 1} and results[1]["metadata"] is None
    assert results[3]["sentiment"] is not None


def test_tasks_select_components(client: TestClient, fake: FakeAnalyzer) -> None:
    response = client.post("/v1/analyze", json={"text": TEXT, "tasks": ["emotion"]})
    assert response.status_code == 200 and response.json()["sentiment"] is None
    assert fake.calls[-1][1] == ["emotion"]


def test_unknown_tasks_are_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": TEXT, "tasks": ["sentiment", "astrology"]})
    assert response.status_code == 422
    assert error_locs(response) == [["body", "tasks", 1]]
    assert "astrology" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": 5}, ["body", "text"]),
        ({"items": "nope"}, ["body", "items"]),
        ({"items": [{"text": "ok"}, {"id": "x"}]}, ["body", "items", 1, "text"]),
        ({"text": TEXT, "tasks": []}, ["body", "tasks"]),
        ({"text": TEXT, "on_long": "explode"}, ["body", "on_long"]),
        ({"text": TEXT, "colour": "red"}, ["body", "colour"]),
    ],
)
def test_wrong_types_are_a_422_naming_the_field(client: TestClient, body: dict, loc: list) -> None:
    response = client.post("/v1/analyze", json=body)
    assert response.status_code == 422
    assert loc in error_locs(response)


@pytest.mark.parametrize("body", [{}, {"text": TEXT, "items": [{"text": TEXT}]}, {"items": [], "id": "x"}])
def test_text_and_items_are_exclusive(client: TestClient, body: dict) -> None:
    assert client.post("/v1/analyze", json=body).status_code == 422


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b"null"])
def test_malformed_json_is_never_a_500(client: TestClient, raw: bytes) -> None:
    response = client.post("/v1/analyze", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500


# --- limits ---------------------------------------------------------------------------------------


def test_too_many_items_is_a_422_naming_items_and_the_limit(fake: FakeAnalyzer) -> None:
    with client_for(fake, max_batch=3) as client:
        response = client.post("/v1/analyze", json={"items": [{"text": "x"}] * 4})
    assert response.status_code == 422
    assert error_locs(response) == [["body", "items"]]
    assert "3" in response.json()["detail"][0]["msg"]
    assert fake.calls == []


def test_long_texts_are_truncated_and_flagged_by_default(fake: FakeAnalyzer) -> None:
    with client_for(fake, max_chars=10) as client:
        response = client.post("/v1/analyze", json={"items": [{"text": "short"}, {"text": "x" * 25}]})
    results = response.json()["results"]
    assert [r["truncated"] for r in results] == [False, True]
    assert results[1]["text_length"] == 25
    assert fake.calls[-1][0] == ["short", "x" * 10]


def test_long_texts_with_on_long_error_are_a_422_naming_each_field(fake: FakeAnalyzer) -> None:
    items = [{"text": "ok"}] * 3 + [{"text": "y" * 11}]
    with client_for(fake, max_chars=10) as client:
        batch = client.post("/v1/analyze", json={"items": items, "on_long": "error"})
        single = client.post("/v1/analyze", json={"text": "y" * 11, "on_long": "error"})
    assert batch.status_code == 422 and error_locs(batch) == [["body", "items", 3, "text"]]
    assert "10" in batch.json()["detail"][0]["msg"]
    assert single.status_code == 422 and error_locs(single) == [["body", "text"]]


def test_a_body_over_the_limit_is_413_before_parsing(fake: FakeAnalyzer) -> None:
    with client_for(fake, max_body_bytes=100) as client:
        declared = client.post("/v1/analyze", json={"text": "z" * 200})
        streamed = client.post("/v1/analyze", content=iter([b'{"text": "', b"z" * 200, b'"}']))
        small = client.post("/v1/analyze", json={"text": "fine"})
    assert declared.status_code == 413 and "100" in declared.json()["detail"]
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert streamed.status_code == 413
    assert small.status_code == 200
    assert fake.calls == [(["fine"], None)]


def test_a_full_queue_is_a_503_with_retry_after(fake: FakeAnalyzer) -> None:
    with client_for(fake, max_queue=2) as client:
        response = client.post("/v1/analyze", json={"items": [{"text": "a"}, {"text": "b"}, {"text": "c"}]})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


# --- auth, CORS, request ids, metrics, logs -------------------------------------------------------


def test_api_keys_guard_the_analysis_routes_but_not_health(fake: FakeAnalyzer) -> None:
    with client_for(fake, api_keys=("k-one", "k-two")) as client:
        assert client.post("/v1/analyze", json={"text": TEXT}).status_code == 401
        assert client.post("/v1/analyze", json={"text": TEXT}, headers={"X-API-Key": "k-three"}).status_code == 401
        assert client.post("/v1/analyze", json={"text": TEXT}, headers={"X-API-Key": "k-two"}).status_code == 200
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers={"X-API-Key": "k-one"}).status_code == 200
        for open_path in ("/healthz", "/readyz", "/metrics", "/"):
            assert client.get(open_path).status_code == 200


def test_cors_allows_the_configured_origins(fake: FakeAnalyzer) -> None:
    with client_for(fake, cors_origins=("https://app.example",)) as client:
        allowed = client.post("/v1/analyze", json={"text": TEXT}, headers={"Origin": "https://app.example"})
        other = client.post("/v1/analyze", json={"text": TEXT}, headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


def test_request_ids_are_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) == 32
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["X-Request-ID"] != "bad id\twith spaces"
    assert client.post("/v1/analyze", json={}, headers={"X-Request-ID": "r-422"}).headers["X-Request-ID"] == "r-422"


def test_metrics_count_requests_batches_and_item_errors(client: TestClient) -> None:
    client.post("/v1/analyze", json={"items": [{"text": TEXT}, {"text": ""}]})
    metrics = client.get("/metrics").text
    assert 'voc_http_requests_total{method="POST",route="/v1/analyze",status="200"} 1.0' in metrics
    assert "voc_http_request_duration_seconds_bucket" in metrics
    assert "voc_batch_size_count 1.0" in metrics
    assert 'voc_item_errors_total{code="empty_text"} 1.0' in metrics
    assert "voc_queue_depth 0.0" in metrics


SERVER_LOGGERS = ("api", "nlp", "uvicorn", "fastapi", "starlette")


def _logged(records: list[logging.LogRecord]) -> str:
    """What the service logged, formatted as in production (the test client's own lines left out)."""
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in records if r.name.split(".")[0] in SERVER_LOGGERS)


def test_logs_are_json_with_the_request_id_and_never_the_text(
    fake: FakeAnalyzer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with client_for(fake) as client:
        client.post("/v1/analyze", json={"text": SECRET_TEXT}, headers={"X-Request-ID": "req-42"})
        client.get(f"/?text={SECRET_TEXT}")
    lines = _logged(caplog.records)
    assert SECRET_TEXT not in lines
    access = [json.loads(line) for line in lines.splitlines() if '"api.access"' in line]
    assert any(entry["request_id"] == "req-42" and entry["route"] == "/v1/analyze" for entry in access)


def test_texts_are_logged_only_when_asked(fake: FakeAnalyzer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with client_for(fake, log_texts=True) as client:
        client.post("/v1/analyze", json={"text": SECRET_TEXT})
    assert SECRET_TEXT in _logged(caplog.records)


# --- models and topics ----------------------------------------------------------------------------


def test_models_lists_versions_and_model_card_metrics(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = tmp_path / "voc-multitask"
    card.mkdir()
    (card / "config.json").write_text(json.dumps({"name": "voc-multitask", "version": "9.9.9"}))
    (card / "metrics.json").write_text(json.dumps({"sst2": {"accuracy": 0.9}}))
    (tmp_path / "not-a-model").mkdir()
    monkeypatch.setenv("VOC_MODELS", str(tmp_path))
    body = client.get("/v1/models").json()
    assert body["components"] == ["sentiment", "emotion"]
    assert body["versions"]["encoder"] == "fake@1"
    assert body["models"] == [{"name": "voc-multitask", "version": "9.9.9", "metrics": {"sst2": {"accuracy": 0.9}}}]
    assert body["limits"]["max_chars"] == Settings().max_chars


def test_topic_routes_are_404_without_a_topic_model(fake: FakeAnalyzer) -> None:
    with client_for(fake, admin_key="adm") as client:
        for response in (
            client.get("/v1/topics"),
            client.post("/v1/topics/assign", json={"text": TEXT}),
            client.post("/v1/admin/reload-topics", headers={"X-Admin-Key": "adm"}),
        ):
            assert response.status_code == 404
            assert response.json() == {"detail": "no topic model loaded"}


def test_topics_table_and_assign_use_the_topics_component() -> None:
    fake = FakeAnalyzer([FakeTopics()])
    with client_for(fake) as client:
        table = client.get("/v1/topics")
        assigned = client.post("/v1/topics/assign", json={"items": [{"id": "1", "text": TEXT}]})
    assert table.json()["topics"][0]["label"] == "delivery"
    assert fake.calls[-1][1] == ["topics"]
    result = assigned.json()["results"][0]
    assert result["topic"]["label"] == "delivery" and result["sentiment"] is None


def test_reloading_topics_needs_the_admin_key() -> None:
    topics = FakeTopics()
    with client_for(FakeAnalyzer([topics]), admin_key="adm-secret") as client:
        assert client.post("/v1/admin/reload-topics").status_code == 403
        assert client.post("/v1/admin/reload-topics", headers={"X-Admin-Key": "wrong"}).status_code == 403
        response = client.post("/v1/admin/reload-topics", headers={"X-Admin-Key": "adm-secret"})
    assert response.status_code == 200 and response.json()["reloaded"] is True
    assert topics.reloads == 1


def test_admin_routes_are_off_without_an_admin_key() -> None:
    topics = FakeTopics()
    with client_for(FakeAnalyzer([topics])) as client:
        assert client.post("/v1/admin/reload-topics", headers={"X-Admin-Key": ""}).status_code == 403
    assert topics.reloads == 0


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "VOC_API_KEYS": "a, b,,",
            "VOC_CORS_ORIGINS": "https://x.example",
            "VOC_MAX_BATCH": "7",
            "VOC_MAX_CHARS": "99",
            "VOC_MAX_BODY_BYTES": "1000",
            "VOC_LOG_TEXTS": "1",
            "VOC_BATCH_WAIT_MS": "2.5",
            "VOC_MAX_QUEUE": "5",
            "VOC_ADMIN_KEY": "adm",
        }
    )
    assert settings.api_keys == ("a", "b") and settings.cors_origins == ("https://x.example",)
    assert (settings.max_batch, settings.max_chars, settings.max_body_bytes, settings.max_queue) == (7, 99, 1000, 5)
    assert settings.log_texts and settings.batch_wait_ms == 2.5 and settings.admin_key == "adm"
    assert Settings.from_env({}) == Settings()


def test_the_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="sentiment-label"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


# --- the real Analyzer behind the routes ------------------------------------------------------------


@pytest.fixture(scope="module")
def real_client(analyzer: Analyzer) -> Iterator[TestClient]:
    with client_for(analyzer) as client:
        yield client


@pytest.mark.encoder
def test_the_real_analyzer_answers_with_consistent_results(real_client: TestClient, analyzer: Analyzer) -> None:
    texts = [TEXT, "Great app, but the login keeps failing. I'm furious!", ""]
    response = real_client.post("/v1/analyze", json={"items": [{"id": str(i), "text": t} for i, t in enumerate(texts)]})
    assert response.status_code == 200
    served = response.json()["results"]
    direct = analyzer.analyze(texts, ids=["0", "1", "2"])
    for body, expected in zip(served, direct):
        result = Result.model_validate({k: v for k, v in body.items() if k != "metadata"})
        assert (result.error is None) == (expected.error is None)
        if expected.sentiment is not None:
            assert result.sentiment.label == expected.sentiment.label
            assert result.sentiment.score == pytest.approx(expected.sentiment.score, abs=1e-3)
            assert [(s.start, s.end) for s in result.sentences] == [(s.start, s.end) for s in expected.sentences]
    for sentence in served[1]["sentences"]:
        assert texts[1][sentence["start"] : sentence["end"]] == sentence["text"]


@pytest.mark.encoder
def test_the_real_analyzer_runs_only_the_requested_tasks(real_client: TestClient) -> None:
    body = real_client.post("/v1/analyze", json={"text": TEXT, "tasks": ["sentiment"]}).json()
    assert body["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert body["emotions"] == [] and "emotion" not in body["models"]
    assert real_client.get("/v1/topics").status_code in {200, 404}
