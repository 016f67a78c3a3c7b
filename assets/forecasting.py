"""Demand forecasts and their measured accuracy, as Dagster assets (group ``forecasting``).

Thin on purpose: the forecasting itself is :mod:`soleflipper.forecasting` (plain, tested
functions); this module reads the weekly history out of the warehouse, calls the library and
writes the results into Python-owned tables of the ``analytics`` schema:

* ``analytics.demand_forecasts``: per product and per product × size, weekly units and price for
  the next weeks (point and 80 % interval). Replaced as a whole in one transaction per run:
  readers see the previous forecasts until the new ones commit.
* ``analytics.forecast_accuracy``: the rolling-origin backtest (MASE, sMAPE, bias, 80 % coverage
  per target, model and horizon), appended per run with ``run_id`` and ``computed_at`` so the
  history of accuracy stays.

History = the market's sales (``transactions.fct_market_sales``: StockX sales by every seller)
plus the reseller's own sales (``transactions.fct_sales``, one event per unit, only sales whose
style code is known). Prices are in the market's currency; an own sale in another currency is
converted at the ECB rate of its day (``core.fx_rates_daily``) and left out of the history when
no rate is known (counted in the metadata). Tables are created here with explicit DDL
(``create table if not exists``); dbt declares them as sources (``analytics``) and never builds
or drops them.
"""

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from psycopg import sql

from resources.warehouse import WarehouseResource

GROUP = "forecasting"
DEMAND_FORECASTS = dg.AssetKey(["analytics", "demand_forecasts"])
FORECAST_ACCURACY = dg.AssetKey(["analytics", "forecast_accuracy"])
HISTORY_DEPS = [
    dg.AssetKey(["transactions", "fct_market_sales"]),
    dg.AssetKey(["transactions", "fct_sales"]),
    dg.AssetKey(["core", "fx_rates_daily"]),
]
IN_STOCK_DEP = dg.AssetKey(["products", "inventory_items"])
LEVELS = {"product": ["product_series_key"], "product_size": ["product_series_key", "size"]}

DEMAND_DDL = """
create schema if not exists analytics;
create table if not exists analytics.demand_forecasts (
    level text not null check (level in ('product', 'product_size')),
    series_id text not null,
    product_series_key text not null,
    product_name text,
    size text,
    target text not null check (target in ('units', 'price')),
    horizon_weeks integer not null,
    week_start date not null,
    model text not null,
    point numeric not null,
    lower_80 numeric,
    upper_80 numeric,
    currency text,
    history_weeks integer not null,
    history_end date not null,
    computed_at timestamptz not null,
    run_id text,
    primary key (level, series_id, target, horizon_weeks, week_start, model)
);
comment on table analytics.demand_forecasts is
    'Weekly demand forecasts per product and product x size (units: pairs a week; price in currency). '
    'Written by the Dagster asset analytics/demand_forecasts (assets/forecasting.py), replaced per run.';
"""

ACCURACY_DDL = """
create schema if not exists analytics;
create table if not exists analytics.forecast_accuracy (
    run_id text not null,
    computed_at timestamptz not null,
    dataset text not null,
    level text not null,
    target text not null,
    model text not null,
    horizon integer not null,
    mase double precision,
    smape double precision,
    bias double precision,
    coverage_80 double precision,
    n_series integer not null,
    n_forecasts integer not null,
    primary key (run_id, dataset, level, target, model, horizon)
);
comment on table analytics.forecast_accuracy is
    'Rolling-origin backtest of the demand forecasts (MASE, sMAPE, bias, 80 % coverage), appended per '
    'run by the Dagster asset analytics/forecast_accuracy (assets/forecasting.py).';
"""

ACCURACY_COLUMNS = ["target", "model", "horizon", "mase", "smape", "bias", "coverage_80", "n_series",
                    "n_forecasts"]


