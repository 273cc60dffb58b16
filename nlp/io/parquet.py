"""Parquet: read in record batches (``iter_batches``), written as all-string columns."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nlp.io.table import RawRow
from nlp.io.text import DECODE_ERRORS

READ_BATCH_ROWS = 1024


def column_text(array: pa.Array) -> list[str]:
    """Any Arrow column as text, nulls as ""; undecodable binary keeps its bytes as surrogates."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        values = array.to_pylist()
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        values = [None if v is None else v.decode("utf-8", DECODE_ERRORS) for v in array.to_pylist()]
    elif pa.types.is_nested(kind):
        values = [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in array.to_pylist()]
    else:
        try:
            values = pc.cast(array, pa.string()).to_pylist()
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            values = [None if v is None else str(v) for v in array.to_pylist()]
    return ["" if v is None else v for v in values]


def string_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([pa.field(column, pa.string()) for column in columns])


@dataclass
class ParquetReader:
    path: Path
    columns: list[str]

    @classmethod
    def open(cls, path: Path) -> ParquetReader:
        return cls(path, pq.ParquetFile(path).schema_arrow.names)

    def rows(self) -> Iterator[RawRow]:
        with pq.ParquetFile(self.path) as parquet:
            for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS):
                for fields in zip(*(column_text(column) for column in batch.columns)):
                    yield list(fields), None

    def row_count_hint(self) -> int | None:
        with pq.ParquetFile(self.path) as parquet:
            return parquet.metadata.num_rows


@dataclass(frozen=True)
class ParquetFormat:
    """One row group per part, so the merged file streams back chunk by chunk."""

    name: str = "parquet"
    part_suffix: str = "parquet"

    def open(self, path: Path) -> ParquetReader:
        return ParquetReader.open(path)

    def write_part(self, frame: pd.DataFrame, path: Path) -> None:
        columns = list(frame.columns)
        table = pa.Table.from_pydict({c: frame[c].tolist() for c in columns}, schema=string_schema(columns))
        pq.write_table(table, path)

    def merge(self, parts: Sequence[Path], columns: list[str], out: Path) -> None:
        schema = string_schema(columns)
        with pq.ParquetWriter(out, schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=schema))
