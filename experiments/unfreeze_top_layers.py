"""Experiment: does training the top encoder layers in full, beside the LoRA adapter, lift sentiment?

    python experiments/unfreeze_top_layers.py --layers 2   # LoRA + layers 4-5 in full
    python experiments/unfreeze_top_layers.py --layers 0   # the matched control: LoRA only

Both continue the shipped ``models/voc-multitask`` on the same sample (20,000 SemEval tweets,
6,000 GoEmotions rows, seed 21), with the shipped run's settings (adapter lr 2e-4, head lr 1e-3,
emotion weight 5); the fully trained layers get ``--full-lr`` (default 3e-5). It prints the dev figures calibration
would (TweetEval val macro-recall with offsets chosen on val, GoEmotions dev macro-F1 with
thresholds chosen on dev); it reads no test split and saves nothing. About 15 min per arm on one
core of this project's 2-core machine (``--threads 1`` runs both arms side by side).
"""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nlp.bundle import models_root
from nlp.encoder import load_tokenizer
from nlp.heads.linear import sigmoid
from nlp.train import corpora
from nlp.train.evaluate import calibrate_on_dev, multi_hot
from nlp.train.multitask import MultitaskConfig, MultitaskModel, as_linear_head, build_model, make_batches, optimise

N_LAYERS = 6  # all-MiniLM-L6-v2


def unfreeze_top(model: MultitaskModel, layers: int) -> list[nn.Parameter]:
    """Make the base weights of the top ``layers`` encoder layers trainable; returns them."""
    names = [f"layer.{i}." for i in range(N_LAYERS - layers, N_LAYERS)]
    chosen = [p for n, p in model.encoder.named_parameters() if "lora_" not in n and any(name in n for name in names)]
    for parameter in chosen:
        parameter.requires_grad = True
    return chosen


def fine_tune(
    model: MultitaskModel, tokenizer, config: MultitaskConfig, full: list[nn.Parameter], full_lr: float
) -> None:
    rng = random.Random(21)
    tweets = rng.sample(corpora.semeval_tweets(), 20000)
    emotions = rng.sample(corpora.goemotions("train"), 6000)
    batches = make_batches(tweets, emotions, corpora.goemotions_labels(), config, rng)
    train_on(model, tokenizer, batches, config, full, full_lr)


def train_on(
    model: MultitaskModel, tokenizer, batches: list, config: MultitaskConfig, full: list[nn.Parameter], full_lr: float
) -> None:
    """One pass over ``batches``: the adapter and heads at the config's rates, ``full`` at ``full_lr``."""
    lora = [p for n, p in model.encoder.named_parameters() if p.requires_grad and "lora_" in n]
    heads = [*model.sentiment.parameters(), *model.emotion.parameters()]
    groups = [{"params": lora, "lr": config.lr}, {"params": heads, "lr": config.head_lr}]
    if full:
        groups.append({"params": full, "lr": full_lr})
    optimise(model, tokenizer, batches, torch.optim.AdamW(groups, weight_decay=0.01), config)


def pooled_vectors(model: MultitaskModel, tokenizer, texts: list[str]) -> np.ndarray:
    """Document vectors from the in-memory model (nlp.encoder.doc_vectors needs a saved adapter, and
    the fully trained layers are not one)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), 128):
            encoded = tokenizer(
                texts[start : start + 128], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            out.append(model.pooled(encoded).numpy())
    return np.concatenate(out)


def dev_figures(model: MultitaskModel, tokenizer) -> dict[str, float]:
    val = corpora.tweeteval_sentiment("val")
    dev = corpora.goemotions("dev")
    emotion = as_linear_head(model.emotion)
    _, _, figures = calibrate_on_dev(
        as_linear_head(model.sentiment).logits(pooled_vectors(model, tokenizer, [e.text for e in val])),
        np.array([e.label for e in val]),
        sigmoid(emotion.logits(pooled_vectors(model, tokenizer, [e.text for e in dev]))),
        multi_hot([e.labels for e in dev], emotion.weight.shape[0]),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2, help="top encoder layers trained in full (0: LoRA only)")
    parser.add_argument("--full-lr", type=float, default=3e-5, help="learning rate of the layers trained in full")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = MultitaskConfig(
        out_dir=Path("runs/unfreeze-experiment"),
        init_from=models_root() / "voc-multitask",
        lr=2e-4,
        head_lr=1e-3,
        emotion_weight=5.0,
        spell_symbols=False,  # as 1.2.0, which it continues, was trained
    )
    tokenizer = load_tokenizer()
    model = build_model(config, len(corpora.goemotions_labels()), tokenizer)
    fine_tune(model, tokenizer, config, unfreeze_top(model, args.layers), args.full_lr)
    print({"layers_trained_in_full": args.layers, "full_lr": args.full_lr, **dev_figures(model, tokenizer)})


if __name__ == "__main__":
    main()
