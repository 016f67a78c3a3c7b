"""One property through the real loader into PostgreSQL: generated CSV files with good and bad
rows (the generator of tests/unit/test_parsers_properties_csv.py) are loaded with load_file; every
good row is in the raw table with exactly its values and line, every bad row is in raw.quarantine
with its file, line and field, and the batch's counts add up."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from resources.warehouse import ensure_raw_table, load_file
from soleflipper.formats import load_format

_spec = importlib.util.spec_from_file_location(
    "csv_properties", Path(__file__).resolve().parents[1] / "unit" / "test_parsers_properties_csv.py")
props = sys.modules.setdefault("csv_properties", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(props)  # the unit file's generator, without collecting its tests here


def _reset(conn: psycopg.Connection, table: str) -> None:
    """Each example starts from empty tables (hypothesis replays similar files)."""
    conn.execute(sql.SQL("truncate {}, raw.quarantine, raw.load_batches").format(sql.Identifier("raw", table)))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(props.CSV_FORMATS))
def test_loaded_rows_and_quarantine_match_the_file(database_url, tmp_path, name, data):
    fmt = load_format(name)
    case = data.draw(props.csv_case(fmt, chars=props.DB_TEXT_CHARS, max_rows=5))
    path = tmp_path / f"{name}.csv"
    path.write_bytes(case.data)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_raw_table(conn, fmt)
        _reset(conn, fmt.table)
        result = load_file(conn, fmt, path)
        exp = case.expect
        assert (result.rows_read, result.rows_quarantined) == (len(exp.good) + len(exp.bad), len(exp.bad))
        assert result.rows_read == result.rows_loaded + result.rows_duplicate + result.rows_quarantined
        quarantined = conn.execute(
            "select line_number, field, source, reason <> '' from raw.quarantine where batch_id = %s",
            (result.batch_id,)).fetchall()
        assert sorted(quarantined, key=str) == sorted(
            ((line, header, str(path.resolve()), True) for line, header in exp.bad.items()), key=str)
        # every good row is stored with exactly its values (compared as PostgreSQL types)
        cols = sql.SQL(", ").join(sql.Identifier(n) for n in fmt.column_names)
        typed = sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(c.sql_type)) for c in fmt.columns)
        for line, values in exp.good.items():
            found = conn.execute(sql.SQL(
                "select min(_source_line) from {} where _batch_id = %s and row({}) is not distinct from row({})"
            ).format(sql.Identifier("raw", fmt.table), cols, typed), (result.batch_id, *values)).fetchone()[0]
            assert found is not None and found <= line, (line, values)
        # duplicates (identical_rows: duplicate) keep their first line; nothing else is dropped
        assert result.rows_loaded == conn.execute(sql.SQL("select count(*) from {} where _batch_id = %s").format(
            sql.Identifier("raw", fmt.table)), (result.batch_id,)).fetchone()[0]
        if fmt.identical_rows == "keep":
            assert result.rows_loaded == len(exp.good)


# --------------------------------------------------------------------------- bugs found

SALES_HEADER = "Sale Date,Platform,Order Number,Style Code,Size,Sale Price,Fees,Payout\n"


GOOD_SALE = "2024-01-02,StockX,1-3,A,9,100,1,99\n"


# Values the parser used to accept and PostgreSQL rejects (the COPY failed, blocking the file):
# now the row is quarantined with line, field and record (NUL written as the text \x00) and the
# rest of the file loads.
@pytest.mark.parametrize(("fmt_name", "text", "field", "cell"), [
    ("sales_sheet", SALES_HEADER + "2024-01-01,Stock\x00X,1-2,A,9,100,1,99\n" + GOOD_SALE,
     "Platform", ("Platform", "Stock\\x00X")),
    ("sales_sheet", SALES_HEADER + "2024-01-01,Stock\x00X,1-2,A,9,abc,1,99\n" + GOOD_SALE,
     "Platform", ("Platform", "Stock\\x00X")),
    ("sales_sheet", SALES_HEADER + "2024-01-01,StockX,1-2,A,9,\u0661\u0662,1,99\n" + GOOD_SALE,
     "Sale Price", ("Sale Price", "\u0661\u0662")),
    ("sales_sheet", SALES_HEADER.rstrip("\n") + ",Zz\n2024-01-01,StockX,1-2,A,9,100,1,99,\x00\n"
     + GOOD_SALE.rstrip("\n") + ",ok\n", "Zz", ("Zz", "\\x00")),
    ("purchases_sheet", "Purchase Date,Supplier,Style Code,Size,Quantity,Net Price,Gross Price\n"
                        "2024-01-01,X,A,9,99999999999999999999,1,1\n2024-01-02,X,A,9,1,1,1\n",
     "Quantity", ("Quantity", "99999999999999999999")),
], ids=["nul-in-text", "nul-in-bad-row", "unicode-digits", "nul-in-unknown-column", "bigint-overflow"])
def test_a_value_postgresql_rejects_is_quarantined(conn, tmp_path, fmt_name, text, field, cell):
    path = tmp_path / "file.csv"
    path.write_text(text, encoding="utf-8")
    fmt = load_format(fmt_name)
    result = load_file(conn, fmt, path)
    assert (result.rows_read, result.rows_quarantined, result.rows_loaded) == (2, 1, 1)
    (line, got_field, value), = conn.execute(
        "select line_number, field, record ->> %s from raw.quarantine where batch_id = %s",
        (cell[0], result.batch_id)).fetchall()
    assert (line, got_field, value) == (2, field, cell[1])
    loaded = conn.execute(sql.SQL("select _source_line from {} where _batch_id = %s").format(
        sql.Identifier("raw", fmt.table)), (result.batch_id,)).fetchall()
    assert loaded == [(3,)]
