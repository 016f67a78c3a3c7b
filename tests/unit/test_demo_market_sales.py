"""The demo's synthetic market sales history (soleflipper/demo_market_sales.py): deterministic,
long enough to forecast, several sizes per product, the intended pattern, and readable by the
stockx_activity_sales format without a single quarantined row."""

from __future__ import annotations

import gzip
import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import islice

import pytest

from soleflipper.csv_parsing import ParsedRow, parse_csv
from soleflipper.demo_data import CATALOG, NA
from soleflipper.demo_market_sales import (
    DEMO_MARKET_END,
    DEMO_MARKET_START,
    HEADER,
    iter_market_sales,
    market_products,
    market_sales_bytes,
    weekly_rate,
    write_demo_market_sales,
)
from soleflipper.formats import load_format


@pytest.fixture(scope="module")
def sales():
    return list(iter_market_sales(seed=7))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_demo_market_sales(tmp_path_factory.mktemp("market"), seed=7)


def test_same_seed_same_bytes_other_seed_other_sales(sales, written):
    assert written.read_bytes() == market_sales_bytes(iter_market_sales(seed=7)) == market_sales_bytes(sales)
    assert list(islice(iter_market_sales(seed=8), 50)) != sales[:50]


def test_covers_at_least_sixty_weeks_in_utc(sales):
    first = min(s.sold_at for s in sales)
    last = max(s.sold_at for s in sales)
    assert first >= datetime(2023, 1, 2, tzinfo=UTC) and last < datetime(2024, 12, 30, tzinfo=UTC)
    weeks = {(s.sold_at.date() - DEMO_MARKET_START).days // 7 for s in sales}
    assert len(weeks) == (DEMO_MARKET_END - DEMO_MARKET_START).days // 7 + 1 == 104
    assert all(s.sold_at.tzinfo is UTC for s in sales[:100])


def test_every_sized_demo_product_with_a_style_code_has_several_sizes(sales):
    expected = {p.item for p in CATALOG if p.style != NA and p.kind != "NA"}
    assert {p.item for p in market_products()} == expected
    sizes = defaultdict(set)
    for s in sales:
        sizes[s.product].add(s.size)
    assert set(sizes) == expected
    assert min(len(v) for v in sizes.values()) >= 4
    by_product = {p.item: p for p in CATALOG}
    assert all(s.style_code == by_product[s.product].style for s in sales[:: 97])


def test_weekly_rate_has_trend_yearly_season_and_four_week_cycle():
    product = next(p for p in CATALOG if p.style == "B75806")  # Samba: popularity 2.0, trend +2.0
    rates = [weekly_rate(product, w, 104) for w in range(104)]
    # trend: the second year sells more than the first
    assert sum(rates[52:]) > 1.5 * sum(rates[:52])
    # yearly season: late November beats early June within one year (week 47 vs week 22 of 2023)
    assert rates[46] / rates[22] > 1.3
    # 4-weekly cycle: the first week of each cycle is the strongest of its four
    assert all(rates[w] == max(rates[w:w + 4]) for w in range(0, 100, 4) if 40 <= w < 44)
    flat = next(p for p in CATALOG if p.trend == 0.0 and p.style != NA)
    cycle = [weekly_rate(flat, w, 104) for w in range(8, 12)]
    assert cycle.index(max(cycle)) == 0


def test_weekly_counts_follow_the_rate(sales):
    product = next(p for p in CATALOG if p.style == "DD1391-100")
    counts = Counter((s.sold_at.date() - DEMO_MARKET_START).days // 7 for s in sales if s.product == product.item)
    expected = sum(weekly_rate(product, w, 104) for w in range(104))
    assert abs(sum(counts.values()) - expected) < 4 * expected ** 0.5


def test_file_reads_with_the_activity_format_without_errors(written, sales):
    path = written
    assert path.name.endswith(".csv.gz")
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert text.splitlines()[0] == ",".join(HEADER)
    fmt = load_format("stockx_activity_sales")
    rows = list(parse_csv(fmt, path)[1])
    assert len(rows) == len(sales)
    assert all(isinstance(r, ParsedRow) for r in rows)
    first = dict(zip(fmt.column_names, rows[0].values, strict=True))
    assert first["amount_currency"] == "USD" and first["style_code"] == sales[0].style_code
    assert first["created_at"] == sales[0].sold_at.isoformat()


def test_unchanged_file_is_not_rewritten(written):
    path = written
    os.utime(path, (1_000_000, 1_000_000))
    assert write_demo_market_sales(path.parent, seed=7) == path
    assert path.stat().st_mtime == 1_000_000
