"""Alias API → raw tables: the logic behind the ``alias`` assets (no Dagster here).

Orders (:func:`sync_orders`). The orders endpoint has no "updated since" filter, and the
simulator (like the real list, as far as its docs show) answers newest ``updated_at`` first. A
sync walks pages until one ends before ``since`` (the previous sync's newest ``updated_at`` less
``overlap``), keeping the orders updated on or after it. That early stop relies on the order:
a page that is not newest-first turns it off and the walk reads every page. Without a cursor it
reads everything. Orders seen twice in one walk (data moving between pages) are kept once, and
re-fetched unchanged orders are duplicates for the loader (content hash): a rerun adds nothing,
an order that changed (completed, paid out) adds one new version row.

Listings (:func:`sync_listings`): every page, each run (a seller has few).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from assets.stockx_sync import _load as load_records
from resources.warehouse import LoadResult, ensure_raw_table
from soleflipper.formats import load_format

ORDERS_FORMAT = "alias_orders"
LISTINGS_FORMAT = "alias_listings"
ORDERS_SOURCE = "alias:/api/v1/orders"
LISTINGS_SOURCE = "alias:/api/v1/listings"
DEFAULT_OVERLAP = timedelta(days=2)


@dataclass
class AliasSyncResult:
    load: LoadResult | None = None
    api_calls: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    walked_all: bool = True
    since: datetime | None = None
    max_updated_at: datetime | None = None  # the next cursor
    seen_twice: int = 0

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_changed", "rows_duplicate", "rows_quarantined")
        return {k: getattr(self.load, k) if self.load else 0 for k in keys}


def updated_at(record: Mapping[str, Any]) -> datetime | None:
    text = record.get("updated_at")
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _newest_first(page: list[dict[str, Any]]) -> bool:
    stamps = [updated_at(o) for o in page]
    return None not in stamps and all(a >= b for a, b in zip(stamps, stamps[1:], strict=False))  # type: ignore[operator]


@dataclass
class _Collected:
    records: list[dict[str, Any]] = field(default_factory=list)
    keys: set[tuple[Any, Any]] = field(default_factory=set)
    seen_twice: int = 0

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            key = (record.get("id"), record.get("updated_at"))
            if key in self.keys:
                self.seen_twice += 1
                continue
            self.keys.add(key)
            self.records.append(record)


def collect_orders(pages: Iterable[list[dict[str, Any]]], since: datetime | None
                   ) -> tuple[list[dict[str, Any]], bool, int]:
    """(orders updated on/after ``since`` — all without it —, whether every page was read, repeats dropped)."""
    collected = _Collected()
    ordered, previous_oldest = True, None
    iterator = iter(pages)
    for page in iterator:
        ordered = ordered and _newest_first(page)
        if ordered and page and previous_oldest is not None and updated_at(page[0]) > previous_oldest:
            ordered = False
        if page:
            previous_oldest = updated_at(page[-1])
        collected.add(o for o in page if since is None or (updated_at(o) or since) >= since)
        if since is not None and ordered and page and previous_oldest is not None and previous_oldest < since:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            return collected.records, False, collected.seen_twice
    return collected.records, True, collected.seen_twice


def _load(conn: psycopg.Connection, fmt_name: str, records: list[dict[str, Any]], source: str) -> LoadResult | None:
    """One batch through the loader (the StockX sync's helper); the table exists even with no records."""
    fmt = load_format(fmt_name)
    ensure_raw_table(conn, fmt)
    return load_records(conn, fmt, records, source)


def sync_orders(client: Any, conn: psycopg.Connection, *, cursor: datetime | None,
                overlap: timedelta = DEFAULT_OVERLAP, page_size: int = 50) -> AliasSyncResult:
    """Orders updated since ``cursor - overlap`` (all without a cursor) into raw.alias_orders."""
    calls, retries, pages_before = client.calls_made, client.retries_made, client.pages_received
    since = cursor - overlap if cursor is not None else None
    records, walked_all, seen_twice = collect_orders(client.iter_orders(page_size=page_size), since)
    result = AliasSyncResult(since=since, walked_all=walked_all, records=len(records), seen_twice=seen_twice)
    result.load = _load(conn, ORDERS_FORMAT, records, ORDERS_SOURCE)
    stamps = [s for s in (updated_at(o) for o in records) if s is not None]
    result.max_updated_at = max([*stamps, *([cursor] if cursor else [])], default=None)
    result.api_calls, result.retries = client.calls_made - calls, client.retries_made - retries
    result.pages = client.pages_received - pages_before
    return result


def sync_listings(client: Any, conn: psycopg.Connection, *, page_size: int = 50) -> AliasSyncResult:
    """Every listing into raw.alias_listings (unchanged ones are duplicates)."""
    calls, retries, pages_before = client.calls_made, client.retries_made, client.pages_received
    collected = _Collected()
    for page in client.iter_listings(page_size=page_size):
        collected.add(page)
    result = AliasSyncResult(records=len(collected.records), seen_twice=collected.seen_twice)
    result.load = _load(conn, LISTINGS_FORMAT, collected.records, LISTINGS_SOURCE)
    result.api_calls, result.retries = client.calls_made - calls, client.retries_made - retries
    result.pages = client.pages_received - pages_before
    return result
