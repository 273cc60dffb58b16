"""Peak memory (RSS) and time of one topic fit on N short texts.

    python bench/topics_memory.py --n 200000                 # target: peak RSS under 8 GiB
    python bench/topics_memory.py --n 2000 --vectors encoder # real encoder vectors (cached)

Texts are BANKING77 and CLINC150 train queries resampled with replacement to N. With
``--vectors clustered`` (default) each text gets a synthetic 384-d vector near a random centre
for its true intent, so the clustering has real structure without encoding N texts; the
encoder is then never loaded and the figure is the topic pipeline's own footprint (UMAP with
low_memory, HDBSCAN, c-TF-IDF, outlier reduction). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from nlp.topics.data import clean_texts, labelled_split
from nlp.topics.embeddings import normalize_rows, project_embedder
from nlp.topics.train import TopicParams, fit_topics
from nlp.train.corpora import corpora_root

DIM = 384


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def resampled_queries(n: int, seed: int) -> tuple[list[str], list[str]]:
    """N (text, intent) pairs drawn with replacement from BANKING77 + CLINC150 train."""
    texts, intents = [], []
    for dataset in ("banking77", "clinc150"):
        some_texts, some_intents = labelled_split(dataset, "train", corpora_root())
        texts += some_texts
        intents += [f"{dataset}:{intent}" for intent in some_intents]
    picks = np.random.default_rng(seed).integers(0, len(texts), size=n)
    return [texts[i] for i in picks], [intents[i] for i in picks]


def clustered_vectors(intents: list[str], seed: int, noise: float = 0.6) -> np.ndarray:
    """One random unit centre per intent plus Gaussian noise per text (float32; the fit normalises)."""
    rng = np.random.default_rng(seed)
    names = sorted(set(intents))
    centres = normalize_rows(rng.standard_normal((len(names), DIM), dtype=np.float32))
    position = {name: i for i, name in enumerate(names)}
    rows = np.fromiter((position[i] for i in intents), dtype=np.int64, count=len(intents))
    vectors = centres[rows]
    vectors += rng.standard_normal(vectors.shape, dtype=np.float32) * (noise / np.sqrt(DIM))
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--vectors", choices=["clustered", "encoder"], default="clustered")
    parser.add_argument("--min-topic-size", type=int, default=None, help="default: max(15, n // 2000)")
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    texts, intents = resampled_queries(args.n, args.seed)
    if args.vectors == "encoder":
        corpus = clean_texts(texts)
        texts, vectors = corpus.texts, project_embedder().embed(corpus.texts)
    else:
        vectors = clustered_vectors(intents, args.seed)
    min_topic_size = args.min_topic_size or max(15, args.n // 2000)
    params = TopicParams(seed=args.seed, min_topic_size=min_topic_size, min_df=args.min_df)
    import bertopic  # noqa: F401  (imports are not the fit: count them in the baseline)

    rss_before = peak_rss_mib()
    start = time.perf_counter()
    outcome = fit_topics(texts, vectors, params)
    print(
        json.dumps(
            {
                "texts": len(texts),
                "vectors": args.vectors,
                "min_topic_size": min_topic_size,
                "min_df": args.min_df,
                "topics": len(set(outcome.topics) - {-1}),
                "outlier_share_before": round(outcome.outlier_share_before, 3),
                "fit_seconds": round(time.perf_counter() - start, 1),
                "peak_rss_mib_before_fit": round(rss_before),
                "peak_rss_mib": round(peak_rss_mib()),
            }
        )
    )


if __name__ == "__main__":
    main()
