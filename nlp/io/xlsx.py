"""XLSX: streamed with openpyxl (read-only in, write-only out), first sheet, first row is the header.

Text is escaped the OOXML way (``_xHHHH_``) for characters XML cannot hold (control characters,
and carriage returns, which XML parsers turn into newlines), so every string round-trips; Excel
reads the same escapes. Every value is written as a string cell, so text starting with "=" is
never turned into a formula. Parts are JSON arrays of strings, merged into one workbook at the end.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter

from nlp.io.jsonl import write_lines
from nlp.io.table import MALFORMED, RawRow, RowProblem, TableError

log = logging.getLogger(__name__)

EXCEL_CELL_LIMIT = 32_767
# Characters XML 1.0 cannot carry (plus \r, which it normalises to \n), escaped as _xHHHH_.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")
# A literal "_xHHHH" in the text gets its "_" escaped, so reading cannot mistake it for an escape.
_LITERAL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4})")
_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
# Zip entries and document properties get this fixed time, so the same rows give the same bytes.
FIXED_TIME = datetime.datetime(1980, 1, 1)


def escape(value: str) -> str:
    value = _LITERAL_ESCAPE.sub("_x005F_", value)
    return _NOT_XML.sub(lambda match: f"_x{ord(match.group()):04X}_", value)


def unescape(value: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value) if "_x" in value else value


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _row_text(values: tuple[object, ...], width: int) -> RawRow:
    fields = [cell_text(value) for value in values]
    surplus = [field for field in fields[width:] if field]
    fields = fields[:width] + [""] * (width - len(fields))  # Excel leaves out trailing empty cells
    if surplus:
        return fields, RowProblem(MALFORMED, f"{len(surplus)} non-empty cell(s) beyond the {width} header columns")
    return fields, None


@dataclass
class XlsxReader:
    path: Path
    columns: list[str]

    @classmethod
    def open(cls, path: Path) -> XlsxReader:
        reader = cls(path, [])
        header = next(reader._values(), None)
        if header is None:
            raise TableError(f"{path} has no header row in its first sheet")
        names = [cell_text(value) for value in header]
        while names and not names[-1]:  # formatted but empty columns
            names.pop()
        reader.columns = names
        return reader

    def _values(self) -> Iterator[tuple[object, ...]]:
        """Non-empty rows of the first sheet, header first."""
        workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                if any(value is not None and value != "" for value in values):
                    yield values
        finally:
            workbook.close()

    def rows(self) -> Iterator[RawRow]:
        values = self._values()
        next(values, None)
        for row in values:
            yield _row_text(row, len(self.columns))

    def row_count_hint(self) -> int | None:
        workbook = openpyxl.load_workbook(self.path, read_only=True)
        try:
            max_row = workbook.worksheets[0].max_row
        finally:
            workbook.close()
        return None if max_row is None else max(0, max_row - 1)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry ``FIXED_TIME`` instead of the time of writing."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: str | bytes,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: str,
        arcname: str | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        with open(filename, "rb") as source, self.open(self._entry(arcname or filename), "w") as sink:
            shutil.copyfileobj(source, sink)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo(str(name), date_time=FIXED_TIME.timetuple()[:6])
        entry.compress_type = self.compression
        return entry


def _string_cell(sheet: object, value: str) -> WriteOnlyCell | None:
    if not value:
        return None
    text = escape(value)
    if len(text) > EXCEL_CELL_LIMIT:
        log.warning("a cell of %d characters was cut to Excel's limit of %d", len(text), EXCEL_CELL_LIMIT)
        text = text[:EXCEL_CELL_LIMIT]
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"  # never a formula or a number, whatever the text looks like
    return cell


@dataclass(frozen=True)
class XlsxFormat:
    name: str = "xlsx"
    part_suffix: str = "rows.jsonl"

    def open(self, path: Path) -> XlsxReader:
        return XlsxReader.open(path)

    def write_part(self, frame: pd.DataFrame, path: Path) -> None:
        rows = frame.itertuples(index=False, name=None)
        write_lines((json.dumps(list(row), ensure_ascii=False) + "\n" for row in rows), path)

    def merge(self, parts: Sequence[Path], columns: list[str], out: Path) -> None:
        workbook = openpyxl.Workbook(write_only=True)
        workbook.properties.created = workbook.properties.modified = FIXED_TIME
        sheet = workbook.create_sheet("tagged")
        sheet.append([_string_cell(sheet, column) for column in columns])
        for part in parts:
            with part.open(encoding="utf-8") as lines:
                for line in lines:
                    sheet.append([_string_cell(sheet, value) for value in json.loads(line)])
        # ExcelWriter directly, not workbook.save(): save() stamps the current time into the file.
        ExcelWriter(workbook, _FixedTimeZip(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
