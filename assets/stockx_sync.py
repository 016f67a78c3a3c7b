"""StockX API → raw tables: the domain logic behind the ``stockx`` assets (no Dagster here).

Each ``sync_*`` function takes a :class:`~resources.stockx.StockXClient` and a psycopg connection,
fetches one kind of record, runs it through its declarative format
(``soleflipper/formats/stockx_*.yaml``) and loads it with :func:`resources.warehouse.load_rows`:
one page set = one all-or-nothing batch, deduplicated by content hash, invalid records in
``raw.quarantine``. So re-fetching something unchanged adds nothing, and a changed order (new
status, payout) adds one new version row.

Records of a page set are collected before they are loaded: a walk that fails half-way (retries
exhausted, budget spent) loads nothing of that walk and holds no transaction open across HTTP.

Orders (:func:`sync_orders`)
    StockX filters order history by *creation* date only (there is no "updated since"). The
    window therefore starts ``overlap_days`` before the newest creation date already loaded (the
    cursor, kept by the asset), and earlier still if an order we have only seen on the *active*
    endpoint (not yet finished, so its final version is still to come) was created before that.
    Without a cursor the window reaches back to :data:`HISTORY_START`. Active orders are always
    fetched in full (they are few). A partition range (a backfill, :func:`order_window`) that ends
    before today fetches exactly its days and no active orders; one that reaches today is the
    incremental window, started no later than the range.
Catalog (:func:`sync_catalog`)
    Every style code seen in sales, purchases and API orders is searched; the product whose
    ``styleId`` has the same :func:`~soleflipper.products.style_key` is taken (never a fuzzy
    match). Products an API order names by id but that have no style code are fetched by id;
    report items without a style code are searched by name (exact title match); GTINs look up
    the variant. Lookups that find nothing are counted and listed, never raised.
Market data (:func:`sync_market_data`)
    Current asks/bids per variant of the products in stock (``products.inventory_items``; every
    known product while that mart does not exist yet), stamped with ``snapshotDate``.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from resources.http_client import ApiError
from resources.warehouse import LoadResult, ensure_raw_table, load_rows
from soleflipper.formats import CsvFormat, load_format
from soleflipper.products import split_style_codes, style_key
from soleflipper.record_parsing import parse_records
from soleflipper.warehouse_inputs.pricing import IN_STOCK

log = logging.getLogger(__name__)

ORDERS_FORMAT = "stockx_orders"
PRODUCTS_FORMAT = "stockx_products"
VARIANTS_FORMAT = "stockx_variants"
MARKET_DATA_FORMAT = "stockx_market_data"

# StockX opened in 2016: no seller has older orders. A fixed date, not "N years back", so a
# first sync never silently drops an old order.
HISTORY_START = date(2016, 1, 1)
DEFAULT_OVERLAP_DAYS = 3
# An order seen only as *active* pulls the history window back to its creation date until its
# finished version has been loaded, but not beyond this many days before today: an order that
# is still open after that is stuck (and keeps being fetched from the active endpoint anyway).
PENDING_LOOKBACK_DAYS = 90
SEARCH_RESULTS = 50  # one search page (the maximum page size): the exact match is on it
QUERY_MAX = 100  # StockX rejects longer search queries

ORDERS_HISTORY_SOURCE = "stockx:/selling/orders/history"
ORDERS_ACTIVE_SOURCE = "stockx:/selling/orders/active"
PRODUCTS_SOURCE = "stockx:/catalog/products"
VARIANTS_SOURCE = "stockx:/catalog/products/variants"
MARKET_DATA_SOURCE = "stockx:/catalog/products/market-data"

# Where style codes are written down: (format, column of its raw table). Tables that do not
# exist yet are skipped, so a source that was never loaded costs nothing.
STYLE_CODE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("stockx_sales_report", "style"),
    ("stockx_orders", "style_id"),
    ("purchases_sheet", "style_code"),
    ("purchases_sheet_de", "style_code"),
    ("sales_sheet", "style_code"),
    ("alias_consignment", "sku"),
)

_SPACES = re.compile(r"\s+")


@dataclass
class SyncResult:
    """What one sync did: its loads (one per page set), the API calls it cost, what it missed."""

    loads: list[LoadResult] = field(default_factory=list)
    api_calls: int = 0  # requests sent, retries and token refreshes included
    retries: int = 0
    window: tuple[date, date] | None = None  # orders: the history window fetched
    max_created_date: date | None = None  # orders: the cursor after this sync
    pending_active: int = 0  # orders: orders seen only as active that widened the window
    looked_up: int = 0  # catalog: lookups attempted (codes, ids, names, GTINs)
    not_found: list[str] = field(default_factory=list)  # catalog / market data: lookups with no match
    products: int = 0  # catalog: products loaded; market data: products asked for
    snapshot_date: date | None = None  # market data

    def totals(self, raw_table: str | None = None) -> dict[str, int]:
        """rows_read/loaded/changed/duplicate/quarantined over the loads (of one ``raw.<table>``)."""
        loads = [r for r in self.loads if raw_table is None or r.raw_table == raw_table]
        keys = ("rows_read", "rows_loaded", "rows_changed", "rows_duplicate", "rows_quarantined")
        return {k: sum(getattr(r, k) for r in loads) for k in keys}


class _CallMeter:
    """Counts the calls and retries a client made between two points (the client may be shared)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = client.calls_made
        self.retries = client.retries_made

    def into(self, result: SyncResult) -> SyncResult:
        result.api_calls = self.client.calls_made - self.calls
        result.retries = self.client.retries_made - self.retries
        return result


