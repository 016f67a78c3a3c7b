"""Rolling-origin backtest on a weekly panel (the protocol in weekly.py and metrics.py).

For every series and every origin o = first_origin, first_origin + step, ... (weeks of history
counted from the series' first sale) with at least min(horizons) weeks observed after it, every
model forecasts the following max(horizons) weeks from the weeks before the origin only. For a
horizon h the origins with h observed weeks after them are scored:

    MASE at horizon h = mean over (series, origin) of [ mean_{k=1..h} |y_k - f_k| / scale ]

with scale the in-sample one-step naive MAE of that series' training window (first sale to
origin). Forecasts whose training window has scale 0 (constant, e.g. all-zero units) have no
MASE and are left out of every metric; their count per target is in
``results.attrs["excluded_zero_scale"]``. sMAPE, bias and coverage_80 are means over the same
forecasts (metrics.py). n_series counts series with at least one scored origin, n_forecasts the
scored (series, origin) paths.

The pooled model is refitted every ``step`` weeks of calendar time, on rows whose target week is
before the refit week; a forecast at calendar week c uses the latest refit at or before c, so it
never sees week c or later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from soleflipper.forecasting.baselines import simple_baseline
from soleflipper.forecasting.ets import damped_ets
from soleflipper.forecasting.features import FeatureGrid
from soleflipper.forecasting.gbm import PooledGBM
from soleflipper.forecasting.metrics import bias, coverage, mase, naive_scale, smape
from soleflipper.forecasting.selection import (
    BASELINES,
    CANDIDATES,
    CHOSEN_MODEL,
    ENSEMBLE,
    chosen_forecasts,
    combine,
)
from soleflipper.forecasting.weekly import WeeklyPanel, origins

TARGETS = ("units", "price")
RESULT_COLUMNS = [
    "target",
    "model",
    "horizon",
    "mase",
    "smape",
    "bias",
    "coverage_80",
    "n_series",
    "n_forecasts",
]


@dataclass
class Tasks:
    series: np.ndarray  # series position
    origin: np.ndarray  # weeks of history at the origin
    week: np.ndarray  # calendar week index of the first forecast week


def backtest_tasks(panel: WeeklyPanel, horizons: Sequence[int], first_origin: int, step: int) -> Tasks:
    rows = []
    for i, n in enumerate(panel.history_weeks()):
        for o in origins(int(n), min(horizons), first_origin, step):
            rows.append((i, o, int(panel.first_week[i]) + o))
    arr = np.array(rows, dtype=int).reshape(-1, 3)
    return Tasks(series=arr[:, 0], origin=arr[:, 1], week=arr[:, 2])


def _values(panel: WeeklyPanel, target: str) -> np.ndarray:
    return panel.units if target == "units" else panel.price


def _per_window(model: str, panel: WeeklyPanel, target: str, tasks: Tasks, horizon: int):
    values = _values(panel, target)
    n = tasks.series.size
    out = [np.zeros((n, horizon)) for _ in range(3)]
    for j, (i, c) in enumerate(zip(tasks.series, tasks.week, strict=True)):
        x = values[i, panel.first_week[i] : c]
        if model == "damped_ets":
            p, lo, hi = damped_ets(x, horizon, nonnegative=target == "units")
        else:
            p, lo, hi = simple_baseline(model, x, horizon, nonnegative=target == "units")
        for a, v in zip(out, (p, lo, hi), strict=True):
            a[j] = v
    return tuple(out)


def _pooled(
    panel: WeeklyPanel, grid: FeatureGrid, target: str, tasks: Tasks, horizon: int, step: int, seed: int
):
    n = tasks.series.size
    point, lower, upper = (np.zeros((n, horizon)) for _ in range(3))
    if n == 0:
        return point, lower, upper
    model = PooledGBM(grid, target, horizon, seed=seed)
    fit_weeks = np.arange(tasks.week.min(), tasks.week.max() + 1, step)
    fit_of = fit_weeks[np.searchsorted(fit_weeks, tasks.week, side="right") - 1]
    everyone = np.arange(panel.n_series)
    for cutoff in fit_weeks:
        use = np.flatnonzero(fit_of == cutoff)
        if use.size == 0:
            continue
        model.fit(everyone, int(cutoff))
        p, lo, hi = model.predict(tasks.series[use], tasks.week[use])
        point[use], lower[use], upper[use] = p, lo, hi
    return point, lower, upper


def backtest_forecasts(
    panel: WeeklyPanel,
    horizons: Sequence[int] = (4, 8, 12),
    first_origin: int = 26,
    step: int = 4,
    models: Sequence[str] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Tasks, dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Every model's (point, lower, upper) per task and target, before scoring."""
    models = list(models) if models is not None else [*BASELINES, *CANDIDATES, CHOSEN_MODEL]
    horizon = max(horizons)
    tasks = backtest_tasks(panel, horizons, first_origin, step)
    grid = FeatureGrid(panel) if panel.n_series else None
    needed = set(models)
    if CHOSEN_MODEL in needed:
        needed.add(ENSEMBLE)
    if ENSEMBLE in needed:
        needed |= set(combine.components)
    order = [m for m in [*BASELINES, *CANDIDATES] if m in needed and m != ENSEMBLE]
    total = (len(order) + (ENSEMBLE in needed) + (CHOSEN_MODEL in models)) * len(TARGETS)
    done = 0
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    for target in TARGETS:
        for model in order:
            if model == "pooled_gbm":
                out[target, model] = _pooled(panel, grid, target, tasks, horizon, step, seed)
            else:
                out[target, model] = _per_window(model, panel, target, tasks, horizon)
            tick()
        if ENSEMBLE in needed:
            out[target, ENSEMBLE] = combine(
                {m: out[target, m] for m in combine.components}, nonnegative=target == "units"
            )
            tick()
        if CHOSEN_MODEL in models:
            windows = (
                (panel.price[i, panel.first_week[i] : c], panel.units[i, panel.first_week[i] : c])
                for i, c in zip(tasks.series, tasks.week, strict=True)
            )
            out[target, CHOSEN_MODEL] = chosen_forecasts(
                target, {m: out[target, m] for m in combine.components}, windows
            )
            tick()
    return tasks, {k: v for k, v in out.items() if k[1] in models}


