"""Liveness, readiness and Prometheus metrics: open even when API keys are required."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import State
from api.schemas import Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Readiness)
async def healthz() -> Readiness:
    """The process is up and serving HTTP (always 200, even while the model loads)."""
    return Readiness(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: State) -> Readiness | JSONResponse:
    """200 once the Analyzer is loaded; 503 while loading or after a failed load."""
    if state.analyzer is not None and state.batcher is not None:
        return Readiness(status="ok")
    status = Readiness(status="failed", detail=state.load_error) if state.load_error else Readiness(status="loading")
    return JSONResponse(status.model_dump(), status_code=503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(state: State) -> Response:
    if state.batcher is not None:
        state.metrics.queue_depth.set(state.batcher.depth)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
