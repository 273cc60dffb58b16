"""Service settings, read once from ``VOC_*`` environment variables.

Every limit is a named field so error messages and ``/v1/models`` can say what it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from nlp.textprep import DEFAULT_MAX_CHARS


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_keys: tuple[str, ...] = Field(default=(), description="accepted X-API-Key values; empty: auth off")
    admin_key: str | None = Field(default=None, description="X-Admin-Key for /v1/admin routes; unset: admin off")
    cors_origins: tuple[str, ...] = ()
    max_batch: int = Field(default=256, gt=0, description="texts per request")
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, gt=0, description="characters per text")
    max_body_bytes: int = Field(default=4_000_000, gt=0)
    log_texts: bool = False
    batch_size: int = Field(default=32, gt=0, description="texts per analyzer call (micro-batch flush size)")
    batch_wait_ms: float = Field(default=5.0, ge=0)
    max_queue: int = Field(default=2048, gt=0, description="texts waiting for the analyzer before 503")
    threads: int | None = Field(default=None, gt=0, description="torch threads for the loaded analyzer")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``VOC_*`` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {
            "api_keys": _split(env.get("VOC_API_KEYS", "")),
            "cors_origins": _split(env.get("VOC_CORS_ORIGINS", "")),
            "admin_key": env.get("VOC_ADMIN_KEY") or None,
            "log_texts": env.get("VOC_LOG_TEXTS", "0").strip().lower() in {"1", "true", "yes"},
        }
        numbers = {
            "max_batch": "VOC_MAX_BATCH",
            "max_chars": "VOC_MAX_CHARS",
            "max_body_bytes": "VOC_MAX_BODY_BYTES",
            "batch_size": "VOC_BATCH_SIZE",
            "batch_wait_ms": "VOC_BATCH_WAIT_MS",
            "max_queue": "VOC_MAX_QUEUE",
            "threads": "VOC_THREADS",
        }
        raw.update({field: env[name] for field, name in numbers.items() if env.get(name)})
        return cls.model_validate(raw)
