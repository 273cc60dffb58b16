"""Experiment: do later, unlabelled tweets, labelled by the model itself, carry it across time?

The drop from TweetEval val to test is the later test tweets' own shift (see
``time_split_dev.py``). Self-training is the usual answer when the later domain has text but no
labels: a teacher labels it, and a student trains on those labels beside the gold rows. Here the
later text is the tweets of the other TweetEval tasks, collected 2016-2019 (hate and offensive train
and val; irony's are older), read without their task labels. In the frame of ``time_split_dev.py``:

1. the teacher is that experiment's LoRA arm (one pass over the pool's earlier rows, seed 21);
2. it labels the unlabelled tweets, with the offsets chosen on TweetEval val; rows whose top
   probability reaches ``--confidence`` (0.8, fixed beforehand, not tuned) keep their label;
3. two students continue the teacher for one more pass: ``control`` over the earlier rows again,
   ``self-trained`` over the earlier rows plus the pseudo-labelled tweets.

Each is read on TweetEval val and on the 4,000 held-out SemEval-2016 test tweets (later than every
training row). It reads no test split and saves nothing. ~40 min with ``--threads 2`` on this
project's 2-core machine.

    python experiments/self_training.py
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
from pathlib import Path

import numpy as np
import torch
from time_split_dev import ARMS, sentiment_figures, time_split
from unfreeze_top_layers import pooled_vectors, train_on

from nlp.encoder import load_tokenizer
from nlp.heads.linear import softmax
from nlp.train import corpora
from nlp.train.multitask import MultitaskConfig, MultitaskModel, as_linear_head, build_model, make_batches

UNLABELLED = [("hate", "train"), ("hate", "val"), ("offensive", "train"), ("offensive", "val")]


def unlabelled_tweets() -> list[str]:
    folder = corpora.corpora_root() / "tweeteval"
    texts = []
    for task, split in UNLABELLED:
        texts += (folder / task / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    return sorted({corpora.tweet_style(t) for t in texts if t.strip()})


def pseudo_labelled(
    model: MultitaskModel, tokenizer, texts: list[str], val_bias: list[float], confidence: float
) -> list[corpora.SentimentExample]:
    """The texts the model labels with at least ``confidence``, after the offsets chosen on val."""
    head = as_linear_head(model.sentiment)
    probs = softmax(head.logits(pooled_vectors(model, tokenizer, texts)) + val_bias)
    keep = probs.max(1) >= confidence
    return [corpora.SentimentExample(t, int(y)) for t, y, k in zip(texts, probs.argmax(1), keep, strict=True) if k]


def another_pass(teacher: MultitaskModel, tokenizer, rows: list, config: MultitaskConfig, seed: int) -> MultitaskModel:
    student = copy.deepcopy(teacher)
    batches = make_batches(rows, [], corpora.goemotions_labels(), config, random.Random(seed))
    train_on(student, tokenizer, batches, config, [], None)
    return student


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--confidence", type=float, default=0.8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pass-seed", type=int, default=22, help="row order of the students' pass")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = random.Random(21)
    earlier, dev_2016 = time_split(rng)
    config = MultitaskConfig(out_dir=Path("runs/self-training-experiment"), lr=ARMS["lora"]["lr"], head_lr=1e-3)
    tokenizer = load_tokenizer()
    teacher = build_model(config, len(corpora.goemotions_labels()), tokenizer)
    train_on(teacher, tokenizer, make_batches(earlier, [], corpora.goemotions_labels(), config, rng), config, [], None)
    figures = sentiment_figures(teacher, tokenizer, dev_2016)
    print({"model": "teacher (time_split_dev.py's lora arm)", **figures})

    texts = unlabelled_tweets()
    pseudo = pseudo_labelled(teacher, tokenizer, texts, figures["val_offsets"], args.confidence)
    shares = np.bincount([e.label for e in pseudo], minlength=3) / max(len(pseudo), 1)
    print({"unlabelled": len(texts), "kept": len(pseudo), "neg/neu/pos shares": shares.round(3).tolist()})
    for name, rows in (("control", earlier), ("self-trained", earlier + pseudo)):
        student = another_pass(teacher, tokenizer, rows, config, seed=args.pass_seed)
        print({"model": name, "rows": len(rows), **sentiment_figures(student, tokenizer, dev_2016)})


if __name__ == "__main__":
    main()
