"""What every file format provides: a row reader and a part writer that merges into one file.

Rows are lists of strings: every column is read as text so nothing is reformatted on the way
through (ids keep leading zeros, dates keep their spelling). A row the parser could only partly
understand comes with a ``RowProblem`` and stays in its place in the output.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import pandas as pd

MALFORMED = "malformed_row"
UNDECODABLE = "undecodable"


class TableError(ValueError):
    """The file cannot be read or written as a table at all (not a per-row problem)."""


@dataclass(frozen=True)
class RowProblem:
    code: str
    message: str  # never contains the row's text

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


RawRow = tuple[list[str], RowProblem | None]


class TableReader(Protocol):
    columns: list[str]

    def rows(self) -> Iterator[RawRow]:
        """Data rows (header excluded), each exactly ``len(columns)`` fields long, streamed."""
        ...

    def row_count_hint(self) -> int | None:
        """Number of data rows, exact or estimated, for progress display only."""
        ...


class TableFormat(Protocol):
    name: str
    part_suffix: str

    def open(self, path: Path) -> TableReader: ...

    def write_part(self, frame: pd.DataFrame, path: Path) -> None:
        """Write one chunk of rows (no header) to a part file."""
        ...

    def merge(self, parts: Sequence[Path], columns: list[str], out: Path) -> None:
        """Write ``out`` from the part files, in order, with one header."""
        ...


def fit_width(fields: list[str], width: int, joiner: str) -> tuple[list[str], RowProblem | None]:
    """Exactly ``width`` fields: short rows padded with "", surplus fields joined into the last column."""
    if len(fields) == width:
        return fields, None
    problem = RowProblem(MALFORMED, f"row has {len(fields)} fields, expected {width}")
    if len(fields) < width:
        return fields + [""] * (width - len(fields)), problem
    return [*fields[: width - 1], joiner.join(fields[width - 1 :])], problem


def append_parts(parts: Sequence[Path], sink: BinaryIO) -> None:
    for part in parts:
        with part.open("rb") as source:
            shutil.copyfileobj(source, sink)
