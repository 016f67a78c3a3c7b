"""The protocol's weekly panel: Monday bins, zero-filled units, median price carried forward.

Rules (the same for every data set, so backtests compare):

* a sale's week is the Monday on or before its date (``sold_at`` is read as a UTC date);
* the panel ends with the last *complete* week: the last Monday whose Sunday is on or before
  ``end`` (default: the last sale's date), so a half-observed final week never looks like a
  collapse in demand; sales after that Sunday are ignored;
* ``units[i, w]`` is the number of sales of series ``i`` in week ``w`` (0 for weeks without sales);
* ``price[i, w]`` is the median sale price of the week, carried forward over weeks without sales,
  NaN before the series' first sale;
* ``first_week[i]`` is the index of the series' first week with a sale; a series is kept when it
  has at least ``min_weeks`` weeks from its first sale to the panel end (inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

STATIC_COLUMNS = ("retail_price", "release_date", "brand")


@dataclass
class WeeklyPanel:
    keys: list[tuple]
    key_names: list[str]
    weeks: pd.DatetimeIndex
    units: np.ndarray
    price: np.ndarray
    first_week: np.ndarray
    static: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_series(self) -> int:
        return len(self.keys)

    def history_weeks(self) -> np.ndarray:
        """Weeks from each series' first sale to the panel end, inclusive."""
        return len(self.weeks) - self.first_week

    def subset(self, rows) -> WeeklyPanel:
        """The panel restricted to the given series positions (in that order)."""
        rows = np.asarray(rows, dtype=int)
        return WeeklyPanel(
            keys=[self.keys[i] for i in rows],
            key_names=list(self.key_names),
            weeks=self.weeks,
            units=self.units[rows],
            price=self.price[rows],
            first_week=self.first_week[rows],
            static=self.static.iloc[rows].reset_index(drop=True),
        )


def monday_of(days: pd.Series) -> pd.Series:
    """The Monday on or before each date (datetime64[ns], midnight)."""
    d = pd.to_datetime(days, utc=True).dt.tz_localize(None).dt.normalize()
    return d - pd.to_timedelta(d.dt.weekday, unit="D")


def last_complete_monday(end: date) -> pd.Timestamp:
    """Monday of the last week whose Sunday is on or before ``end``."""
    end_ts = pd.Timestamp(end).normalize()
    this_monday = end_ts - timedelta(days=end_ts.weekday())
    return this_monday if end_ts.weekday() == 6 else this_monday - timedelta(days=7)


def carry_forward(values: np.ndarray) -> np.ndarray:
    """Fill NaNs along axis 1 with the last non-NaN value to their left (leading NaNs stay)."""
    out = np.array(values, dtype=float, copy=True)
    n, w = out.shape
    idx = np.where(np.isnan(out), 0, np.arange(w)[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = out[np.arange(n)[:, None], idx]
    # a row whose first column is NaN keeps NaN until its first value (idx 0 points at a NaN)
    return out


def weekly_panel(
    sales: pd.DataFrame, keys: list[str], min_weeks: int = 40, end: date | None = None
) -> WeeklyPanel:
    """Bin sales events (columns ``keys``, ``sold_at``, ``price``) into the protocol's weekly panel."""
    keys = list(keys)
    df = sales[[*keys, "sold_at", "price"]].dropna(subset=["sold_at", "price"]).copy()
    if df.empty:
        return _empty_panel(keys)
    df["week"] = monday_of(df["sold_at"])
    if end is None:
        end = pd.to_datetime(df["sold_at"], utc=True).dt.tz_localize(None).max().date()
    last_monday = last_complete_monday(end)
    df = df[df["week"] <= last_monday]
    if df.empty:
        return _empty_panel(keys)
    weeks = pd.date_range(df["week"].min(), last_monday, freq="7D")
    week_idx = ((df["week"] - weeks[0]).dt.days // 7).to_numpy()
    df["w"] = week_idx
    df[keys] = df[keys].astype(str)
    grouped = df.groupby([*keys, "w"], sort=True)["price"].agg(_n="size", _median="median").reset_index()
    series = grouped[keys].drop_duplicates().reset_index(drop=True)
    series["_pos"] = np.arange(len(series))
    grouped = grouped.merge(series, on=keys, how="left")
    n, n_weeks = len(series), len(weeks)
    units = np.zeros((n, n_weeks))
    price = np.full((n, n_weeks), np.nan)
    units[grouped["_pos"], grouped["w"]] = grouped["_n"]
    price[grouped["_pos"], grouped["w"]] = grouped["_median"]
    price = carry_forward(price)
    first_week = grouped.groupby("_pos")["w"].min().to_numpy()
    keep = np.flatnonzero(n_weeks - first_week >= min_weeks)
    key_tuples = [tuple(r) for r in series[keys].itertuples(index=False, name=None)]
    static = _static(sales, keys, series)
    panel = WeeklyPanel(
        keys=key_tuples,
        key_names=keys,
        weeks=pd.DatetimeIndex(weeks),
        units=units,
        price=price,
        first_week=first_week.astype(int),
        static=static,
    )
    return panel.subset(keep)


def _static(sales: pd.DataFrame, keys: list[str], series: pd.DataFrame) -> pd.DataFrame:
    """First known value per series of the optional static columns (and size when it is a key)."""
    cols = [c for c in STATIC_COLUMNS if c in sales.columns]
    out = series[keys].copy()
    if cols:
        s = sales[[*keys, *cols]].copy()
        s[keys] = s[keys].astype(str)
        first = s.groupby(keys, sort=False)[cols].first().reset_index()
        out = out.merge(first, on=keys, how="left")
    for c in STATIC_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    out["retail_price"] = pd.to_numeric(out["retail_price"], errors="coerce")
    out["release_date"] = pd.to_datetime(out["release_date"], errors="coerce")
    if "size" not in out.columns:
        out["size"] = None
    return out[["retail_price", "release_date", "brand", "size"]].reset_index(drop=True)


def _empty_panel(keys: list[str]) -> WeeklyPanel:
    return WeeklyPanel(
        keys=[],
        key_names=keys,
        weeks=pd.DatetimeIndex([]),
        units=np.zeros((0, 0)),
        price=np.zeros((0, 0)),
        first_week=np.zeros(0, dtype=int),
        static=pd.DataFrame(columns=["retail_price", "release_date", "brand", "size"]),
    )


def origins(history_weeks: int, horizon: int, first_origin: int = 26, step: int = 4) -> list[int]:
    """Origins (weeks of training history, counted from the series' first sale) with ``horizon``
    observed weeks after them: first_origin, first_origin + step, ... while origin + horizon <= history."""
    return list(range(first_origin, history_weeks - horizon + 1, step))