# --------------------------------------------------------------------------- pure helpers


def history_window(
    since: date | None,
    today: date,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    pending_since: date | None = None,
) -> tuple[date, date]:
    """(fromDate, toDate) of the order-history fetch.

    ``since`` is the newest creation date already loaded (None: never synced, fetch everything
    from :data:`HISTORY_START`); ``pending_since`` the creation date of the oldest order seen
    only as active. The window never starts before HISTORY_START nor after today.
    """
    if overlap_days < 0:
        raise ValueError("overlap_days must not be negative")
    start = HISTORY_START if since is None else since - timedelta(days=overlap_days)
    if pending_since is not None:
        start = min(start, pending_since)
    start = min(max(start, HISTORY_START), today)
    return start, today


@dataclass(frozen=True)
class OrderWindow:
    """What one orders sync fetches: history created from ``start`` to ``end`` (UTC days, inclusive)
    and, unless it is a backfill of past days, the active orders."""

    start: date
    end: date
    include_active: bool
    backfill: bool  # a partition range that ends before today: exactly its days


def order_window(
    since: date | None,
    today: date,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    pending_since: date | None = None,
    partition: tuple[date, date] | None = None,
) -> OrderWindow:
    """The window of an orders sync.

    No ``partition``: the incremental :func:`history_window` and the active orders. A partition
    range (first day, last day) that ends before ``today``: exactly those days, no active orders
    (what a backfill asks for). A range that reaches today (the open day the schedule targets):
    the incremental window, started at the range's first day if that is earlier, so late and
    changed orders of earlier days are still caught (StockX filters by creation date only).
    """
    if partition is None:
        start, end = history_window(since, today, overlap_days, pending_since)
        return OrderWindow(start, end, include_active=True, backfill=False)
    first, last = partition
    if last < first:
        raise ValueError(f"partition range ends ({last}) before it starts ({first})")
    if last < today:
        first = max(first, HISTORY_START)
        return OrderWindow(first, max(first, last), include_active=False, backfill=True)
    start, end = history_window(since, today, overlap_days, pending_since)
    return OrderWindow(max(min(start, first), HISTORY_START), end, include_active=True, backfill=False)


def max_created_date(records: Iterable[Mapping[str, Any]]) -> date | None:
    """The newest ``createdAt`` (UTC date) among order records; None if none has one."""
    days = [date.fromisoformat(r["createdAt"][:10]) for r in records
            if isinstance(r.get("createdAt"), str) and len(r["createdAt"]) >= 10]
    return max(days, default=None)


def distinct_style_codes(values: Iterable[str | None]) -> list[str]:
    """Display-normalised style codes, one per :func:`style_key`, in first-seen order.

    A field may hold several codes (``DH0832-660/DH0833-660``); ``N/A`` and blanks hold none.
    """
    codes: dict[str, str] = {}
    for value in values:
        for code in split_style_codes(value):
            key = style_key(code)
            if key and key not in codes:
                codes[key] = code
    return list(codes.values())


def products_with_style(products: Iterable[Mapping[str, Any]], code: str) -> list[dict[str, Any]]:
    """The products whose ``styleId`` is ``code`` once normalised (``dd1391 100`` = ``DD1391-100``)."""
    key = style_key(code)
    return [dict(p) for p in products if key and style_key(p.get("styleId")) == key]


def title_key(text: str | None) -> str:
    """Case- and whitespace-insensitive product title, for exact name matches."""
    return _SPACES.sub(" ", (text or "").strip()).casefold()


