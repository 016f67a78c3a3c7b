"""Market sales history formats (stockx_contest_sales, stockx_activity_sales): the real StockX layouts
load completely from .csv.gz, identical rows are separate sales, reloading adds nothing, and
transactions.fct_market_sales reconciles with raw per source (counts and price sums)."""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_runner import dbt_build
from warehouse_datasets import write_csv

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.formats import load_format

CONTEST = "stockx_contest_2019.csv.gz"
ACTIVITY = "stockx_sales_2017_2018_sneakertracker.csv.gz"
ACTIVITY_HEADER = ["product", "category", "createdAt", "amount", "shoeSize"]


def _read_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_gz(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    return path


def test_identical_rows_are_sales_and_reloads_add_nothing(conn, tmp_path):
    fmt = load_format("stockx_activity_sales")
    rows = [
        ["Adidas Yeezy Boost 350 V2 Zebra", "sneakers", "2017-03-01 10:00:00", "580", "10"],
        ["Adidas Yeezy Boost 350 V2 Zebra", "sneakers", "2017-03-01 10:00:00", "580", "10"],  # two pairs
        ["Adidas Yeezy Boost 350 V2 Zebra", "sneakers", "2017-03-01 10:00:00", "580", "10"],  # three pairs
        ["Jordan 1 Retro Royal (2017)", "sneakers", "2017-04-02 23:59:59", "455", "9.5"],
        ["Supreme Box Logo Hooded Sweatshirt Black", "streetwear", "2017-12-20 08:00:00", "$1,020", "L"],  # bad
    ]
    gz = _write_gz(tmp_path / "feed.csv.gz", ACTIVITY_HEADER, rows)
    first = load_file(conn, fmt, gz)
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (5, 4, 1)
    assert first.sample_errors[0].line == 6 and first.sample_errors[0].field == "amount"
    assert conn.execute("select count(*), sum(amount), min(amount_currency), count(distinct _row_hash)"
                        " from raw.stockx_activity_sales").fetchone() == (4, Decimal("2195"), "USD", 4)
    # the same file again: recognised and skipped
    again = load_file(conn, fmt, gz)
    assert again.skipped_file and again.rows_loaded == 0
    # a plain-CSV export overlapping it with one more pair of the same sale: only that pair is new
    overlap = write_csv(tmp_path / "feed-later.csv", ACTIVITY_HEADER, [*rows[:4], rows[0]])
    later = load_file(conn, fmt, overlap)
    assert (later.rows_loaded, later.rows_duplicate) == (1, 4)
    assert conn.execute("select count(*) from raw.stockx_activity_sales").fetchone()[0] == 5
    # timestamps without a zone are UTC
    assert conn.execute("select min(created_at)::text from raw.stockx_activity_sales").fetchone()[0] == \
        "2017-03-01 10:00:00+00"


def test_corrupt_gzip_fails_the_file_and_loads_nothing(conn, tmp_path):
    from resources.warehouse import LoadError

    good = _write_gz(tmp_path / "good.csv.gz", ACTIVITY_HEADER,
                     [["Zebra", "sneakers", f"2017-03-01 10:00:{i:02d}", "580", "10"] for i in range(60)])
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(good.read_bytes()[:-40])  # truncated archive
    with pytest.raises(LoadError, match="broken.csv.gz: not a readable gzip file"):
        load_file(conn, load_format("stockx_activity_sales"), broken)
    assert conn.execute("select count(*) from raw.stockx_activity_sales").fetchone()[0] == 0


def test_real_stockx_layouts_load_completely_and_fct_market_sales_reconciles(database_url, real_data, tmp_path):
    import psycopg

    contest_rows = _read_gz(real_data / CONTEST)
    activity_rows = _read_gz(real_data / ACTIVITY)
    contest_sum = sum(Decimal(r["Sale Price"]) for r in contest_rows)
    activity_sum = sum(Decimal(r["amount"]) for r in activity_rows)
    activity_dupes = len(activity_rows) - len({tuple(r.values()) for r in activity_rows})
    assert (len(contest_rows), len(activity_rows), activity_dupes) == (99_956, 139_833, 5_697)

    with psycopg.connect(database_url) as conn:
        ensure_all_raw_tables(conn)
        for name, file, count in (("stockx_contest_sales", CONTEST, 99_956), ("stockx_activity_sales", ACTIVITY, 139_833)):
            result = load_file(conn, load_format(name), real_data / file)
            assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (count, count, 0), name
            again = load_file(conn, load_format(name), real_data / file)
            assert again.skipped_file and again.rows_loaded == 0
        assert conn.execute("select count(*), sum(sale_price) from raw.stockx_contest_sales").fetchone() == \
            (99_956, contest_sum)
        assert conn.execute("select count(*), sum(amount) from raw.stockx_activity_sales").fetchone() == \
            (139_833, activity_sum)
        # identical rows all loaded, each its own row
        assert conn.execute(
            "select count(*) - count(distinct (product, category, created_at, amount, shoe_size))"
            " from raw.stockx_activity_sales").fetchone()[0] == 5_697

    statuses = dbt_build(database_url, tmp_path / "target", "--select", "+fct_market_sales+",
                         "--exclude", "resource_type:seed")
    assert statuses["test.soleflipper.assert_market_sales_reconcile_with_raw"] == "pass"
    with psycopg.connect(database_url) as conn:
        got = dict((source, (n, total)) for source, n, total in conn.execute(
            "select source, count(*), sum(price_amount) from transactions.fct_market_sales group by 1"))
        assert got == {"stockx_contest_sales": (99_956, contest_sum), "stockx_activity_sales": (139_833, activity_sum)}
        # the contest's brand is trimmed, sizes are US men's, sale day 00:00 UTC; apparel sizes read as APPAREL
        assert conn.execute(
            "select count(*) filter (where brand = 'Yeezy'), count(*) filter (where size_system = 'US M'),"
            " min(sold_at)::text from transactions.fct_market_sales where source = 'stockx_contest_sales'"
        ).fetchone() == (72_162, 99_956, "2017-09-01 00:00:00+00")
        assert conn.execute("select count(*) from transactions.fct_market_sales where size_system = 'APPAREL'"
                            ).fetchone()[0] == 576
        # "Adidas-…" and "adidas-…" spellings are one product series
        assert conn.execute("select count(distinct product_series_key) from transactions.fct_market_sales"
                            " where source = 'stockx_contest_sales'").fetchone()[0] <= 50
