"""A weight average ("model soup") of multi-task runs that continued the same model.

Runs that start from one model and differ in seed (row samples and batch order) land close enough
together that the mean of their weights is itself a good model, usually better than each
(Wortsman et al., 2022, "Model soups"). Inference still pays for one encoder: the averaged LoRA
update is stored exactly as one adapter of the summed rank, since
``mean_k(B_k @ A_k) = [B_1 / n, ..., B_n / n] @ [A_1; ...; A_n]``, and merged into the encoder at
load time like any other. The heads are averaged too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from nlp.heads.linear import LinearHead, load_heads, save_heads
from nlp.train.multitask import _portable

ADAPTER_WEIGHTS = "adapter/adapter_model.safetensors"
ADAPTER_CONFIG = "adapter/adapter_config.json"


def average_adapters(adapters: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One LoRA state dict whose update B @ A is the mean of the given adapters' updates."""
    n = len(adapters)
    soup = {}
    for key in adapters[0]:
        if ".lora_A." in key:
            soup[key] = np.concatenate([a[key] for a in adapters], axis=0)
        elif ".lora_B." in key:
            soup[key] = np.concatenate([a[key] / n for a in adapters], axis=1)
        else:
            raise ValueError(f"{key}: only LoRA A/B matrices can be averaged this way")
    return soup


def _same_recipe(configs: list[dict]) -> None:
    """Averaging needs runs of one base encoder, one LoRA shape and one way of reading text. That
    they started from the same model is the caller's to know: ``init_from`` is a path, and the same
    model may have sat under two names (or two models under one) when the runs were made."""
    for field in ("base_model", "lora_r", "lora_alpha", "spell_symbols"):
        values = {json.dumps(c.get(field)) for c in configs}
        if len(values) > 1:
            raise ValueError(f"runs differ in {field} ({', '.join(sorted(values))}): they cannot be averaged")


def _same_labels(runs: list[Path]) -> str:
    """The runs' shared label lists: averaging row k of two heads only means something when row k
    names the same label in both."""
    labels = [json.loads((run / "labels.json").read_text()) for run in runs]
    if any(other != labels[0] for other in labels[1:]):
        raise ValueError("runs differ in their heads' labels (labels.json): they cannot be averaged")
    return json.dumps(labels[0], indent=2)


def make_soup(runs: list[Path], out_dir: Path) -> Path:
    """Write the averaged run to ``out_dir``, a run folder ``voc train calibrate`` reads."""
    if len(runs) < 2:
        raise ValueError("a soup needs two runs or more")
    configs = [json.loads((run / "train_config.json").read_text()) for run in runs]
    _same_recipe(configs)
    labels = _same_labels(runs)
    (out_dir / "adapter").mkdir(parents=True, exist_ok=True)
    adapters = [load_file(str(run / ADAPTER_WEIGHTS)) for run in runs]
    save_file(average_adapters(adapters), str(out_dir / ADAPTER_WEIGHTS))
    adapter_config = json.loads((runs[0] / ADAPTER_CONFIG).read_text())
    # The ranks add up; alpha grows with them so that alpha / r, LoRA's scale, stays the same.
    adapter_config["r"] *= len(runs)
    adapter_config["lora_alpha"] *= len(runs)
    (out_dir / ADAPTER_CONFIG).write_text(json.dumps(adapter_config, indent=2) + "\n")
    heads = [load_heads(run / "heads.safetensors") for run in runs]
    averaged = {
        task: LinearHead(np.mean([h[task].weight for h in heads], 0), np.mean([h[task].bias for h in heads], 0))
        for task in heads[0]
    }
    save_heads(out_dir / "heads.safetensors", averaged)
    (out_dir / "labels.json").write_text(labels)
    settings = dict(configs[0], out_dir=_portable(out_dir), seed=[c.get("seed") for c in configs])
    settings["soup_of"] = [_portable(run) for run in runs]
    (out_dir / "train_config.json").write_text(json.dumps(settings, indent=2))
    return out_dir
