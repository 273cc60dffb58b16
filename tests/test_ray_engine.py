"""``--engine ray`` on a local Ray with 2 workers (stub analyzer): the local engine's output, byte for byte."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]'); the Ray engine is optional")

from nlp.cli import app
from nlp.io.checkpoint import parts_folder
from nlp.io.formats import read_chunks, read_table
from nlp.io.ray_engine import ChunkTagger, RayEngine, chunk_block, regroup, start_local_ray
from nlp.io.stub import StubAnalyzer
from nlp.io.tagging import TagOptions, TagSummary, tag_chunk, tag_file
from nlp.schema import Result

WORKERS = 2
CHUNK_SIZE = 4
ROWS = 30


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray for the whole module: starting one takes seconds, each engine run reuses it."""
    import ray

    started = start_local_ray(cpus=WORKERS + 1)  # as RayEngine would: a slot for shard writing
    yield
    if started:
        ray.shutdown()


def write_export(path: Path) -> Path:
    """Good rows between empty, blank, undecodable and malformed ones, and some dates that are not dates."""
    lines = [b"id,channel,comment,when"]
    for number in range(1, ROWS + 1):
        comment = f'"Row {number}: parcel late, déjà vu.\nSecond ""line"""'.encode()  # UTF-8, says the é
        if number % 9 == 0:
            comment = b""
        elif number % 11 == 0:
            comment = b"   "
        elif number == 13:
            comment = b"broken \xff byte"
        elif number == 17:
            comment = b"too,many,fields"
        when = b"soon" if number % 5 == 0 else f"2024-03-{number % 28 + 1:02d}".encode()
        lines.append(b"R%03d,%s,%s,%s" % (number, b"app" if number % 2 else b"email", comment, when))
    lines.append(b'R999,app,"unclosed quote,2024-01-01')
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def options(source: Path, output: Path, **overrides: object) -> TagOptions:
    settings = {"text_cols": ("comment",), "id_col": "id", "date_col": "when", "chunk_size": CHUNK_SIZE} | overrides
    return TagOptions(input=source, output=output, **settings)


def counts(summary: TagSummary) -> tuple[int, int, dict[str, int], int | None]:
    return summary.rows, summary.tagged, dict(summary.errors), summary.unparseable_dates


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(tmp_path_factory.mktemp("export") / "export.csv")


@pytest.mark.usefixtures("local_ray")
def test_ray_output_is_the_local_output_byte_for_byte(export: Path, tmp_path: Path) -> None:
    local = tag_file(options(export, tmp_path / "local.csv"), StubAnalyzer)
    on_ray = tag_file(options(export, tmp_path / "ray.csv"), StubAnalyzer, engine=RayEngine(workers=WORKERS))

    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert (tmp_path / "ray.csv.errors.csv").read_bytes() == (tmp_path / "local.csv.errors.csv").read_bytes()
    assert counts(on_ray) == counts(local)
    assert dict(on_ray.errors) == {"empty_text": 5, "undecodable": 1, "malformed_row": 2}  # bad rows kept, flagged
    assert on_ray.unparseable_dates == 8
    assert not parts_folder(tmp_path / "ray.csv").exists()


@pytest.mark.usefixtures("local_ray")
def test_parquet_output_and_csv_shards(export: Path, tmp_path: Path) -> None:
    tag_file(options(export, tmp_path / "local.parquet"), StubAnalyzer)
    engine = RayEngine(workers=WORKERS, shards=tmp_path / "shards", shard_format="csv")
    tag_file(options(export, tmp_path / "ray.parquet"), StubAnalyzer, engine=engine)

    assert (tmp_path / "ray.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()
    shard_files = sorted((tmp_path / "shards").glob("*.csv"))
    assert len(shard_files) > 1
    shards = pd.concat([pd.read_csv(path, dtype=str, keep_default_na=False) for path in shard_files], ignore_index=True)
    output = read_table(tmp_path / "ray.parquet")
    assert list(shards.columns) == list(output.columns)
    pd.testing.assert_frame_equal(
        shards.sort_values("id").reset_index(drop=True), output.sort_values("id").reset_index(drop=True)
    )


class CrashingStub(StubAnalyzer):
    """Dies on its ``crash_on``-th batch: an interrupted local run for Ray to finish."""

    def __init__(self, crash_on: int) -> None:
        super().__init__()
        self.batches_left = crash_on

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]:
        if self.batches_left == 0:
            raise RuntimeError("simulated crash")
        self.batches_left -= 1
        return super().analyze(texts, ids, tasks)


@pytest.mark.usefixtures("local_ray")
def test_ray_resumes_an_interrupted_local_run(export: Path, tmp_path: Path) -> None:
    whole = options(export, tmp_path / "whole.jsonl")
    tag_file(whole, StubAnalyzer)
    interrupted = options(export, tmp_path / "resumed.jsonl", resume=True)
    with pytest.raises(RuntimeError, match="simulated crash"):
        tag_file(interrupted, lambda: CrashingStub(crash_on=3))

    summary = tag_file(interrupted, StubAnalyzer, engine=RayEngine(workers=WORKERS))
    assert summary.resumed_rows == 3 * CHUNK_SIZE
    assert interrupted.output.read_bytes() == whole.output.read_bytes()
    assert interrupted.errors_output.read_bytes() == whole.errors_output.read_bytes()


def test_regroup_rebuilds_chunks_however_blocks_are_cut_or_joined(export: Path) -> None:
    """No Ray here: the actor class called directly on blocks cut and joined across chunk boundaries."""
    run = options(export, export.with_name("unused.csv"))
    chunks = list(read_chunks(export, CHUNK_SIZE))
    expected = [(chunk.index, tag_chunk(chunk, StubAnalyzer(), run)) for chunk in chunks]
    rows = pd.concat([chunk_block(chunk) for chunk in chunks], ignore_index=True)
    cuts = [0, 3, 4, 11, 12, 13, 25, len(rows)]  # pieces inside chunks, across them, and whole ones
    tagger = ChunkTagger(StubAnalyzer, run)
    tagged_blocks = [tagger(rows.iloc[start:end]) for start, end in pairwise(cuts)]

    regrouped = list(regroup(tagged_blocks, run))
    assert [index for index, _ in regrouped] == [index for index, _ in expected]
    for (_, got), (_, want) in zip(regrouped, expected):
        pd.testing.assert_frame_equal(got.frame, want.frame)
        pd.testing.assert_frame_equal(got.errors, want.errors)
        assert got.stats == want.stats


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shards", "shards"], "add --engine ray"),
        (["--engine", "ray", "--shards", "shards", "--resume"], "not with --resume"),
    ],
)
def test_shards_need_a_whole_ray_run(export: Path, tmp_path: Path, extra: list[str], message: str) -> None:
    command = ["tag", str(export), "-o", str(tmp_path / "out.csv"), "--text-col", "comment", *extra]
    outcome = CliRunner().invoke(app, command)
    assert outcome.exit_code == 2
    assert message in " ".join(outcome.output.replace("│", " ").split())  # the message as rich boxes and wraps it
