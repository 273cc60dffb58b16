"""Topic routes, against the small interface the ``topics`` component promises.

The component is optional: without one loaded every route here answers 404. It offers
``topic_table() -> list[dict]`` and, for hot reloads, ``reload()``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from api.deps import AnalyzerLike, AppSettings, Batcher, LoadedAnalyzer, State, get_analyzer
from api.routers.analyze import ERROR_RESPONSES
from api.schemas import BatchResponse, ItemResult, ReloadResponse, TextsRequest, TopicsResponse
from api.service import analyze_request

TOPICS = "topics"
NOT_LOADED = {404: {"description": "no topic model loaded"}}

router = APIRouter(prefix="/v1/topics", tags=["topics"], responses=NOT_LOADED)
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=NOT_LOADED)


def get_topics_component(analyzer: Annotated[AnalyzerLike, Depends(get_analyzer)]) -> Any:
    for component in analyzer.components:
        if component.name == TOPICS:
            return component
    raise HTTPException(404, detail="no topic model loaded")


TopicsComponent = Annotated[Any, Depends(get_topics_component)]


@router.post("/assign", response_model=ItemResult | BatchResponse, responses=ERROR_RESPONSES)
async def assign(
    body: TextsRequest,
    _: TopicsComponent,
    analyzer: LoadedAnalyzer,
    batcher: Batcher,
    settings: AppSettings,
    state: State,
) -> ItemResult | BatchResponse:
    """Run only the topic model: each result's `topic` is filled (or `error` for a bad text)."""
    return await analyze_request(body, [TOPICS], analyzer, batcher, settings, state.metrics)


@router.get("", response_model=TopicsResponse)
def topics(component: TopicsComponent) -> TopicsResponse:
    # A plain def: the table is built in FastAPI's thread pool, off the event loop.
    return TopicsResponse(topics=component.topic_table())


@admin_router.post("/reload-topics", response_model=ReloadResponse, responses={403: {"description": "bad admin key"}})
async def reload_topics(component: TopicsComponent, analyzer: LoadedAnalyzer, batcher: Batcher) -> ReloadResponse:
    """Reload the topic model from disk without a restart, between two inference batches."""
    reload = getattr(component, "reload", None)
    if reload is None:
        return ReloadResponse(reloaded=False, versions=analyzer.versions())
    await batcher.run_exclusive(reload)
    return ReloadResponse(reloaded=True, versions=analyzer.versions())
