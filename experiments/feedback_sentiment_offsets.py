"""Experiment: a model's sentiment on our labelled feedback (dev), under each choice of offsets.

    python experiments/feedback_sentiment_offsets.py [MODEL_DIR]   # default models/voc-multitask; ~2 min
    python experiments/feedback_sentiment_offsets.py --label-blocks  # the second labelling round's block check

For each rule of choosing the sentiment log-prior offsets (none; as shipped; on TweetEval val alone,
what ``voc train calibrate`` does; on the mean of TweetEval val and feedback dev macro-recall) it
prints both dev figures and, per feedback class, how many dev texts the model finds. Dev splits
only: it reads no test split and saves nothing.

``--label-blocks`` compares the labels of the 7,373 train texts labelled in the second round (those
without a label at commit 8b5c277, in file order, in the eight batches of 922 they were handed out
in) with the shipped model's predictions, per block of 100 rows: a batch whose labels slipped
against its ids would read near chance there. It changes no label.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, recall_score

from nlp.bundle import REPO_ROOT, ModelBundle
from nlp.encoder import Encoder, doc_vectors
from nlp.train import corpora
from nlp.train.evaluate import EVAL_CHUNK, choose_sentiment_bias

FIRST_ROUND = "8b5c277"  # the train file with the first 3,000 sentiment labels
BATCH, BLOCK = 922, 100


def logits_and_gold(bundle: ModelBundle, encoder: Encoder, rows: list) -> tuple[np.ndarray, np.ndarray]:
    logits = bundle.heads["sentiment"].logits(doc_vectors(encoder, [e.text for e in rows], EVAL_CHUNK))
    return logits, np.array([e.label for e in rows])


def offsets_table(model_dir: Path) -> None:
    bundle = ModelBundle.load(model_dir)
    encoder = Encoder.for_bundle(bundle)
    val = logits_and_gold(bundle, encoder, corpora.tweeteval_sentiment("val"))
    feedback = logits_and_gold(bundle, encoder, corpora.feedback_sentiment("dev"))
    rules = {
        "none (argmax)": np.zeros(3),
        "shipped": bundle.array("sentiment_bias", 0.0, 3),
        "TweetEval val alone": np.array(choose_sentiment_bias(*val)),
        "TweetEval val + feedback dev": np.array(choose_sentiment_bias(*val, also=(feedback,))),
    }
    found_columns = " | ".join(f"{name} found (of)" for name in corpora.SENTIMENT_LABELS)
    print(f"| offsets | (neg, neu, pos) | TweetEval val | feedback dev | {found_columns} |")
    print("|---|---|---|---|---|---|---|")
    for rule, bias in rules.items():
        scores = [recall_score(gold, (logits + bias).argmax(1), average="macro") for logits, gold in (val, feedback)]
        matrix = confusion_matrix(feedback[1], (feedback[0] + bias).argmax(1), labels=[0, 1, 2])
        found = " | ".join(f"{matrix[k, k]} ({matrix[k].sum()})" for k in range(3))
        print(f"| {rule} | {tuple(round(float(b), 2) for b in bias)} | {scores[0]:.4f} | {scores[1]:.4f} | {found} |")


def label_blocks() -> None:
    first = subprocess.run(
        ["git", "show", f"{FIRST_ROUND}:corpora/journey/train.jsonl"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    later = [i for i, line in enumerate(first) if "sentiment" not in json.loads(line)]
    rows = corpora.read_split("train")
    bundle = ModelBundle.load(REPO_ROOT / "models" / "voc-multitask")
    bias = bundle.array("sentiment_bias", 0.0, 3)
    logits = bundle.heads["sentiment"].logits(doc_vectors(Encoder.for_bundle(bundle), [rows[i]["text"] for i in later]))
    predicted = [corpora.SENTIMENT_LABELS[k] for k in (logits + bias).argmax(1)]
    labels = [rows[i]["sentiment"] for i in later]
    for start in range(0, len(later), BATCH):
        blocks = []
        for block in range(start, min(start + BATCH, len(later)), BLOCK):
            end = min(block + BLOCK, start + BATCH, len(later))
            pairs = [(p, g) for p, g in zip(predicted[block:end], labels[block:end]) if g != "mixed"]
            blocks.append(f"{np.mean([p == g for p, g in pairs]):.2f} ({len(pairs)})")
        print(f"batch {start // BATCH}: " + ", ".join(blocks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", nargs="?", type=Path, default=REPO_ROOT / "models" / "voc-multitask")
    parser.add_argument("--label-blocks", action="store_true")
    args = parser.parse_args()
    label_blocks() if args.label_blocks else offsets_table(args.model_dir)


if __name__ == "__main__":
    main()
