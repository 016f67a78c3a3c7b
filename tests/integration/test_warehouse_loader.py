"""The COPY loader on real PostgreSQL: exact counts, idempotency, quarantine, atomic batches."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from resources.warehouse import LoadError, ensure_raw_table, load_file
from soleflipper.demo_data import generate_sales, write_sales_report
from soleflipper.formats import load_format, parse_format

FMT = load_format("stockx_sales_report")


def _count(conn, table="raw.stockx_sales_report") -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608 - test constant


def _independent_totals(path: Path) -> tuple[int, dict[str, Decimal]]:
    """Order count and payout per currency, computed with csv + Decimal, not with our parser."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r["Total Gross Amount (Total Payout) Currency"]] += Decimal(r["Total Gross Amount (Total Payout)"])
    return len({r["Order Number"] for r in rows}), dict(totals)


def _db_totals(conn) -> dict[str, Decimal]:
    return dict(conn.execute("select total_payout_currency, sum(total_payout) from raw.stockx_sales_report"
                             " group by 1").fetchall())


@pytest.mark.shared_data
def test_real_seller_report_loads_with_exact_totals_and_reloads_nothing(conn, real_data):
    path = real_data / "stockx_seller_sales_report_2022.csv"
    orders, payouts = _independent_totals(path)
    assert orders == 1127
    first = load_file(conn, FMT, path)
    assert (first.rows_read, first.rows_loaded, first.rows_duplicate, first.rows_quarantined) == (1127, 1127, 0, 0)
    assert _count(conn) == 1127
    assert conn.execute("select count(distinct order_number) from raw.stockx_sales_report").fetchone()[0] == orders
    assert _db_totals(conn) == payouts == {"EUR": Decimal("97567.65")}
    # every timestamp arrived as UTC: the file's first sale is 2022-07-08 00:46:09 +00
    assert conn.execute("select sale_date::text from raw.stockx_sales_report where order_number ="
                        " '39230274-39130033'").fetchone()[0] == "2022-07-08 00:46:09+00"
    again = load_file(conn, FMT, path)
    assert again.skipped_file and (again.rows_loaded, again.rows_duplicate) == (0, 1127)
    assert _count(conn) == 1127


@pytest.mark.shared_data
def test_real_report_copy_under_another_name_with_crlf_changes_adds_nothing(conn, real_data, tmp_path):
    """A re-export with different bytes but the same sales: every row is a duplicate."""
    src = real_data / "stockx_seller_sales_report_2022.csv"
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    copy = tmp_path / "reexport.csv"
    with open(copy, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    load_file(conn, FMT, src)
    result = load_file(conn, FMT, copy)
    assert not result.skipped_file
    assert (result.rows_loaded, result.rows_duplicate) == (0, 1127)


def test_overlapping_demo_files_dedupe_to_unique_orders(conn, demo_reports):
    legacy, current = demo_reports
    a = load_file(conn, FMT, legacy)
    b = load_file(conn, FMT, current)
    with open(legacy, newline="", encoding="utf-8") as f:
        legacy_orders = {r["Order Number"] for r in csv.DictReader(f)}
    with open(current, newline="", encoding="utf-8") as f:
        current_orders = {r["Order Number"] for r in csv.DictReader(f)}
    overlap = legacy_orders & current_orders
    assert overlap
    assert a.rows_loaded == len(legacy_orders)
    # The legacy export lacks 7 columns, so overlapping orders arrive as a richer new version.
    assert b.rows_loaded == len(current_orders) and b.rows_changed == len(overlap)
    assert conn.execute("select count(distinct order_number) from raw.stockx_sales_report").fetchone()[0] == 300


def test_changed_row_is_loaded_as_a_new_version_and_counted(conn, tmp_path):
    rows = generate_sales(40, seed=4)
    first = write_sales_report(tmp_path / "a.csv", rows) and tmp_path / "a.csv"
    load_file(conn, FMT, first)
    rows[7] = {**rows[7], "Total Gross Amount (Total Payout)": "1.23"}
    write_sales_report(tmp_path / "b.csv", rows)
    result = load_file(conn, FMT, tmp_path / "b.csv")
    assert (result.rows_loaded, result.rows_changed, result.rows_duplicate) == (1, 1, 39)
    assert _count(conn) == 41


def _corrupt_copy(tmp_path: Path) -> tuple[Path, list[dict]]:
    rows = generate_sales(50, seed=9)
    rows[10]["Sale Date"] = "2024-13-45 25:61:00 +00"
    rows[20]["Listing Price"] = "forty"
    path = tmp_path / "corrupt.csv"
    write_sales_report(path, rows)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 150])  # truncated last line
    return path, rows


