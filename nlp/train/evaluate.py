"""Calibrate a trained run on dev splits and measure it on test splits.

Calibration (sentiment log-prior offsets, per-label emotion thresholds) only ever reads dev data:
TweetEval sentiment val and GoEmotions dev. Test splits are read by ``evaluate`` alone.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score

from nlp.base_encoders import DEFAULT_BASE, base_encoder, base_model_path, file_sha256
from nlp.bundle import ModelBundle
from nlp.encoder import Encoder, doc_vectors
from nlp.heads.emotion import predict_labels
from nlp.heads.linear import LinearHead, load_heads, sigmoid, softmax
from nlp.train import corpora
from nlp.train.corpora import EKMAN_GROUPS, NEGATIVE, NEUTRAL, POSITIVE

EVAL_CHUNK = 256  # texts per encoder call while calibrating and evaluating


def choose_sentiment_bias(
    logits: np.ndarray, labels: np.ndarray, also: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
) -> list[float]:
    """Offsets for (negative, neutral) that maximise macro-recall; positive stays at 0. With
    ``also`` (more dev sets as (logits, labels)), the mean macro-recall over every set."""
    sets = ((logits, labels), *also)
    grid = np.round(np.arange(-1.5, 1.51, 0.1), 2)
    best, best_bias = -1.0, [0.0, 0.0, 0.0]
    for neg, neu in itertools.product(grid, grid):
        bias = np.array([neg, neu, 0.0])
        score = np.mean([recall_score(gold, (scores + bias).argmax(1), average="macro") for scores, gold in sets])
        if score > best:
            best, best_bias = score, [float(neg), float(neu), 0.0]
    return best_bias


THRESHOLD_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def f1_per_threshold(scores: np.ndarray, gold: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """F1 of ``scores >= t`` against ``gold`` for every t of ``grid`` (one label)."""
    predicted = scores[:, None] >= grid[None, :]
    true_pos = (predicted & gold[:, None]).sum(axis=0)
    return 2 * true_pos / np.maximum(predicted.sum(axis=0) + gold.sum(), 1)


def choose_thresholds(probs: np.ndarray, targets: np.ndarray) -> list[float]:
    """Per-label threshold with the best F1 on dev."""
    return [
        float(THRESHOLD_GRID[int(np.argmax(f1_per_threshold(probs[:, label], targets[:, label])))])
        for label in range(probs.shape[1])
    ]


def multi_hot(rows: list[tuple[int, ...]], size: int) -> np.ndarray:
    out = np.zeros((len(rows), size), dtype=bool)
    for i, labels in enumerate(rows):
        out[i, list(labels)] = True
    return out


def bootstrap_interval(
    metric: Callable[[np.ndarray, np.ndarray], float],
    gold: np.ndarray,
    predicted: np.ndarray,
    rounds: int = 1000,
    seed: int = 0,
) -> list[float]:
    """95% percentile-bootstrap interval of ``metric`` over the rows (texts): how far the figure
    could move on another test file of the same size, so small files are not over-read."""
    rng = np.random.default_rng(seed)
    samples = (rng.integers(0, len(gold), len(gold)) for _ in range(rounds))
    scores = [metric(gold[rows], predicted[rows]) for rows in samples]
    return [round(float(q), 4) for q in np.quantile(scores, [0.025, 0.975])]


def macro_recall(gold: np.ndarray, predicted: np.ndarray) -> float:
    return float(recall_score(gold, predicted, average="macro", zero_division=0))


def _rounded(metric, gold, predicted) -> float:
    return round(float(metric(gold, predicted, average="macro", zero_division=0)), 4)


def calibrate_on_dev(
    val_logits: np.ndarray, val_gold: np.ndarray, dev_probs: np.ndarray, dev_gold: np.ndarray
) -> tuple[list[float], list[float], dict[str, float]]:
    """Sentiment offsets (TweetEval val), emotion thresholds (GoEmotions dev) and the dev figures they give."""
    bias = choose_sentiment_bias(val_logits, val_gold)
    thresholds = choose_thresholds(dev_probs, dev_gold)
    dev_metrics = {
        "tweeteval_val_macro_recall": _rounded(recall_score, val_gold, (val_logits + bias).argmax(1)),
        "goemotions_dev_macro_f1": _rounded(f1_score, dev_gold, predict_labels(dev_probs, np.array(thresholds))),
    }
    return bias, thresholds, dev_metrics


def calibrate(
    run_dir: Path, out_dir: Path, name: str = "voc-multitask", version: str = "1.0.0", dev_rows: int | None = None
) -> Path:
    """Write config.json (labels, calibration, provenance) so the run loads as a ModelBundle.

    ``dev_rows`` caps the dev rows read (tests only); the shipped model uses every dev row."""
    labels = json.loads((run_dir / "labels.json").read_text())
    heads = load_heads(run_dir / "heads.safetensors")
    train_config = json.loads((run_dir / "train_config.json").read_text())
    spell_symbols = bool(train_config.get("spell_symbols", False))
    base = train_config.get("base_model", DEFAULT_BASE)
    encoder = Encoder(run_dir / "adapter", spell_symbols=spell_symbols, base=base)
    val = corpora.tweeteval_sentiment("val")[:dev_rows]
    dev = corpora.goemotions("dev")[:dev_rows]
    bias, thresholds, dev_metrics = calibrate_on_dev(
        heads["sentiment"].logits(doc_vectors(encoder, [e.text for e in val], EVAL_CHUNK)),
        np.array([e.label for e in val]),
        sigmoid(heads["emotion"].logits(doc_vectors(encoder, [e.text for e in dev], EVAL_CHUNK))),
        multi_hot([e.labels for e in dev], len(labels["emotion"])),
    )
    # Not chosen on: the one emoji-rich dev check, to compare runs that read emoji differently.
    polarity = corpora.tweeteval_emotion_polarity("val")[:dev_rows]
    dev_metrics["tweeteval_emotion_val_polarity_accuracy"] = _binary_accuracy(
        sentiment_probabilities(heads["sentiment"], np.array(bias), encoder, [e.text for e in polarity]),
        [e.label for e in polarity],
    )
    # Not chosen on either: our labelled feedback's dev rows, the domain voc-lens is for.
    feedback = corpora.feedback_sentiment("dev")[:dev_rows]
    dev_metrics["feedback_dev_macro_recall"] = _rounded(
        recall_score,
        np.array([e.label for e in feedback]),
        sentiment_probabilities(heads["sentiment"], np.array(bias), encoder, [e.text for e in feedback]).argmax(1),
    )
    config = {
        "name": name,
        "version": version,
        "base_model": {
            "name": base,
            "install": base_encoder(base).install,
            "sha256": file_sha256(base_model_path(base) / "model.safetensors"),
        },
        "pooling": "mean over content tokens (no [CLS]/[SEP]), 256-token windows",
        "preprocessing": {"spell_symbols": spell_symbols},
        "labels": labels,
        "calibration": {"sentiment_bias": bias, "emotion_thresholds": thresholds},
        # Measured on the rows calibration chose from, so optimistic: they compare runs without
        # ever reading a test split.
        "dev_metrics": dev_metrics,
        "train_config": train_config,
    }
    # Only the weights travel: peft's auto-generated adapter README is not a model card.
    (out_dir / "adapter").mkdir(parents=True, exist_ok=True)
    for item in ("heads.safetensors", "adapter/adapter_config.json", "adapter/adapter_model.safetensors"):
        shutil.copyfile(run_dir / item, out_dir / item)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    return out_dir


def sentiment_probabilities(head: LinearHead, bias: np.ndarray, encoder: Encoder, texts: list[str]) -> np.ndarray:
    return softmax(head.logits(doc_vectors(encoder, texts, EVAL_CHUNK)) + bias)


def _sentiment_metrics(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "macro_recall": round(macro_recall(gold, predicted), 4),
        "macro_recall_95ci": bootstrap_interval(macro_recall, gold, predicted),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "n": len(gold),
    }


def _binary_accuracy(probs: np.ndarray, gold: list[int]) -> float:
    predicted = np.where(probs[:, POSITIVE] >= probs[:, NEGATIVE], POSITIVE, NEGATIVE)
    return round(float(accuracy_score(gold, predicted)), 4)


def sentence_level_check(bundle: ModelBundle, encoder: Encoder, seed: int = 7, pairs: int = 300) -> dict[str, float]:
    """Pair held-out UCI sentences of opposite polarity into one text and check each sentence's
    own label, with sentences read on their own (``isolated``, the default) and pooled from the
    document's pass (``pooled``): how much a neighbour's tone leaks into a sentence."""
    held = corpora.uci_sentences(holdout=True)
    rng = random.Random(seed)
    positives = [e for e in held if e.label == POSITIVE and e.text[-1] in ".!?"]
    negatives = [e for e in held if e.label == NEGATIVE and e.text[-1] in ".!?"]
    texts, spans, gold = [], [], []
    for _ in range(pairs):
        first, second = rng.choice(positives), rng.choice(negatives)
        if rng.random() < 0.5:
            first, second = second, first
        texts.append(f"{first.text} {second.text}")
        spans.append([(0, len(first.text)), (len(first.text) + 1, len(texts[-1]))])
        gold += [first.label, second.label]
    head, bias = bundle.heads["sentiment"], bundle.array("sentiment_bias", 0.0, 3)
    report: dict[str, float] = {"n_sentences": len(gold)}
    for mode, isolate in (("isolated", spans), ("pooled", None)):
        vectors = np.concatenate([e.spans for e in encoder.encode(texts, spans, isolate)])
        probs = softmax(head.logits(vectors) + bias)
        predicted = np.where(probs[:, POSITIVE] >= probs[:, NEGATIVE], POSITIVE, NEGATIVE)
        report[f"accuracy_{mode}"] = round(float(np.mean(predicted == np.array(gold))), 4)
    return report


def evaluate(model_dir: Path) -> dict[str, dict[str, float]]:
    """Test-split metrics of a calibrated model folder."""
    bundle = ModelBundle.load(model_dir)
    encoder = Encoder.for_bundle(bundle)
    sentiment, emotion = bundle.heads["sentiment"], bundle.heads["emotion"]
    bias = bundle.array("sentiment_bias", 0.0, 3)

    def sentiment_probs(texts: list[str]) -> np.ndarray:
        return sentiment_probabilities(sentiment, bias, encoder, texts)

    metrics: dict[str, dict[str, float]] = {}
    test = corpora.tweeteval_sentiment("test")
    metrics["tweeteval_sentiment_test"] = _sentiment_metrics(
        np.array([e.label for e in test]), sentiment_probs([e.text for e in test]).argmax(1)
    )
    airline = corpora.airline_tweets("dev")
    airline_gold = np.array([corpora.SENTIMENT_LABELS.index(r["airline_sentiment"]) for r in airline])
    metrics["airline_dev_out_of_domain"] = _sentiment_metrics(
        airline_gold, sentiment_probs([corpora.tweet_style(r["text"]) for r in airline]).argmax(1)
    )
    polarity = corpora.tweeteval_emotion_polarity("test")
    metrics["tweeteval_emotion_polarity_test"] = {
        "accuracy": _binary_accuracy(sentiment_probs([e.text for e in polarity]), [e.label for e in polarity]),
        "n": len(polarity),
    }
    sst = corpora.sst2("test")
    metrics["sst2_test"] = {
        "accuracy": _binary_accuracy(sentiment_probs([e.text for e in sst]), [e.label for e in sst]),
        "n": len(sst),
    }
    uci = corpora.uci_sentences(holdout=True)
    metrics["uci_holdout"] = {
        "accuracy": _binary_accuracy(sentiment_probs([e.text for e in uci]), [e.label for e in uci]),
        "n": len(uci),
    }
    metrics["feedback_sentiment_test"] = feedback_sentiment_metrics(sentiment_probs)
    metrics["sentence_level_pairs"] = sentence_level_check(bundle, encoder)
    metrics["goemotions_test"] = _emotion_metrics(bundle, encoder, emotion)
    return metrics


def feedback_sentiment_metrics(sentiment_probs: Callable[[list[str]], np.ndarray]) -> dict:
    """Our journey test file's sentiment labels (feedback, not tweets), with VADER beside it
    when the peers extra is installed: the domain voc-lens is for."""
    test = corpora.feedback_sentiment("test")
    gold, texts = np.array([e.label for e in test]), [e.text for e in test]
    report: dict = _sentiment_metrics(gold, sentiment_probs(texts).argmax(1))
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return report
    vader = SentimentIntensityAnalyzer()
    compound = np.array([vader.polarity_scores(t)["compound"] for t in texts])
    # VADER's documented cut-offs: compound >= 0.05 positive, <= -0.05 negative.
    predicted = np.where(compound >= 0.05, POSITIVE, np.where(compound <= -0.05, NEGATIVE, NEUTRAL))
    report["vader_macro_recall"] = round(macro_recall(gold, predicted), 4)
    return report


def _emotion_metrics(bundle: ModelBundle, encoder: Encoder, head) -> dict[str, float]:
    labels = bundle.labels("emotion")
    test = corpora.goemotions("test")
    gold = multi_hot([e.labels for e in test], len(labels))
    probs = sigmoid(head.logits(doc_vectors(encoder, [e.text for e in test], EVAL_CHUNK)))
    predicted = predict_labels(probs, bundle.array("emotion_thresholds", 0.5, len(labels)))
    groups = list(EKMAN_GROUPS)
    members = [[labels.index(m) for m in EKMAN_GROUPS[g]] for g in groups]
    gold_ekman = np.stack([gold[:, m].any(1) for m in members], axis=1)
    predicted_ekman = np.stack([predicted[:, m].any(1) for m in members], axis=1)
    return {
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "micro_f1": round(float(f1_score(gold, predicted, average="micro", zero_division=0)), 4),
        "ekman_macro_f1": round(float(f1_score(gold_ekman, predicted_ekman, average="macro", zero_division=0)), 4),
        "n": len(test),
    }