def ensure_forecast_tables(conn: psycopg.Connection) -> None:
    """Create the two forecasting tables when missing (DDL only then: no lock on a live table)."""
    with conn.transaction():
        present = conn.execute(
            "select to_regclass('analytics.demand_forecasts') is not null"
            " and to_regclass('analytics.forecast_accuracy') is not null").fetchone()[0]
        if not present:
            conn.execute("select pg_advisory_xact_lock(hashtext('analytics ddl'))")
            conn.execute(DEMAND_DDL)
            conn.execute(ACCURACY_DDL)


# --------------------------------------------------------------------------- history


@dataclass
class SalesHistory:
    """Sales events for :func:`soleflipper.forecasting.weekly_panel`, and what was left out."""

    sales: pd.DataFrame  # product_series_key, product_name, size, sold_at, price, retail_price, release_date, brand
    currency: str | None  # every price is in this currency
    market_sales: int
    own_sales: int
    own_sales_without_fx: int  # own sales left out: no ECB rate to convert their price


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


_MARKET_SQL = """
select product_series_key, product_name,
       case when size_system is not null then size_system || ' ' || size_value end as size,
       sold_at, price_amount::float8 as price, price_currency as currency,
       retail_price_amount::float8 as retail_price, release_date, brand
from transactions.fct_market_sales
"""

# One event per unit sold (quantity 2 is two pairs); the size is the variant's (US M 10). The
# price is converted to the history's currency with the ECB rate of the sale's UTC day.
_OWN_SQL = """
with fx as (
    select rate_date, currency, home_per_unit from core.fx_rates_daily
),

home as (
    select max(home_currency) as currency from core.fx_rates_daily
)

select s.product_key as product_series_key, coalesce(s.item_name, s.style_code) as product_name,
       nullif(split_part(s.variant_key, ':', 2), '') as size, s.sold_at,
       (case when s.gross_currency = %(currency)s then s.gross_amount
             else s.gross_amount
                  * (case when s.gross_currency = home.currency then 1 else f.home_per_unit end)
                  / nullif(case when %(currency)s = home.currency then 1 else t.home_per_unit end, 0)
        end)::float8 as price
from transactions.fct_sales as s
cross join home
cross join lateral generate_series(1, greatest(coalesce(s.quantity, 1), 1)) as unit
left join fx as f on f.rate_date = s.sale_date and f.currency = s.gross_currency
left join fx as t on t.rate_date = s.sale_date and t.currency = %(currency)s
where s.product_key is not null and s.gross_amount is not null
"""

_OWN_SAME_CURRENCY_SQL = """
select s.product_key as product_series_key, coalesce(s.item_name, s.style_code) as product_name,
       nullif(split_part(s.variant_key, ':', 2), '') as size, s.sold_at,
       (case when s.gross_currency = %(currency)s then s.gross_amount end)::float8 as price
from transactions.fct_sales as s
cross join lateral generate_series(1, greatest(coalesce(s.quantity, 1), 1)) as unit
where s.product_key is not null and s.gross_amount is not null
"""


def _frame(cursor: psycopg.Cursor) -> pd.DataFrame:
    rows = cursor.fetchall()
    return pd.DataFrame(rows, columns=[d.name for d in cursor.description])


