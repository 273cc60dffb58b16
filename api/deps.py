"""Dependencies the routers share: settings, the loaded Analyzer, the batcher and auth."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from api.batching import MicroBatcher
from api.observability import Metrics
from api.settings import Settings
from nlp.schema import Result

LOADING_RETRY_AFTER_S = 5


class AnalyzerLike(Protocol):
    """What the service needs from ``nlp.analyzer.Analyzer`` (tests pass small fakes)."""

    components: list[Any]

    @property
    def component_names(self) -> list[str]: ...

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]: ...

    def versions(self) -> dict[str, str]: ...


@dataclass
class ServiceState:
    """Everything the lifespan builds; lives on ``app.state.service``."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    analyzer: AnalyzerLike | None = None
    batcher: MicroBatcher | None = None
    load_error: str | None = None


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]


def get_settings(state: State) -> Settings:
    return state.settings


def get_analyzer(state: State) -> AnalyzerLike:
    if state.analyzer is None or state.batcher is None:
        detail = f"model failed to load: {state.load_error}" if state.load_error else "model is loading"
        raise HTTPException(503, detail=detail, headers={"Retry-After": str(LOADING_RETRY_AFTER_S)})
    return state.analyzer


def get_batcher(state: State, _: Annotated[AnalyzerLike, Depends(get_analyzer)]) -> MicroBatcher:
    assert state.batcher is not None  # get_analyzer answered 503 otherwise
    return state.batcher


def key_matches(given: str | None, accepted: Iterable[str]) -> bool:
    """Constant-time comparison against every accepted key (no early exit on a match)."""
    given_bytes = (given or "").encode()
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(given_bytes, key.encode())
    return matched


api_key_header = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKey", auto_error=False, description="required when VOC_API_KEYS is set"
)
admin_key_header = APIKeyHeader(
    name="X-Admin-Key", scheme_name="AdminKey", auto_error=False, description="VOC_ADMIN_KEY"
)


def require_api_key(state: State, key: Annotated[str | None, Security(api_key_header)]) -> None:
    if state.settings.api_keys and not key_matches(key, state.settings.api_keys):
        raise HTTPException(401, detail="missing or invalid X-API-Key", headers={"WWW-Authenticate": "X-API-Key"})


def require_admin_key(state: State, key: Annotated[str | None, Security(admin_key_header)]) -> None:
    admin_key = state.settings.admin_key
    if admin_key is None or not key_matches(key, [admin_key]):
        raise HTTPException(403, detail="admin routes need X-Admin-Key matching VOC_ADMIN_KEY")


LoadedAnalyzer = Annotated[AnalyzerLike, Depends(get_analyzer)]
Batcher = Annotated[MicroBatcher, Depends(get_batcher)]
AppSettings = Annotated[Settings, Depends(get_settings)]
