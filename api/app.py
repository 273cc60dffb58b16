"""The FastAPI application factory.

    uvicorn --factory api.app:create_app      # or: voc serve

The lifespan loads the Analyzer once, on the inference thread, in the background: ``/healthz``
answers at once, ``/readyz`` and the analysis routes answer 503 until the model is in memory.
Tests pass an already-loaded analyzer: ``create_app(settings, analyzer=analyzer)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api.batching import MicroBatcher, QueueFullError
from api.deps import AnalyzerLike, ServiceState, require_admin_key, require_api_key
from api.observability import REQUEST_ID_HEADER, BodySizeLimitMiddleware, ObservabilityMiddleware
from api.routers import analyze, health, models, topics, ui
from api.settings import Settings
from nlp.schema import Result

log = logging.getLogger(__name__)

QUEUE_FULL_RETRY_AFTER_S = 1

AnalyzerLoader = Callable[[Settings], AnalyzerLike]


def _package_version() -> str:
    try:
        return version("voc-lens")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def load_analyzer(settings: Settings) -> AnalyzerLike:
    """The library Analyzer with the default model; its own text limit matches the service's."""
    from nlp.analyzer import Analyzer, AnalyzerConfig

    return Analyzer.from_config(AnalyzerConfig(max_chars=settings.max_chars, threads=settings.threads))


def _start_batcher(state: ServiceState) -> MicroBatcher:
    def analyze(texts: list[str], ids: list[str | None], tasks: list[str] | None) -> list[Result]:
        assert state.analyzer is not None  # batches only run once the model is loaded
        return state.analyzer.analyze(texts, ids=ids, tasks=tasks)

    settings = state.settings
    batcher = MicroBatcher(
        analyze,
        batch_size=settings.batch_size,
        wait_s=settings.batch_wait_ms / 1000,
        max_queue=settings.max_queue,
        on_batch=state.metrics.batch_size.observe,
    )
    batcher.start()
    return batcher


async def _load_in_background(state: ServiceState, batcher: MicroBatcher, loader: AnalyzerLoader) -> None:
    try:
        state.analyzer = await batcher.run_exclusive(lambda: loader(state.settings))
        log.info("analyzer loaded", extra={"components": state.analyzer.component_names})
    except Exception as exc:
        state.load_error = f"{type(exc).__name__}: {exc}"
        log.exception("analyzer failed to load")


def _lifespan(loader: AnalyzerLoader) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ServiceState = app.state.service
        batcher = _start_batcher(state)
        loading = None
        if state.analyzer is None:
            loading = asyncio.create_task(_load_in_background(state, batcher, loader))
        state.batcher = batcher
        yield
        if loading is not None:
            loading.cancel()
        state.batcher = None
        await batcher.stop()

    return lifespan


async def _queue_full(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"too busy: {exc}"}, status_code=503, headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)}
    )


def create_app(
    settings: Settings | None = None,
    analyzer: AnalyzerLike | None = None,
    loader: AnalyzerLoader = load_analyzer,
) -> FastAPI:
    """The service app. With ``analyzer`` it serves that one; otherwise ``loader`` builds it at startup."""
    settings = settings or Settings.from_env()
    state = ServiceState(settings=settings, analyzer=analyzer)
    app = FastAPI(
        title="voc-lens",
        summary="Voice-of-the-Customer text analysis: sentiment, emotions, journey, topics.",
        version=_package_version(),
        lifespan=_lifespan(loader),
    )
    app.state.service = state
    authenticated = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(ui.router)
    app.include_router(analyze.router, dependencies=authenticated)
    app.include_router(models.router, dependencies=authenticated)
    app.include_router(topics.router, dependencies=authenticated)
    app.include_router(topics.admin_router, dependencies=[Depends(require_admin_key)])
    app.add_exception_handler(QueueFullError, _queue_full)
    # Added innermost first: the request id and metrics wrap everything, 413s included.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(ObservabilityMiddleware, metrics=state.metrics)
    return app