def with_snapshot_date(records: Iterable[Mapping[str, Any]], snapshot: date) -> list[dict[str, Any]]:
    """Market-data records stamped with the day they describe (the API sends no date)."""
    return [{**r, "snapshotDate": snapshot.isoformat()} for r in records]


# --------------------------------------------------------------------------- database helpers


def _exists(conn: psycopg.Connection, table: str) -> bool:
    with conn.transaction():
        return conn.execute("select to_regclass(%s) is not null", (f"raw.{table}",)).fetchone()[0]


def _column_exists(conn: psycopg.Connection, table: str, column: str) -> bool:
    with conn.transaction():
        return conn.execute(
            "select exists (select 1 from pg_attribute where attrelid = to_regclass(%s)"
            " and attname = %s and attnum > 0 and not attisdropped)", (f"raw.{table}", column)).fetchone()[0]


def _values(conn: psycopg.Connection, query: sql.Composable, params: Sequence[Any] = ()) -> list[Any]:
    return [row[0] for row in _query(conn, query, params)]


def _query(conn: psycopg.Connection, query: sql.Composable, params: Sequence[Any] = ()) -> list[tuple]:
    with conn.transaction():
        return conn.execute(query, params).fetchall()


def _load(conn: psycopg.Connection, fmt: CsvFormat, records: list[dict[str, Any]], source: str) -> LoadResult | None:
    """One batch through the loader; nothing (no empty batch in raw.load_batches) if no records."""
    if not records:
        return None
    result = load_rows(conn, fmt, parse_records(fmt, records), source=source)
    log.info("%s: %s", fmt.table, result.summary())
    return result


def known_style_keys(conn: psycopg.Connection) -> set[str]:
    """Style keys of the products already in raw.stockx_products."""
    if not _exists(conn, "stockx_products"):
        return set()
    ids = _values(conn, sql.SQL("select distinct style_id from raw.stockx_products where style_id is not null"))
    return {k for k in map(style_key, ids) if k}


def style_codes_to_look_up(conn: psycopg.Connection, refresh: bool = False) -> list[str]:
    """Distinct normalised style codes from the raw tables that exist (:data:`STYLE_CODE_COLUMNS`),
    sorted; codes whose product is already in raw.stockx_products are left out unless ``refresh``."""
    values: list[str | None] = []
    for format_name, column in STYLE_CODE_COLUMNS:
        table = load_format(format_name).table
        if _exists(conn, table) and _column_exists(conn, table, column):
            values += _values(conn, sql.SQL("select distinct {c} from {t} where {c} is not null").format(
                c=sql.Identifier(column), t=sql.Identifier("raw", table)))
    codes = distinct_style_codes(sorted(v for v in values if v))
    known = set() if refresh else known_style_keys(conn)
    return sorted(c for c in codes if style_key(c) not in known)


@dataclass(frozen=True)
class CatalogLookups:
    """What :func:`sync_catalog` should look up (see :func:`catalog_lookups`)."""

    style_codes: list[str]
    product_ids: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    gtins: list[str] = field(default_factory=list)


def catalog_lookups(conn: psycopg.Connection, refresh: bool = False) -> CatalogLookups:
    """Style codes (:func:`style_codes_to_look_up`), product ids named by API orders, and names of
    report items without a style code; what raw.stockx_products already holds is left out unless
    ``refresh``. No source carries GTINs yet (``gtins`` stays empty)."""
    have_products = _exists(conn, "stockx_products") and not refresh
    known_ids: set[str] = set()
    known_titles: set[str] = set()
    if have_products:
        known_ids = set(_values(conn, sql.SQL("select distinct product_id from raw.stockx_products")))
        known_titles = {title_key(t) for t in _values(
            conn, sql.SQL("select distinct title from raw.stockx_products where title is not null"))}
    product_ids: list[str] = []
    if _exists(conn, "stockx_orders"):
        product_ids = [p for p in _values(conn, sql.SQL(
            "select distinct product_id from raw.stockx_orders where product_id is not null order by 1"))
            if p not in known_ids]
    keywords: list[str] = []
    if _exists(conn, "stockx_sales_report"):
        items = _values(conn, sql.SQL(
            "select distinct item from raw.stockx_sales_report where style is null and item is not null order by 1"))
        seen: set[str] = set()
        for item in items:
            key = title_key(item)
            if key and key not in known_titles and key not in seen:
                seen.add(key)
                keywords.append(item)
    return CatalogLookups(style_codes_to_look_up(conn, refresh=refresh), product_ids, keywords)


def _has_history(conn: psycopg.Connection) -> bool:
    with conn.transaction():
        return conn.execute("select exists (select 1 from raw.stockx_orders where _source like %s)",
                            (ORDERS_HISTORY_SOURCE + "%",)).fetchone()[0]