def load_sales_history(conn: psycopg.Connection) -> SalesHistory:
    """The weekly history's sales events: market sales ∪ the reseller's own sales (see module doc)."""
    market = pd.DataFrame(columns=["product_series_key", "product_name", "size", "sold_at", "price", "currency",
                                   "retail_price", "release_date", "brand"])
    if _exists(conn, "transactions.fct_market_sales"):
        market = _frame(conn.execute(_MARKET_SQL))
    currency = None
    if len(market):
        currency = str(market["currency"].mode().iloc[0])
        market = market[market["currency"] == currency]
    own = pd.DataFrame(columns=["product_series_key", "product_name", "size", "sold_at", "price"])
    if _exists(conn, "transactions.fct_sales"):
        if currency is None:
            row = conn.execute("select gross_currency from transactions.fct_sales where product_key is not null"
                               " group by 1 order by count(*) desc, 1 limit 1").fetchone()
            currency = row[0] if row else None
        if currency is not None:
            query = _OWN_SQL if _exists(conn, "core.fx_rates_daily") else _OWN_SAME_CURRENCY_SQL
            own = _frame(conn.execute(query, {"currency": currency}))
    without_fx = int(own["price"].isna().sum()) if len(own) else 0
    own = own[own["price"].notna()] if len(own) else own
    columns = ["product_series_key", "product_name", "size", "sold_at", "price", "retail_price", "release_date",
               "brand"]
    parts = [frame for frame in (market.drop(columns=["currency"]), own) if len(frame)]
    sales = pd.concat(parts, ignore_index=True).reindex(columns=columns) if parts else pd.DataFrame(columns=columns)
    if len(sales):
        sales["sold_at"] = pd.to_datetime(sales["sold_at"], utc=True)
        sales["price"] = sales["price"].astype(float)
        sales["retail_price"] = pd.to_numeric(sales["retail_price"], errors="coerce")
    return SalesHistory(sales=sales, currency=currency, market_sales=len(market), own_sales=len(own),
                        own_sales_without_fx=without_fx)


