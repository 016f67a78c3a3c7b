"""The static HTML report: one self-contained file (inline CSS, charts as base64 PNG, no script,
no external font, image or stylesheet), every text from the warehouse HTML-escaped."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from soleflipper.reporting import charts
from soleflipper.reporting.report_data import ReportData, Section

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
       background: #f8f9fa; color: #212529; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 32px 0 8px; font-size: 20px; border-bottom: 2px solid #dee2e6; padding-bottom: 4px; }
.meta, .note { color: #495057; font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.tile { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 10px 14px; min-width: 140px; }
.tile .label { font-size: 12px; color: #495057; }
.tile .value { font-size: 20px; font-weight: 600; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; font-size: 13px; width: 100%; }
th, td { border: 1px solid #dee2e6; padding: 4px 8px; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img.chart { max-width: 100%; background: #fff; border: 1px solid #dee2e6; border-radius: 6px; margin: 8px 0; }
.no-data { background: #fff3bf; border: 1px solid #fcc419; border-radius: 6px; padding: 10px 14px;
           font-weight: 600; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def money(value: Any, currency: str) -> str:
    if value is None:
        return "–"
    return f"{Decimal(str(value)):,.2f} {currency}"


def number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{float(value):,.{digits}f}" if digits else f"{int(value):,}"


def day(value: Any) -> str:
    if isinstance(value, datetime):
        # timestamptz arrive in the session's time zone: shown in UTC (naive ones are UTC already)
        utc = value.astimezone(UTC) if value.tzinfo else value
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return "–" if value is None else str(value)


Column = tuple[str, Callable[[dict[str, Any]], str], bool]  # header, cell text, numeric


def table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    head = "".join(f'<th{" class=num" if numeric else ""}>{esc(title)}</th>' for title, _, numeric in columns)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if numeric else ""}>{esc(cell(row))}</td>'
                         for _, cell, numeric in columns) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="chart" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def no_data(section: Section, what: str) -> str:
    return f'<p class="no-data">No data yet: {esc(what)}. <span class="note">({esc(section.missing)})</span></p>'


def tiles(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div></div>'
        for label, value in items
    ) + "</div>"  # fmt: skip


def _kpis(data: ReportData) -> str:
    cur = data.home_currency
    parts = ['<section id="kpis"><h2>Executive KPIs</h2>']
    if data.kpis.empty:
        parts.append(no_data(data.kpis, "no sales"))
        return "".join(parts) + "</section>"
    first, last = data.window
    k = data.kpis.rows[0]
    parts.append(f'<p class="note">Sales of the 12 months {first:%Y-%m} to {last:%Y-%m} (by UTC sale day), '
                 f"from analytics.mv_executive_metrics; amounts in {esc(cur)}.</p>")  # fmt: skip
    parts.append(tiles([
        ("Revenue", money(k["revenue_home"], cur)),
        ("Platform fees", money(k["fees_home"], cur)),
        ("Net sales", money(k["net_sales_home"], cur)),
        ("Profit", money(k["profit_home"], cur)),
        ("ROI", "–" if k["roi_pct"] is None else f"{k['roi_pct']} %"),
        ("Orders", number(k["orders"])),
        ("Pairs sold", number(k["units_sold"])),
    ]))  # fmt: skip
    parts.append(f'<p class="note">Profit and ROI cover the {number(k["units_with_profit"])} of '
                 f'{number(k["units_sold"])} pairs whose cost and payout are known.</p>')  # fmt: skip
    if data.monthly.empty:
        parts.append(no_data(data.monthly, "monthly P&L"))
    else:
        parts.append(image(charts.monthly_chart(data.monthly.rows, cur), "Revenue and profit per month"))
        parts.append(table([
            ("Month", lambda r: f"{r['month']:%Y-%m}", False),
            ("Pairs sold", lambda r: number(r["units_sold"]), True),
            ("Revenue", lambda r: money(r["revenue_home"], cur), True),
            ("Fees", lambda r: money(r["fees_home"], cur), True),
            ("Net sales", lambda r: money(r["net_sales_home"], cur), True),
            ("COGS", lambda r: money(r["cost_of_goods_sold_home"], cur), True),
            ("Gross profit", lambda r: money(r["gross_profit_home"], cur), True),
            ("Expenses", lambda r: money(r["expenses_home"], cur), True),
            ("Net profit", lambda r: money(r["net_profit_home"], cur), True),
        ], data.monthly.rows))  # fmt: skip
    if not data.by_platform.empty:
        parts.append(image(charts.platform_chart(data.by_platform.rows, cur), "Revenue and profit per platform"))
        parts.append(table([
            ("Platform", lambda r: r["platform_name"] or r["platform"], False),
            ("Orders", lambda r: number(r["orders"]), True),
            ("Pairs sold", lambda r: number(r["units_sold"]), True),
            ("Revenue", lambda r: money(r["revenue_home"], cur), True),
            ("Fees", lambda r: money(r["fees_home"], cur), True),
            ("Profit", lambda r: money(r["profit_home"], cur), True),
            ("ROI", lambda r: "–" if r["roi_pct"] is None else f"{r['roi_pct']} %", True),
        ], data.by_platform.rows))  # fmt: skip
    return "".join(parts) + "</section>"


def _aging(data: ReportData) -> str:
    cur = data.home_currency
    parts = ['<section id="stock-aging"><h2>Stock aging</h2>']
    if data.aging.empty:
        parts.append(no_data(data.aging, "no pairs in stock"))
        return "".join(parts) + "</section>"
    rows = data.aging.rows
    total_pairs = sum(int(r["pairs"]) for r in rows)
    total_cost = sum((Decimal(str(r["net_cost_home"])) for r in rows), Decimal("0"))
    parts.append(f'<p class="note">Pairs in stock (bought, in stock or listed) as of {esc(day(rows[0]["as_of"]))}, '
                 "from analytics.mv_inventory_status: Fast 0-30 days since purchase, Normal 31-90, Slow 91-180, "
                 f"Dead over 180; valued at net cost in {esc(cur)}.</p>")  # fmt: skip
    parts.append(tiles([("Pairs in stock", number(total_pairs)), ("Net cost in stock", money(total_cost, cur))]))
    parts.append(image(charts.aging_chart(rows, cur), "Pairs in stock by age"))
    parts.append(table([
        ("Age bucket", lambda r: r["age_bucket"], False),
        ("Pairs", lambda r: number(r["pairs"]), True),
        ("Net cost", lambda r: money(r["net_cost_home"], cur), True),
        ("Youngest (days)", lambda r: number(r["min_age_days"]), True),
        ("Oldest (days)", lambda r: number(r["max_age_days"]), True),
    ], rows))  # fmt: skip
    if not data.stock_value.empty:
        last = data.stock_value.rows[-1]
        parts.append(f'<p class="note">Stock value in the month ending {esc(day(last["month_end"]))} (as of today while '
                     f'the month runs; finance.fct_inventory_valuation): {number(last["units_in_stock"])} pairs, '
                     f'{esc(money(last["stock_value_net_home"], cur))} net.</p>')  # fmt: skip
    if not data.oldest.empty:
        parts.append("<h3>Longest in stock</h3>")
        parts.append(table([
            ("Product", lambda r: r["product_name"] or "–", False),
            ("Size", lambda r: r["size_label"] or "–", False),
            ("Supplier", lambda r: r["supplier"] or "–", False),
            ("Bought", lambda r: day(r["purchase_date"]), False),
            ("Status", lambda r: r["current_status"], False),
            ("Days", lambda r: number(r["age_days"]), True),
            ("Net cost", lambda r: money(r["net_cost_home"], cur), True),
        ], data.oldest.rows))  # fmt: skip
    return "".join(parts) + "</section>"


def _recommendations(data: ReportData) -> str:
    parts = ['<section id="recommendations"><h2>Top pricing recommendations</h2>']
    rows = data.recommendations.rows
    if not rows:
        parts.append(no_data(data.recommendations, "no pricing recommendations"))
        return "".join(parts) + "</section>"
    parts.append(f'<p class="note">The recommended platform and list price for the pairs in stock with the highest '
                 f'expected profit (analytics.pricing_recommendations, computed {esc(day(rows[0]["computed_at"]))}); '
                 "clearance pairs last. Amounts in each row's currency.</p>")  # fmt: skip
    parts.append(image(charts.recommendations_chart(rows), "Recommended listings: expected payout and profit"))
    parts.append(table([
        ("Product", lambda r: r["product_name"] or "–", False),
        ("Size", lambda r: r["size_label"] or "–", False),
        ("Platform", lambda r: r["platform"], False),
        ("Days in stock", lambda r: number(r["days_in_stock"]), True),
        ("List price", lambda r: money(r["list_price"], r["currency"]), True),
        ("Floor", lambda r: money(r["floor"], r["currency"]), True),
        ("Expected days to sell", lambda r: number(r["expected_days_to_sell"]), True),
        ("Expected payout", lambda r: money(r["expected_payout"], r["currency"]), True),
        ("Expected profit", lambda r: money(r["expected_profit"], r["currency"]), True),
        ("Clearance", lambda r: "yes" if r["clearance"] else "", False),
    ], rows))  # fmt: skip
    return "".join(parts) + "</section>"


def _accuracy(data: ReportData) -> str:
    parts = ['<section id="forecast-accuracy"><h2>Forecast accuracy</h2>']
    rows = data.accuracy.rows
    if not rows:
        parts.append(no_data(data.accuracy, "no forecast backtest"))
        return "".join(parts) + "</section>"
    run = data.accuracy_run or {}
    parts.append(f'<p class="note">Rolling-origin backtest of the demand forecasts (analytics.forecast_accuracy, '
                 f'run {esc(run.get("run_id"))} on {esc(run.get("dataset"))}, {esc(day(run.get("computed_at")))}). '
                 "MASE below 1 beats repeating last week's value.</p>")  # fmt: skip
    parts.append(image(charts.accuracy_chart(rows), "Forecast accuracy (MASE) per model and horizon"))
    parts.append('<p class="note">The chart shows every model; the table the three best (lowest MASE) per level, '
                 "target and horizon, and the chosen one.</p>")
    parts.append(table([
        ("Level", lambda r: r["level"], False),
        ("Target", lambda r: r["target"], False),
        ("Model", lambda r: r["model"], False),
        ("Horizon (weeks)", lambda r: number(r["horizon"]), True),
        ("MASE", lambda r: number(r["mase"], 3), True),
        ("sMAPE", lambda r: number(r["smape"], 3), True),
        ("Bias", lambda r: number(r["bias"], 3), True),
        ("80 % coverage", lambda r: number(r["coverage_80"], 3), True),
        ("Series", lambda r: number(r["n_series"]), True),
    ], best_models(rows)))  # fmt: skip
    return "".join(parts) + "</section>"


def best_models(rows: Sequence[dict[str, Any]], keep: int = 3) -> list[dict[str, Any]]:
    """Per level, target and horizon: the ``keep`` rows with the lowest MASE, and the 'chosen' model."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["level"], row["target"], row["horizon"]), []).append(row)
    kept = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda r: (r["mase"] is None or r["mase"] != r["mase"],
                                                    r["mase"] or 0, r["model"]))  # fmt: skip
        kept += [r for i, r in enumerate(ranked) if i < keep or r["model"] == "chosen"]
    return kept


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>SoleFlipper report {esc(f'{data.generated_at:%Y-%m-%d}')}</title><style>{STYLE}</style></head>"
        "<body><main><h1>SoleFlipper report</h1>"
        f'<p class="meta">Generated {esc(day(data.generated_at))} from the warehouse database '
        f"{esc(data.database)}. Amounts in the home currency {esc(data.home_currency)} unless a row names its own. "
        "Days are UTC.</p>"
        f"{_kpis(data)}{_aging(data)}{_recommendations(data)}{_accuracy(data)}"
        "</main></body></html>\n"
    )


def write_report(data: ReportData, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    return path
