"""The real `soleflipper` CLI as a subprocess, on fresh warehouse and Dagster databases.

`run` is the expensive part (Dagster + dbt); the suite shares one home folder and one pair of
databases (the session fixtures `cli` and `first_run` in tests/conftest.py, also used by the
browser test), so the commands build on each other in file order.
"""

from __future__ import annotations

import collections
import csv
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from cli_runner import Cli
from cli_runner import read_csv as _read

from simulators import alias_data, ebay_data

pytestmark = pytest.mark.e2e

PAYOUT = "Total Gross Amount (Total Payout)"
BERLIN = ZoneInfo("Europe/Berlin")
BAD_SALE_DATE = "2024-13-45 25:61:00 +00"


def _raw_counts(cli: Cli) -> dict[str, int]:
    tables = [t for (t,) in cli.query(
        "select table_name from information_schema.tables where table_schema = 'raw' order by 1")]
    assert {"stockx_sales_report", "load_batches", "quarantine"} <= set(tables)
    return {t: cli.query(f'select count(*) from raw."{t}"')[0][0] for t in tables}  # noqa: S608 - catalog names


def test_run_builds_the_warehouse_and_prints_exact_totals(cli, first_run):
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    legacy, current = cli.demo_files()
    newest = {r["Order Number"]: r for r in _read(legacy)} | {r["Order Number"]: r for r in _read(current)}
    assert len(newest) == 300
    assert {r[f"{PAYOUT} Currency"] for r in newest.values()} == {"EUR"}
    payout = sum(Decimal(r[PAYOUT]) for r in newest.values())
    revenue = sum(Decimal(r["Listing Price"]) for r in newest.values())
    # Paid StockX API orders that the report does not have yet (payout pending) are sales too:
    # computed here from the raw API rows, newest version per order.
    extra = cli.query(
        "select count(*), coalesce(sum(payout_total), 0), coalesce(sum(coalesce(payout_sale_price, amount)), 0)"
        " from (select distinct on (order_number) * from raw.stockx_orders"
        "       order by order_number, updated_at desc nulls last, _loaded_at desc) o"
        " where payout_total is not null and order_number not in"
        " (select order_number from raw.stockx_sales_report)")[0]
    n_extra, payout_extra, revenue_extra = extra
    # The demo's eBay and Alias simulators sell too: every line of a non-cancelled eBay order, every
    # completed Alias/GOAT order (counted from the simulators' own seeded data, not from dbt).
    ebay_lines = sum(len(o["lineItems"]) for o in ebay_data.build_world().orders
                     if o["cancelStatus"]["cancelState"] != "CANCELED")
    alias_orders = collections.Counter(o["sales_channel"].lower() for o in alias_data.build_world(seed=7).orders
                                       if o["status"] == "ORDER_STATUS_COMPLETED")
    assert (ebay_lines, alias_orders) == (12, {"goat": 21, "alias": 11})
    assert cli.query("select platform, count(*) from transactions.fct_sales"
                     " where source_system in ('ebay_api', 'alias_api') group by 1 order by 1") == [
        ("alias", 11), ("ebay", 12), ("goat", 21)]
    n_other = ebay_lines + sum(alias_orders.values())
    out = first_run.stdout
    assert f"wrote {legacy}" in out and f"wrote {current}" in out
    for service in ("eBay", "Alias", "Metabase"):
        assert re.search(rf"^{service}: demo simulator on http://127\.0\.0\.1:\d+", out, re.MULTILINE), out
    assert re.search(rf"^\s+transactions\.fct_sales\s+{300 + n_extra + n_other}$", out, re.MULTILINE), out
    assert re.search(rf"^\s+raw\.stockx_sales_report\s+{len(_read(legacy)) + len(_read(current))}$",
                     out, re.MULTILINE), out
    kpi = [line.split() for line in out.splitlines() if line.split()[:2] == ["stockx", "EUR"]]
    total_revenue, total_payout = revenue + revenue_extra, payout + payout_extra
    assert kpi == [["stockx", "EUR", f"{300 + n_extra:,}", f"{total_revenue:,.2f}", f"{total_payout:,.2f}",
                    f"{total_revenue - total_payout:,.2f}"]]
    # It really used both configured databases; the report's sales are exactly the report's payouts.
    assert cli.query("select count(*), sum(payout_amount) from transactions.fct_sales"
                     " where source_system = 'stockx_sales_report'") == [(300, payout)]
    assert cli.query("select count(*) from runs where status = 'SUCCESS'", cli.dagster_url) == [(1,)]
    # The same run provisioned the four YAML dashboards on the demo's Metabase simulator.
    assert re.search(r"^dashboard\s+4\s+0\s+0\s+0$", first_run.stderr, re.MULTILINE), first_run.stderr[-3000:]