def product_names(sales: pd.DataFrame) -> dict[str, str]:
    """The most frequent name of every product series (ties: the alphabetically first)."""
    if sales.empty:
        return {}
    counts = sales.groupby(["product_series_key", "product_name"]).size().reset_index(name="n")
    counts = counts.sort_values(["product_series_key", "n", "product_name"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("product_series_key")[["product_series_key", "product_name"]]
                .itertuples(index=False, name=None))


def level_sales(sales: pd.DataFrame, level: str, max_series: int = 0,
                always: set[tuple[str, ...]] | frozenset = frozenset()) -> pd.DataFrame:
    """The events of one level: every sale for ``product``, sales with a readable size for
    ``product_size``; with ``max_series`` > 0 only the series with the most sales, plus ``always``
    (key tuples, e.g. the sizes in stock)."""
    if level == "product_size":
        sales = sales[sales["size"].notna()]
    if max_series <= 0 or sales.empty:
        return sales
    keys = LEVELS[level]
    counts = sales.groupby(keys).size().reset_index(name="n").sort_values([*keys], kind="stable")
    counts = counts.sort_values("n", ascending=False, kind="stable")
    chosen = {tuple(map(str, k)) for k in counts[keys].head(max_series).itertuples(index=False, name=None)}
    chosen |= set(always)
    mask = [tuple(map(str, k)) in chosen for k in sales[keys].itertuples(index=False, name=None)]
    return sales[mask]


def sizes_in_stock(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """(product key, size) of every pair in stock (products.inventory_items), as product_size series keys."""
    if not _exists(conn, "products.inventory_items"):
        return set()
    rows = conn.execute("select distinct variant_key from products.inventory_items"
                        " where current_status in ('in_stock', 'listed') and variant_key like '%:%'").fetchall()
    return {tuple(key.split(":", 1)) for (key,) in rows}


# --------------------------------------------------------------------------- forecasts


def forecast_rows(sales: pd.DataFrame, currency: str | None, levels: Sequence[str], horizons: Sequence[int],
                  min_weeks: int, seed: int, max_size_series: int = 0,
                  in_stock: set[tuple[str, str]] | frozenset = frozenset()) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecasts of every level as rows of analytics.demand_forecasts (without computed_at/run_id):
    every product; the ``max_size_series`` product x size series with the most sales (0: all) and every
    size in stock."""
    from soleflipper.forecasting import forecast, weekly_panel

    names = product_names(sales)
    frames, panels = [], {}
    for level in levels:
        keys = LEVELS[level]
        chosen = level_sales(sales, level, max_size_series, in_stock) if level == "product_size" else sales
        panel = weekly_panel(chosen, keys=keys, min_weeks=min_weeks)
        panels[level] = panel
        if panel.n_series == 0:
            continue
        result = forecast(panel, horizons=tuple(horizons), seed=seed).copy()
        history_end = (panel.weeks[-1] + pd.Timedelta(days=6)).date()
        history_weeks = dict(zip(panel.keys, panel.history_weeks().tolist(), strict=True))
        key_tuples = list(result[keys].astype(str).itertuples(index=False, name=None))
        result["level"] = level
        result["size"] = result["size"] if "size" in keys else None
        result["series_id"] = [k[0] if len(k) == 1 else f"{k[0]}:{k[1]}" for k in key_tuples]
        result["product_name"] = [names.get(k[0]) for k in key_tuples]
        result["history_weeks"] = [int(history_weeks[k]) for k in key_tuples]
        result["history_end"] = history_end
        frames.append(result)
    columns = ["level", "series_id", "product_series_key", "product_name", "size", "target", "horizon_weeks",
               "week_start", "model", "point", "lower_80", "upper_80", "currency", "history_weeks", "history_end"]
    if not frames:
        return pd.DataFrame(columns=columns), panels
    rows = pd.concat(frames, ignore_index=True)
    rows["currency"] = [currency if t == "price" else None for t in rows["target"]]
    rows["week_start"] = pd.to_datetime(rows["week_start"]).dt.date
    return rows[columns], panels


def _round(value: Any, target: str) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{float(value):.2f}" if target == "price" else f"{max(float(value), 0.0):.3f}"


def replace_demand_forecasts(conn: psycopg.Connection, rows: pd.DataFrame, computed_at: datetime,
                             run_id: str | None) -> int:
    """Replace analytics.demand_forecasts with ``rows`` in one transaction; returns the rows written.
    Prices to the cent, units to 1/1000 of a pair and never negative."""
    ensure_forecast_tables(conn)
    columns = ["level", "series_id", "product_series_key", "product_name", "size", "target", "horizon_weeks",
               "week_start", "model", "point", "lower_80", "upper_80", "currency", "history_weeks",
               "history_end", "computed_at", "run_id"]
    with conn.transaction():
        conn.execute("lock table analytics.demand_forecasts in exclusive mode")
        conn.execute("delete from analytics.demand_forecasts")
        with conn.cursor().copy(sql.SQL("copy analytics.demand_forecasts ({}) from stdin").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)))) as copy:
            for r in rows.itertuples(index=False):
                copy.write_row((r.level, r.series_id, r.product_series_key, r.product_name, r.size, r.target,
                                int(r.horizon_weeks), r.week_start, r.model, _round(r.point, r.target),
                                _round(r.lower_80, r.target), _round(r.upper_80, r.target), r.currency,
                                int(r.history_weeks), r.history_end, computed_at, run_id))
    return len(rows)


# --------------------------------------------------------------------------- accuracy


def backtest_levels(sales: pd.DataFrame, levels: Sequence[str], horizons: Sequence[int], first_origin: int,
                    step: int, min_weeks: int, seed: int, models: Sequence[str] | None = None,
                    progress: Callable[[str, int, int], None] | None = None, max_series: int = 0) -> pd.DataFrame:
    """run_backtest per level (on the ``max_series`` series with the most sales; 0: all): the accuracy
    table with a ``level`` column first."""
    from soleflipper.forecasting import run_backtest, weekly_panel

    frames = []
    for level in levels:
        panel = weekly_panel(level_sales(sales, level, max_series), keys=LEVELS[level], min_weeks=min_weeks)
        if panel.n_series == 0:
            continue
        report = (lambda done, total, lv=level: progress(lv, done, total)) if progress else None
        result = run_backtest(panel, horizons=tuple(horizons), first_origin=first_origin, step=step,
                              models=list(models) if models else None, seed=seed, progress=report)
        frames.append(result.assign(level=level)[["level", *ACCURACY_COLUMNS]])
    if not frames:
        return pd.DataFrame(columns=["level", *ACCURACY_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def append_forecast_accuracy(conn: psycopg.Connection, results: pd.DataFrame, dataset: str, run_id: str,
                             computed_at: datetime) -> int:
    """Append one run's accuracy rows (a re-executed run replaces its own rows, nothing else)."""
    ensure_forecast_tables(conn)
    with conn.transaction():
        conn.execute("delete from analytics.forecast_accuracy where run_id = %s and dataset = %s", (run_id, dataset))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into analytics.forecast_accuracy (run_id, computed_at, dataset, level, target, model,"
                " horizon, mase, smape, bias, coverage_80, n_series, n_forecasts)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(run_id, computed_at, dataset, r.level, r.target, r.model, int(r.horizon), _float(r.mase),
                  _float(r.smape), _float(r.bias), _float(r.coverage_80), int(r.n_series), int(r.n_forecasts))
                 for r in results.itertuples(index=False)])
    return len(results)


