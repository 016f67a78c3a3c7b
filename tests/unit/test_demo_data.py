"""The synthetic StockX sales reports: real export format, consistent money, deterministic."""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from soleflipper import demo_data
from soleflipper.demo_data import (
    HEADER,
    LEGACY_HEADER,
    generate_sales,
    iter_sales,
    write_demo_reports,
    write_sales_report,
)

FORMAT_YAML = Path(demo_data.__file__).resolve().parent / "formats" / "stockx_sales_report.yaml"
TS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00$")
ORDER = re.compile(r"^\d{8}-\d{8}$")
AMOUNT = re.compile(r"^\d+(\.\d?[1-9])?$")  # no trailing zeros, at most 2 places
N = 2000
PAYOUT = "Total Gross Amount (Total Payout)"


def _yaml_columns() -> list[dict]:
    return yaml.safe_load(FORMAT_YAML.read_text(encoding="utf-8"))["columns"]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _amount(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return generate_sales(N, seed=7)


@pytest.fixture(scope="module")
def current_file(tmp_path_factory, rows) -> Path:
    path = tmp_path_factory.mktemp("report") / "current.csv"
    assert write_sales_report(path, rows) == N
    return path


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> list[Path]:
    return write_demo_reports(tmp_path_factory.mktemp("demo"), n_sales=N, seed=7)


def test_current_header_matches_format_yaml(current_file):
    header, _ = _read(current_file)
    assert header == [c["header"] for c in _yaml_columns()]
    assert list(HEADER) == header and len(header) == 44


def test_legacy_layout_has_37_columns_with_sale_date_first(tmp_path, rows):
    path = tmp_path / "legacy.csv"
    assert write_sales_report(path, rows[:50], layout="legacy") == 50
    header, records = _read(path)
    required = [c["header"] for c in _yaml_columns() if not c.get("optional")]
    assert len(header) == 37 and header == list(LEGACY_HEADER)
    assert sorted(header) == sorted(required)
    assert header.index("Sale Date") == header.index("Payout date") - 1
    assert [r["Order Number"] for r in records] == [r["Order Number"] for r in rows[:50]]


def test_unknown_layout_is_rejected(tmp_path, rows):
    with pytest.raises(ValueError, match="layout"):
        write_sales_report(tmp_path / "x.csv", rows[:1], layout="v3")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    paths = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        path = tmp_path / f"{name}.csv"
        write_sales_report(path, iter_sales(300, seed=seed))
        paths.append(path.read_bytes())
    assert paths[0] == paths[1]
    assert paths[0] != paths[2]


def test_iter_sales_streams_the_same_rows(rows):
    stream = iter_sales(N, seed=7)
    assert iter(stream) is stream  # a generator, not a list
    assert list(stream) == rows


def test_rows_sorted_by_sale_date_within_range(rows):
    sale_dates = [r["Sale Date"] for r in rows]
    assert sale_dates == sorted(sale_dates)
    assert sale_dates[0][:10] >= "2023-01-02" and sale_dates[-1][:10] <= "2024-12-29"
    few = generate_sales(20, seed=1, start=date(2024, 5, 1), end=date(2024, 5, 31))
    assert len(few) == 20 and all("2024-05-01" <= r["Sale Date"][:10] <= "2024-05-31" for r in few)


def test_order_and_invoice_numbers(rows):
    orders = [r["Order Number"] for r in rows]
    assert len(set(orders)) == len(orders) == N
    assert all(ORDER.match(o) for o in orders)
    for r in rows:
        assert r["Invoice Number"] == f"25151586-{r['Order Number'].split('-')[1]}"


def test_embedded_newlines_parse_back(current_file):
    raw = current_file.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    # records end in CRLF like the real export; the embedded newline in Special references is a bare LF
    assert raw.count(b"\r\n") == N + 1 and raw.replace(b"\r\n", b"").count(b"\n") == N
    _, records = _read(current_file)
    assert len(records) == N
    assert raw.count(b"\n") > N + 1  # each record spans two physical lines
    assert all("\n" in r["Special references"] for r in records)
    # address fields are wrapped in literal quotes, doubled by RFC-4180 quoting
    assert b',"""Demo Sneakers GmbH ' in raw
    assert all(r["Seller Address (Billing)"].startswith('"') for r in records)


def test_money_is_consistent(rows):
    below_formula = 0
    for r in rows:
        listing, payout = Decimal(r["Listing Price"]), Decimal(r[PAYOUT])
        formula = (listing - _amount(r["Seller Fee"]) - _amount(r["Payment Processing"])
                   - _amount(r["Shipping Fee"]))
        if r["Seller Fee"]:
            assert payout == formula, r["Order Number"]
            fee = Decimal(r["Seller Fee"])
            assert fee == 5 or Decimal("0.069") <= fee / listing <= Decimal("0.101")
            assert r["Seller Fee Currency"] == "EUR"
        else:
            assert r["Seller Fee Currency"] == "N/A"
            assert Decimal(0) < payout < listing
            below_formula += payout < formula
        assert r["Total Net Amount (Payout Excluding VAT)"] == r[PAYOUT]
        assert Decimal(0) <= _amount(r["Shipping Fee"]) <= 5
        for col in ("Listing Price", PAYOUT, "Seller Fee", "Payment Processing", "Shipping Fee",
                    "Total Invoice Amount"):
            assert r[col] == "" or AMOUNT.match(r[col]), (col, r[col])
    assert 0.05 * N < below_formula < 0.15 * N  # fee blank although deducted: payout authoritative
    assert any(r["Total Invoice Amount"] != r[PAYOUT] for r in rows)
    assert sum(r["Total Invoice Amount"] == r[PAYOUT] for r in rows) > N / 2


def test_payout_batches_share_id_and_invoice_total(rows):
    assert rows[0]["Payout ID"] == "0"
    batches: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["Payout ID"] != "0":
            batches.setdefault(r["Payout ID"], []).append(r)
    assert any(len(b) > 1 for b in batches.values())
    for batch in batches.values():
        total = sum(Decimal(r[PAYOUT]) for r in batch)
        assert {Decimal(r["Total Invoice Amount"]) for r in batch} == {total}


def test_quirky_values(rows):
    sizes = [r["Sku Size"] for r in rows]
    assert "N/A" in sizes and 0.02 * N < sizes.count("N/A") < 0.1 * N
    assert {"10", "10.5"} <= set(sizes)
    assert any(s.endswith("W") for s in sizes) and any(s.endswith("Y") for s in sizes)
    assert any(s.endswith("C") for s in sizes) and "M" in sizes
    assert all((r["Style"] == "N/A") == (r["Sku Size"] == "N/A") for r in rows)
    fee_na = sum(r["Seller Fee Currency"] == "N/A" for r in rows)
    assert 0.1 * N < fee_na < 0.2 * N
    assert all(r["Quantity"] == "1" for r in rows)
    assert all(r["VAT Rate"] == r["Total VAT Amount"] == r["Total VAT Amount Currency"] == "" for r in rows)
    assert {r["Listing Price Currency"] for r in rows} == {"EUR"}
    assert len({r["Buyer Destination Country"] for r in rows}) > 10


def test_timestamps_and_payout_after_sale(rows):
    for r in rows:
        for col in ("Sale Date", "Payout date", "Invoice Date"):
            assert TS.match(r[col]), (col, r[col])
        assert r["Invoice Date"] == r["Payout date"]
        assert r["Payout date"] >= r["Sale Date"]  # same fixed-width format: compares as text
        gap = date.fromisoformat(r["Payout date"][:10]) - date.fromisoformat(r["Sale Date"][:10])
        assert gap.days <= 21  # a few days, at most a few weeks


def test_demo_reports_overlap_and_cover_all_sales(demo_files, tmp_path):
    assert len(demo_files) == 2
    name = re.compile(r"^stockx_historical_seller_sales_report_[0-9a-f-]{36}_\d{13}\.csv$")
    assert all(name.match(p.name) for p in demo_files)
    assert sorted(p.name for p in demo_files[0].parent.iterdir()) == sorted(p.name for p in demo_files)
    (old_header, old), (new_header, new) = (_read(p) for p in demo_files)
    assert len(old_header) == 37 and len(new_header) == 44
    old_orders = {r["Order Number"] for r in old}
    new_orders = {r["Order Number"] for r in new}
    overlap = old_orders & new_orders
    assert overlap and len(overlap) < 0.1 * N
    assert len(old_orders | new_orders) == N
    # the same sale carries the same values in both exports
    by_order = {r["Order Number"]: r for r in new}
    for r in old:
        if r["Order Number"] in overlap:
            assert all(r[h] == by_order[r["Order Number"]][h] for h in old_header)
    # re-running the demo writes the very same files
    again = write_demo_reports(tmp_path, n_sales=N, seed=7)
    assert [p.name for p in again] == [p.name for p in demo_files]
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in demo_files]
