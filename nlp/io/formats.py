"""Pick a format from a file name, read any table in chunks of N rows, write one from frames."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nlp.io.delimited import DelimitedFormat
from nlp.io.jsonl import JsonLinesFormat
from nlp.io.parquet import ParquetFormat
from nlp.io.table import UNDECODABLE, RawRow, RowProblem, TableError, TableFormat, TableReader
from nlp.io.text import has_undecodable, replace_undecodable
from nlp.io.xlsx import XlsxFormat

FORMATS: dict[str, TableFormat] = {
    "csv": DelimitedFormat("csv", ","),
    "tsv": DelimitedFormat("tsv", "\t"),
    "jsonl": JsonLinesFormat(),
    "parquet": ParquetFormat(),
    "xlsx": XlsxFormat(),
}
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
}


def shard_files(folder: Path) -> list[Path]:
    """A folder's data files in name order; markers and hidden files (``_SUCCESS``, ``.crc``) are skipped."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(("_", ".")))


def resolve_format(path: Path, name: str | None = None) -> TableFormat:
    """The named format, or the one the file's extension says (for a folder of shards: its files')."""
    if path.is_dir() and name is None:
        suffixes = {EXTENSIONS.get(shard.suffix.lower(), shard.suffix) for shard in shard_files(path)}
        if len(suffixes) != 1:
            raise TableError(f"{path} must hold shards of one format; found {sorted(suffixes) or 'no files'}")
        name = suffixes.pop()
    key = name or EXTENSIONS.get(path.suffix.lower())
    if key is None:
        raise TableError(f"cannot tell the format of {path.name} from its extension; name it ({', '.join(FORMATS)})")
    if key not in FORMATS:
        raise TableError(f"unknown format {key!r}; known: {', '.join(FORMATS)}")
    return FORMATS[key]


@dataclass
class Chunk:
    index: int  # 0-based chunk number
    first_row: int  # 1-based data row number of the chunk's first row
    frame: pd.DataFrame  # every column of str dtype
    problems: list[RowProblem | None]  # read problems, one per row

    @property
    def row_numbers(self) -> range:
        return range(self.first_row, self.first_row + len(self.frame))


class ShardedReader:
    """A folder of shards (Spark, Ray or Hive output: part-00000.parquet, ...) read as one table, in
    file-name order; every shard must have the first one's columns."""

    def __init__(self, shards: list[Path], table_format: TableFormat) -> None:
        if not shards:
            raise TableError("the folder holds no data files")
        self.shards, self.format = shards, table_format
        self.columns = _clean_columns(table_format.open(shards[0]).columns)

    def rows(self) -> Iterator[RawRow]:
        for shard in self.shards:
            reader = self.format.open(shard)
            if _clean_columns(reader.columns) != self.columns:
                raise TableError(f"shard {shard.name} has columns {reader.columns}, not {self.columns} like the first")
            yield from reader.rows()

    def row_count_hint(self) -> int | None:
        hints = [self.format.open(shard).row_count_hint() for shard in self.shards]
        return None if None in hints else sum(hints)


def _clean_columns(columns: list[str]) -> list[str]:
    return [replace_undecodable(column) for column in columns]


def open_table(path: Path, format_name: str | None = None) -> TableReader:
    """A reader whose columns are checked: named, unique, and valid text. ``path`` is a file or a
    folder of shards."""
    if path.is_dir():
        reader: TableReader = ShardedReader(shard_files(path), resolve_format(path, format_name))
    elif path.is_file():
        reader = resolve_format(path, format_name).open(path)
    else:
        raise TableError(f"{path} does not exist")
    reader.columns = _clean_columns(reader.columns)
    duplicated = sorted(name for name, count in Counter(reader.columns).items() if count > 1)
    if duplicated:
        raise TableError(f"{path.name} has duplicate column names: {duplicated}; rename them first")
    return reader


def _checked(row: RawRow, columns: list[str]) -> RawRow:
    """Undecodable bytes become U+FFFD and flag the row (unless it already has a problem)."""
    fields, problem = row
    damaged = [column for column, field in zip(columns, fields) if has_undecodable(field)]
    if not damaged:
        return fields, problem
    undecodable = RowProblem(UNDECODABLE, f"bytes not valid in the file's encoding in {damaged}; shown as U+FFFD")
    return [replace_undecodable(field) for field in fields], problem or undecodable


def chunks(reader: TableReader, chunk_size: int) -> Iterator[Chunk]:
    """The reader's rows as DataFrames of ``chunk_size`` rows; only one chunk is held at a time."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    rows: list[list[str]] = []
    problems: list[RowProblem | None] = []
    index = 0
    for row in reader.rows():
        fields, problem = _checked(row, reader.columns)
        rows.append(fields)
        problems.append(problem)
        if len(rows) == chunk_size:
            yield _chunk(index, rows, problems, reader.columns, chunk_size)
            rows, problems, index = [], [], index + 1
    if rows:
        yield _chunk(index, rows, problems, reader.columns, chunk_size)


def _chunk(
    index: int, rows: list[list[str]], problems: list[RowProblem | None], columns: list[str], chunk_size: int
) -> Chunk:
    frame = pd.DataFrame(rows, columns=columns, dtype=str)
    return Chunk(index=index, first_row=index * chunk_size + 1, frame=frame, problems=problems)


def read_chunks(path: Path, chunk_size: int, format_name: str | None = None) -> Iterator[Chunk]:
    return chunks(open_table(path, format_name), chunk_size)


def read_table(path: Path, format_name: str | None = None, chunk_size: int = 4096) -> pd.DataFrame:
    """The whole table in memory: for small files and tests; large files go through ``read_chunks``."""
    reader = open_table(path, format_name)
    frames = [chunk.frame for chunk in chunks(reader, chunk_size)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=reader.columns, dtype=str)


def write_table(frames: Iterable[pd.DataFrame], path: Path, format_name: str | None = None) -> None:
    """Write frames (same columns, str values) to one file, through the same parts and merge as tagging."""
    table_format = resolve_format(path, format_name)
    columns: list[str] | None = None
    with tempfile.TemporaryDirectory(prefix="parts-", dir=path.parent) as folder:
        parts = []
        for number, frame in enumerate(frames):
            columns = columns or list(frame.columns)
            parts.append(Path(folder) / f"{number:06d}.{table_format.part_suffix}")
            table_format.write_part(frame, parts[-1])
        if columns is None:
            raise TableError("write_table needs at least one frame (it gives the columns)")
        table_format.merge(parts, columns, path)
