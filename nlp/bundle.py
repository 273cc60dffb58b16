"""A trained model folder: adapter, heads, labels and the calibration chosen on dev splits."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp.heads.linear import LinearHead, load_heads

REPO_ROOT = Path(__file__).resolve().parents[1]


def models_root() -> Path:
    """``$VOC_MODELS`` or the repo's ``models/`` folder."""
    return Path(os.environ.get("VOC_MODELS", REPO_ROOT / "models"))


class ModelMissingError(FileNotFoundError):
    pass


@dataclass
class ModelBundle:
    path: Path
    config: dict
    heads: dict[str, LinearHead]

    @classmethod
    def load(cls, path: Path) -> ModelBundle:
        config_file = path / "config.json"
        if not config_file.exists():
            raise ModelMissingError(f"no trained model at {path} (expected config.json); see models/README.md")
        return cls(path, json.loads(config_file.read_text()), load_heads(path / "heads.safetensors"))

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name)

    @property
    def version(self) -> str:
        return self.config.get("version", "0")

    @property
    def adapter_dir(self) -> Path | None:
        adapter = self.path / "adapter"
        return adapter if adapter.exists() else None

    @property
    def spell_symbols(self) -> bool:
        """Whether the encoder was trained reading emoji as their names (nlp.symbols); 1.2.0 and
        earlier were not, and read them as [UNK]."""
        return bool(self.config.get("preprocessing", {}).get("spell_symbols", False))

    @property
    def base_encoder(self) -> str:
        """Name of the base encoder the adapter was trained on (bundles up to 1.3.0 name none: MiniLM)."""
        from nlp.base_encoders import DEFAULT_BASE

        return self.config.get("base_model", {}).get("name", DEFAULT_BASE)

    @property
    def adapter_sha256(self) -> str | None:
        """Hash of the adapter weights: what models fitted in this bundle's vector space record."""
        from nlp.base_encoders import file_sha256

        adapter = self.adapter_dir
        return file_sha256(adapter / "adapter_model.safetensors") if adapter is not None else None

    def labels(self, task: str) -> list[str]:
        return self.config["labels"][task]

    def array(self, key: str, default: float, size: int) -> np.ndarray:
        """A calibration vector from config.json, or ``default`` repeated when not calibrated."""
        values = self.config.get("calibration", {}).get(key)
        return np.asarray(values if values is not None else [default] * size, dtype=np.float32)
