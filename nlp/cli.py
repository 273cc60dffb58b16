"""The ``voc`` command line: analyse, tag exports, train and evaluate.

Heavy imports (torch, transformers) happen inside commands so ``voc --help`` stays instant.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nlp.topics.cli import eval_topics, topics_app

app = typer.Typer(no_args_is_help=True, help="voc-lens: Voice-of-the-Customer text mining.")
train_app = typer.Typer(no_args_is_help=True, help="Train models from ../shared/corpora (or your own data).")
eval_app = typer.Typer(no_args_is_help=True, help="Measure models on test splits.")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(topics_app, name="topics")
eval_app.command("topics")(eval_topics)

console = Console(stderr=True)

ModelDirOption = Annotated[Path | None, typer.Option(help="Model folder (default models/voc-multitask).")]
TasksOption = Annotated[str | None, typer.Option(help="Comma-separated components to run (default: all configured).")]


def _analyzer(model_dir: Path | None = None, **overrides):
    from nlp.analyzer import Analyzer, AnalyzerConfig

    config = AnalyzerConfig(**overrides) if model_dir is None else AnalyzerConfig(model_dir=model_dir, **overrides)
    return Analyzer.from_config(config)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress (never texts).")] = False):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def analyze(
    text: Annotated[str, typer.Argument(help="Text to analyse; '-' reads standard input.")],
    tasks: TasksOption = None,
    model_dir: ModelDirOption = None,
    max_chars: Annotated[int, typer.Option(help="Longer texts are truncated and flagged.")] = 20_000,
    no_truncate: Annotated[bool, typer.Option("--no-truncate", help="Reject over-long text instead.")] = False,
) -> None:
    """Analyse one text and print the result as JSON."""
    if text == "-":
        text = sys.stdin.read()
    analyzer = _analyzer(model_dir, max_chars=max_chars, truncate=not no_truncate)
    wanted = tasks.split(",") if tasks else None
    result = analyzer.analyze([text], tasks=wanted)[0]
    typer.echo(result.model_dump_json(indent=2, exclude_none=True))
    if result.error:
        raise typer.Exit(code=2)


class TagEngineName(StrEnum):
    local = "local"
    ray = "ray"


class ShardFormatName(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _tag_engine(engine: TagEngineName, workers: int, shards: Path | None, shard_format: ShardFormatName):
    if engine is TagEngineName.local:
        return None  # tag_file's default
    from nlp.io.ray_engine import RayEngine

    return RayEngine(workers=workers, shards=shards, shard_format=shard_format.value)


@app.command()
def tag(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Export file or folder of shards.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Tagged file to write (format from extension).")],
    text_col: Annotated[list[str], typer.Option(help="Text column; repeat to join several with a newline.")],
    id_col: Annotated[str | None, typer.Option(help="Id column (copied into each result and the errors file).")] = None,
    date_col: Annotated[str | None, typer.Option(help="Date column (unparseable dates are counted).")] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows per chunk (and per checkpointed part).")] = 256,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from OUTPUT.parts.")] = False,
    in_format: Annotated[str | None, typer.Option("--format", help="Input format (default: from extension).")] = None,
    out_format: Annotated[str | None, typer.Option(help="Output format (default: from extension).")] = None,
    tasks: TasksOption = None,
    model_dir: ModelDirOption = None,
    engine: Annotated[TagEngineName, typer.Option(help="local: this process; ray: Ray Data on this machine.")] = (
        TagEngineName.local
    ),
    workers: Annotated[int, typer.Option(min=1, help="Ray actors, each with its own model (--engine ray).")] = 2,
    shards: Annotated[
        Path | None, typer.Option(help="Also write the tagged rows as shards here (--engine ray).")
    ] = None,
    shard_format: Annotated[ShardFormatName, typer.Option(help="Format of the shards.")] = ShardFormatName.parquet,
) -> None:
    """Tag every row of an export; keeps all columns and rows, adds tag columns and voc_result JSON."""
    from nlp.io.checkpoint import ResumeError, parts_folder
    from nlp.io.console import RichTagProgress, summary_table
    from nlp.io.table import TableError
    from nlp.io.tagging import BatchAnalyzer, TagOptions, tag_file

    wanted = tuple(tasks.split(",")) if tasks else None
    on_ray = engine is TagEngineName.ray
    if shards is not None and not on_ray:
        raise typer.BadParameter("shards are written by the Ray engine: add --engine ray", param_hint="--shards")
    if shards is not None and resume:
        raise typer.BadParameter("shards hold the rows of one whole run: not with --resume", param_hint="--shards")
    # Each Ray actor gets its share of the cores, so the actors together use them all once.
    threads = max(1, (os.cpu_count() or 1) // workers) if on_ray else None

    def load_analyzer() -> BatchAnalyzer:
        analyzer = _analyzer(model_dir, threads=threads)
        unknown = sorted(set(wanted or ()) - set(analyzer.component_names))
        if unknown:
            message = f"unknown {unknown}; this model runs {analyzer.component_names}"
            raise typer.BadParameter(message, param_hint="--tasks")
        return analyzer

    options = TagOptions(
        input=input_path,
        output=output,
        text_cols=tuple(text_col),
        id_col=id_col,
        date_col=date_col,
        chunk_size=chunk_size,
        resume=resume,
        in_format=in_format,
        out_format=out_format,
        tasks=wanted,
    )
    try:
        tag_engine = _tag_engine(engine, workers, shards, shard_format)
        with RichTagProgress(console) as progress:
            summary = tag_file(options, load_analyzer, progress, tag_engine)
    except (TableError, ResumeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    except KeyboardInterrupt as exc:
        console.print(f"interrupted: finished chunks are kept in {parts_folder(output)}; add --resume to continue")
        raise typer.Exit(code=130) from exc
    console.print(summary_table(summary))
    console.print(f"wrote {output} and {options.errors_output}")


@app.command()
def report(
    tagged: Annotated[Path, typer.Argument(help="File written by 'voc tag' (any supported format).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML page to write.")] = Path("report.html"),
    score_col: Annotated[str | None, typer.Option(help="Numeric score column (e.g. nps) for the driver table.")] = None,
    date_col: Annotated[str | None, typer.Option(help="Date column for sentiment over time.")] = None,
    by_col: Annotated[str | None, typer.Option(help="Metadata column to break sentiment down by.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Text column for examples (default: from voc_result).")] = None,
    min_rows: Annotated[int, typer.Option(min=1, help="Driver table: least rows a tag needs.")] = 10,
    in_format: Annotated[str | None, typer.Option("--format", help="Input format (default: from extension).")] = None,
) -> None:
    """One self-contained HTML page (no internet needed) summarising a tagged file."""
    from nlp.io.table import TableError
    from nlp.report.page import ReportOptions, write_report

    options = ReportOptions(score_col=score_col, date_col=date_col, by_col=by_col, text_col=text_col, min_rows=min_rows)
    try:
        write_report(tagged, output, options, in_format)
    except TableError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    console.print(f"wrote {output}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 exposes it to the network).")] = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes; each loads its own model.")] = 1,
) -> None:
    """Run the HTTP API (settings from VOC_* environment variables; see api/settings.py)."""
    import uvicorn

    from api.observability import LOG_CONFIG

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=LOG_CONFIG,
        access_log=False,  # api.access logs each request, with its request id
    )


@train_app.command("multitask")
def train_multitask(
    out: Annotated[Path, typer.Option(help="Run folder for the adapter and heads.")] = Path("runs/multitask"),
    base_model: Annotated[
        str, typer.Option(help="Base encoder to adapt: all-MiniLM-L6-v2 (fast) or all-mpnet-base-v2 (~5x slower).")
    ] = "all-MiniLM-L6-v2",
    semeval_rows: Annotated[int | None, typer.Option(help="Sample of semeval_tweets rows (default all).")] = None,
    goemotions_rows: Annotated[int | None, typer.Option(help="Sample of GoEmotions rows (default all).")] = None,
    sst2_rows: Annotated[int, typer.Option(help="Sample of SST-2 train phrases.")] = 8000,
    tweeteval_emotion_rows: Annotated[
        int, typer.Option(help="TweetEval emotion train tweets as binary polarity (0: none, -1: all).")
    ] = 0,
    spell_symbols: Annotated[
        bool, typer.Option(help="Read emoji as their Unicode names (off: as [UNK], how 1.2.0 was trained).")
    ] = True,
    epochs: float = 1.0,
    lr: float = 5e-4,
    head_lr: float = 2e-3,
    batch_size: int = 32,
    emotion_weight: Annotated[float, typer.Option(help="Weight of the GoEmotions loss next to sentiment's.")] = 1.0,
    init_from: Annotated[Path | None, typer.Option(help="Continue from the adapter and heads in this folder.")] = None,
    bucket_batches: Annotated[int, typer.Option(help="Sort rows by length within this many batches (1: off).")] = 50,
    journey_epochs: Annotated[
        int, typer.Option(help="Passes over the journey train file per epoch (0: no journey task).")
    ] = 0,
    journey_weight: Annotated[float, typer.Option(help="Weight of the journey losses next to sentiment's.")] = 1.0,
    journey_sentiment_weight: Annotated[
        float, typer.Option(help="Weight of the sentiment loss of journey rows labelled for it.")
    ] = 1.0,
    journey_dir: Annotated[Path, typer.Option(help="Folder with the journey train.jsonl.")] = Path("corpora/journey"),
    threads: Annotated[int | None, typer.Option(help="torch threads (default: all cores).")] = None,
    device: Annotated[str, typer.Option(help="auto (a CUDA GPU if torch sees one), cpu or cuda.")] = "auto",
    seed: int = 13,
) -> None:
    """Fine-tune the shared LoRA adapter with the sentiment, emotion and (optionally) journey heads."""
    from nlp.train.multitask import MultitaskConfig, train

    logging.getLogger().setLevel(logging.INFO)
    config = MultitaskConfig(
        out_dir=out,
        base_model=base_model,
        semeval_rows=semeval_rows,
        goemotions_rows=goemotions_rows,
        sst2_rows=sst2_rows,
        tweeteval_emotion_rows=None if tweeteval_emotion_rows < 0 else tweeteval_emotion_rows,
        spell_symbols=spell_symbols,
        epochs=epochs,
        lr=lr,
        head_lr=head_lr,
        batch_size=batch_size,
        emotion_weight=emotion_weight,
        init_from=init_from,
        bucket_batches=bucket_batches,
        journey_epochs=journey_epochs,
        journey_weight=journey_weight,
        journey_sentiment_weight=journey_sentiment_weight,
        journey_dir=journey_dir,
        threads=threads,
        device=device,
        seed=seed,
    )
    console.print(f"trained run written to {train(config)}")


@train_app.command("soup")
def train_soup(
    runs: Annotated[list[Path], typer.Argument(help="Run folders that continued the same model (other seeds).")],
    out: Annotated[Path, typer.Option(help="Run folder for the averaged adapter and heads.")] = Path("runs/soup"),
) -> None:
    """Average the weights of runs from one starting point (a model soup); then run 'voc train calibrate' on it."""
    from nlp.train.soup import make_soup

    console.print(f"averaged run written to {make_soup(runs, out)}")


@train_app.command("calibrate")
def train_calibrate(
    run: Annotated[Path, typer.Argument(help="Run folder written by 'voc train multitask'.")],
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("models/voc-multitask"),
    version: str = "1.0.0",
) -> None:
    """Choose sentiment offsets and emotion thresholds on dev splits; write a loadable model folder."""
    from nlp.train.evaluate import calibrate

    console.print(f"model written to {calibrate(run, out, version=version)}")


@train_app.command("topic-space")
def train_topic_space_command(
    model_dir: Annotated[Path, typer.Option(help="Model folder with the adapter.")] = Path("models/voc-multitask"),
    per_corpus: Annotated[int, typer.Option(help="Unlabelled texts sampled from each training split.")] = 2000,
    seed: int = 13,
    journey_train: Annotated[
        Path | None,
        typer.Option(help="Journey train file (default: the repository's; the shipped map read the 1,762-text one)."),
    ] = None,
) -> None:
    """Fit the linear map topics apply to adapted vectors to recover the base encoder's (minutes on a CPU)."""
    from nlp.train.topic_space import JOURNEY_TRAIN, TOPIC_SPACE_FILE, train_topic_space

    logging.getLogger().setLevel(logging.INFO)
    summary = train_topic_space(model_dir, per_corpus, seed, journey=journey_train or JOURNEY_TRAIN)
    console.print_json(json.dumps(summary))
    console.print(f"topic space written to {model_dir / TOPIC_SPACE_FILE}; refit topic models on it")