def test_corrupted_copy_quarantines_exactly_the_bad_rows(conn, tmp_path):
    path, rows = _corrupt_copy(tmp_path)
    result = load_file(conn, FMT, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (50, 47, 3)
    quarantined = conn.execute(
        "select line_number, field, reason, record->>'Order Number', raw_table, source"
        " from raw.quarantine order by line_number").fetchall()
    assert [(q[0], q[1]) for q in quarantined] == [
        (22, "Sale Date"), (42, "Listing Price"), (100, None)]
    assert quarantined[0][3] == rows[10]["Order Number"]
    assert "is not a timestamp" in quarantined[0][2] and "is not a number" in quarantined[1][2]
    assert "fields, the header has 44" in quarantined[2][2]
    assert {q[4] for q in quarantined} == {"stockx_sales_report"} and quarantined[0][5] == str(path.resolve())
    bad_orders = {rows[10]["Order Number"], rows[20]["Order Number"], rows[49]["Order Number"]}
    loaded = {r[0] for r in conn.execute("select order_number from raw.stockx_sales_report")}
    assert loaded == {r["Order Number"] for r in rows} - bad_orders
    # Loading a fixed copy of the same file brings in exactly the three missing rows, once.
    load_file(conn, FMT, path)
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 3
    fixed = tmp_path / "fixed.csv"
    write_sales_report(fixed, generate_sales(50, seed=9))
    result = load_file(conn, FMT, fixed)
    assert (result.rows_loaded, result.rows_duplicate) == (3, 47)


def test_missing_column_fails_the_file_clearly_and_writes_nothing(conn, tmp_path):
    rows = generate_sales(5, seed=1)
    path = tmp_path / "no_payout.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        fields = [h for h in rows[0] if h != "Total Gross Amount (Total Payout)"]
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(LoadError) as err:
        load_file(conn, FMT, path)
    assert "no_payout.csv" in str(err.value) and "'Total Gross Amount (Total Payout)'" in str(err.value)
    assert _count(conn) == 0
    status, error = conn.execute("select status, error from raw.load_batches").fetchone()
    assert status == "failed" and "Total Gross Amount" in error


def test_encoding_error_mid_file_rolls_back_the_whole_batch(conn, tmp_path):
    path = tmp_path / "latin1.csv"
    write_sales_report(path, generate_sales(30, seed=1))
    lines = path.read_bytes().split(b"\n")
    lines[41] = lines[41] + "é".encode("latin-1")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(LoadError, match=r"latin1.csv: line 42 is not valid utf-8"):
        load_file(conn, FMT, path)
    assert _count(conn) == 0


def test_identical_rows_are_kept_when_the_format_says_they_are_distinct_events(conn, tmp_path):
    fmt = parse_format({
        "name": "sales_feed", "source": "test", "entity": "feed", "identical_rows": "keep",
        "columns": [{"name": "product", "header": "product"},
                    {"name": "amount", "header": "amount", "type": "numeric"}],
    }, "inline")
    path = tmp_path / "feed.csv"
    path.write_text("product,amount\nzebra,580\nzebra,580\ncream,451\n", encoding="utf-8")
    result = load_file(conn, fmt, path)
    assert result.rows_loaded == 3
    path.write_text("product,amount\nzebra,580\nzebra,580\ncream,451\ncream,451\n", encoding="utf-8")
    again = load_file(conn, fmt, path)
    assert (again.rows_loaded, again.rows_duplicate) == (1, 3)
    assert _count(conn, "raw.test_feed") == 4


def test_new_format_column_is_added_to_an_existing_raw_table(conn):
    ensure_raw_table(conn, FMT)
    wider = parse_format({
        "name": "stockx_sales_report", "source": "stockx", "entity": "sales_report",
        "columns": [*({"name": c.name, "header": c.header, "type": c.type} for c in FMT.columns),
                    {"name": "brand_new", "header": "Brand New", "type": "text", "optional": True}],
    }, "inline")
    ensure_raw_table(conn, wider)
    cols = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema='raw'"
        " and table_name='stockx_sales_report'")}
    assert "brand_new" in cols and "order_number" in cols


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import psycopg
    from resources.warehouse import load_file
    from soleflipper.formats import load_format

    def progress(rows):
        if rows >= int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # die mid-COPY, no cleanup of any kind

    with psycopg.connect(sys.argv[1]) as conn:
        load_file(conn, load_format("stockx_sales_report"), Path(sys.argv[2]), progress=progress)
""")


def test_batch_killed_mid_copy_leaves_no_rows_and_a_rerun_loads_everything(conn, database_url, tmp_path):
    path = tmp_path / "big.csv"
    n = write_sales_report(path, generate_sales(30_000, seed=5))
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, database_url, str(path), "20000"],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _count(conn) == 0
    assert conn.execute("select count(*) from raw.load_batches where status = 'succeeded'").fetchone()[0] == 0
    result = load_file(conn, FMT, path)
    assert result.rows_loaded == n == 30_000
    orders, payouts = _independent_totals(path)
    assert _count(conn) == orders and _db_totals(conn) == payouts


def test_concurrent_loads_of_the_same_file_load_it_once(database_url, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "r.csv"
    write_sales_report(path, generate_sales(2000, seed=8))

    def load(_):
        with psycopg.connect(database_url) as c:
            return load_file(c, FMT, path)

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(load, range(3)))
    assert sorted(r.rows_loaded for r in results) == [0, 0, 2000]
    with psycopg.connect(database_url) as c:
        assert _count(c) == 2000
