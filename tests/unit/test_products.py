"""Style-code and size normalisation on tricky examples as they appear in real exports."""

from __future__ import annotations

import csv
import gzip

import pytest

from soleflipper.products import (
    SizeError,
    normalize_style_code,
    parse_size,
    split_style_codes,
    style_key,
)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("DD1391-100", "DD1391-100"),
    ("DD1391 100", "DD1391-100"),
    ("dd1391100", "DD1391-100"),
    ("  dd1391_100 ", "DD1391-100"),
    ("555088-711", "555088-711"),
    ("555088711", "555088-711"),
    ("1191A266-102", "1191A266-102"),
    ("1191a266 102", "1191A266-102"),
    ("GZ1458", "GZ1458"),  # adidas: no colour suffix
    ("171545C", "171545C"),  # Converse
    ("EK0A5BBG-S06", "EK0A5BBG-S06"),
    ("OMNJ012R21LEA0011001", "OMNJ012R21LEA0011001"),
    ("xxxxxx- xxx".replace("x", "1"), "111111-111"),  # a stray space after the dash (seen in a report)
    ("N/A", None),
    ("", None),
    (None, None),
])
def test_style_codes_normalise_to_one_form(raw, canonical):
    assert normalize_style_code(raw) == canonical


def test_style_key_ignores_every_separator():
    keys = {style_key(v) for v in ("DD1391-100", "DD1391 100", "dd1391100", "DD1391_100", "dd-1391-100")}
    assert keys == {"DD1391100"}


def test_fields_with_several_codes_split():
    assert split_style_codes("DH0832-660/DH0833-660") == ["DH0832-660", "DH0833-660"]
    assert split_style_codes("1I20-191-006/1I20-291-006") == ["1I20-191-006", "1I20-291-006"]
    assert split_style_codes("N/A") == []


@pytest.mark.parametrize(("label", "system", "value"), [
    ("10", "US M", "10"), ("10.5", "US M", "10.5"), ("9.0", "US M", "9"), ("10 1/2", "US M", "10.5"),
    ("10.5W", "US W", "10.5"), ("8W", "US W", "8"), ("W 8", "US W", "8"),
    ("5.5Y", "US Y", "5.5"), ("4Y", "US Y", "4"), ("6.5 GS", "US Y", "6.5"), ("3J", "US Y", "3"),
    ("10C", "US C", "10"), ("1C", "US C", "1"), ("9TD", "US C", "9"),
    ("43", "EU", "43"), ("39", "EU", "39"), ("42 2/3", "EU", "422/3"), ("EU 44.5", "EU", "44.5"),
    ("UK 9", "UK", "9"),
    ("M", "APPAREL", "M"), ("XXL", "APPAREL", "XXL"), ("S/M", "APPAREL", "S/M"), ("L/XL", "APPAREL", "L/XL"),
    ("34W/32L", "APPAREL", "34W/32L"), ("36/38", "EU", "36/38"),
    ("12W / 10.5M", "US M", "10.5"), ("S / Men's 9-10", "APPAREL", "S"),
    ("OS", "ONE SIZE", "OS"),
])
def test_sizes_seen_in_real_exports(label, system, value):
    size = parse_size(label)
    assert (size.system, size.value, size.label) == (system, value, label)


def test_unsized_items_have_no_size_and_nonsense_is_an_error():
    assert parse_size("N/A") is None and parse_size(None) is None
    for bad in ("106", "size ten", "10.75", "XXXXL/7"):
        with pytest.raises(SizeError):
            parse_size(bad)


@pytest.mark.shared_data
def test_every_size_in_the_real_seller_report_is_read(real_data):
    with open(real_data / "stockx_seller_sales_report_2022.csv", newline="", encoding="utf-8") as f:
        labels = {r["Sku Size"] for r in csv.DictReader(f)}
    parsed = {label: parse_size(label) for label in labels}
    assert len(labels) == 88
    assert [label for label, size in parsed.items() if size is None] == ["N/A"]
    assert parsed["12W / 10.5M"].key == "US M 10.5" and parsed["3J"].key == "US Y 3"


@pytest.mark.shared_data
def test_every_size_in_the_stockx_contest_data_is_a_mens_us_size(real_data):
    with gzip.open(real_data / "stockx_contest_2019.csv.gz", "rt", newline="", encoding="utf-8") as f:
        labels = {r["Shoe Size"] for r in csv.DictReader(f)}
    systems = {parse_size(label).system for label in labels}
    assert systems == {"US M"} and len(labels) > 20