@eval_app.command("multitask")
def eval_multitask(
    model_dir: ModelDirOption = None,
    write: Annotated[bool, typer.Option(help="Save the figures to MODEL_DIR/metrics.json.")] = False,
) -> None:
    """Test-split metrics of the sentiment and emotion heads (the model card's figures)."""
    from nlp.bundle import models_root
    from nlp.train.evaluate import evaluate

    folder = model_dir or models_root() / "voc-multitask"
    metrics = evaluate(folder)
    print_metrics(metrics, folder / "metrics.json")
    if write:
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


@train_app.command("journey")
def train_journey_command(
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("models/voc-journey"),
    data: Annotated[Path, typer.Option(help="Folder with train.jsonl and dev.jsonl.")] = Path("corpora/journey"),
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy YAML (default corpora/taxonomy).")] = None,
    c_grid: Annotated[
        str | None, typer.Option(help="Comma-separated C values the heads choose from (default 0.02,0.05,0.25,1).")
    ] = None,
    lexical_c_grid: Annotated[
        str | None, typer.Option(help="Comma-separated C values of the n-gram classifiers (default 8,32,64).")
    ] = None,
) -> None:
    """Fit the stage, touchpoint and value-dimension heads on the shared encoder (minutes on a CPU).

    Prints the dev figures of the same procedure run on the train file alone, and the
    cross-validated figures of the shipped heads (fitted on train + dev)."""
    from nlp.taxonomy import DEFAULT_TAXONOMY
    from nlp.train.journey import LEARNED_FAMILIES, Grids, train_journey

    grids = Grids(
        head=parse_grid(c_grid, "--c-grid") if c_grid else Grids.head,
        lexical=parse_grid(lexical_c_grid, "--lexical-c-grid") if lexical_c_grid else Grids.lexical,
    )
    config = train_journey(out, data, taxonomy or DEFAULT_TAXONOMY, grids=grids)
    table = Table(title=f"journey heads ({config['data']['train']} train + {config['data']['dev']} dev texts)")
    for column in ("family", "dev macro-F1 (train-only fit)", "dev rules-only", "5-fold CV macro-F1", "decisions"):
        table.add_column(column)
    for family in LEARNED_FAMILIES:
        check, modes = config["dev_check"][family], config["decision"][family]
        decisions = ", ".join(f"{modes.count(mode)} {mode}" for mode in sorted(set(modes)))
        cv = config["cv_macro_f1"][family]
        table.add_row(family, f"{check['macro_f1']}", f"{check['rules_only_macro_f1']}", f"{cv}", decisions)
    console.print(table)
    console.print(f"journey heads written to {out}")


