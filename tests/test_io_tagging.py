"""tag_file with the model-free StubAnalyzer: output shape, error rows, chunking, checkpoints, resume."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from nlp.io.checkpoint import ResumeError, parts_folder
from nlp.io.formats import FORMATS, read_table
from nlp.io.stub import StubAnalyzer
from nlp.io.table import TableError
from nlp.io.tagging import ERROR_COLUMNS, FLAT_COLUMNS, TagOptions, tag_file
from nlp.schema import Result


class RecordingAnalyzer(StubAnalyzer):
    """The stub, remembering each batch it was given; optionally dies on batch number ``fail_on``."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__()
        self.batches: list[list[object]] = []
        self.fail_on = fail_on

    def analyze(
        self, texts: Sequence[object], ids: Sequence[str | None] | None = None, tasks: Iterable[str] | None = None
    ) -> list[Result]:
        if self.fail_on is not None and len(self.batches) == self.fail_on:
            raise RuntimeError("simulated crash")
        self.batches.append(list(texts))
        return super().analyze(texts, ids, tasks)


def write_input(path: Path, rows: int = 23) -> Path:
    lines = ["id,title,comment,when"]
    for number in range(1, rows + 1):
        comment = "" if number % 7 == 0 else f'"Row {number}: late, again\nsecond line ""quoted"""'
        lines.append(f"R{number:03d},Title {number},{comment},2024-03-{number % 28 + 1:02d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def options(tmp_path: Path, source: Path, name: str = "out.csv", **overrides: object) -> TagOptions:
    settings = {"text_cols": ("comment",), "id_col": "id", "chunk_size": 5} | overrides
    return TagOptions(input=source, output=tmp_path / name, **settings)


def test_output_keeps_every_column_and_row_and_adds_flat_columns(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    summary = tag_file(options(tmp_path, source), StubAnalyzer)
    table = read_table(tmp_path / "out.csv")
    assert list(table.columns) == ["id", "title", "comment", "when", *FLAT_COLUMNS]
    assert table["id"].tolist() == [f"R{n:03d}" for n in range(1, 24)]
    assert table["comment"].tolist() == read_table(source)["comment"].tolist()
    assert (summary.rows, summary.tagged, summary.errors["empty_text"]) == (23, 20, 3)
    assert not parts_folder(tmp_path / "out.csv").exists()
    for _, row in table[table["error"] == ""].iterrows():
        result = Result.model_validate_json(row["voc_result"])
        assert result.id == row["id"]
        assert row["sentiment"] == result.sentiment.label
        assert float(row["sentiment_score"]) == result.sentiment.score
        assert row["stages"] == ";".join(stage.id for stage in result.stages)
        assert row["signals"] == ";".join(signal.id for signal in result.signals)
        assert row["topic"] == result.topic.label


def test_text_columns_are_joined_and_chunks_analysed_in_order(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv", rows=12)
    analyzer = RecordingAnalyzer()
    tag_file(options(tmp_path, source, text_cols=("title", "comment")), lambda: analyzer)
    assert [len(batch) for batch in analyzer.batches] == [5, 5, 2]
    assert analyzer.batches[0][0] == 'Title 1\nRow 1: late, again\nsecond line "quoted"'
    assert analyzer.batches[1][1] == "Title 7\n"  # an empty column still takes its place


def test_error_rows_are_kept_in_place_and_listed_in_the_side_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(  # UTF-8 (the accents say so) with one stray byte
        "id,comment\nA,fine déjà vu\nB,   \n".encode()
        + b'C,broken \xff byte\nD,too,many\nE,\nF,"unclosed quote\nG,swallowed\n'
    )
    summary = tag_file(options(tmp_path, source), StubAnalyzer)
    table = read_table(tmp_path / "out.csv")
    assert table["id"].tolist() == ["A", "B", "C", "D", "E", "F"]
    codes = [error.split(":")[0] for error in table["error"]]
    assert codes == ["", "empty_text", "undecodable", "malformed_row", "empty_text", "malformed_row"]
    assert table.loc[2, "comment"] == "broken \ufffd byte"
    assert json.loads(table.loc[2, "voc_result"])["error"]["code"] == "undecodable"
    assert table.loc[3, "voc_result"] == ""  # not analysed: its fields are not where the header says
    errors = read_table(tmp_path / "out.csv.errors.csv")
    assert list(errors.columns) == ERROR_COLUMNS
    assert errors["row_number"].tolist() == ["2", "3", "4", "5", "6"]
    assert errors["id"].tolist() == ["B", "C", "D", "E", "F"]
    assert dict(summary.errors) == {"empty_text": 2, "undecodable": 1, "malformed_row": 2}
    side_file = (tmp_path / "out.csv.errors.csv").read_text()
    assert not any(word in side_file for word in ("déjà", "unclosed", "swallowed", "many"))  # no texts


def test_date_column_problems_are_counted(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,comment,when\n1,a,2024-01-02\n2,b,not a date\n3,c,\n")
    summary = tag_file(options(tmp_path, source, date_col="when"), StubAnalyzer)
    assert summary.unparseable_dates == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text_cols": ("nope",)}, "no column"),
        ({"id_col": "missing"}, "no column"),
        ({"chunk_size": 0}, "chunk size"),
        ({"text_cols": ()}, "text column"),
    ],
)
def test_bad_requests_are_refused_before_the_model_loads(tmp_path: Path, overrides: dict, message: str) -> None:
    source = write_input(tmp_path / "in.csv", rows=3)

    def must_not_load() -> StubAnalyzer:
        raise AssertionError("analyzer loaded for a request that was going to be refused")

    with pytest.raises(TableError, match=message):
        tag_file(options(tmp_path, source, **overrides), must_not_load)


def test_input_already_tagged_or_overwritten_is_refused(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv", rows=3)
    tag_file(options(tmp_path, source), StubAnalyzer)
    with pytest.raises(TableError, match="already has column"):
        tag_file(options(tmp_path, tmp_path / "out.csv", name="again.csv"), StubAnalyzer)
    with pytest.raises(TableError, match="overwrite the input"):
        tag_file(options(tmp_path, source, name="in.csv"), StubAnalyzer)


def crash_after(run: TagOptions, new_chunks: int) -> int:
    """Run until ``new_chunks`` chunks are tagged, then crash; the number of parts in the folder."""
    with pytest.raises(RuntimeError, match="simulated crash"):
        tag_file(run, lambda: RecordingAnalyzer(fail_on=new_chunks))
    return len(list(parts_folder(run.output).glob("part-*.errors.csv")))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_resume_after_a_crash_gives_the_same_bytes(tmp_path: Path, name: str) -> None:
    source = write_input(tmp_path / "in.csv")
    (tmp_path / "whole").mkdir()
    (tmp_path / "resumed").mkdir()
    whole = options(tmp_path / "whole", source, name=f"out.{name}")
    tag_file(whole, StubAnalyzer)
    resumed = options(tmp_path / "resumed", source, name=f"out.{name}")
    assert crash_after(resumed, new_chunks=2) == 2
    (parts_folder(resumed.output) / "part-000002.csv.tmp").write_text("half-written")  # a kill mid-write
    resumed_twice = TagOptions(**{**resumed.__dict__, "resume": True})
    assert crash_after(resumed_twice, new_chunks=1) == 3
    analyzer = RecordingAnalyzer()
    summary = tag_file(resumed_twice, lambda: analyzer)
    assert sum(len(batch) for batch in analyzer.batches) == 23 - 3 * 5  # only chunks not done before
    assert (summary.rows, summary.resumed_rows) == (23, 15)
    assert resumed.output.read_bytes() == whole.output.read_bytes()
    assert resumed.errors_output.read_bytes() == whole.errors_output.read_bytes()
    assert not parts_folder(resumed.output).exists()


def test_existing_parts_need_resume(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    run = options(tmp_path, source)
    crash_after(run, new_chunks=1)
    with pytest.raises(ResumeError, match="--resume"):
        tag_file(run, StubAnalyzer)


def test_resume_with_other_options_or_a_changed_input_is_refused(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    run = options(tmp_path, source, resume=True)
    crash_after(run, new_chunks=1)
    with pytest.raises(ResumeError, match="chunk_size: 5 -> 6"):
        tag_file(TagOptions(**{**run.__dict__, "chunk_size": 6}), StubAnalyzer)
    with pytest.raises(ResumeError, match="tasks"):
        tag_file(TagOptions(**{**run.__dict__, "tasks": ("sentiment",)}), StubAnalyzer)
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(ResumeError, match=r"input\.mtime_ns"):
        tag_file(run, StubAnalyzer)


def test_resume_without_an_interrupted_run_starts_from_the_beginning(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    summary = tag_file(options(tmp_path, source, resume=True), StubAnalyzer)
    assert (summary.rows, summary.resumed_rows) == (23, 0)


def test_a_recorded_part_whose_file_is_gone_is_redone(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    run = options(tmp_path, source, resume=True)
    crash_after(run, new_chunks=2)
    (parts_folder(run.output) / "part-000001.csv").unlink()
    analyzer = RecordingAnalyzer()
    tag_file(run, lambda: analyzer)
    assert sum(len(batch) for batch in analyzer.batches) == 23 - 5
    assert read_table(run.output)["id"].tolist() == [f"R{n:03d}" for n in range(1, 24)]


def test_a_folder_of_shards_tags_like_the_one_file(tmp_path: Path) -> None:
    whole = write_input(tmp_path / "whole.csv", rows=23)
    table = read_table(whole)
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "_SUCCESS").write_text("")  # a writer's marker file, not data
    for number, start in enumerate(range(0, 23, 10)):
        FORMATS["parquet"].write_part(table.iloc[start : start + 10], shards / f"part-{number:05d}.parquet")
    tag_file(options(tmp_path, whole, "from_file.csv"), StubAnalyzer)
    summary = tag_file(options(tmp_path, shards, "from_shards.csv"), StubAnalyzer)
    assert summary.rows == 23
    assert (tmp_path / "from_shards.csv").read_bytes() == (tmp_path / "from_file.csv").read_bytes()


def test_shards_must_share_one_format_and_the_same_columns(tmp_path: Path) -> None:
    table = read_table(write_input(tmp_path / "whole.csv", rows=4))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    FORMATS["csv"].write_part(table, mixed / "a.csv")
    FORMATS["parquet"].write_part(table, mixed / "b.parquet")
    with pytest.raises(TableError, match="one format"):
        tag_file(options(tmp_path, mixed), StubAnalyzer)
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    FORMATS["parquet"].write_part(table, renamed / "a.parquet")
    FORMATS["parquet"].write_part(table.rename(columns={"title": "heading"}), renamed / "b.parquet")
    with pytest.raises(TableError, match=r"shard b\.parquet has columns"):
        tag_file(options(tmp_path, renamed, "renamed.csv"), StubAnalyzer)
