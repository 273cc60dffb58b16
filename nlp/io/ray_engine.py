"""``voc tag --engine ray``: the chunks of ``tag_file`` analysed on Ray Data, one analyzer per actor.

The driver reads the export with the same readers as the local engine and puts each chunk into
Ray's object store as one block (spilled to disk when larger than memory), so read problems
(undecodable bytes, broken quoting) are found exactly as locally. ``map_batches`` sends whole
blocks to a fixed pool of actors, each loading the analyzer once and running ``tag_rows`` on them;
the tagged blocks come back in input order and ``tag_file`` writes, checkpoints and merges them as
it does the local engine's. Same analysis per chunk, same writers: the same output, byte for byte.

Ray runs only on this machine: a local instance bound to 127.0.0.1, no dashboard, no usage stats.
Optionally the tagged rows are also written by Ray as Parquet or CSV shards, one file per block.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from nlp.io.formats import Chunk
from nlp.io.table import RowProblem, TableError
from nlp.io.tagging import BatchAnalyzer, TaggedChunk, TaggedRows, TagOptions, finish_chunk, tag_rows

if TYPE_CHECKING:
    import ray.data

# Carried beside the table's columns through Ray; dropped before anything is written.
CHUNK = "__voc_chunk"
ROW = "__voc_row"  # 1-based data row number, for the errors side file
CODE = "__voc_code"  # read problem on the way in, row error on the way out ("" for none)
MESSAGE = "__voc_message"
HIDDEN = [CHUNK, ROW, CODE, MESSAGE]
ShardFormat = Literal["parquet", "csv"]


def start_local_ray(cpus: int) -> bool:
    """Start a Ray instance on this machine only; False when this process already has one (it is used as is)."""
    import ray

    if ray.is_initialized():
        return False
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read by ray.init and the processes it starts: no report home
    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        log_to_driver=False,  # workers' logs stay in Ray's session folder; texts never reach the terminal
        logging_level="warning",
        _node_ip_address="127.0.0.1",
    )
    return True


@contextmanager
def _local_ray(cpus: int) -> Iterator[None]:
    import ray

    started = start_local_ray(cpus)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _problem_columns(problems: Sequence[RowProblem | None]) -> dict[str, list[str]]:
    return {
        CODE: [problem.code if problem else "" for problem in problems],
        MESSAGE: [problem.message if problem else "" for problem in problems],
    }


def _problems(frame: pd.DataFrame) -> list[RowProblem | None]:
    return [RowProblem(code, message) if code else None for code, message in zip(frame[CODE], frame[MESSAGE])]


def _visible(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=HIDDEN).reset_index(drop=True)


def chunk_block(chunk: Chunk) -> pd.DataFrame:
    """A chunk as one Ray block: its table plus its index, row numbers and read problems."""
    return chunk.frame.assign(**{CHUNK: chunk.index, ROW: list(chunk.row_numbers), **_problem_columns(chunk.problems)})


def block_chunk(block: pd.DataFrame) -> Chunk:
    rows = block.reset_index(drop=True)
    return Chunk(
        index=int(rows[CHUNK].iloc[0]), first_row=int(rows[ROW].iloc[0]), frame=_visible(rows), problems=_problems(rows)
    )


class ChunkTagger:
    """The ``map_batches`` actor: loads the analyzer once, then tags the chunks of every block it is sent."""

    def __init__(self, load_analyzer: Callable[[], BatchAnalyzer], options: TagOptions) -> None:
        self.analyzer = load_analyzer()
        self.options = options

    def __call__(self, block: pd.DataFrame) -> pd.DataFrame:
        # A block is one chunk; grouping keeps each chunk's analysis whole should Ray ever join blocks.
        tagged = [self._tag(rows) for _, rows in block.groupby(CHUNK, sort=False)]
        return pd.concat(tagged, ignore_index=True)

    def _tag(self, rows: pd.DataFrame) -> pd.DataFrame:
        chunk = block_chunk(rows)
        tagged = tag_rows(chunk, self.analyzer, self.options)
        hidden = {CHUNK: chunk.index, ROW: rows[ROW].tolist(), **_problem_columns(tagged.errors)}
        return tagged.frame.assign(**hidden)


def _finish(pieces: list[pd.DataFrame], options: TagOptions) -> tuple[int, TaggedChunk]:
    rows = pd.concat(pieces, ignore_index=True)
    tagged = TaggedRows(_visible(rows), _problems(rows))
    return int(rows[CHUNK].iloc[0]), finish_chunk(tagged, rows[ROW].tolist(), options)


def regroup(blocks: Iterable[pd.DataFrame], options: TagOptions) -> Iterator[tuple[int, TaggedChunk]]:
    """Tagged blocks, in input order, back into whole chunks (however Ray cut or joined the blocks)."""
    pieces: list[pd.DataFrame] = []
    for block in blocks:
        for _, rows in block.groupby(CHUNK, sort=False):
            if pieces and pieces[0][CHUNK].iloc[0] != rows[CHUNK].iloc[0]:
                yield _finish(pieces, options)
                pieces = []
            pieces.append(rows)
    if pieces:
        yield _finish(pieces, options)


@dataclass(frozen=True)
class RayEngine:
    """A ``TagEngine`` for ``tag_file``: ``workers`` actors, each with its own analyzer.

    ``cpus``: Ray's CPU count when this engine starts Ray (default: the machine's, at least
    ``workers`` + 1); a Ray already started in this process is used as it is.
    """

    workers: int = 2
    shards: Path | None = None
    shard_format: ShardFormat = "parquet"
    cpus: int | None = None

    def __post_init__(self) -> None:
        if importlib.util.find_spec("ray") is None:
            raise TableError("the Ray engine needs Ray: pip install 'voc-lens[ray]'")
        if self.workers < 1:
            raise TableError("the Ray engine needs at least one worker")
        if self.shard_format not in ("parquet", "csv"):
            raise TableError(f"shards are written as parquet or csv, not {self.shard_format!r}")
        if self.shards is not None and self.shards.exists() and any(self.shards.iterdir()):
            raise TableError(f"{self.shards} is not empty: shards go into a new or empty folder")

    def tag_chunks(
        self,
        chunks: Iterable[Chunk],
        analyzer: BatchAnalyzer,
        load_analyzer: Callable[[], BatchAnalyzer],
        options: TagOptions,
    ) -> Iterator[tuple[int, TaggedChunk]]:
        """Ray is started at the first chunk to tag (a resumed run with nothing left starts none)."""
        pending = iter(chunks)
        first = next(pending, None)
        if first is None:
            return
        # A slot beyond the actors' for Ray Data's own tasks (writing shards); Ray's CPUs are only a count.
        with _local_ray(self.cpus or max(self.workers + 1, os.cpu_count() or 1)):
            yield from self._run(itertools.chain([first], pending), load_analyzer, options)

    def _run(
        self, chunks: Iterator[Chunk], load_analyzer: Callable[[], BatchAnalyzer], options: TagOptions
    ) -> Iterator[tuple[int, TaggedChunk]]:
        import ray
        import ray.data

        context = ray.data.DataContext.get_current()
        saved = context.execution_options.preserve_order, context.enable_progress_bars
        context.execution_options.preserve_order = True  # blocks come back in input order
        context.enable_progress_bars = False  # voc's own progress bar counts the rows
        try:
            # One chunk in driver memory at a time: each goes to the object store as it is read.
            blocks = [ray.put(chunk_block(chunk)) for chunk in chunks]
            tagged = ray.data.from_pandas_refs(blocks).map_batches(
                ChunkTagger,
                fn_constructor_args=(load_analyzer, options),
                batch_size=None,  # whole blocks: one chunk per analyzer call, as in the local engine
                batch_format="pandas",
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                udf_modifying_row_count=False,
            )
            if self.shards is not None:
                tagged = tagged.materialize()  # tagged once, then both written as shards and returned
                self._write_shards(tagged)
            yield from regroup(tagged.iter_batches(batch_size=None, batch_format="pandas"), options)
        finally:
            context.execution_options.preserve_order, context.enable_progress_bars = saved

    def _write_shards(self, tagged: ray.data.Dataset) -> None:
        visible = tagged.drop_columns(HIDDEN)
        if self.shard_format == "parquet":
            visible.write_parquet(str(self.shards))
        else:
            visible.write_csv(str(self.shards))
