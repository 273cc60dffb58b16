"""GET /v1/models: what is loaded, its versions and the model cards' measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter

from api.deps import AppSettings, LoadedAnalyzer
from api.schemas import Limits, ModelCard, ModelsResponse
from nlp.bundle import models_root

router = APIRouter(prefix="/v1", tags=["models"])


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def model_cards(root: Path) -> list[ModelCard]:
    """One card per model folder under ``root`` (it has config.json or metrics.json)."""
    if not root.is_dir():
        return []
    cards = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        config, metrics = _read_json(folder / "config.json"), _read_json(folder / "metrics.json")
        if config is None and metrics is None:
            continue  # not a model folder
        config = config or {}
        cards.append(
            ModelCard(
                name=config.get("name", folder.name),
                version=config.get("version"),
                metrics=metrics,
            )
        )
    return cards


@router.get("/models", response_model=ModelsResponse)
def models(analyzer: LoadedAnalyzer, settings: AppSettings) -> ModelsResponse:
    # A plain def: FastAPI runs it in its thread pool, so reading the cards never blocks the loop.
    return ModelsResponse(
        components=analyzer.component_names,
        versions=analyzer.versions(),
        models=model_cards(models_root()),
        limits=Limits(
            max_batch=settings.max_batch, max_chars=settings.max_chars, max_body_bytes=settings.max_body_bytes
        ),
    )
