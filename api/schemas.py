"""Request and response bodies of the HTTP API. Results are the library's ``Result``, unchanged."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlp.schema import Result

OnLong = Literal["truncate", "error"]
Metadata = dict[str, Any]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnalyzeItem(_Body):
    id: str | None = None
    text: str
    metadata: Metadata | None = Field(default=None, description="echoed back untouched beside the result")


class TextsRequest(_Body):
    """Either one text (``text``, optional ``id``/``metadata``) or a batch (``items``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["text"]}, {"required": ["items"]}],
            "examples": [
                {"text": "The courier was late but support sorted it out.", "id": "r-1"},
                {"items": [{"id": "r-1", "text": "Great app.", "metadata": {"channel": "email"}}]},
            ],
        }
    )

    text: str | None = None
    id: str | None = None
    metadata: Metadata | None = None
    items: list[AnalyzeItem] | None = None
    on_long: OnLong = Field(
        default="truncate",
        description="texts over the character limit: 'truncate' (cut and flag `truncated`) or 'error' (422)",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> TextsRequest:
        if (self.text is None) == (self.items is None):
            raise ValueError("give either `text` (one text) or `items` (a batch), not both or neither")
        if self.items is not None and (self.id is not None or self.metadata is not None):
            raise ValueError("in a batch, `id` and `metadata` go inside each of `items`")
        return self

    @property
    def is_batch(self) -> bool:
        return self.items is not None

    def as_items(self) -> list[AnalyzeItem]:
        if self.items is not None:
            return self.items
        return [AnalyzeItem(id=self.id, text=self.text or "", metadata=self.metadata)]


class AnalyzeRequest(TextsRequest):
    tasks: list[str] | None = Field(
        default=None, min_length=1, description="components to run (see /v1/models); default: all loaded"
    )


class ItemResult(Result):
    """The library ``Result`` plus the caller's ``metadata``, echoed back."""

    metadata: Metadata | None = None


class BatchResponse(_Body):
    results: list[ItemResult]


class ModelCard(_Body):
    name: str
    version: str | None = None
    metrics: dict[str, Any] | None = Field(default=None, description="the model card's metrics.json")


class Limits(_Body):
    max_batch: int
    max_chars: int
    max_body_bytes: int


class ModelsResponse(_Body):
    components: list[str]
    versions: dict[str, str]
    models: list[ModelCard]
    limits: Limits


class TopicsResponse(_Body):
    topics: list[dict[str, Any]]


class ReloadResponse(_Body):
    reloaded: bool
    versions: dict[str, str]


class Readiness(_Body):
    status: Literal["ok", "loading", "failed"]
    detail: str | None = None