def pending_active_since(conn: psycopg.Connection, today: date,
                         lookback_days: int = PENDING_LOOKBACK_DAYS) -> tuple[date | None, int]:
    """(creation date of the oldest order seen only on the active endpoint, how many there are),
    counting orders created within ``lookback_days`` before ``today``."""
    if not _exists(conn, "stockx_orders"):
        return None, 0
    with conn.transaction():
        oldest, count = conn.execute(
            "select min(created), count(*) from ("
            "  select order_number, min((created_at at time zone 'UTC')::date) as created"
            "  from raw.stockx_orders group by order_number"
            "  having bool_and(_source = %s)) pending"
            " where created >= %s",
            (ORDERS_ACTIVE_SOURCE, today - timedelta(days=lookback_days))).fetchone()
    return oldest, count


# --------------------------------------------------------------------------- syncs


def sync_orders(
    client: Any,
    conn: psycopg.Connection,
    *,
    since: date | None,
    today: date,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    page_size: int = 100,
    pending_lookback_days: int = PENDING_LOOKBACK_DAYS,
    partition: tuple[date, date] | None = None,
) -> SyncResult:
    """Order history (window: :func:`order_window`) and, unless backfilling past days, all active
    orders into raw.stockx_orders.

    ``since`` is the cursor of the previous sync (its ``max_created_date``); the result's
    ``max_created_date`` is the next one (never older than ``since``, so a backfill of old days
    does not move it back). A cursor while the table holds no history (a reset warehouse, an old
    Dagster instance) is ignored: full history, or for a backfill, the backfill's newest day.
    Loading is idempotent: re-fetching a window adds only orders that changed.
    """
    meter = _CallMeter(client)
    fmt = load_format(ORDERS_FORMAT)
    ensure_raw_table(conn, fmt)
    if since is not None and not _has_history(conn):
        log.warning("raw.stockx_orders holds no order history although a cursor (%s) exists "
                    "(was the warehouse reset?): %s", since,
                    "fetching the whole history" if partition is None else "not carrying it forward")
        since = None
    pending_since, pending = pending_active_since(conn, today, pending_lookback_days)
    window = order_window(since, today, overlap_days, pending_since, partition)
    start, end = window.start, window.end
    result = SyncResult(window=(start, end), pending_active=pending if window.include_active else 0)

    history = [o for page in client.iter_order_history(start, end, page_size=page_size) for o in page]
    source = f"{ORDERS_HISTORY_SOURCE}?fromDate={start.isoformat()}&toDate={end.isoformat()}"
    loaded = _load(conn, fmt, history, source)
    result.loads += [loaded] if loaded else []
    newest = max_created_date(history)
    result.max_created_date = max((d for d in (since, newest) if d is not None), default=None)

    if window.include_active:
        active = [o for page in client.iter_active_orders(page_size=page_size) for o in page]
        loaded = _load(conn, fmt, active, ORDERS_ACTIVE_SOURCE)
        result.loads += [loaded] if loaded else []
    return meter.into(result)


def _first_results(client: Any, query: str) -> list[dict[str, Any]]:
    """The first search page only: one request per lookup, however many loose matches follow."""
    return list(itertools.islice(client.search_catalog(query, page_size=SEARCH_RESULTS), SEARCH_RESULTS))


