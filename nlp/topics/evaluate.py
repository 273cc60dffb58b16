"""``voc eval topics``: our topic pipeline beside BERTopic defaults and LDA on a labelled intent corpus.

Every system is fitted on the train split and assigns the test split; the test split's true
intents are the ground truth. Metrics (computed here, on the test split):
  NPMI       mean normalised PMI of each topic's top-10 word pairs, from document co-occurrence
             (a pair that never co-occurs scores -1; words absent from the corpus are skipped)
  diversity  unique share of all topics' top-10 words
  AMI        adjusted mutual information of assignments vs true intents (outliers form one cluster)
  out-of-scope unassigned
             share of CLINC150's out-of-scope queries a system leaves as outliers (LDA has none)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from nlp.topics.assign import OUTLIER, index_from_model
from nlp.topics.data import clean_texts, labelled_split
from nlp.topics.embeddings import Embedder
from nlp.topics.train import TopicParams, fit_with_floor

TOP_WORDS = 10
CARD_START = "<!-- voc eval topics: start -->"
CARD_END = "<!-- voc eval topics: end -->"


def npmi_coherence(topic_words: list[list[str]], documents: list[str], top_n: int = TOP_WORDS) -> float:
    """Mean NPMI over topics (each the mean over its word pairs); document-level co-occurrence."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(binary=True)
    presence = vectorizer.fit_transform(documents).tocsc()
    vocabulary = vectorizer.vocabulary_
    n_docs = presence.shape[0]
    topic_scores = []
    for words in topic_words:
        columns = [vocabulary[w] for w in words[:top_n] if w in vocabulary]
        if len(columns) < 2:
            continue
        sub = presence[:, columns]
        together = (sub.T @ sub).toarray() / n_docs
        alone = np.diag(together)
        pair_scores = [_npmi(together[i, j], alone[i], alone[j]) for i, j in combinations(range(len(columns)), 2)]
        topic_scores.append(float(np.mean(pair_scores)))
    return float(np.mean(topic_scores)) if topic_scores else float("nan")


def _npmi(joint: float, p_first: float, p_second: float) -> float:
    if joint == 0:
        return -1.0
    if joint == 1:
        return 1.0
    return float(np.log(joint / (p_first * p_second)) / -np.log(joint))


def topic_diversity(topic_words: list[list[str]], top_n: int = TOP_WORDS) -> float:
    words = [w for topic in topic_words for w in topic[:top_n]]
    return len(set(words)) / len(words) if words else float("nan")


@dataclass
class Split:
    texts: list[str]
    labels: list[str]
    vectors: np.ndarray


@dataclass
class SystemRun:
    name: str
    topic_words: list[list[str]]
    assign: Callable[[Split], np.ndarray]  # topic per text; OUTLIER for none


def load_split(dataset: str, split: str, root: Path, embedder: Embedder) -> Split:
    texts, labels = labelled_split(dataset, split, root)
    corpus = clean_texts(texts)
    return Split(corpus.texts, [labels[i] for i in corpus.rows], embedder.embed(corpus.texts))


def _bertopic_words(model) -> list[list[str]]:
    return [[w for w, _ in model.get_topic(t) if w] for t in sorted(model.topic_representations_) if t != OUTLIER]


def run_ours(train: Split, params: TopicParams) -> SystemRun:
    outcome, floor = fit_with_floor(train.texts, train.vectors, params)
    index = index_from_model(outcome.model, floor.floor)

    def assign(split: Split) -> np.ndarray:
        return index.assign(split.vectors)[0]

    return SystemRun("voc-lens BERTopic (ours)", _bertopic_words(outcome.model), assign)


def run_bertopic_defaults(train: Split, params: TopicParams) -> SystemRun:
    """BERTopic() as documented, on the same vectors; UMAP gets a seed so the table is reproducible."""
    from bertopic import BERTopic
    from umap import UMAP

    from nlp.topics.store import quiet_bertopic

    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=params.seed, n_jobs=1)
    with quiet_bertopic():
        model = BERTopic(umap_model=umap).fit(train.texts, embeddings=train.vectors)

    def assign(split: Split) -> np.ndarray:
        with quiet_bertopic():
            return np.asarray(model.transform(split.texts, embeddings=split.vectors)[0])

    return SystemRun("BERTopic defaults", _bertopic_words(model), assign)


def run_lda(train: Split, params: TopicParams, n_topics: int) -> SystemRun:
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(stop_words="english", min_df=2)
    counts = vectorizer.fit_transform(train.texts)
    lda = LatentDirichletAllocation(n_components=n_topics, random_state=params.seed).fit(counts)
    vocabulary = vectorizer.get_feature_names_out()
    words = [[str(vocabulary[i]) for i in row.argsort()[::-1][:TOP_WORDS]] for row in lda.components_]

    def assign(split: Split) -> np.ndarray:
        return lda.transform(vectorizer.transform(split.texts)).argmax(axis=1)

    return SystemRun(f"LDA (scikit-learn, k={n_topics})", words, assign)


def score(run: SystemRun, test: Split, out_of_scope: Split) -> dict[str, object]:
    """Metrics on the test split, plus the share of out-of-scope queries a system leaves unassigned."""
    from sklearn.metrics import adjusted_mutual_info_score

    assigned = run.assign(test)
    return {
        "system": run.name,
        "topics": len(run.topic_words),
        "outlier share": round(float(np.mean(assigned == OUTLIER)), 3),
        "NPMI": round(npmi_coherence(run.topic_words, test.texts), 3),
        "diversity": round(topic_diversity(run.topic_words), 3),
        "AMI": round(float(adjusted_mutual_info_score(test.labels, assigned)), 3),
        "out-of-scope unassigned": round(float(np.mean(run.assign(out_of_scope) == OUTLIER)), 3),
    }


def evaluate_topics(
    dataset: str, root: Path, embedder: Embedder, params: TopicParams, lda_topics: int | None = None
) -> list[dict[str, object]]:
    """One row per system; LDA gets the true number of intents unless told otherwise.

    Out-of-scope queries are CLINC150's ``oos_test`` (1,000 queries outside its 150 intents).
    """
    train = load_split(dataset, "train", root, embedder)
    test = load_split(dataset, "test", root, embedder)
    out_of_scope = load_split("clinc150", "oos_test", root, embedder)
    runners: list[Callable[[], SystemRun]] = [
        lambda: run_ours(train, params),
        lambda: run_bertopic_defaults(train, params),
        lambda: run_lda(train, params, lda_topics or len(set(train.labels))),
    ]
    return [score(run(), test, out_of_scope) for run in runners]


def markdown_table(rows: list[dict[str, object]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_card_section(card: Path, section: str) -> None:
    """Replace the text between the eval markers of a model card (appended when absent)."""
    block = f"{CARD_START}\n{section}\n{CARD_END}"
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    pattern = re.compile(re.escape(CARD_START) + ".*?" + re.escape(CARD_END), re.DOTALL)
    updated = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    card.write_text(updated, encoding="utf-8")
