"""The analysis behind ``/v1/analyze`` and ``/v1/topics/assign``: limits, tasks, batching, echo."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi.exceptions import RequestValidationError

from api.batching import MicroBatcher
from api.deps import AnalyzerLike
from api.observability import Metrics
from api.schemas import AnalyzeItem, BatchResponse, ItemResult, TextsRequest
from api.settings import Settings
from nlp.schema import Result

log = logging.getLogger(__name__)

Loc = tuple[str | int, ...]


def _invalid(loc: Loc, message: str, kind: str = "value_error") -> dict[str, object]:
    """One error in FastAPI's validation format, so every 422 reads the same."""
    return {"type": kind, "loc": ("body", *loc), "msg": message, "input": None}


def _text_loc(body: TextsRequest, index: int) -> Loc:
    return ("items", index, "text") if body.is_batch else ("text",)


def check_limits(body: TextsRequest, items: Sequence[AnalyzeItem], settings: Settings) -> None:
    if len(items) > settings.max_batch:
        raise RequestValidationError(
            [_invalid(("items",), f"at most {settings.max_batch} items per request (VOC_MAX_BATCH); got {len(items)}")]
        )
    if body.on_long == "error":
        errors = [
            _invalid(
                _text_loc(body, index),
                f"text has {len(item.text)} characters; the limit is {settings.max_chars} (VOC_MAX_CHARS)",
                "string_too_long",
            )
            for index, item in enumerate(items)
            if len(item.text) > settings.max_chars
        ]
        if errors:
            raise RequestValidationError(errors)


def check_tasks(tasks: Sequence[str] | None, available: Sequence[str]) -> None:
    errors = [
        _invalid(("tasks", index), f"unknown task {task!r}; available: {', '.join(available)}")
        for index, task in enumerate(tasks or [])
        if task not in available
    ]
    if errors:
        raise RequestValidationError(errors)


def _mark_truncated(result: Result, original_length: int) -> None:
    """Flag a text this layer cut, the way the library flags the ones it cuts."""
    if result.error is None:
        result.truncated = True
        result.text_length = original_length


async def analyze_request(
    body: TextsRequest,
    tasks: list[str] | None,
    analyzer: AnalyzerLike,
    batcher: MicroBatcher,
    settings: Settings,
    metrics: Metrics,
) -> ItemResult | BatchResponse:
    items = body.as_items()
    check_limits(body, items, settings)
    check_tasks(tasks, analyzer.component_names)
    texts = [item.text[: settings.max_chars] for item in items]
    if settings.log_texts:
        log.info("texts received", extra={"texts": texts})
    results = await batcher.submit(texts, [item.id for item in items], tasks)
    answered = []
    for item, result in zip(items, results):
        if len(item.text) > settings.max_chars:
            _mark_truncated(result, len(item.text))
        if result.error is not None:
            metrics.item_errors.labels(result.error.code).inc()
        answered.append(ItemResult.model_construct(**dict(result), metadata=item.metadata))
    return BatchResponse.model_construct(results=answered) if body.is_batch else answered[0]
