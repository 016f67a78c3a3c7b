"""Pandera schemas of the raw tables: what a row of ``raw.<table>`` must look like.

One :class:`pandera.pandas.DataFrameSchema` per raw table, generated from the table's format
(``soleflipper/formats/<format>.yaml``, or the Notion mapping's format): every column with the
pandas dtype of its format type (coerced, so a value that does not convert is a failure), the
format's ``not_null``, ``pattern``, ``min`` / ``max``; plus the hand-written domain rules of
:data:`DOMAIN_RULES` (amounts that cannot be negative, quantities above zero, keys that must be
present) and, on every ``currency`` column, an ISO 4217 code (:data:`ISO_4217`). These are the
*hard* rules: a row that breaks one must not reach the marts.

Vocabularies that the warehouse tolerates (staging maps an unknown platform to ``other``, and
keeps a StockX order status it does not know) are a second, *soft* schema
(:func:`vocabulary_schema`): a value outside them is worth a warning, not a stopped pipeline
(StockX adding a status must not freeze every dashboard).

Dagster-free: :mod:`assets.checks_raw` reads the rows of a load batch in chunks and validates
each chunk with :func:`validate_chunk`, collecting failures in a :class:`ValidationReport`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from soleflipper.formats import Column, CsvFormat

# ISO 4217 list one (active codes, 2025), plus codes withdrawn recently enough to appear in a
# reseller's history (HRK until 2023, SLL, ZWL, ANG). XTS (testing) and XXX (no currency) are
# deliberately absent.
ISO_4217: frozenset[str] = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD
XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
""".split())

# StockX order statuses: the OpenAPI document's enums (HistoricalOrderStatus, ActiveOrderStatus,
# UnknownStatus). The API may send "another string" (api-contracts.md): that is a warning.
STOCKX_ORDER_STATUSES: frozenset[str] = frozenset({
    "UNKNOWN",
    "AUTHFAILED", "DIDNOTSHIP", "CANCELED", "COMPLETED", "RETURNED",
    "CREATED", "CCAUTHORIZATIONFAILED", "SHIPPED", "RECEIVED", "AUTHENTICATING", "AUTHENTICATED",
    "PAYOUTPENDING", "PAYOUTCOMPLETED", "SYSTEMFULFILLED", "PAYOUTFAILED", "SUSPENDED", "PENDING",
})
STOCKX_INVENTORY_TYPES: frozenset[str] = frozenset({"STANDARD", "FLEX", "DIRECT"})

# Platform names staging knows (stg_sheets__sales.sql, stg_notion__sales.sql), compared as they
# do: lower case, letters and digits only ("eBay.de" -> "ebayde", "In Person" -> "inperson").
KNOWN_PLATFORMS: frozenset[str] = frozenset({
    "stockx", "alias", "goat", "ebay", "ebayde", "ebaycom", "ebaycouk", "klekt", "restocks", "laced",
    "wtn", "wethenew", "kleinanzeigen", "ebaykleinanzeigen", "inperson", "local", "lokal", "cash", "bar",
    "privat", "private", "offline", "person", "return", "returned", "retoure",
})


def platform_text(value: str) -> str:
    """A platform name as staging compares it."""
    return re.sub(r"[^a-z0-9]", "", value.lower())


@dataclass(frozen=True)
class DomainRules:
    """Hand-written rules for one raw table, by column name (absent columns are ignored, so a
    Notion mapping that names its columns differently just has fewer rules)."""

    non_negative: tuple[str, ...] = ()  # amounts that are >= 0 (prices, payouts, fees charged)
    positive: tuple[str, ...] = ()  # quantities > 0
    not_null: tuple[str, ...] = ()  # keys that must be present
    percent: tuple[str, ...] = ()  # rates between 0 and 100
    vocabulary: Mapping[str, frozenset[str]] = field(default_factory=dict)  # soft: warn only
    platform_columns: tuple[str, ...] = ()  # soft: a platform staging knows


# Alias API order statuses (api-contracts.md §4.1; "…" there: others may exist, so only a warning).
ALIAS_ORDER_STATUSES = frozenset({
    "ORDER_STATUS_CONFIRMED", "ORDER_STATUS_LABEL_GENERATED", "ORDER_STATUS_IN_TRANSIT",
    "ORDER_STATUS_COMPLETED", "ORDER_STATUS_CANCELED"})

_SHEET_PURCHASES = DomainRules(non_negative=("net_price", "gross_price"), positive=("quantity",),
                               not_null=("purchase_date", "supplier"), percent=("vat_rate",))