def score(
    panel: WeeklyPanel,
    tasks: Tasks,
    forecasts: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]],
    horizons: Sequence[int] = (4, 8, 12),
) -> pd.DataFrame:
    """The results table (RESULT_COLUMNS) from backtest_forecasts' output."""
    history = panel.history_weeks()
    records = []
    excluded: dict[str, int] = {}
    for target in TARGETS:
        values = _values(panel, target)
        scales = np.array(
            [
                naive_scale(values[i, panel.first_week[i] : c])
                for i, c in zip(tasks.series, tasks.week, strict=True)
            ]
        )
        excluded[target] = int(np.sum(scales == 0))
        for (tgt, model), (point, lower, upper) in forecasts.items():
            if tgt != target:
                continue
            for h in horizons:
                rows = np.flatnonzero((tasks.origin + h <= history[tasks.series]) & (scales > 0))
                m = {"mase": [], "smape": [], "bias": [], "coverage_80": []}
                for j in rows:
                    i, c = tasks.series[j], tasks.week[j]
                    y = values[i, c : c + h]
                    f = point[j, :h]
                    m["mase"].append(mase(y, f, scales[j]))
                    m["smape"].append(smape(y, f))
                    m["bias"].append(bias(y, f, scales[j]))
                    m["coverage_80"].append(coverage(y, lower[j, :h], upper[j, :h]))
                records.append(
                    {
                        "target": target,
                        "model": model,
                        "horizon": h,
                        **{k: float(np.mean(v)) if v else float("nan") for k, v in m.items()},
                        "n_series": int(np.unique(tasks.series[rows]).size),
                        "n_forecasts": int(rows.size),
                    }
                )
    results = pd.DataFrame.from_records(records, columns=RESULT_COLUMNS)
    results.attrs["excluded_zero_scale"] = excluded
    return results


def run_backtest(
    panel: WeeklyPanel,
    horizons: Sequence[int] = (4, 8, 12),
    first_origin: int = 26,
    step: int = 4,
    models: Sequence[str] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of ``models`` (default: every baseline, candidate and the chosen
    model) on ``panel``: one row per target x model x horizon (RESULT_COLUMNS)."""
    tasks, forecasts = backtest_forecasts(panel, horizons, first_origin, step, models, seed, progress)
    return score(panel, tasks, forecasts, horizons)
