"""The pure pieces of the StockX sync: history window, style-code plan, matching, snapshot day."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from assets.stockx import snapshot_day, stockx_enabled
from assets.stockx_sync import (
    HISTORY_START,
    OrderWindow,
    SyncResult,
    distinct_style_codes,
    history_window,
    max_created_date,
    order_window,
    products_with_style,
    title_key,
    with_snapshot_date,
)
from resources.warehouse import LoadResult

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("since", "overlap", "pending", "expected_start"),
    [
        (None, 3, None, HISTORY_START),  # never synced: the whole history
        (date(2026, 3, 10), 3, None, date(2026, 3, 7)),  # the overlap before the cursor
        (date(2026, 3, 10), 0, None, date(2026, 3, 10)),
        (date(2026, 3, 10), 3, date(2026, 2, 20), date(2026, 2, 20)),  # an open order pulls it back
        (date(2026, 3, 10), 3, date(2026, 3, 9), date(2026, 3, 7)),  # ... never forward
        (date(2016, 1, 2), 30, None, HISTORY_START),  # never before StockX existed
        (date(2026, 4, 1), 3, None, TODAY),  # a cursor in the future (clock skew): today
    ],
)
def test_history_window(since, overlap, pending, expected_start):
    assert history_window(since, TODAY, overlap, pending) == (expected_start, TODAY)


def test_history_window_rejects_a_negative_overlap():
    with pytest.raises(ValueError, match="overlap_days"):
        history_window(TODAY, TODAY, -1)


def test_max_created_date_is_the_newest_utc_day_and_ignores_missing_ones():
    records = [{"createdAt": "2024-12-29T23:59:59.000Z"}, {"createdAt": "2025-01-02T00:00:00.000Z"},
               {"createdAt": None}, {}]
    assert max_created_date(records) == date(2025, 1, 2)
    assert max_created_date([{"createdAt": None}]) is None


def test_distinct_style_codes_normalise_split_and_drop_blanks():
    values = ["dd1391 100", "DD1391-100", "DH0832-660/DH0833-660", None, "N/A", "", "  cp9654 ", "CP9654K"]
    assert distinct_style_codes(values) == ["DD1391-100", "DH0832-660", "DH0833-660", "CP9654", "CP9654K"]


def test_products_with_style_matches_exactly_on_the_style_key():
    products = [{"productId": "a", "styleId": "CP9654"}, {"productId": "b", "styleId": "CP9654K"},
                {"productId": "c", "styleId": None}, {"productId": "d", "styleId": "cp-9654"}]
    assert [p["productId"] for p in products_with_style(products, "cp9654")] == ["a", "d"]
    assert products_with_style(products, "") == []


def test_title_key_ignores_case_and_spacing():
    assert title_key("  Pokemon Center  PIKACHU\tPlush ") == title_key("pokemon center pikachu plush")
    assert title_key(None) == ""


def test_with_snapshot_date_stamps_copies():
    records = [{"variantId": "v1", "lowestAskAmount": None}]
    assert with_snapshot_date(records, date(2026, 3, 15)) == [
        {"variantId": "v1", "lowestAskAmount": None, "snapshotDate": "2026-03-15"}]
    assert "snapshotDate" not in records[0]


def test_sync_result_totals_per_table():
    loads = [LoadResult("stockx_products", "raw.stockx_products", "s", "b1", rows_read=3, rows_loaded=2,
                        rows_duplicate=1),
             LoadResult("stockx_variants", "raw.stockx_variants", "s", "b2", rows_read=10, rows_loaded=10)]
    result = SyncResult(loads=loads)
    assert result.totals("raw.stockx_products") == {
        "rows_read": 3, "rows_loaded": 2, "rows_changed": 0, "rows_duplicate": 1, "rows_quarantined": 0}
    assert result.totals()["rows_loaded"] == 12
    assert SyncResult().totals("raw.stockx_orders")["rows_read"] == 0


def test_snapshot_day_is_today_only():
    assert snapshot_day(None, TODAY) == TODAY
    assert snapshot_day("2026-03-15", TODAY) == TODAY
    with pytest.raises(dg.Failure, match="partition 2026-03-14 cannot be"):
        snapshot_day("2026-03-14", TODAY)
    with pytest.raises(dg.Failure, match="only serves current market data"):
        snapshot_day("2026-03-16", TODAY)


def test_a_run_launched_yesterday_for_yesterday_may_finish_after_midnight():
    # launched 2026-03-14 for that day, the market-data step runs after UTC midnight
    assert snapshot_day("2026-03-14", TODAY, launched_on=date(2026, 3, 14)) == date(2026, 3, 14)
    # a backfill launched today for yesterday is still refused, as is a run launched two days ago
    with pytest.raises(dg.Failure, match="partition 2026-03-14 cannot be"):
        snapshot_day("2026-03-14", TODAY, launched_on=TODAY)
    with pytest.raises(dg.Failure, match="partition 2026-03-13 cannot be"):
        snapshot_day("2026-03-13", TODAY, launched_on=date(2026, 3, 13))


def test_stockx_enabled_needs_an_api_key():
    assert stockx_enabled({"SOLEFLIPPER_STOCKX_API_KEY": "k"})
    assert not stockx_enabled({"SOLEFLIPPER_STOCKX_API_KEY": "  "})
    assert not stockx_enabled({})


# --------------------------------------------------------------------------- orders window per partition range


@pytest.mark.parametrize(
    ("since", "pending", "partition", "expected"),
    [
        # no partition (refresh_everything): incremental + active orders
        (date(2026, 3, 10), None, None, OrderWindow(date(2026, 3, 7), TODAY, True, False)),
        # a past range (a backfill): exactly its days, no active orders, whatever the cursor
        (date(2026, 3, 10), None, (date(2025, 6, 1), date(2025, 6, 30)),
         OrderWindow(date(2025, 6, 1), date(2025, 6, 30), False, True)),
        (None, date(2026, 3, 1), (date(2025, 6, 1), date(2025, 6, 1)),
         OrderWindow(date(2025, 6, 1), date(2025, 6, 1), False, True)),
        (date(2026, 3, 10), None, (date(2026, 3, 14), date(2026, 3, 14)),  # yesterday is a past day
         OrderWindow(date(2026, 3, 14), date(2026, 3, 14), False, True)),
        (None, None, (date(2015, 12, 1), date(2016, 1, 3)),  # never before StockX existed
         OrderWindow(HISTORY_START, date(2016, 1, 3), False, True)),
        # today's partition (the 4-hourly schedule): incremental, its overlap and open orders included
        (date(2026, 3, 10), None, (TODAY, TODAY), OrderWindow(date(2026, 3, 7), TODAY, True, False)),
        (date(2026, 3, 10), date(2026, 2, 20), (TODAY, TODAY), OrderWindow(date(2026, 2, 20), TODAY, True, False)),
        (None, None, (TODAY, TODAY), OrderWindow(HISTORY_START, TODAY, True, False)),  # first sync: all history
        # a range reaching today starts no later than the range
        (date(2026, 3, 10), None, (date(2026, 1, 1), TODAY), OrderWindow(date(2026, 1, 1), TODAY, True, False)),
    ],
)
def test_order_window(since, pending, partition, expected):
    assert order_window(since, TODAY, 3, pending, partition) == expected


def test_order_window_rejects_a_reversed_range():
    with pytest.raises(ValueError, match="ends"):
        order_window(None, TODAY, 3, None, (date(2026, 3, 2), date(2026, 3, 1)))