# Keyed by raw table name (format.table). Why each rule holds:
# * StockX seller report: listing price and payout are what the buyer paid and what StockX paid
#   out (never negative; fees are separate, positive columns in both layouts).
# * eBay orders: prices, shipping and totals of a sold order line.
# * Alias invoice: the invoice amount and the totals; fees and discounts may carry a sign.
# * Sheets: prices of pairs bought and sold; fees charged; VAT rates 0-100 %. Expense amounts
#   may be refunds (negative) and payouts of a sale below its fees may be negative: no rule.
# * StockX API: the order amount, the sale price of a payout, asks and bids, retail prices.
# * Notion: buy prices (gross, net, VAT, package) and the gross sale price.
DOMAIN_RULES: dict[str, DomainRules] = {
    "stockx_sales_report": DomainRules(
        non_negative=("listing_price", "total_payout", "seller_fee", "payment_processing",
                      "total_invoice_amount", "vat_rate"),
        positive=("quantity",), not_null=("order_number",)),
    "ebay_orders": DomainRules(
        non_negative=("sold_for", "shipping_and_handling", "total_price", "seller_collected_tax",
                      "ebay_collected_tax"),
        positive=("quantity",), not_null=("order_number",)),
    "ebay_api_orders": DomainRules(
        non_negative=("price_subtotal", "delivery_cost", "order_total", "total_fee_basis_amount",
                      "total_marketplace_fee"),
        not_null=("order_id", "creation_date", "last_modified_date", "line_items")),
    # amount is signed (bookingEntry DEBIT: a charge); so is total_fee_amount: a REFUND carries the
    # fees eBay gives back as negative marketplaceFees (int_ebay_order_line_finances nets them)
    "ebay_api_transactions": DomainRules(
        non_negative=("total_fee_basis_amount",),
        not_null=("transaction_id", "transaction_type", "transaction_date")),
    "ebay_sold_listings": DomainRules(non_negative=("sold_price",), not_null=("item_number", "sold_date")),
    "alias_consignment": DomainRules(non_negative=("sale_price",), not_null=("order_number",)),
    "alias_invoice": DomainRules(non_negative=("amount", "total_amount_net", "total_vat_included", "vat"),
                                 not_null=("order_id",)),
    # Alias API (cents): the price and the take (the payout) are never negative.
    "alias_orders": DomainRules(non_negative=("price_cents", "price_cents_after_take"),
                                not_null=("order_id", "updated_at"),
                                vocabulary={"status": ALIAS_ORDER_STATUSES}),
    "alias_listings": DomainRules(non_negative=("price_cents",), not_null=("listing_id",)),
    "sheets_purchases": _SHEET_PURCHASES,
    "sheets_purchases_de": _SHEET_PURCHASES,
    "sheets_sales": DomainRules(non_negative=("sale_price", "fees"), not_null=("sale_date", "platform"),
                                platform_columns=("platform",)),
    "sheets_expenses": DomainRules(not_null=("expense_date", "category", "amount"), percent=("vat_rate",)),
    "ecb_fx_rates": DomainRules(not_null=("rate_date",)),
    "stockx_contest_sales": DomainRules(non_negative=("sale_price", "retail_price")),
    "stockx_activity_sales": DomainRules(non_negative=("amount", "retail_price")),
    "stockx_orders": DomainRules(
        non_negative=("amount", "payout_sale_price"), not_null=("order_number",),
        vocabulary={"status": STOCKX_ORDER_STATUSES, "inventory_type": STOCKX_INVENTORY_TYPES}),
    "stockx_products": DomainRules(non_negative=("retail_price",), not_null=("product_id",)),
    "stockx_variants": DomainRules(not_null=("product_id", "variant_id")),
    "stockx_market_data": DomainRules(
        non_negative=("lowest_ask_amount", "highest_bid_amount", "sell_faster_amount", "earn_more_amount",
                      "flex_lowest_ask_amount"),
        not_null=("product_id", "variant_id", "currency_code", "snapshot_date")),
    # Budibase entries (soleflipper/budibase/entry_tables.py): the entry tables' own constraints.
    "budibase_suppliers": DomainRules(not_null=("supplier_id", "name")),
    "budibase_purchases": DomainRules(non_negative=("net_price", "gross_price"), percent=("vat_rate",),
                                      not_null=("purchase_id", "supplier_id", "purchase_date")),
    "budibase_sales": DomainRules(non_negative=("sale_price", "fees"), platform_columns=("platform",),
                                  not_null=("sale_id", "purchase_id", "sale_date", "platform")),
    "notion_purchases": DomainRules(non_negative=("gross_buy", "net_buy", "vat_amount", "package_total"),
                                    not_null=("page_id", "last_edited_time")),
    "notion_sales": DomainRules(non_negative=("gross_sale",), not_null=("page_id", "last_edited_time"),
                                platform_columns=("sale_platform",)),
}

