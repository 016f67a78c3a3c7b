"""Dagster metadata of the forecasting and pricing assets: Markdown tables, PNG plots shown inline,
and each asset's metadata dict built from what it computed."""

import base64
import io
from typing import Any

import dagster as dg
import pandas as pd

from soleflipper.analytics_rows.pricing import ReplayOutcome
from soleflipper.warehouse_inputs.sales_history import SalesHistory


def _number(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.3f}"


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG as Markdown the Dagster UI renders inline."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})")


def forecast_plot_png(
    panel, rows: pd.DataFrame, level: str, title: str, last_weeks: int = 52
) -> bytes | None:
    """Weekly units of the level's best-selling series: the last year of history, then the forecast
    points with their 80 % interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if panel is None or panel.n_series == 0:
        return None
    best = int(panel.units.sum(axis=1).argmax())
    key = panel.keys[best]
    series_id = key[0] if len(key) == 1 else f"{key[0]}:{key[1]}"
    mine = rows[(rows["level"] == level) & (rows["series_id"] == series_id) & (rows["target"] == "units")]
    mine = mine.sort_values(["week_start", "horizon_weeks"]).drop_duplicates("week_start")
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=90)
    weeks = panel.weeks[-last_weeks:]
    ax.plot(weeks, panel.units[best, -last_weeks:], color="#333333", linewidth=1.2, label="pairs sold a week")
    if len(mine):
        starts = pd.to_datetime(mine["week_start"])
        ax.plot(starts, mine["point"].astype(float), "o-", color="#d9480f", label="forecast")
        ax.fill_between(
            starts,
            mine["lower_80"].astype(float),
            mine["upper_80"].astype(float),
            color="#d9480f",
            alpha=0.2,
            label="80 % interval",
        )
    ax.set_title(f"{title}: {series_id}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def accuracy_markdown(results: pd.DataFrame) -> str:
    """The accuracy table as Markdown (MASE < 1: better than the naive one-week forecast in-sample)."""
    lines = [
        "| level | target | model | horizon | MASE | sMAPE | bias | coverage 80 % | series | forecasts |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.itertuples(index=False):
        lines.append(
            f"| {r.level} | {r.target} | {r.model} | {int(r.horizon)} | {_number(r.mase)} | {_number(r.smape)} "
            f"| {_number(r.bias)} | {_number(r.coverage_80)} | {int(r.n_series)} | {int(r.n_forecasts)} |"
        )
    return "\n".join(lines)


def backtest_markdown(summary: pd.DataFrame) -> str:
    lines = [
        "| strategy | pairs | sold ≤ 7 d | sold ≤ 30 d | median days | mean list price | margin "
        "| profit / pair sold | below min margin | below cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary.to_dict("records"):

        def pct(x):
            return "-" if x is None or pd.isna(x) else f"{100 * float(x):.1f} %"

        def num(x):
            return "-" if x is None or pd.isna(x) else f"{x}"

        lines.append(
            f"| {r['strategy']} | {r['pairs']} | {pct(r['sold_within_7_rate'])} "
            f"| {pct(r['sold_within_30_rate'])} | {num(r['median_days_to_sell'])} "
            f"| {num(r['mean_list_price'])} | {pct(r['realised_margin'])} "
            f"| {num(r['profit_per_pair_sold'])} | {r['below_min_margin']} | {r['below_cost']} |"
        )
    return "\n".join(lines)


def top_recommendations_markdown(recommended: list[dict[str, Any]], top: int = 10) -> str:
    """The ``top`` recommended rows by expected profit as a Markdown table."""
    best = sorted(recommended, key=lambda r: r["expected_profit"], reverse=True)[:top]
    if not best:
        return "no pairs in stock"
    table = [
        "| pair | size | platform | list price | floor | days | profit | clearance |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    table += [
        f"| {r['product_name']} | {r['size_label'] or '-'} | {r['platform']} | {r['list_price']} {r['currency']} "
        f"| {r['floor']} | {r['expected_days_to_sell']} | {r['expected_profit']} | {'yes' if r['clearance'] else ''} |"
        for r in best
    ]
    return "\n".join(table)


# --------------------------------------------------------------------------- per asset


def demand_forecasts_metadata(
    history: SalesHistory, in_stock: set, rows: pd.DataFrame, panels: dict, written: int
) -> dict[str, Any]:
    """analytics/demand_forecasts: rows and series per level, the history used, and a plot of the
    best-selling series (the product level's when forecast)."""
    series = {level: panel.n_series for level, panel in panels.items()}
    metadata: dict[str, Any] = {
        "rows": written,
        "series": sum(series.values()),
        "sizes_in_stock": len(in_stock),
        **{f"series_{level}": n for level, n in series.items()},
        "models": ", ".join(sorted(rows["model"].unique())) if len(rows) else "none",
        "market_sales": history.market_sales,
        "own_sales": history.own_sales,
        "own_sales_without_fx": history.own_sales_without_fx,
        "currency": history.currency or "-",
        "history_end": str(rows["history_end"].iloc[0]) if len(rows) else "-",
        "dagster/row_count": written,
    }
    level = "product" if "product" in panels else next(iter(panels), None)
    png = forecast_plot_png(panels.get(level), rows, level, "Weekly units") if level else None
    if png:
        metadata["plot"] = png_markdown(png, "forecast of the best-selling series")
    return metadata


def forecast_accuracy_metadata(results: pd.DataFrame, levels: list[str], written: int) -> dict[str, Any]:
    """analytics/forecast_accuracy: the accuracy table and its plot (MASE by horizon per model)."""
    from soleflipper.forecasting import accuracy_plot_png

    metadata: dict[str, Any] = {
        "rows": written,
        "levels": ", ".join(levels),
        "series": int(results.groupby("level")["n_series"].max().sum()) if len(results) else 0,
        "accuracy": dg.MetadataValue.md(
            accuracy_markdown(results) if len(results) else "no series to backtest"
        ),
        "dagster/row_count": written,
    }
    if len(results):
        png = accuracy_plot_png(results.drop(columns=["level"]), "Forecast accuracy (warehouse history)")
        metadata["plot"] = png_markdown(png, "forecast accuracy by model and horizon")
    return metadata


def pricing_recommendations_metadata(
    rows: list[dict[str, Any]],
    stats: dict[str, Any],
    written: int,
    priced_on: Any,
    rules_source: str,
    schedules_source: str,
) -> dict[str, Any]:
    """analytics/pricing_recommendations: what was priced and skipped, and the top recommendations."""
    best = [r for r in rows if r["recommended"]]
    return {
        "rows": written,
        "pairs_in_stock": stats["pairs"],
        "pairs_priced": stats["pairs_priced"],
        "pairs_without_cost": stats["pairs_without_cost"],
        "platforms_skipped": ", ".join(f"{k}: {v}" for k, v in sorted(stats["skipped"].items())) or "none",
        "clearance_pairs": sum(1 for r in best if r["clearance"]),
        "with_market_sales": sum(1 for r in best if r["recent_sales"]),
        "with_forecast": sum(1 for r in best if r["demand_level"]),
        "priced_on": str(priced_on),
        "rules": rules_source,
        "fee_schedules": schedules_source,
        "top_recommendations": dg.MetadataValue.md(top_recommendations_markdown(best)),
        "dagster/row_count": written,
    }


def pricing_backtest_metadata(
    outcome: ReplayOutcome,
    market_sales: int,
    series: int,
    currency: str | None,
    schedules_source: str,
    written: int,
) -> dict[str, Any]:
    """analytics/pricing_backtest: what was replayed and the per-strategy summary."""
    summary = outcome.summary
    return {
        "rows": written,
        "series": series,
        "market_sales": market_sales,
        "replayed_pairs": outcome.replayed_pairs,
        "currency": currency or "-",
        "fee_schedules": schedules_source,
        "summary": dg.MetadataValue.md(
            backtest_markdown(summary) if len(summary) else "no series with a retail price"
        ),
        "dagster/row_count": written,
    }
