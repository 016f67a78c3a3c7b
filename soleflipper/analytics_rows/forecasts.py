"""Runs of :mod:`soleflipper.forecasting` over the warehouse's sales history, per level (product,
product × size): the rows of analytics.demand_forecasts and the accuracy table of the backtest."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from soleflipper.warehouse_tables.forecasts import DEMAND_FORECAST_COLUMNS

LEVELS = {"product": ["product_series_key"], "product_size": ["product_series_key", "size"]}
"""The key columns of each level's series."""


class UnknownLevelError(ValueError):
    """A level that is not in :data:`LEVELS`."""


def check_levels(levels: Sequence[str]) -> None:
    """Raise :class:`UnknownLevelError` naming the levels that are not in :data:`LEVELS`."""
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise UnknownLevelError(f"unknown level(s) {unknown}: use {sorted(LEVELS)}")


def product_names(sales: pd.DataFrame) -> dict[str, str]:
    """The most frequent name of every product series (ties: the alphabetically first)."""
    if sales.empty:
        return {}
    counts = sales.groupby(["product_series_key", "product_name"]).size().reset_index(name="n")
    counts = counts.sort_values(["product_series_key", "n", "product_name"], ascending=[True, False, True])
    return dict(
        counts.drop_duplicates("product_series_key")[["product_series_key", "product_name"]].itertuples(
            index=False, name=None
        )
    )


def level_sales(
    sales: pd.DataFrame,
    level: str,
    max_series: int = 0,
    always: set[tuple[str, ...]] | frozenset = frozenset(),
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The events of one level: every sale for ``product``, sales with a readable size for
    ``product_size``; with ``max_series`` > 0 only the series with the most sales, plus ``always``
    (key tuples, e.g. the sizes in stock). ``keys``: the level's key columns (default :data:`LEVELS`)."""
    if level == "product_size":
        sales = sales[sales["size"].notna()]
    if max_series <= 0 or sales.empty:
        return sales
    keys = list(keys or LEVELS[level])
    counts = sales.groupby(keys).size().reset_index(name="n").sort_values([*keys], kind="stable")
    counts = counts.sort_values("n", ascending=False, kind="stable")
    chosen = {tuple(map(str, k)) for k in counts[keys].head(max_series).itertuples(index=False, name=None)}
    chosen |= set(always)
    mask = [tuple(map(str, k)) in chosen for k in sales[keys].itertuples(index=False, name=None)]
    return sales[mask]


def forecast_rows(
    sales: pd.DataFrame,
    currency: str | None,
    levels: Sequence[str],
    horizons: Sequence[int],
    min_weeks: int,
    seed: int,
    max_size_series: int = 0,
    in_stock: set[tuple[str, str]] | frozenset = frozenset(),
) -> tuple[pd.DataFrame, dict[str, Any]]:
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
    columns = DEMAND_FORECAST_COLUMNS
    if not frames:
        return pd.DataFrame(columns=columns), panels
    rows = pd.concat(frames, ignore_index=True)
    rows["currency"] = [currency if t == "price" else None for t in rows["target"]]
    rows["week_start"] = pd.to_datetime(rows["week_start"]).dt.date
    return rows[columns], panels


def backtest_levels(
    sales: pd.DataFrame,
    levels: Sequence[str],
    horizons: Sequence[int],
    first_origin: int,
    step: int,
    min_weeks: int,
    seed: int,
    models: Sequence[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    max_series: int = 0,
    level_keys: Mapping[str, list[str]] = LEVELS,
) -> pd.DataFrame:
    """run_backtest per level (on the ``max_series`` series with the most sales; 0: all): the accuracy
    table with a ``level`` column first. ``level_keys``: each level's key columns in ``sales`` (a sales
    file names them ``product`` and ``size``)."""
    from soleflipper.forecasting import RESULT_COLUMNS, run_backtest, weekly_panel

    frames = []
    for level in levels:
        keys = level_keys[level]
        panel = weekly_panel(level_sales(sales, level, max_series, keys=keys), keys=keys, min_weeks=min_weeks)
        if panel.n_series == 0:
            continue
        report = (lambda done, total, lv=level: progress(lv, done, total)) if progress else None
        result = run_backtest(
            panel,
            horizons=tuple(horizons),
            first_origin=first_origin,
            step=step,
            models=list(models) if models else None,
            seed=seed,
            progress=report,
        )
        frames.append(result.assign(level=level)[["level", *RESULT_COLUMNS]])
    if not frames:
        return pd.DataFrame(columns=["level", *RESULT_COLUMNS])
    return pd.concat(frames, ignore_index=True)