# Format column type -> (pandas dtype the column is coerced to, whether to coerce).
_DTYPES: dict[str, Any] = {
    "text": pd.StringDtype(),
    "currency": pd.StringDtype(),
    "integer": "Int64",
    "numeric": "float64",
    "timestamptz": pd.DatetimeTZDtype(tz="UTC"),
    "date": "datetime64[ns]",
    "boolean": "boolean",
    "json": None,  # dicts and lists as they come from jsonb
}


def rules_for(table: str) -> DomainRules:
    return DOMAIN_RULES.get(table, DomainRules())


def _column_schema(col: Column, rules: DomainRules) -> pa.Column:
    checks: list[pa.Check] = []
    if col.pattern:
        checks.append(pa.Check.str_matches(col.pattern, error=f"matches {col.pattern}"))
    if col.type == "currency":
        checks.append(pa.Check.isin(ISO_4217, error="ISO 4217 currency code"))
    lower = col.min
    if col.name in rules.positive:
        lower = max(lower, 1) if lower is not None else 1
        checks.append(pa.Check.ge(lower, error=f">= {lower:g} (a quantity)"))
    elif col.name in rules.non_negative or col.name in rules.percent:
        lower = max(lower, 0) if lower is not None else 0
        checks.append(pa.Check.ge(lower, error=f">= {lower:g}"))
    elif lower is not None:
        checks.append(pa.Check.ge(lower, error=f">= {lower:g}"))
    upper = col.max
    if col.name in rules.percent:
        upper = min(upper, 100) if upper is not None else 100
    if upper is not None:
        checks.append(pa.Check.le(upper, error=f"<= {upper:g}"))
    dtype = _DTYPES[col.type]
    return pa.Column(
        dtype,
        checks=checks,
        nullable=not (col.not_null or col.name in rules.not_null),
        coerce=dtype is not None,
        required=True,
        title=col.header or col.name,
    )


def table_schema(fmt: CsvFormat, rules: DomainRules | None = None) -> pa.DataFrameSchema:
    """The hard schema of ``raw.<fmt.table>``: format types and rules plus the domain rules."""
    rules = rules_for(fmt.table) if rules is None else rules
    return pa.DataFrameSchema(
        {col.name: _column_schema(col, rules) for col in fmt.columns},
        strict=False,  # load metadata (_batch_id, _source_line, ...) travels along unchecked
        name=f"raw.{fmt.table}",
    )


def vocabulary_schema(fmt: CsvFormat, rules: DomainRules | None = None) -> pa.DataFrameSchema | None:
    """The soft schema (known vocabularies), or None when the table has none."""
    rules = rules_for(fmt.table) if rules is None else rules
    names = set(fmt.column_names)
    columns: dict[str, pa.Column] = {}
    for name, values in rules.vocabulary.items():
        if name in names:
            columns[name] = pa.Column(checks=pa.Check.isin(values, error=f"one of {len(values)} known values"),
                                      nullable=True, required=True)
    for name in rules.platform_columns:
        if name in names:
            columns[name] = pa.Column(
                checks=pa.Check(lambda s: s.map(lambda v: platform_text(str(v)) in KNOWN_PLATFORMS),
                                element_wise=False, ignore_na=True, error="a platform staging knows"),
                nullable=True, required=True)
    if not columns:
        return None
    return pa.DataFrameSchema(columns, strict=False, name=f"raw.{fmt.table} vocabulary")


# ------------------------------------------------------------------------------- validation

SAMPLE_ROWS = 20  # failure cases kept as a sample (the counts are always exact)


@dataclass
class ValidationReport:
    """Failures of a schema over every chunk of the rows validated."""

    rows: int = 0
    num_failures: int = 0  # failure cases: (row, check) pairs, plus table-level failures
    failed_rows: int = 0  # rows with at least one failure
    by_check: Counter = field(default_factory=Counter)  # "column: check" -> failures
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.num_failures == 0


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def validate_chunk(schema: pa.DataFrameSchema, frame: pd.DataFrame, report: ValidationReport,
                   context_columns: Iterable[str] = ("_source", "_source_line")) -> None:
    """Validate one chunk (lazily: every failure, not the first) and add it to ``report``.

    ``frame`` must have a default RangeIndex; ``context_columns`` of a failing row (the file and
    line it came from) are copied into the sample."""
    report.rows += len(frame)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return
    report.num_failures += len(cases)
    report.failed_rows += int(cases["index"].dropna().nunique())
    context = [c for c in context_columns if c in frame.columns]
    for case in cases.itertuples(index=False):
        key = f"{case.column or '(table)'}: {case.check}"
        report.by_check[key] += 1
        if len(report.sample) < SAMPLE_ROWS:
            row: dict[str, Any] = {"column": str(case.column or ""), "check": str(case.check),
                                   "value": _plain(case.failure_case)}
            index = case.index
            for name in context:
                row[name.lstrip("_")] = _plain(frame.at[int(index), name]) if index is not None and \
                    index == index else None
            report.sample.append(row)
