"""JSON Lines: one object per line; the first object's keys are the columns."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from nlp.io.table import MALFORMED, RawRow, RowProblem, append_parts
from nlp.io.text import DECODE_ERRORS, detect_encoding, read_sample

Record = tuple[dict[str, object] | None, RowProblem | None]


def cell_text(value: object) -> str:
    """A JSON value as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _records(handle: TextIO) -> Iterator[Record]:
    for line in handle:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield None, RowProblem(MALFORMED, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if isinstance(value, dict):
            yield value, None
        else:
            yield None, RowProblem(MALFORMED, f"a JSON {type(value).__name__} where an object was expected")


def _fit_keys(record: dict[str, object], columns: list[str]) -> RawRow:
    fields = [cell_text(record.get(column)) for column in columns]
    missing = [column for column in columns if column not in record]
    extra = [key for key in record if key not in columns]
    if not missing and not extra:
        return fields, None
    return fields, RowProblem(MALFORMED, f"keys differ from the first record (missing: {missing}, extra: {extra})")


@dataclass
class JsonLinesReader:
    path: Path
    encoding: str
    columns: list[str]

    @classmethod
    def open(cls, path: Path) -> JsonLinesReader:
        reader = cls(path, detect_encoding(read_sample(path)), [])
        with reader._handle() as handle:
            first = next((record for record, _ in _records(handle) if record is not None), {})
        reader.columns = list(first)  # none in a file without objects: an empty table
        return reader

    def _handle(self) -> TextIO:
        # Only "\n" ends a record: JSON escapes every newline inside strings.
        return self.path.open(encoding=self.encoding, errors=DECODE_ERRORS, newline="\n")

    def rows(self) -> Iterator[RawRow]:
        empty = [""] * len(self.columns)
        with self._handle() as handle:
            for record, problem in _records(handle):
                yield (list(empty), problem) if record is None else _fit_keys(record, self.columns)

    def row_count_hint(self) -> int | None:
        with self._handle() as handle:
            return sum(1 for line in handle if line.strip())


def write_lines(lines: Iterator[str], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(lines)


@dataclass(frozen=True)
class JsonLinesFormat:
    name: str = "jsonl"
    part_suffix: str = "jsonl"

    def open(self, path: Path) -> JsonLinesReader:
        return JsonLinesReader.open(path)

    def write_part(self, frame: pd.DataFrame, path: Path) -> None:
        columns = list(frame.columns)
        write_lines(
            (
                json.dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n"
                for row in frame.itertuples(index=False, name=None)
            ),
            path,
        )

    def merge(self, parts: Sequence[Path], columns: list[str], out: Path) -> None:
        with out.open("wb") as sink:
            append_parts(parts, sink)
