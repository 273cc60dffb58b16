"""Tag a whole export: stream chunks through the analyzer into crash-safe parts, then merge.

The output keeps every input column and row, in order, and adds flat columns an analyst can filter
on in a spreadsheet plus ``voc_result``, the full ``Result`` as JSON. A run killed at any point is
continued with ``resume=True`` and gives the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from nlp.io.checkpoint import Checkpoint, PartStats, atomic_write, input_fingerprint, parts_folder, refuse_fresh_start
from nlp.io.dates import parse_dates
from nlp.io.formats import FORMATS, Chunk, chunks, open_table, resolve_format
from nlp.io.table import UNDECODABLE, RowProblem, TableError, TableReader
from nlp.schema import ItemError, Result, TaggedLabel

JOIN = ";"
TEXT_JOIN = "\n"
FLAT_COLUMNS = [
    "sentiment",
    "sentiment_score",
    "emotions",
    "stages",
    "touchpoints",
    "value_dimensions",
    "topic",
    "signals",
    "error",
    "voc_result",
]
ERROR_COLUMNS = ["row_number", "id", "error_code", "message"]
ERRORS_FORMAT = FORMATS["csv"]


class BatchAnalyzer(Protocol):
    """What tagging needs from ``nlp.analyzer.Analyzer`` (tests and benchmarks pass stand-ins)."""

    config: Any  # a pydantic model: every setting that changes results

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]: ...

    def versions(self) -> dict[str, str]: ...


class TagProgress(Protocol):
    def start(self, total_rows: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class TagOptions:
    input: Path
    output: Path
    text_cols: tuple[str, ...]
    id_col: str | None = None
    date_col: str | None = None
    chunk_size: int = 256
    resume: bool = False
    in_format: str | None = None
    out_format: str | None = None
    tasks: tuple[str, ...] | None = None

    @property
    def errors_output(self) -> Path:
        return self.output.with_name(self.output.name + ".errors.csv")


@dataclass
class TagSummary:
    rows: int
    tagged: int
    errors: Counter[str]
    seconds: float
    rows_this_run: int
    resumed_rows: int  # rows done by the interrupted run(s) this one continued
    unparseable_dates: int | None  # None without a date column

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.seconds if self.seconds > 0 else 0.0


@dataclass
class TaggedChunk:
    frame: pd.DataFrame  # input columns + FLAT_COLUMNS
    errors: pd.DataFrame  # ERROR_COLUMNS
    stats: PartStats


def _labels(tags: list[TaggedLabel]) -> str:
    return JOIN.join(tag.id for tag in tags)


def _row_error(result: Result | None, problem: RowProblem | None) -> RowProblem | None:
    if problem is not None or result is None or result.error is None:
        return problem
    return RowProblem(result.error.code, result.error.message)


def flat_values(result: Result | None, problem: RowProblem | None) -> list[str]:
    """The FLAT_COLUMNS of one row; ``result`` is None for rows that could not be read properly."""
    error = _row_error(result, problem)
    error_text = str(error) if error else ""
    if result is None:
        return [""] * (len(FLAT_COLUMNS) - 2) + [error_text, ""]
    sentiment = result.sentiment
    return [
        sentiment.label if sentiment else "",
        str(sentiment.score) if sentiment else "",
        JOIN.join(emotion.label for emotion in result.emotions),
        _labels(result.stages),
        _labels(result.touchpoints),
        _labels(result.value_dimensions),
        result.topic.label if result.topic else "",
        _labels(result.signals),
        error_text,
        result.model_dump_json(exclude_none=True),
    ]


def _analyse(chunk: Chunk, analyzer: BatchAnalyzer, options: TagOptions) -> list[Result | None]:
    """One Result per readable row; undecodable rows get their error Result, malformed rows None."""
    frame = chunk.frame
    texts = [TEXT_JOIN.join(values) for values in zip(*(frame[column] for column in options.text_cols))]
    ids = [value or None for value in frame[options.id_col]] if options.id_col else [None] * len(frame)
    readable = [row for row, problem in enumerate(chunk.problems) if problem is None]
    analysed = analyzer.analyze(
        [texts[row] for row in readable], ids=[ids[row] for row in readable], tasks=options.tasks
    )
    results: list[Result | None] = [None] * len(frame)
    for row, result in zip(readable, analysed):
        results[row] = result
    for row, problem in enumerate(chunk.problems):
        if problem is not None and problem.code == UNDECODABLE:
            results[row] = Result(id=ids[row], error=ItemError(code=UNDECODABLE, message=problem.message))
    return results


@dataclass
class TaggedRows:
    frame: pd.DataFrame  # input columns + FLAT_COLUMNS
    errors: list[RowProblem | None]  # one per row: why it was not tagged, None where it was


def tag_rows(chunk: Chunk, analyzer: BatchAnalyzer, options: TagOptions) -> TaggedRows:
    """The analysis of one chunk; the part every engine runs where its analyzer lives."""
    results = _analyse(chunk, analyzer, options)
    flat = [flat_values(result, problem) for result, problem in zip(results, chunk.problems)]
    frame = pd.concat([chunk.frame, pd.DataFrame(flat, columns=FLAT_COLUMNS, dtype=str)], axis=1)
    return TaggedRows(frame, [_row_error(result, problem) for result, problem in zip(results, chunk.problems)])


def finish_chunk(rows: TaggedRows, row_numbers: Sequence[int], options: TagOptions) -> TaggedChunk:
    """The errors side file rows and the counts of one tagged chunk."""
    ids = rows.frame[options.id_col].tolist() if options.id_col else [""] * len(rows.frame)
    error_rows = [
        [str(row_number), row_id, error.code, error.message]
        for row_number, row_id, error in zip(row_numbers, ids, rows.errors)
        if error is not None
    ]
    stats = PartStats(
        rows=len(rows.frame),
        tagged=len(rows.frame) - len(error_rows),
        errors=dict(Counter(row[2] for row in error_rows)),
        unparseable_dates=int(parse_dates(rows.frame[options.date_col]).isna().sum()) if options.date_col else 0,
    )
    return TaggedChunk(rows.frame, pd.DataFrame(error_rows, columns=ERROR_COLUMNS, dtype=str), stats)


def tag_chunk(chunk: Chunk, analyzer: BatchAnalyzer, options: TagOptions) -> TaggedChunk:
    return finish_chunk(tag_rows(chunk, analyzer, options), chunk.row_numbers, options)


class TagEngine(Protocol):
    """Runs ``tag_rows`` over chunks, here or elsewhere; yields (chunk index, TaggedChunk) in the chunks' order.

    It must read ``chunks`` to the end (``tag_file`` counts them as they are read).
    """

    def tag_chunks(
        self,
        chunks: Iterable[Chunk],
        analyzer: BatchAnalyzer,
        load_analyzer: Callable[[], BatchAnalyzer],
        options: TagOptions,
    ) -> Iterator[tuple[int, TaggedChunk]]: ...


class LocalEngine:
    """Chunk after chunk in this process, with the analyzer ``tag_file`` loaded."""

    def tag_chunks(
        self,
        chunks: Iterable[Chunk],
        analyzer: BatchAnalyzer,
        load_analyzer: Callable[[], BatchAnalyzer],
        options: TagOptions,
    ) -> Iterator[tuple[int, TaggedChunk]]:
        for chunk in chunks:
            yield chunk.index, tag_chunk(chunk, analyzer, options)


def _check_columns(reader: TableReader, options: TagOptions) -> None:
    named = [*options.text_cols, *(c for c in (options.id_col, options.date_col) if c)]
    missing = [column for column in named if column not in reader.columns]
    if missing:
        raise TableError(f"{options.input.name} has no column(s) {missing}; its columns are {reader.columns}")
    clashing = [column for column in FLAT_COLUMNS if column in reader.columns]
    if clashing:
        raise TableError(
            f"{options.input.name} already has column(s) {clashing} that tagging adds (an already tagged file?); "
            "rename or drop them first"
        )


def _check_request(options: TagOptions) -> None:
    if not options.text_cols:
        raise TableError("name at least one text column")
    if options.chunk_size < 1:
        raise TableError("the chunk size must be at least 1")
    if options.input.resolve() in {options.output.resolve(), options.errors_output.resolve()}:
        raise TableError("the output must not overwrite the input")


def _identity(options: TagOptions, in_format: str, out_format: str, analyzer: BatchAnalyzer) -> dict[str, Any]:
    """What makes two runs the same run: a resume must match it exactly."""
    return {
        "input": input_fingerprint(options.input),
        "options": {
            "text_cols": list(options.text_cols),
            "id_col": options.id_col,
            "date_col": options.date_col,
            "chunk_size": options.chunk_size,
            "in_format": in_format,
            "out_format": out_format,
            "tasks": sorted(options.tasks) if options.tasks is not None else None,
            "analyzer": {"versions": analyzer.versions(), "config": analyzer.config.model_dump(mode="json")},
        },
    }


def _write_chunk(checkpoint: Checkpoint, index: int, tagged: TaggedChunk, out_format_name: str) -> None:
    out_format = FORMATS[out_format_name]
    atomic_write(checkpoint.part_path(index), lambda tmp: out_format.write_part(tagged.frame, tmp))
    atomic_write(checkpoint.errors_path(index), lambda tmp: ERRORS_FORMAT.write_part(tagged.errors, tmp))
    checkpoint.record(index, tagged.stats)


def _merge(checkpoint: Checkpoint, chunk_count: int, columns: list[str], options: TagOptions, out_format: str) -> None:
    """Parts into the output and the errors side file (each replaced atomically), then drop the parts."""
    indices = range(chunk_count)
    atomic_write(
        options.output,
        lambda tmp: FORMATS[out_format].merge([checkpoint.part_path(i) for i in indices], columns, tmp),
    )
    atomic_write(
        options.errors_output,
        lambda tmp: ERRORS_FORMAT.merge([checkpoint.errors_path(i) for i in indices], ERROR_COLUMNS, tmp),
    )
    checkpoint.remove()


def _pending_chunks(reader: TableReader, chunk_size: int, done: set[int], seen: list[int]) -> Iterator[Chunk]:
    """The chunks not done by an interrupted run; ``seen`` collects the index of every chunk read."""
    for chunk in chunks(reader, chunk_size):
        seen.append(chunk.index)
        if chunk.index not in done:
            yield chunk


def tag_file(
    options: TagOptions,
    load_analyzer: Callable[[], BatchAnalyzer],
    progress: TagProgress | None = None,
    engine: TagEngine | None = None,
) -> TagSummary:
    """Tag ``options.input`` into ``options.output``; the analyzer is loaded only once the request checks out.

    ``engine`` runs the analysis (default: ``LocalEngine``, in this process). Whatever the engine, the
    analyzer is loaded here too: that is what checks the request and names the run for ``--resume``.
    """
    started = time.perf_counter()
    _check_request(options)
    in_format = resolve_format(options.input, options.in_format).name
    out_format = resolve_format(options.output, options.out_format).name
    reader = open_table(options.input, in_format)
    _check_columns(reader, options)
    refuse_fresh_start(options.output, options.resume)
    analyzer = load_analyzer()
    checkpoint = Checkpoint.open(
        parts_folder(options.output),
        _identity(options, in_format, out_format, analyzer),
        FORMATS[out_format].part_suffix,
    )
    resumed_rows = sum(stats.rows for stats in checkpoint.completed.values())
    if progress is not None:
        hint = reader.row_count_hint()
        progress.start(None if hint is None else max(0, hint - resumed_rows))
    seen: list[int] = []
    pending = _pending_chunks(reader, options.chunk_size, set(checkpoint.completed), seen)
    for index, tagged in (engine or LocalEngine()).tag_chunks(pending, analyzer, load_analyzer, options):
        _write_chunk(checkpoint, index, tagged, out_format)
        if progress is not None:
            progress.advance(tagged.stats.rows)
    chunk_count = len(seen)
    columns = [*reader.columns, *FLAT_COLUMNS]
    stats = [checkpoint.completed[index] for index in range(chunk_count)]
    _merge(checkpoint, chunk_count, columns, options, out_format)
    rows = sum(s.rows for s in stats)
    return TagSummary(
        rows=rows,
        tagged=sum(s.tagged for s in stats),
        errors=sum((Counter(s.errors) for s in stats), Counter()),
        seconds=time.perf_counter() - started,
        rows_this_run=rows - resumed_rows,
        resumed_rows=resumed_rows,
        unparseable_dates=sum(s.unparseable_dates for s in stats) if options.date_col else None,
    )
