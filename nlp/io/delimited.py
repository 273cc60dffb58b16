"""CSV and TSV: sniffed delimiter, detected encoding, quoted newlines, malformed rows kept in place.

The stdlib ``csv`` reader runs in strict mode over a line iterator that remembers the lines of the
current record, so a record with broken quoting is reported with its position and re-read
leniently instead of aborting the file; records with the wrong number of fields are padded or
folded (see ``fit_width``) and flagged. (pandas' ``on_bad_lines`` callable cannot do this: it is
only called for rows with too many fields, without their position, and short rows are padded
with NaN silently.)
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from nlp.io.table import MALFORMED, RawRow, RowProblem, TableError, append_parts, fit_width
from nlp.io.text import DECODE_ERRORS, detect_encoding, read_sample

DELIMITERS = ",;\t|"
LINE_END = "\r\n"  # RFC 4180, and what Excel expects


class _RecordLines:
    """Iterates a file's lines and keeps those of the record being parsed, to re-read it leniently."""

    def __init__(self, handle: TextIO) -> None:
        self._lines = iter(handle)
        self.current: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line


def _records(handle: TextIO, delimiter: str) -> Iterator[tuple[list[str], RowProblem | None]]:
    """Every non-blank record of the file, header included; broken quoting becomes a problem."""
    lines = _RecordLines(handle)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        lines.current = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = RowProblem(MALFORMED, f"broken quoting ({exc}) in a record of {len(lines.current)} line(s)")
            yield _read_leniently(lines.current, delimiter), problem
            continue
        if fields:  # a blank line is not a record
            yield fields, None


def _read_leniently(lines: list[str], delimiter: str) -> list[str]:
    try:
        records = list(csv.reader(lines, delimiter=delimiter, strict=False))
    except csv.Error:  # e.g. a field over csv.field_size_limit(): nothing sensible to keep
        return []
    return [field for record in records for field in record]


def sniff_delimiter(sample: str, default: str) -> str:
    """The candidate that splits the header record into the most fields; ``default`` on a tie."""
    first_line = sample.splitlines()[0] if sample else ""
    counts = {candidate: len(next(csv.reader([first_line], delimiter=candidate), [])) for candidate in DELIMITERS}
    best = max(counts.values(), default=0)
    return default if counts.get(default) == best else max(counts, key=lambda candidate: counts[candidate])


@dataclass
class DelimitedReader:
    path: Path
    encoding: str
    delimiter: str
    columns: list[str]

    @classmethod
    def open(cls, path: Path, default_delimiter: str) -> DelimitedReader:
        sample = read_sample(path)
        encoding = detect_encoding(sample)
        # errors="replace": the sample may end inside a character; it only serves to find the delimiter.
        delimiter = sniff_delimiter(codecs.decode(sample, encoding, errors="replace"), default_delimiter)
        reader = cls(path, encoding, delimiter, [])
        with reader._handle() as handle:
            header = next(_records(handle, delimiter), None)
        if header is None:
            raise TableError(f"{path} has no header row")
        reader.columns = header[0]
        return reader

    def _handle(self) -> TextIO:
        return self.path.open(encoding=self.encoding, errors=DECODE_ERRORS, newline="")

    def rows(self) -> Iterator[RawRow]:
        with self._handle() as handle:
            records = _records(handle, self.delimiter)
            next(records, None)  # header
            for fields, problem in records:
                fitted, width_problem = fit_width(fields, len(self.columns), self.delimiter)
                yield fitted, problem or width_problem

    def row_count_hint(self) -> int | None:
        with self._handle() as handle:
            return max(0, sum(1 for _ in _records(handle, self.delimiter)) - 1)


@dataclass(frozen=True)
class DelimitedFormat:
    """CSV (``,``) or TSV (tab). Written as UTF-8 with a BOM so Excel shows accents correctly."""

    name: str
    delimiter: str

    @property
    def part_suffix(self) -> str:
        return self.name

    def open(self, path: Path) -> DelimitedReader:
        return DelimitedReader.open(path, self.delimiter)

    def write_part(self, frame: pd.DataFrame, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=self.delimiter, lineterminator=LINE_END).writerows(
                frame.itertuples(index=False, name=None)
            )

    def merge(self, parts: Sequence[Path], columns: list[str], out: Path) -> None:
        header = io.StringIO()
        csv.writer(header, delimiter=self.delimiter, lineterminator=LINE_END).writerow(columns)
        with out.open("wb") as sink:
            sink.write(header.getvalue().encode("utf-8-sig"))
            append_parts(parts, sink)
