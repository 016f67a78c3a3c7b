"""The streaming CSV parser against the StockX seller report format, on hand-made files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from soleflipper.csv_parsing import FileFormatError, ParsedRow, RowError, parse_csv
from soleflipper.demo_data import generate_sales, write_sales_report
from soleflipper.formats import load_format

FMT = load_format("stockx_sales_report")
COLS = FMT.column_names


def _write(path: Path, rows: list[dict], layout: str = "current") -> Path:
    write_sales_report(path, rows, layout=layout)
    return path


def _parse(path: Path):
    _, records = parse_csv(FMT, path)
    return list(records)


def test_current_layout_parses_every_record_with_canonical_values(tmp_path):
    rows = generate_sales(25, seed=3)
    out = _parse(_write(tmp_path / "r.csv", rows))
    assert [type(r) for r in out] == [ParsedRow] * 25
    first = dict(zip(COLS, out[0].values, strict=True))
    src = rows[0]
    assert first["order_number"] == src["Order Number"]
    # "2024-03-05 14:07:09 +00" becomes an ISO timestamp with an explicit UTC offset
    assert first["sale_date"] == src["Sale Date"].replace(" +00", "+00:00").replace(" ", "T")
    assert first["total_payout"] == src["Total Gross Amount (Total Payout)"]
    assert first["vat_rate"] is None  # empty string is NULL
    # record i starts on physical line 2 + 2*i: Special references spans two lines
    assert [r.line for r in out[:3]] == [2, 4, 6]


def test_na_means_null_in_every_typed_column(tmp_path):
    rows = generate_sales(200, seed=5)
    out = _parse(_write(tmp_path / "r.csv", rows))
    by_order = {dict(zip(COLS, r.values, strict=True))["order_number"]: r for r in out}
    na_size = [r for r in rows if r["Sku Size"] == "N/A"]
    na_fee = [r for r in rows if r["Seller Fee Currency"] == "N/A"]
    assert na_size and na_fee
    for r in na_size:
        assert dict(zip(COLS, by_order[r["Order Number"]].values, strict=True))["sku_size"] is None
    for r in na_fee:
        parsed = dict(zip(COLS, by_order[r["Order Number"]].values, strict=True))
        assert parsed["seller_fee_currency"] is None and parsed["seller_fee"] is None


def test_legacy_37_column_layout_is_mapped_by_header_name(tmp_path):
    rows = generate_sales(10, seed=3)
    current = _parse(_write(tmp_path / "c.csv", rows))
    legacy = _parse(_write(tmp_path / "l.csv", rows, layout="legacy"))
    with open(tmp_path / "l.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert len(header) == 37 and header.index("Sale Date") < header.index("Payout date")
    optional = {c.name for c in FMT.columns if c.optional}
    for c_row, l_row in zip(current, legacy, strict=True):
        c_vals = dict(zip(COLS, c_row.values, strict=True))
        l_vals = dict(zip(COLS, l_row.values, strict=True))
        assert {k: v for k, v in c_vals.items() if k not in optional} == \
               {k: v for k, v in l_vals.items() if k not in optional}
        assert all(l_vals[k] is None for k in optional)


def test_header_matching_ignores_case_and_spacing(tmp_path):
    path = _write(tmp_path / "r.csv", generate_sales(3, seed=1))
    text = path.read_text(encoding="utf-8").replace("Order Number", "order  NUMBER", 1)
    path.write_text(text, encoding="utf-8")
    assert all(isinstance(r, ParsedRow) for r in _parse(path))


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "broken.csv"
    rows = generate_sales(3, seed=1)
    with open(path, "w", newline="", encoding="utf-8") as f:
        header = [h for h in rows[0] if h != "Order Number"]
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(FileFormatError) as err:
        parse_csv(FMT, path)
    assert "broken.csv" in str(err.value) and "'Order Number'" in str(err.value)


def test_bad_values_become_row_errors_naming_line_and_field(tmp_path):
    rows = generate_sales(6, seed=2)
    rows[1]["Sale Date"] = "31/02/2024"
    rows[3]["Total Gross Amount (Total Payout)"] = "12,5O"
    rows[4]["Order Number"] = ""
    out = _parse(_write(tmp_path / "r.csv", rows))
    errors = [r for r in out if isinstance(r, RowError)]
    assert [(e.line, e.field) for e in errors] == [
        (4, "Sale Date"), (8, "Total Gross Amount (Total Payout)"), (10, "Order Number")]
    assert "'31/02/2024' is not a timestamp" in errors[0].reason
    assert errors[2].reason == "required value is missing"
    assert errors[0].record["Order Number"] == rows[1]["Order Number"]  # the record is kept whole


def test_truncated_last_line_is_a_row_error_not_a_crash(tmp_path):
    path = _write(tmp_path / "r.csv", generate_sales(5, seed=2))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 120])  # cut into the last record
    out = _parse(path)
    assert [type(r) for r in out] == [ParsedRow] * 4 + [RowError]
    assert "fields, the header has 44" in out[-1].reason and out[-1].line == 10


def test_unknown_columns_are_kept_not_dropped(tmp_path):
    path = tmp_path / "r.csv"
    rows = generate_sales(2, seed=2)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "Brand New Column"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "Brand New Column": "x1"})
    out = _parse(path)
    assert [r.extra for r in out] == [{"Brand New Column": "x1"}] * 2


def test_non_utf8_file_fails_naming_file_and_line(tmp_path):
    path = _write(tmp_path / "latin1.csv", generate_sales(4, seed=2))
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"self-billing", "self-billing (Gebühr)".encode("latin-1"), 1)  # line 5
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(FileFormatError) as err:
        list(parse_csv(FMT, path)[1])
    assert "latin1.csv" in str(err.value) and "line 5 is not valid utf-8" in str(err.value)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty.csv: the file is empty"):
        parse_csv(FMT, path)


def test_utf8_bom_is_tolerated(tmp_path):
    path = _write(tmp_path / "bom.csv", generate_sales(2, seed=2))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert all(isinstance(r, ParsedRow) for r in _parse(path))
