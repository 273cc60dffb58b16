"""``voc train topic-space``: fit the linear map from adapted to base document vectors.

The texts are unlabelled samples of training splits only (GoEmotions, SemEval tweets, BANKING77,
our journey corpus): the map learns what the adapter did to the vector space, not any labels.
Each text is encoded twice with the same pooling and windows, once with the adapter merged and
once without, and a ridge regression predicts the second vector from the first. The ridge alpha
is chosen on a stable 20% hash hold-out by the mean cosine between predicted and base vectors
(topics compare vectors by cosine), then the map is refitted on every text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp.bundle import REPO_ROOT
from nlp.topics.space import TOPIC_SPACE_FILE, TopicSpace
from nlp.train.corpora import corpora_root, goemotions, in_holdout, semeval_tweets

JOURNEY_TRAIN = REPO_ROOT / "corpora" / "journey" / "train.jsonl"

ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def fit_ridge(inputs: np.ndarray, targets: np.ndarray, alpha: float) -> TopicSpace:
    """Closed-form ridge on centred data, so the bias is not penalised."""
    inputs = inputs.astype(np.float64)
    targets = targets.astype(np.float64)
    input_mean, target_mean = inputs.mean(0), targets.mean(0)
    centred = inputs - input_mean
    gram = centred.T @ centred + alpha * np.eye(inputs.shape[1])
    coefficients = np.linalg.solve(gram, centred.T @ (targets - target_mean))  # (in, out)
    return TopicSpace(coefficients.T, target_mean - input_mean @ coefficients)


def mean_cosine(predicted: np.ndarray, targets: np.ndarray) -> float:
    dots = (predicted * targets).sum(1)
    norms = np.linalg.norm(predicted, axis=1) * np.linalg.norm(targets, axis=1)
    return float(np.mean(dots / np.maximum(norms, 1e-12)))


def choose_alpha(
    inputs: np.ndarray, targets: np.ndarray, held_out: np.ndarray, alphas: Sequence[float] = ALPHAS
) -> tuple[float, dict[str, float]]:
    """The alpha with the best hold-out mean cosine, and every alpha's score."""
    scores = {}
    for alpha in alphas:
        space = fit_ridge(inputs[~held_out], targets[~held_out], alpha)
        scores[str(alpha)] = round(mean_cosine(space.project(inputs[held_out]), targets[held_out]), 5)
    best = max(alphas, key=lambda alpha: scores[str(alpha)])
    return best, scores


def generic_texts(
    per_corpus: int, seed: int, root: Path | None = None, journey: Path = JOURNEY_TRAIN
) -> dict[str, list[str]]:
    """Up to ``per_corpus`` distinct texts from each training split, sampled with a fixed seed."""
    import pandas as pd

    root = root or corpora_root()
    sources = {
        "goemotions/train": [e.text for e in goemotions("train", root)],
        "semeval_tweets/train_no_tweeteval_val": [e.text for e in semeval_tweets(root)],
        "banking77/train": pd.read_csv(root / "banking77" / "train.csv")["text"].astype(str).tolist(),
        "corpora/journey/train": [json.loads(line)["text"] for line in journey.read_text().splitlines() if line],
    }
    sampled = {}
    for name, texts in sources.items():
        distinct = sorted({t.strip() for t in texts if t.strip()})
        sampled[name] = random.Random(seed).sample(distinct, min(per_corpus, len(distinct)))
    return sampled


def train_topic_space(
    model_dir: Path,
    per_corpus: int = 2000,
    seed: int = 13,
    max_tokens: int = 256,
    journey: Path = JOURNEY_TRAIN,
) -> dict:
    """Fit, write ``topic_space.safetensors`` into the bundle, and return what was measured."""
    from nlp.bundle import ModelBundle
    from nlp.encoder import Encoder, doc_vectors

    bundle = ModelBundle.load(model_dir)
    if bundle.adapter_dir is None:
        raise ValueError(f"{model_dir} has no adapter: its vectors already are the base encoder's")
    sources = generic_texts(per_corpus, seed, journey=journey)
    texts = [text for group in sources.values() for text in group]
    adapted = doc_vectors(Encoder.for_bundle(bundle, max_tokens=max_tokens), texts)
    # The base reads the same text: the map learns what the adapter changed, not how emoji are spelled.
    unadapted = Encoder(None, max_tokens=max_tokens, spell_symbols=bundle.spell_symbols, base=bundle.base_encoder)
    base = doc_vectors(unadapted, texts)
    held_out = np.array([in_holdout(text) for text in texts])
    alpha, scores = choose_alpha(adapted, base, held_out)
    space = fit_ridge(adapted, base, alpha)
    space.save(model_dir / TOPIC_SPACE_FILE)
    return {
        "texts": {name: len(group) for name, group in sources.items()},
        "held_out": int(held_out.sum()),
        "alpha": alpha,
        "held_out_cosine_by_alpha": scores,
        "held_out_cosine_without_map": round(mean_cosine(adapted[held_out], base[held_out]), 5),
    }