# --------------------------------------------------------------------------- metadata helpers


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG as Markdown the Dagster UI renders inline."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})")


def forecast_plot_png(panel, rows: pd.DataFrame, level: str, title: str, last_weeks: int = 52) -> bytes | None:
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
        ax.fill_between(starts, mine["lower_80"].astype(float), mine["upper_80"].astype(float), color="#d9480f",
                        alpha=0.2, label="80 % interval")
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
    lines = ["| level | target | model | horizon | MASE | sMAPE | bias | coverage 80 % | series | forecasts |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results.itertuples(index=False):
        lines.append(f"| {r.level} | {r.target} | {r.model} | {int(r.horizon)} | {_fmt(r.mase)} | {_fmt(r.smape)} "
                     f"| {_fmt(r.bias)} | {_fmt(r.coverage_80)} | {int(r.n_series)} | {int(r.n_forecasts)} |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.3f}"


# --------------------------------------------------------------------------- assets


class DemandForecastConfig(dg.Config):
    horizons: list[int] = [4, 8, 12]
    """Forecast horizons in weeks after the last complete week of history."""
    levels: list[str] = ["product", "product_size"]
    """Which series to forecast: per product, per product x size."""
    min_weeks: int = 40
    """Weeks of history (from a series' first sale) a series needs to be forecast."""
    max_size_series: int = 25
    """Product x size series to forecast: the ones with the most sales, plus every size in stock
    (0: every series; each takes ~0.1-0.2 s)."""
    seed: int = 0


class ForecastAccuracyConfig(dg.Config):
    levels: list[str] = ["product"]
    """Levels to backtest (product_size has many more series and takes longer)."""
    horizons: list[int] = [4, 8, 12]
    first_origin: int = 26
    """Weeks of history before the first backtest origin."""
    step: int = 4
    """Weeks between backtest origins."""
    min_weeks: int = 40
    max_series: int = 12
    """Backtest the series with the most sales (0: all, ~3 s per series and level with every model;
    `soleflipper backtest` runs every series)."""
    models: list[str] = []
    """Models to compare; empty: every baseline, candidate and the chosen model."""
    seed: int = 0


def _check_levels(levels: Sequence[str]) -> None:
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise dg.Failure(description=f"unknown level(s) {unknown}: use {sorted(LEVELS)}")


@dg.asset(
    key=DEMAND_FORECASTS,
    group_name=GROUP,
    deps=[*HISTORY_DEPS, IN_STOCK_DEP],
    kinds={"python", "postgres"},
    description="Weekly demand forecasts (units and price, point and 80 % interval) per product and per "
                "product x size, from market sales and the reseller's own sales; analytics.demand_forecasts, "
                "replaced in one transaction per run.",
    metadata={"dagster/table_name": "analytics.demand_forecasts"},
)
def demand_forecasts(context: dg.AssetExecutionContext, config: DemandForecastConfig,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    _check_levels(config.levels)
    with warehouse.connect() as conn:
        history = load_sales_history(conn)
        context.log.info(f"history: {history.market_sales} market sales, {history.own_sales} own sales "
                         f"({history.own_sales_without_fx} own sales without an FX rate left out), "
                         f"prices in {history.currency}")
        in_stock = sizes_in_stock(conn)
        rows, panels = forecast_rows(history.sales, history.currency, config.levels, config.horizons,
                                     config.min_weeks, config.seed, config.max_size_series, in_stock)
        computed_at = datetime.now(UTC)
        written = replace_demand_forecasts(conn, rows, computed_at, context.run.run_id)
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
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=FORECAST_ACCURACY,
    group_name=GROUP,
    deps=HISTORY_DEPS,
    kinds={"python", "postgres"},
    description="Rolling-origin backtest of the forecasting models on the warehouse's sales history (MASE, "
                "sMAPE, bias, 80 % coverage per target, model and horizon); appended to "
                "analytics.forecast_accuracy with the run id.",
    metadata={"dagster/table_name": "analytics.forecast_accuracy"},
)
def forecast_accuracy(context: dg.AssetExecutionContext, config: ForecastAccuracyConfig,
                      warehouse: WarehouseResource) -> dg.MaterializeResult:
    _check_levels(config.levels)
    from soleflipper.forecasting import accuracy_plot_png

    last_logged: dict[str, int] = {}

    def progress(level: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent >= last_logged.get(level, -10) + 10 or done == total:
            last_logged[level] = percent
            context.log.info(f"backtest {level}: {done}/{total} ({percent} %)")

    with warehouse.connect() as conn:
        history = load_sales_history(conn)
        results = backtest_levels(history.sales, config.levels, config.horizons, config.first_origin, config.step,
                                  config.min_weeks, config.seed, config.models or None, progress, config.max_series)
        written = append_forecast_accuracy(conn, results, "warehouse", context.run.run_id, datetime.now(UTC))
    metadata: dict[str, Any] = {
        "rows": written,
        "levels": ", ".join(config.levels),
        "series": int(results.groupby("level")["n_series"].max().sum()) if len(results) else 0,
        "accuracy": dg.MetadataValue.md(accuracy_markdown(results) if len(results) else "no series to backtest"),
        "dagster/row_count": written,
    }
    if len(results):
        png = accuracy_plot_png(results.drop(columns=["level"]), "Forecast accuracy (warehouse history)")
        metadata["plot"] = png_markdown(png, "forecast accuracy by model and horizon")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(asset=DEMAND_FORECASTS, description="Every forecast is well-formed: units never negative and "
                "lower 80 % <= point <= upper 80 % wherever an interval is given.")
def demand_forecasts_are_consistent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        ensure_forecast_tables(conn)
        rows, bad_units, bad_interval = conn.execute(
            "select count(*), count(*) filter (where target = 'units' and point < 0),"
            " count(*) filter (where lower_80 > point or upper_80 < point)"
            " from analytics.demand_forecasts").fetchone()
    return dg.AssetCheckResult(passed=bad_units == 0 and bad_interval == 0,
                               metadata={"rows": rows, "negative_units": bad_units, "outside_interval": bad_interval})


@dg.asset_check(asset=FORECAST_ACCURACY, description="The latest backtest wrote accuracy rows (an empty table "
                "means nothing had enough history to be measured).")
def forecast_accuracy_is_not_empty(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        ensure_forecast_tables(conn)
        row = conn.execute("select run_id, count(*) from analytics.forecast_accuracy"
                           " group by run_id order by max(computed_at) desc limit 1").fetchone()
    rows = row[1] if row else 0
    return dg.AssetCheckResult(passed=rows > 0, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"latest_run_id": row[0] if row else "-", "rows": rows})


forecasting_assets = [demand_forecasts, forecast_accuracy]
forecasting_checks = [demand_forecasts_are_consistent, forecast_accuracy_is_not_empty]