@eval_app.command("journey")
def eval_journey(
    data: Annotated[Path, typer.Option(help="Folder with test.jsonl.")] = Path("corpora/journey"),
    write: Annotated[Path | None, typer.Option(help="Also save the figures as JSON here.")] = None,
) -> None:
    """Stage/touchpoint/value macro-F1 on the journey test file, rules-only baseline beside it,
    and the external checks (airline complaint reasons, BANKING77 intents mapped to stages)."""
    from nlp.train.journey import evaluate_journey

    report = evaluate_journey(_analyzer(), data)
    table = Table(title=f"journey test file ({report['n_test']} texts)")
    for column in ("family", "macro-F1", "95% interval (bootstrap)", "micro-F1", "rules-only macro-F1"):
        table.add_column(column)
    for family in ("stages", "touchpoints", "value_dimensions"):
        row = report[family]
        low, high = row["macro_f1_95ci"]
        interval = f"{low}-{high}"
        table.add_row(family, f"{row['macro_f1']}", interval, f"{row['micro_f1']}", f"{row['rules_only_macro_f1']}")
    Console().print(table)
    for family in ("stages", "touchpoints", "value_dimensions"):
        per_class = Table(title=f"{family}: per class")
        for column in ("label", "precision", "recall", "F1", "n"):
            per_class.add_column(column)
        for label, values in report[family]["per_class"].items():
            per_class.add_row(label, *(f"{values[k]}" for k in ("precision", "recall", "f1", "n")))
        Console().print(per_class)
    Console().print_json(json.dumps(report["external"]))
    if write:
        write.write_text(json.dumps(report, indent=2) + "\n")


