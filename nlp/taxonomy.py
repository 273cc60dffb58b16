"""The CX taxonomy and routing rules, loaded from YAML that users can swap without code.

A taxonomy has four families (stages, touchpoints, value dimensions, signals); each label has an
id, a definition, cue phrases (for the matcher that yields evidence spans) and examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from nlp.bundle import REPO_ROOT

FAMILIES = ("stages", "touchpoints", "value_dimensions", "signals")
DEFAULT_TAXONOMY = REPO_ROOT / "corpora" / "taxonomy" / "default.yaml"
DEFAULT_ROUTING = REPO_ROOT / "corpora" / "taxonomy" / "routing.yaml"


class TaxonomyLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    definition: str = ""
    cues: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)

    @field_validator("cues")
    @classmethod
    def lowercase_cues(cls, cues: list[str]) -> list[str]:
        return [c.strip().lower() for c in cues if c.strip()]


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int | str = 1
    description: str = ""
    stages: list[TaxonomyLabel]
    touchpoints: list[TaxonomyLabel] = Field(default_factory=list)
    value_dimensions: list[TaxonomyLabel] = Field(default_factory=list)
    signals: list[TaxonomyLabel] = Field(default_factory=list)

    def family(self, name: str) -> list[TaxonomyLabel]:
        return getattr(self, name)

    def ids(self, family: str) -> list[str]:
        return [label.id for label in self.family(family)]

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
        with open(path, encoding="utf-8") as handle:
            return cls.model_validate(yaml.safe_load(handle))


class RuleCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stages: list[str] = Field(default_factory=list)
    touchpoints: list[str] = Field(default_factory=list)
    signals: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    sentiment: Literal["negative", "neutral", "positive"] | None = None


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    when: RuleCondition
    team: str
    priority: Literal["high", "medium", "low"] = "medium"


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_team: str
    rules: list[RoutingRule]

    @classmethod
    def load(cls, path: Path = DEFAULT_ROUTING) -> Routing:
        with open(path, encoding="utf-8") as handle:
            return cls.model_validate(yaml.safe_load(handle))
