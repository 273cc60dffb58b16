"""The ``voc`` command line: analyse, tag exports, train and evaluate.

Heavy imports (torch, transformers) happen inside commands so ``voc --help`` stays instant.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="voc-lens: Voice-of-the-Customer text mining.")
train_app = typer.Typer(no_args_is_help=True, help="Train models from ../shared/corpora (or your own data).")
eval_app = typer.Typer(no_args_is_help=True, help="Measure models on test splits.")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")

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


@train_app.command("multitask")
def train_multitask(
    out: Annotated[Path, typer.Option(help="Run folder for the adapter and heads.")] = Path("runs/multitask"),
    semeval_rows: Annotated[int | None, typer.Option(help="Sample of semeval_tweets rows (default all).")] = None,
    goemotions_rows: Annotated[int | None, typer.Option(help="Sample of GoEmotions rows (default all).")] = None,
    sst2_rows: Annotated[int, typer.Option(help="Sample of SST-2 train phrases.")] = 8000,
    epochs: float = 1.0,
    lr: float = 5e-4,
    batch_size: int = 32,
    threads: Annotated[int | None, typer.Option(help="torch threads (default: all cores).")] = None,
    seed: int = 13,
) -> None:
    """Fine-tune the shared LoRA adapter with the sentiment and emotion heads."""
    from nlp.train.multitask import MultitaskConfig, train

    logging.getLogger().setLevel(logging.INFO)
    config = MultitaskConfig(
        out_dir=out,
        semeval_rows=semeval_rows,
        goemotions_rows=goemotions_rows,
        sst2_rows=sst2_rows,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        threads=threads,
        seed=seed,
    )
    console.print(f"trained run written to {train(config)}")


@train_app.command("calibrate")
def train_calibrate(
    run: Annotated[Path, typer.Argument(help="Run folder written by 'voc train multitask'.")],
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("models/voc-multitask"),
    version: str = "1.0.0",
) -> None:
    """Choose sentiment offsets and emotion thresholds on dev splits; write a loadable model folder."""
    from nlp.train.evaluate import calibrate

    console.print(f"model written to {calibrate(run, out, version=version)}")


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
