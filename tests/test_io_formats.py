"""Readers and writers of nlp.io: round-trips, encodings, undecodable bytes, malformed rows, chunking."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.io.delimited import sniff_delimiter
from nlp.io.formats import FORMATS, chunks, open_table, read_chunks, read_table, resolve_format, write_table
from nlp.io.table import MALFORMED, UNDECODABLE, TableError
from nlp.io.text import detect_encoding
from nlp.io.xlsx import escape, unescape

COLUMNS = ["id", "text", "note"]
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)  # no lone surrogates
tricky_text = st.one_of(any_text, st.sampled_from(["a,b", 'say "hi"', "two\nlines", "cr\r\nlf", "\r", " ", "_x000D_"]))
rows_strategy = st.lists(st.lists(tricky_text, min_size=3, max_size=3), max_size=6)


def frame(rows: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS, dtype=str)


def write_csv_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, split=st.integers(min_value=0, max_value=6))
def test_every_format_round_trips_arbitrary_text(tmp_path: Path, name: str, rows: list[list[str]], split: int) -> None:
    if name == "xlsx":  # a spreadsheet row with no value at all is not a row (as a blank CSV line is not)
        rows = [row for row in rows if any(row)]
    path = tmp_path / f"table.{name}"
    write_table([frame(rows[:split]), frame(rows[split:])], path)
    table = read_table(path)
    assert table.values.tolist() == rows
    if rows or name != "jsonl":  # JSONL has no header: its columns come from the first record
        assert list(table.columns) == COLUMNS


@given(any_text)
def test_xlsx_escape_round_trips(value: str) -> None:
    assert unescape(escape(value)) == value


def test_format_comes_from_extension_and_can_be_overridden(tmp_path: Path) -> None:
    assert resolve_format(Path("x.TSV")).name == "tsv"
    assert resolve_format(Path("x.txt"), "csv").name == "csv"
    with pytest.raises(TableError, match="extension"):
        resolve_format(Path("x.txt"))


def test_csv_reads_in_chunks_of_strings_with_empty_kept_empty(tmp_path: Path) -> None:
    path = write_csv_bytes(tmp_path / "in.csv", b"id,text,nps\n1,hello,\n2,NA,10\n3,null,7\n4,,\n5,x,1\n")
    got = list(read_chunks(path, chunk_size=2))
    assert [len(chunk.frame) for chunk in got] == [2, 2, 1]
    assert [chunk.first_row for chunk in got] == [1, 3, 5]
    assert all(str(dtype) == "str" for dtype in got[0].frame.dtypes)
    texts = [value for chunk in got for value in chunk.frame["text"]]
    assert texts == ["hello", "NA", "null", "", "x"]  # no NA guessing: empty stays ""


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [("a;b;c\n1;2;3", ";"), ("a\tb\n1\t2", "\t"), ("a,b\n1,2", ","), ("a|b|c\n", "|"), ("single\nx", ",")],
)
def test_delimiter_is_sniffed_from_the_header(data: str, delimiter: str) -> None:
    assert sniff_delimiter(data, ",") == delimiter


def test_semicolon_file_with_quoted_newlines(tmp_path: Path) -> None:
    path = write_csv_bytes(tmp_path / "in.csv", b'id;text\n1;"first line\nsecond; line"\n2;"say ""hi"""\n')
    table = read_table(path)
    assert table["text"].tolist() == ["first line\nsecond; line", 'say "hi"']


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-8", "utf-8")],
)
def test_encoding_with_bom_or_utf8(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,Crème brûlée — ça va\n2,Grüße\n", encoding=encoding)
    assert detect_encoding(path.read_bytes()) == expected
    assert read_table(path)["text"].tolist() == ["Crème brûlée — ça va", "Grüße"]
    assert read_table(path).columns[0] == "id"  # the BOM is not part of the first column name


def test_legacy_code_page_is_detected(tmp_path: Path) -> None:
    texts = ["Le café était très décevant, la livraison a échoué", "Très bon accueil à la réception, merci"] * 20
    path = tmp_path / "in.csv"
    path.write_bytes(("id,text\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(texts))).encode("cp1252"))
    table = read_table(path)
    assert table["text"].tolist() == texts
    assert not any(chunk_problem for chunk in read_chunks(path, 100) for chunk_problem in chunk.problems)


def test_undecodable_bytes_flag_their_row_only(tmp_path: Path) -> None:
    data = "id,text\n1,déjà vu\n".encode() + b"2,broken \xff\xfe bytes\n" + "3,naïve\n".encode()
    (chunk,) = read_chunks(write_csv_bytes(tmp_path / "in.csv", data), chunk_size=10)
    assert chunk.frame["text"].tolist() == ["déjà vu", "broken \ufffd\ufffd bytes", "naïve"]
    assert chunk.problems[0] is None and chunk.problems[2] is None
    assert chunk.problems[1].code == UNDECODABLE
    assert "text" in chunk.problems[1].message and "broken" not in chunk.problems[1].message


def test_malformed_rows_are_kept_in_order_with_a_problem(tmp_path: Path) -> None:
    data = b'id,text,nps\n1,ok,9\n2,too,many,fields,3\n3,short\n4,"bad"quote,5\n5,fine,7\n'
    (chunk,) = read_chunks(write_csv_bytes(tmp_path / "in.csv", data), chunk_size=10)
    assert chunk.frame["id"].tolist() == ["1", "2", "3", "4", "5"]
    assert chunk.frame.iloc[1].tolist() == ["2", "too", "many,fields,3"]  # surplus folded, nothing lost
    assert chunk.frame.iloc[2].tolist() == ["3", "short", ""]
    assert chunk.frame.iloc[3].tolist() == ["4", "badquote", "5"]
    codes = [problem.code if problem else None for problem in chunk.problems]
    assert codes == [None, MALFORMED, MALFORMED, MALFORMED, None]


def test_unterminated_quote_is_one_malformed_row(tmp_path: Path) -> None:
    data = b'id,text\n1,ok\n2,"never closed\n3,swallowed\n'
    (chunk,) = read_chunks(write_csv_bytes(tmp_path / "in.csv", data), chunk_size=10)
    assert chunk.frame["id"].tolist() == ["1", "2"]
    assert chunk.problems[1].code == MALFORMED and "2 line(s)" in chunk.problems[1].message


def test_jsonl_bad_lines_and_differing_keys(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": 1, "text": "a", "meta": {"k": [1]}}\n\nnot json\n[1, 2]\n{"id": "4", "text": null, "extra": true}\n'
    )
    (chunk,) = read_chunks(path, chunk_size=10)
    assert chunk.frame.values.tolist() == [["1", "a", '{"k": [1]}'], ["", "", ""], ["", "", ""], ["4", "", ""]]
    assert [problem.code if problem else None for problem in chunk.problems] == [None, MALFORMED, MALFORMED, MALFORMED]


def test_parquet_non_string_columns_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pd.DataFrame({"id": [1, 2], "score": [9.5, None], "text": ["a", None], "raw": [b"ok", b"\xff"]}).to_parquet(path)
    (chunk,) = read_chunks(path, chunk_size=10)
    assert chunk.frame.values.tolist() == [["1", "9.5", "a", "ok"], ["2", "", "", "\ufffd"]]
    assert chunk.problems[0] is None and chunk.problems[1].code == UNDECODABLE


def test_xlsx_values_and_surplus_cells(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "when", "text", None])
    sheet.append([7, datetime.datetime(2024, 5, 1, 9, 30), "plain text", None])
    sheet.append([None, None, None])  # blank row: skipped
    sheet.append([8, None, "x", None, "stray"])
    path = tmp_path / "in.xlsx"
    workbook.save(path)
    (chunk,) = read_chunks(path, chunk_size=10)
    assert list(chunk.frame.columns) == ["id", "when", "text"]
    assert chunk.frame.values.tolist() == [["7", "2024-05-01T09:30:00", "plain text"], ["8", "", "x"]]
    assert chunk.problems[0] is None and chunk.problems[1].code == MALFORMED


def test_xlsx_output_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    rows = frame([["1", "=SUM(A1)", "x\ry"]])
    write_table([rows], tmp_path / "a.xlsx")
    write_table([rows], tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert read_table(tmp_path / "a.xlsx").values.tolist() == [["1", "=SUM(A1)", "x\ry"]]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_header_only_file_gives_no_rows(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"empty.{name}"
    if name == "jsonl":  # a JSONL file's columns come from its first record
        pytest.skip("JSONL has no header of its own")
    write_table([frame([])], path)
    assert list(open_table(path).columns) == COLUMNS
    assert list(read_chunks(path, 5)) == []


def test_unreadable_tables_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="does not exist"):
        open_table(tmp_path / "missing.csv")
    with pytest.raises(TableError, match="no header"):
        open_table(write_csv_bytes(tmp_path / "empty.csv", b""))
    with pytest.raises(TableError, match="duplicate column names"):
        open_table(write_csv_bytes(tmp_path / "dup.csv", b"a,b,a\n1,2,3\n"))


def test_chunk_size_must_be_positive(tmp_path: Path) -> None:
    reader = open_table(write_csv_bytes(tmp_path / "in.csv", b"a\n1\n"))
    with pytest.raises(ValueError, match="chunk_size"):
        list(chunks(reader, 0))
