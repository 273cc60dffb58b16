"""``voc topics train|update|info`` and ``voc eval topics``. Heavy imports stay inside the commands."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

topics_app = typer.Typer(no_args_is_help=True, help="Discover topics with BERTopic on the shared encoder.")
console = Console(stderr=True)

TextColOption = Annotated[str, typer.Option("--text-col", help="Column holding the feedback text.")]
EncoderOption = Annotated[
    Path | None, typer.Option("--encoder", help="Encoder model folder (default models/voc-multitask).")
]


def _describe(path: Path, text_col: str) -> dict[str, Any]:
    """What a model was trained on, without any of its texts."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"file": f"{path.parent.name}/{path.name}", "sha256": digest, "text_col": text_col}


def _embedder(encoder: Path | None):
    from nlp.topics.embeddings import project_embedder

    return project_embedder(encoder)


@topics_app.command("train")
def train(
    export: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="csv, tsv, parquet, jsonl or xlsx.")],
    text_col: TextColOption,
    out: Annotated[Path, typer.Option("-o", "--out", help="Model folder to write, e.g. models/topics/NAME.")],
    date_col: Annotated[str | None, typer.Option(help="Dates: also writes over_time.csv (weekly counts).")] = None,
    guided: Annotated[bool, typer.Option(help="Seed topics with the taxonomy's stage cue words.")] = False,
    min_topic_size: Annotated[int, typer.Option(help="Smallest topic (HDBSCAN min_cluster_size).")] = 15,
    min_df: Annotated[int, typer.Option(help="Keyword must occur in this many topics.")] = 1,
    seed: int = 42,
    encoder: EncoderOption = None,
) -> None:
    """Fit a topic model on an export's texts and save it (safetensors, no texts inside)."""
    from nlp.topics.data import read_export, seed_topics
    from nlp.topics.train import TopicParams, train_model

    logging.getLogger("nlp").setLevel(logging.INFO)
    corpus = read_export(export, text_col, date_col)
    params = TopicParams(seed=seed, min_topic_size=min_topic_size, min_df=min_df, guided=guided)
    seeds, seeds_source = seed_topics() if guided else (None, None)
    if guided:
        console.print(f"guided by {seeds_source}")
    embedder = _embedder(encoder)
    config = train_model(corpus, embedder, params, out, _describe(export, text_col), seeds, seeds_source)
    fit = config["fit"]
    console.print(
        f"{config['n_topics']} topics from {fit['texts']} texts; outlier share "
        f"{fit['outlier_share_before_reduction']:.1%} before reduction, {fit['outlier_share_after_reduction']:.1%} "
        f"after; similarity floor {config['assignment']['similarity_floor']} -> {out}"
    )
    if date_col:
        _write_over_time(out, corpus, embedder)


def _write_over_time(folder: Path, corpus, embedder) -> None:
    """Weekly topic counts of the training export (counts only, no texts)."""
    import pandas as pd

    from nlp.topics.over_time import topics_over_time
    from nlp.topics.store import load_folder

    loaded = load_folder(folder)
    topics, _ = loaded.index.assign(embedder.embed(corpus.texts))
    table = topics_over_time(pd.DataFrame({"topic": topics, "date": corpus.dates}), "topic", "date", "W")
    table.to_csv(folder / "over_time.csv", index=False)
    console.print(f"weekly topic counts -> {folder / 'over_time.csv'}")


@topics_app.command("update")
def update(
    model: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Topic model folder.")],
    new_export: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Export with the new texts.")],
    text_col: TextColOption,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write here instead of in place.")] = None,
    min_similarity: Annotated[float, typer.Option(help="New topics closer than this join an old one.")] = 0.7,
    encoder: EncoderOption = None,
) -> None:
    """Add new texts: old topic ids are kept, topics not seen before are appended."""
    from nlp.topics.data import read_export
    from nlp.topics.train import update_model

    corpus = read_export(new_export, text_col)
    target = out or model
    config, added = update_model(
        model, corpus, _embedder(encoder), target, _describe(new_export, text_col), min_similarity
    )
    console.print(f"{len(added)} new topics {added} ({config['n_topics']} in all) -> {target}")


