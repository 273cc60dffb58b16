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
import random
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score, recall_score
from torch import nn

from nlp.bundle import models_root
from nlp.encoder import load_tokenizer
from nlp.heads.emotion import predict_labels
from nlp.heads.linear import sigmoid
from nlp.train import corpora
from nlp.train.evaluate import choose_sentiment_bias, choose_thresholds, multi_hot
from nlp.train.multitask import (
    MultitaskConfig,
    MultitaskModel,
    batch_loss,
    build_model,
    linear_schedule,
    make_batches,
)

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
    lora = [p for n, p in model.encoder.named_parameters() if p.requires_grad and "lora_" in n]
    heads = [*model.sentiment.parameters(), *model.emotion.parameters()]
    groups = [{"params": lora, "lr": config.lr}, {"params": heads, "lr": config.head_lr}]
    if full:
        groups.append({"params": full, "lr": full_lr})
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    scheduler = linear_schedule(optimizer, len(batches), int(len(batches) * config.warmup_share))
    model.train()
    started = time.time()
    for step, batch in enumerate(batches, 1):
        batch_loss(model, tokenizer, batch, config).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if step % 100 == 0:
            print(f"step {step}/{len(batches)} ({time.time() - started:.0f} s)", flush=True)


def pooled_vectors(model: MultitaskModel, tokenizer, texts: list[str]) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), 128):
            encoded = tokenizer(
                texts[start : start + 128], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            out.append(model.pooled(encoded).numpy())
    return np.concatenate(out)


def logits(layer: nn.Linear, vectors: np.ndarray) -> np.ndarray:
    return vectors @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()


def dev_figures(model: MultitaskModel, tokenizer) -> dict[str, float]:
    val = corpora.tweeteval_sentiment("val")
    val_logits = logits(model.sentiment, pooled_vectors(model, tokenizer, [e.text for e in val]))
    gold = np.array([e.label for e in val])
    bias = np.array(choose_sentiment_bias(val_logits, gold))
    dev = corpora.goemotions("dev")
    probs = sigmoid(logits(model.emotion, pooled_vectors(model, tokenizer, [e.text for e in dev])))
    targets = multi_hot([e.labels for e in dev], probs.shape[1])
    predicted = predict_labels(probs, np.array(choose_thresholds(probs, targets)))
    recall = recall_score(gold, (val_logits + bias).argmax(1), average="macro")
    f1 = f1_score(targets, predicted, average="macro", zero_division=0)
    return {"tweeteval_val_macro_recall": round(float(recall), 4), "goemotions_dev_macro_f1": round(float(f1), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2, help="top encoder layers trained in full (0: LoRA only)")
    parser.add_argument("--full-lr", type=float, default=3e-5, help="learning rate of the layers trained in full")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = MultitaskConfig(
        out_dir=Path("runs/unfreeze-experiment"),
        init_from=models_root() / "voc-multitask",
        lr=2e-4,
        head_lr=1e-3,
        emotion_weight=5.0,
    )
    tokenizer = load_tokenizer()
    model = build_model(config, len(corpora.goemotions_labels()), tokenizer)
    fine_tune(model, tokenizer, config, unfreeze_top(model, args.layers), args.full_lr)
    print({"layers_trained_in_full": args.layers, "full_lr": args.full_lr, **dev_figures(model, tokenizer)})


if __name__ == "__main__":
    main()
