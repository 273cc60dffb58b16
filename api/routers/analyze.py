"""POST /v1/analyze: one text or a batch, through the micro-batcher."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AppSettings, Batcher, LoadedAnalyzer, State
from api.schemas import AnalyzeRequest, BatchResponse, ItemResult
from api.service import analyze_request

router = APIRouter(prefix="/v1", tags=["analyze"])

ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "missing or invalid X-API-Key (when VOC_API_KEYS is set)"},
    413: {"description": "body larger than VOC_MAX_BODY_BYTES"},
    503: {"description": "model loading or queue full; see Retry-After"},
}


@router.post(
    "/analyze",
    response_model=ItemResult | BatchResponse,
    responses=ERROR_RESPONSES,
    summary="Analyse one text (`text`) or a batch (`items`)",
)
async def analyze(
    body: AnalyzeRequest, analyzer: LoadedAnalyzer, batcher: Batcher, settings: AppSettings, state: State
) -> ItemResult | BatchResponse:
    """A single text answers with its `Result` (plus `metadata`); a batch with `{"results": [...]}` in order.
    A bad text (empty, binary...) gets `error` in its own result and never fails the others."""
    return await analyze_request(body, body.tasks, analyzer, batcher, settings, state.metrics)
