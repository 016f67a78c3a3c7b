"""eBay API → raw tables: the domain logic behind the ``ebay`` API assets (no Dagster here).

Orders (:func:`sync_orders`)
    getOrders filtered by ``lastmodifieddate:[start..now]``: start is ``overlap`` before the newest
    lastModifiedDate already loaded (the cursor, kept by the asset), or :data:`HISTORY_DAYS` back
    on a first sync (eBay serves orders up to two years old). Re-fetched unchanged orders add
    nothing (the loader de-duplicates by content); a changed order adds one version row.
Transactions (:func:`sync_transactions`)
    Finances getTransactions by ``transactionDate:[start..now]``, all types: the SALE transaction
    carries an order's fees per line item and the net amount paid out. Fees and payouts arrive
    *after* the order, and a transaction keeps its date while its status moves on (FUNDS_ON_HOLD
    → PAYOUT). So the window starts ``overlap`` before the cursor, and earlier still at the
    creation of the oldest loaded order that has no paid-out SALE transaction yet (within
    :data:`PENDING_LOOKBACK_DAYS`): a late payout is always fetched, and fetched once more when
    its status changes, never duplicated.

One walk = one all-or-nothing batch through :func:`resources.warehouse.load_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from assets.stockx_sync import SyncResult, _CallMeter, _exists, _load
from resources.ebay.client import ORDERS_PATH, TRANSACTIONS_PATH, date_range
from resources.warehouse import ensure_raw_table
from soleflipper.formats import load_format

ORDERS_FORMAT = "ebay_api_orders"
TRANSACTIONS_FORMAT = "ebay_api_transactions"
HISTORY_DAYS = 730  # getOrders: orders up to two years old (api-contracts.md §3.2)
DEFAULT_OVERLAP = timedelta(hours=6)
PENDING_LOOKBACK_DAYS = 90
ORDERS_SOURCE = f"ebay:{ORDERS_PATH}"
TRANSACTIONS_SOURCE = f"ebay:{TRANSACTIONS_PATH}"


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def newest(records: Iterable[Mapping[str, Any]], field: str) -> datetime | None:
    """The latest ``field`` timestamp among records (None if none has one)."""
    return max((m for m in (_moment(r.get(field)) for r in records) if m is not None), default=None)


def window_start(since: datetime | None, now: datetime, overlap: timedelta,
                 pending_since: datetime | None = None) -> datetime:
    """Where a sync starts: ``overlap`` before the cursor (or :data:`HISTORY_DAYS` back without
    one), pulled back to ``pending_since``, never before the two-year horizon."""
    if overlap < timedelta(0):
        raise ValueError("overlap must not be negative")
    horizon = now - timedelta(days=HISTORY_DAYS)
    start = horizon if since is None else since - overlap
    if pending_since is not None:
        start = min(start, pending_since)
    return max(start, horizon)


def pending_payout_since(conn: psycopg.Connection, now: datetime,
                         lookback_days: int = PENDING_LOOKBACK_DAYS) -> datetime | None:
    """Creation time of the oldest loaded, not cancelled order (within ``lookback_days``) without a
    paid-out SALE transaction."""
    if not (_exists(conn, "ebay_api_orders") and _exists(conn, "ebay_api_transactions")):
        return None
    with conn.transaction():
        return conn.execute(
            "select min(o.creation_date) from raw.ebay_api_orders o"
            " where o.creation_date >= %s and coalesce(o.cancel_state, '') <> 'CANCELED'"
            " and not exists (select 1 from raw.ebay_api_transactions t where t.order_id = o.order_id"
            " and t.transaction_type = 'SALE' and t.transaction_status = 'PAYOUT')",
            (now - timedelta(days=lookback_days),)).fetchone()[0]


def sync_orders(client: Any, conn: psycopg.Connection, *, since: datetime | None, now: datetime,
                overlap: timedelta = DEFAULT_OVERLAP, limit: int = 200) -> tuple[SyncResult, datetime | None]:
    """Orders modified since the cursor into raw.ebay_api_orders; returns (result, next cursor)."""
    meter = _CallMeter(client)
    fmt = load_format(ORDERS_FORMAT)
    ensure_raw_table(conn, fmt)
    start = window_start(since, now, overlap)
    orders = [o for page in client.iter_orders(start, now, limit=limit) for o in page]
    result = SyncResult()
    loaded = _load(conn, fmt, orders, f"{ORDERS_SOURCE}?filter={date_range('lastmodifieddate', start, now)}")
    result.loads += [loaded] if loaded else []
    cursor = max((m for m in (since, newest(orders, "lastModifiedDate")) if m is not None), default=None)
    return meter.into(result), cursor


def sync_transactions(client: Any, conn: psycopg.Connection, *, since: datetime | None, now: datetime,
                      overlap: timedelta = DEFAULT_OVERLAP, limit: int = 1000
                      ) -> tuple[SyncResult, datetime | None, datetime]:
    """Finances transactions into raw.ebay_api_transactions; returns (result, next cursor, window start)."""
    meter = _CallMeter(client)
    fmt = load_format(TRANSACTIONS_FORMAT)
    ensure_raw_table(conn, fmt)
    ensure_raw_table(conn, load_format(ORDERS_FORMAT))  # the pending-payout lookup reads it
    start = window_start(since, now, overlap, pending_payout_since(conn, now))
    rows = [t for page in client.iter_transactions(start, now, limit=limit) for t in page]
    result = SyncResult()
    loaded = _load(conn, fmt, rows, f"{TRANSACTIONS_SOURCE}?filter={date_range('transactionDate', start, now)}")
    result.loads += [loaded] if loaded else []
    cursor = max((m for m in (since, newest(rows, "transactionDate")) if m is not None), default=None)
    return meter.into(result), cursor, start
