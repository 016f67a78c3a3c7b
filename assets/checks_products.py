"""Asset check on products/dim_variants: how many product mentions match a product and size.

dbt computes the numbers (``products.product_match_summary``: every mention in every source,
matched or listed in ``products.unmatched_items`` with a reason); this check turns the match
rate into a verdict: below 98 % it warns, below 90 % it fails.

The verdict's rate counts only mentions that carry a style code: items sold without one (books,
plush, apparel printed "N/A" by StockX) cannot be matched by style and are listed in
products.unmatched_items with the reason 'no style code' and counted in the metadata, but do
not make a perfectly matched catalogue look broken (the real 2022 seller report: 1,004 of
1,004 style-coded sales match; 123 items have no style code).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dagster as dg
import psycopg

from resources.warehouse import WarehouseResource

WARN_BELOW = Decimal("0.98")
FAIL_BELOW = Decimal("0.90")
DIM_VARIANTS = dg.AssetKey(["products", "dim_variants"])

_SUMMARY_SQL = (
    "select mentions, matched, unmatched, match_rate, unmatched_no_style_code,"
    " unmatched_unreadable_size, unmatched_unknown_style_code from products.product_match_summary"
)


def evaluate_match_rate(
    conn: psycopg.Connection,
) -> tuple[dg.AssetCheckSeverity | None, Decimal | None, dict[str, Any]]:
    """Read products.product_match_summary: ``(severity, match_rate, metadata)``.

    ``severity`` is None when the rate is acceptable (at least 98 %, or nothing to match yet),
    ``WARN`` below 98 %, ``ERROR`` below 90 %. ``match_rate`` is matched / mentions that carry a
    style code (None when there are none).
    """
    row = conn.execute(_SUMMARY_SQL).fetchone()
    if row is None:  # the model always has one row; an empty table means it was tampered with
        raise RuntimeError("products.product_match_summary is empty: run dbt build")
    mentions, matched, unmatched, overall_rate, no_style, bad_size, unknown_style = row
    style_coded = mentions - no_style
    rate = (Decimal(matched) / Decimal(style_coded)).quantize(Decimal("0.000001")) if style_coded else None
    if rate is None:
        severity = None
    elif rate < FAIL_BELOW:
        severity = dg.AssetCheckSeverity.ERROR
    elif rate < WARN_BELOW:
        severity = dg.AssetCheckSeverity.WARN
    else:
        severity = None
    metadata: dict[str, Any] = {
        "match_rate": float(rate) if rate is not None else None,
        "match_rate_all_mentions": float(overall_rate) if overall_rate is not None else None,
        "mentions": int(mentions),
        "style_coded_mentions": int(style_coded),
        "matched": int(matched),
        "unmatched": int(unmatched),
        "unmatched_no_style_code": int(no_style),
        "unmatched_unreadable_size": int(bad_size),
        "unmatched_unknown_style_code": int(unknown_style),
        "warn_below": float(WARN_BELOW),
        "fail_below": float(FAIL_BELOW),
    }
    return severity, rate, metadata


def _describe(severity: dg.AssetCheckSeverity | None, rate: Decimal | None, metadata: dict[str, Any]) -> str:
    if rate is None:
        return "No product mentions yet: nothing to match."
    text = (f"{rate * 100:.2f} % of {metadata['style_coded_mentions']} product mentions with a style code "
            f"matched; "
            f"{metadata['unmatched']} are listed in products.unmatched_items with the reason.")
    if severity == dg.AssetCheckSeverity.ERROR:
        return f"{text} Below {FAIL_BELOW * 100:.0f} %: failing."
    if severity == dg.AssetCheckSeverity.WARN:
        return f"{text} Below {WARN_BELOW * 100:.0f} %: warning."
    return text


@dg.asset_check(
    asset=DIM_VARIANTS,
    name="product_match_rate",
    description=(
        "Share of product mentions (sales, orders, catalog rows) matched to a product and size: "
        f"warns below {WARN_BELOW * 100:.0f} %, fails below {FAIL_BELOW * 100:.0f} %. "
        "Unmatched mentions are in products.unmatched_items with the reason."
    ),
)
def product_match_rate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        severity, rate, metadata = evaluate_match_rate(conn)
    return dg.AssetCheckResult(
        passed=severity is None,
        severity=severity or dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=_describe(severity, rate, metadata),
    )