@eval_app.command("aspects")
def eval_aspects(
    split: Annotated[str, typer.Option(help="MAMS split: test or val.")] = "test",
    write: Annotated[Path | None, typer.Option(help="Also save the figures as JSON here.")] = None,
) -> None:
    """Stage (aspect) sentiment accuracy on MAMS aspect categories, laptop review aspect terms and our
    journey check file, beside the document's sentiment and the majority class."""
    from nlp.train.aspects import evaluate_aspects

    report = evaluate_aspects(split)
    Console().print_json(json.dumps(report))
    if write:
        write.write_text(json.dumps(report, indent=2) + "\n")


def parse_grid(values: str, option: str) -> tuple[float, ...]:
    """'0.05,0.1' -> (0.05, 0.1); anything else is the user's typo, named by its option."""
    try:
        grid = tuple(float(value) for value in values.split(","))
    except ValueError:
        raise typer.BadParameter(f"{values!r} is not a comma-separated list of numbers", param_hint=option) from None
    if not all(value > 0 for value in grid):
        raise typer.BadParameter("C values must be positive", param_hint=option)
    return grid


def print_metrics(metrics: dict[str, dict[str, float]], card_file: Path) -> None:
    """Table of measured figures beside those recorded in the model card's metrics.json."""
    recorded = json.loads(card_file.read_text()) if card_file.exists() else {}
    table = Table(title="measured on test splits")
    for column in ("dataset", "metric", "measured", "model card"):
        table.add_column(column)
    for dataset, values in metrics.items():
        for metric, value in values.items():
            card_value = recorded.get(dataset, {}).get(metric, "")
            table.add_row(dataset, metric, f"{value}", f"{card_value}")
    Console().print(table)


if __name__ == "__main__":
    app()