def _get_or_none(fetch: Any, *args: Any) -> Any:
    try:
        return fetch(*args)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def sync_catalog(
    client: Any,
    conn: psycopg.Connection,
    style_codes: Sequence[str],
    *,
    product_ids: Sequence[str] = (),
    keywords: Sequence[str] = (),
    gtins: Sequence[str] = (),
) -> SyncResult:
    """Products (and all their variants) for each lookup into raw.stockx_products / raw.stockx_variants.

    Lookups, in this order, each skipped when an earlier one already found its product: style
    codes (search, exact style-key match: every matching product), product ids (fetched by id),
    GTINs (variant by barcode, then its product), keywords (search, exact title match). Lookups
    with no match are listed in ``not_found`` as ``style <code>``, ``product <id>``,
    ``gtin <code>`` or ``name <text>``. Products are one batch, variants another.
    """
    meter = _CallMeter(client)
    products_fmt, variants_fmt = load_format(PRODUCTS_FORMAT), load_format(VARIANTS_FORMAT)
    ensure_raw_table(conn, products_fmt)
    ensure_raw_table(conn, variants_fmt)
    result = SyncResult()
    found: dict[str, dict[str, Any]] = {}

    for code in style_codes:
        result.looked_up += 1
        query = code.strip()[:QUERY_MAX]
        matches = products_with_style(_first_results(client, query), code) if query else []
        if not matches:
            result.not_found.append(f"style {code}")
        for product in matches:
            found.setdefault(product["productId"], product)

    for product_id in product_ids:
        if product_id in found:
            continue
        result.looked_up += 1
        product = _get_or_none(client.get_product, product_id)
        if product is None:
            result.not_found.append(f"product {product_id}")
        else:
            found[product["productId"]] = product

    for gtin in gtins:
        result.looked_up += 1
        variant = client.get_variant_by_gtin(gtin)
        if variant is None:
            result.not_found.append(f"gtin {gtin}")
            continue
        if variant["productId"] not in found:
            product = _get_or_none(client.get_product, variant["productId"])
            if product is None:
                result.not_found.append(f"gtin {gtin}")
            else:
                found[product["productId"]] = product

    titles = {title_key(p.get("title")) for p in found.values()}
    for keyword in keywords:
        key = title_key(keyword)
        if not key or key in titles:
            continue
        result.looked_up += 1
        matches = [p for p in _first_results(client, keyword.strip()[:QUERY_MAX]) if title_key(p.get("title")) == key]
        if not matches:
            result.not_found.append(f"name {keyword}")
        for product in matches:
            found.setdefault(product["productId"], product)
            titles.add(key)

    variants: list[dict[str, Any]] = []
    for product_id in sorted(found):
        listed = _get_or_none(client.get_variants, product_id)
        variants += listed or []
    result.products = len(found)
    for fmt, records, source in ((products_fmt, [found[k] for k in sorted(found)], PRODUCTS_SOURCE),
                                 (variants_fmt, variants, VARIANTS_SOURCE)):
        loaded = _load(conn, fmt, records, source)
        result.loads += [loaded] if loaded else []
    return meter.into(result)


def in_stock_product_keys(conn: psycopg.Connection) -> set[str] | None:
    """Product keys (style keys) of the pairs in stock (products.inventory_items, status in_stock or
    listed); None while the mart does not exist (no warehouse build yet)."""
    with conn.transaction():
        exists = conn.execute("select to_regclass('products.inventory_items') is not null").fetchone()[0]
    if not exists:
        return None
    return set(_values(conn, sql.SQL(
        "select distinct product_key from products.inventory_items"
        " where current_status = any(%s) and product_key is not null"), (list(IN_STOCK),)))


def market_data_product_ids(conn: psycopg.Connection, in_stock_only: bool = False) -> list[str]:
    """The products market data is fetched for, sorted: every product in raw.stockx_products, or with
    ``in_stock_only`` those whose style is in stock (:func:`in_stock_product_keys`; every product
    while the inventory mart does not exist yet, so a first run still prices something)."""
    if not _exists(conn, "stockx_products"):
        return []
    rows = [(r[0], r[1]) for r in _query(conn, sql.SQL(
        "select distinct product_id, style_id from raw.stockx_products order by 1, 2"))]
    keys = in_stock_product_keys(conn) if in_stock_only else None
    if in_stock_only and keys is None:
        log.info("products.inventory_items does not exist yet: market data for every known product")
    ids = {pid for pid, style in rows if keys is None or style_key(style) in keys}
    return sorted(ids)


def sync_market_data(
    client: Any,
    conn: psycopg.Connection,
    snapshot_date: date,
    currency: str = "EUR",
    product_ids: Sequence[str] | None = None,
    in_stock_only: bool = False,
) -> SyncResult:
    """Market data of every variant of each product (default: :func:`market_data_product_ids`, with
    ``in_stock_only``) in
    ``currency``, stamped ``snapshotDate``, as one batch. Products StockX no longer knows (404)
    are listed in ``not_found``."""
    meter = _CallMeter(client)
    fmt = load_format(MARKET_DATA_FORMAT)
    ensure_raw_table(conn, fmt)
    ids = market_data_product_ids(conn, in_stock_only) if product_ids is None else list(product_ids)
    result = SyncResult(snapshot_date=snapshot_date, products=len(ids))
    records: list[dict[str, Any]] = []
    for product_id in ids:
        data = _get_or_none(client.get_product_market_data, product_id, currency)
        if data is None:
            result.not_found.append(f"product {product_id}")
            continue
        records += with_snapshot_date(data, snapshot_date)
    source = f"{MARKET_DATA_SOURCE}?currencyCode={currency}&snapshotDate={snapshot_date.isoformat()}"
    loaded = _load(conn, fmt, records, source)
    result.loads += [loaded] if loaded else []
    return meter.into(result)