@topics_app.command("info")
def info(
    model: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Topic model folder.")],
    keywords: Annotated[int, typer.Option(help="Keywords shown per topic.")] = 6,
) -> None:
    """Table of a model's topics (reads topics.json and config.json; loads nothing heavy)."""
    from nlp.topics.store import CONFIG_FILE, TABLE_FILE

    config = json.loads((model / CONFIG_FILE).read_text(encoding="utf-8"))
    rows = json.loads((model / TABLE_FILE).read_text(encoding="utf-8"))
    table = Table(title=f"{config.get('name', model.name)}@{config.get('version')}: {len(rows)} topics")
    for column, justify in (("id", "right"), ("label", "left"), ("size", "right"), ("keywords", "left")):
        table.add_column(column, justify=justify)
    for row in rows:
        table.add_row(str(row["id"]), row["label"], str(row["size"]), ", ".join(row["keywords"][:keywords]))
    Console().print(table)
    Console().print(f"encoder {config['encoder']['id']}; similarity floor {config['assignment']['similarity_floor']}")


def eval_topics(
    dataset: Annotated[str, typer.Option(help="banking77 or clinc150 (train to fit, test to score).")] = "banking77",
    model: Annotated[
        Path | None, typer.Option(help="Take our fit's parameters from this model (default models/topics/default).")
    ] = None,
    lda_topics: Annotated[int | None, typer.Option(help="LDA topics (default: the true intent count).")] = None,
    write: Annotated[bool, typer.Option(help="Write the table into MODEL/README.md (the model card).")] = False,
    encoder: EncoderOption = None,
) -> None:
    """Our topics vs BERTopic defaults vs LDA: NPMI, diversity, AMI vs true intents, outliers."""
    from nlp.bundle import models_root
    from nlp.topics.evaluate import evaluate_topics, markdown_table, write_card_section
    from nlp.topics.store import CONFIG_FILE
    from nlp.topics.train import TopicParams
    from nlp.train.corpora import corpora_root

    folder = model or models_root() / "topics" / "default"
    config = json.loads((folder / CONFIG_FILE).read_text()) if (folder / CONFIG_FILE).exists() else {}
    params = TopicParams(**config["params"]) if config else TopicParams()
    embedder = _embedder(encoder)
    rows = evaluate_topics(dataset, corpora_root(), embedder, params, lda_topics)
    table = Table(title=f"topics on {dataset} test (fitted on train; min_topic_size {params.min_topic_size})")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)
    if write:
        command = f"voc eval topics --dataset {dataset}" + (f" --model {model}" if model else "")
        command += f" --lda-topics {lda_topics}" if lda_topics else ""
        note = f"Measured with `{command} --write`; encoder `{embedder.version}`."
        write_card_section(folder / "README.md", f"{_model_summary(config)}\n\n{note}\n\n{markdown_table(rows)}")
        console.print(f"table written to {folder / 'README.md'}")


def _model_summary(config: dict[str, Any]) -> str:
    """The shipped model's own fit figures, for the model card."""
    if not config:
        return "No model folder: our row used the default parameters."
    fit, assignment = config["fit"], config["assignment"]
    return (
        f"This model (`{config['name']}@{config['version']}`, encoder `{config['encoder']['id']}`): "
        f"{config['n_topics']} topics from {fit['texts']} texts; HDBSCAN left "
        f"{fit['outlier_share_before_reduction']:.1%} as outliers, {fit['outlier_share_after_reduction']:.1%} "
        f"after reduction; similarity floor {assignment['similarity_floor']} ({assignment['floor_chosen_on']})."
    )