def test_demo_prices_every_pair_on_ebay_at_the_fees_of_its_finances_transactions(cli, first_run):
    assert first_run.returncode == 0
    # The demo seller's eBay Finances SALE transactions, from the simulator's own seed (not from dbt).
    lines = [line for t in ebay_data.build_world().transactions if t["transactionType"] == "SALE"
             for line in t["orderLineItems"]]
    basis = sum(Decimal(line["feeBasisAmount"]["value"]) for line in lines)
    fvf = sum(Decimal(fee["amount"]["value"]) for line in lines for fee in line["marketplaceFees"]
              if fee["feeType"] == "FINAL_VALUE_FEE")
    rate = (fvf / basis).quantize(Decimal("0.0001"))
    assert (len(lines), rate) == (10, Decimal("0.1290"))
    platforms = cli.query("select platform, count(*), count(*) filter (where recommended)"
                          " from analytics.pricing_recommendations group by 1 order by 1")
    assert [p for p, _, _ in platforms] == ["alias", "ebay", "stockx"]
    counts = {p: n for p, n, _ in platforms}
    assert counts["ebay"] == counts["stockx"] > 0
    ebay = cli.query("select list_price, expected_fees, reason from analytics.pricing_recommendations"
                     " where platform = 'ebay'")
    for price, fees, reason in ebay:
        assert fees == (price * rate).quantize(Decimal("0.01"), ROUND_HALF_UP) + ebay_data.FIXED_PER_ORDER
        assert "; eBay fees as observed in eBay Finances: 10 line items of 9 orders," in reason
        assert "2026-10-01..2026-11-15 (after the pricing day: no earlier eBay sale)" in reason  # priced 2024-12-30


def test_second_run_changes_no_raw_table(cli, first_run):
    assert first_run.returncode == 0
    before = _raw_counts(cli)
    batches_before = before.pop("load_batches")
    fact_before = cli.query("select * from transactions.fct_sales order by sale_id")
    # Berlin's date when the first run synced Notion (its newest batch), not merely now
    (first_synced,) = cli.query("select max(finished_at) from raw.load_batches")[0]
    berlin_day = first_synced.astimezone(BERLIN).date()
    again = cli("run", "--sales", "300")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    after = _raw_counts(cli)
    # raw.load_batches is the loader's audit log: the API syncs record their (empty) batches.
    batches_after = after.pop("load_batches")
    reversioned = 0
    if datetime.now(BERLIN).date() != berlin_day:
        # The Notion simulator's "Sold N Days ago" formula follows Berlin's date (as Notion's does):
        # across its midnight the page the incremental sync re-reads really changed (a new version).
        reversioned = after.pop("notion_sales") - before.pop("notion_sales")
        assert reversioned in (0, 1, 2)
    assert after == before
    query = f"select rows_loaded, file_sha256 from raw.load_batches order by finished_at offset {int(batches_before)}"  # noqa: S608
    new_batches = cli.query(query)  # noqa: S608 - the offset is an integer
    assert len(new_batches) == batches_after - batches_before
    assert sum(loaded for loaded, _ in new_batches) == reversioned
    assert before["stockx_sales_report"] == sum(len(_read(p)) for p in cli.demo_files())
    assert cli.query("select * from transactions.fct_sales order by sale_id") == fact_before


def test_import_of_an_already_loaded_file_loads_nothing(cli, first_run):
    assert first_run.returncode == 0
    legacy, _ = cli.demo_files()
    n = len(_read(legacy))
    proc = cli("import", str(legacy), "--no-build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"{legacy}: read {n} rows: 0 loaded (0 changed), {n} skipped as duplicate, 0 quarantined"
            " (file already loaded)") in proc.stdout


def test_import_of_a_corrupted_copy_quarantines_the_bad_row(cli, first_run, tmp_path):
    assert first_run.returncode == 0
    _, current = cli.demo_files()
    with open(current, newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    bad_index = 10
    records[bad_index][header.index("Sale Date")] = BAD_SALE_DATE
    copy = tmp_path / "corrupted_copy.csv"
    with open(copy, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *records])
    # The physical line the bad record starts on (records span two lines: an embedded newline).
    with open(copy, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        ends = [reader.line_num for _ in reader]
    bad_line = ends[bad_index] + 1  # ends[0] is the header's last line
    assert bad_line > bad_index + 2

    proc = cli("import", str(copy), "--no-build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n = len(records)
    assert (f"{copy}: read {n} rows: 0 loaded (0 changed), {n - 1} skipped as duplicate, 1 quarantined"
            in proc.stdout), proc.stdout
    assert re.search(rf"^  line {bad_line}, field Sale Date: .*{re.escape(BAD_SALE_DATE)}", proc.stdout,
                     re.MULTILINE), proc.stdout
    order = records[bad_index][header.index("Order Number")]
    assert cli.query("select line_number, field, record->>'Order Number' from raw.quarantine") == [
        (bad_line, "Sale Date", order)]


def test_import_of_a_file_missing_a_required_column_fails_naming_file_and_column(cli, first_run, tmp_path):
    assert first_run.returncode == 0
    _, current = cli.demo_files()
    rows = _read(current)
    broken = tmp_path / "no_payout_column.csv"
    with open(broken, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[h for h in rows[0] if h != PAYOUT], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    before = _raw_counts(cli)["stockx_sales_report"]
    proc = cli("import", str(broken))
    assert proc.returncode != 0
    [failed] = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    assert "no_payout_column.csv" in failed and f"'{PAYOUT}'" in failed
    assert _raw_counts(cli)["stockx_sales_report"] == before


def test_db_url_prints_exactly_the_warehouse_url(cli):
    proc = cli("db-url")
    assert proc.returncode == 0
    assert proc.stdout == cli.warehouse_url + "\n"


def test_no_command_prints_the_password(cli, first_run):
    if cli.password is None:
        pytest.skip("the test server does not accept a URL with a password")
    assert first_run.returncode == 0
    assert f":{cli.password}@" in cli.warehouse_url
    assert "***@" in first_run.stdout  # the run's closing hint shows the redacted URL
    checked = 0
    for args, proc in cli.calls:
        if args[0] == "db-url":
            continue  # printing the URL (for psql) is that command's job
        assert cli.password not in proc.stdout and cli.password not in proc.stderr, args
        checked += 1
    assert checked >= 1
