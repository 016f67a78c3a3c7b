"""``soleflipper backtest`` and ``soleflipper pricing``: forecast accuracy and list-price recommendations
on the command line.

Wired into the main parser by :func:`register`; every command takes ``(args, settings)`` like the
commands in :mod:`pipelines.cli`.

* ``soleflipper backtest``: the rolling-origin backtest of the forecasting models on the warehouse's
  sales history (transactions.fct_market_sales and the reseller's own sales, exactly what the
  ``analytics/forecast_accuracy`` asset measures), or with ``--input FILE --format
  stockx_contest|sneakertracker`` on a sales file that is not loaded. Prints the accuracy table
  (MASE, sMAPE, bias, 80 % coverage per target, model and horizon); ``--out`` writes it as CSV.
  Read-only: nothing is written to the warehouse.
* ``soleflipper pricing``: the current recommendations from analytics.pricing_recommendations
  (written by the ``analytics/pricing_recommendations`` asset).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from soleflipper.settings import Settings

FILE_FORMATS = ("stockx_contest", "sneakertracker")
LEVEL_KEYS = {"product": ["product"], "product_size": ["product", "size"]}


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _warehouse_url(settings: Settings) -> str:
    """The warehouse URL; the project-local cluster is started if it is the one in use."""
    from resources.postgres import resolve_server

    return resolve_server(settings).warehouse_url


class _Progress:
    """A tqdm bar per level fed by run_backtest's ``progress(done, total)`` (quiet without a terminal)."""

    def __init__(self) -> None:
        self.bars: dict[str, object] = {}

    def __call__(self, level: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(level)
        if bar is None:
            bar = self.bars[level] = tqdm(
                total=total,
                desc=f"backtest {level}",
                unit=" tasks",
                disable=not sys.stderr.isatty(),
                leave=False,
            )
        bar.total = total
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def accuracy_table(results) -> str:
    """The accuracy table as aligned text."""
    header = (
        f"{'level':<13} {'target':<6} {'model':<18} {'h':>3} {'MASE':>7} {'sMAPE':>7} {'bias':>7} "
        f"{'cov80':>6} {'series':>7} {'forecasts':>10}"
    )
    lines = [header, "-" * len(header)]

    def num(value, width: int) -> str:
        return f"{'-':>{width}}" if value is None or value != value else f"{float(value):>{width}.3f}"

    for r in results.itertuples(index=False):
        lines.append(
            f"{r.level:<13} {r.target:<6} {r.model:<18} {int(r.horizon):>3} {num(r.mase, 7)} "
            f"{num(r.smape, 7)} {num(r.bias, 7)} {num(r.coverage_80, 6)} {int(r.n_series):>7} "
            f"{int(r.n_forecasts):>10}"
        )
    return "\n".join(lines)


def _file_sales(path: Path, file_format: str):
    from soleflipper.forecasting import read_sneakertracker, read_stockx_contest

    reader = read_stockx_contest if file_format == "stockx_contest" else read_sneakertracker
    return reader(path)


def cmd_backtest(args: argparse.Namespace, settings: Settings) -> int:
    from soleflipper.analytics_rows.forecasts import LEVELS, backtest_levels

    levels = args.level or ["product"]
    progress = _Progress()
    try:
        if args.input:
            path = Path(args.input)
            if not args.format:
                _err("--input needs --format stockx_contest or sneakertracker")
                return 2
            if not path.is_file():
                _err(f"{path}: no such file")
                return 2
            sales = _file_sales(path, args.format)
            source = f"{path.name} ({args.format}, {len(sales):,} sales)"
            level_keys = LEVEL_KEYS
        else:
            import psycopg

            from soleflipper.warehouse_inputs.sales_history import load_sales_history

            with psycopg.connect(_warehouse_url(settings)) as conn:
                history = load_sales_history(conn)
            sales = history.sales
            source = (
                f"the warehouse ({history.market_sales:,} market sales, {history.own_sales:,} own sales, "
                f"prices in {history.currency or '-'})"
            )
            level_keys = LEVELS
        results = backtest_levels(
            sales,
            levels,
            args.horizons,
            args.first_origin,
            args.step,
            args.min_weeks,
            args.seed,
            args.models or None,
            progress,
            level_keys=level_keys,
        )
    finally:
        progress.close()
    _out(f"Forecast accuracy on {source}:")
    if results.empty:
        _out(f"no series with at least {args.min_weeks} weeks of history")
        return 1
    _out(accuracy_table(results))
    _out(
        "MASE < 1: better than repeating last week's value (scaled by the series' in-sample naive error); "
        "bias > 0: forecasts too high; cov80: share of actuals inside the 80 % interval."
    )
    if args.out:
        results.to_csv(args.out, index=False)
        _out(f"wrote {args.out}")
    return 0


def pricing_table(rows: list[tuple], show_reason: bool = False) -> str:
    header = (
        f"{'product':<42} {'size':<8} {'platform':<8} {'list price':>12} {'floor':>10} {'days':>5} "
        f"{'payout':>10} {'profit':>9} {'status':<10}"
    )
    lines = [header, "-" * len(header)]
    for (
        name,
        size,
        platform,
        recommended,
        currency,
        price,
        floor,
        days,
        payout,
        profit,
        clearance,
        _loss,
        reason,
    ) in rows:
        flag = "clearance" if clearance else ("best" if recommended else "")
        lines.append(
            f"{(name or '-')[:42]:<42} {(size or '-')[:8]:<8} {platform:<8} {price:>8.2f} {currency} "
            f"{floor:>10.2f} {days:>5} {payout:>10.2f} {profit:>9.2f} {flag:<10}"
        )
        if show_reason:
            lines.append(f"    {reason}")
    return "\n".join(lines)


def cmd_pricing(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    with psycopg.connect(_warehouse_url(settings)) as conn:
        if not conn.execute("select to_regclass('analytics.pricing_recommendations') is not null").fetchone()[
            0
        ]:
            _out(
                "No pricing recommendations yet: run `make run` (or materialize analytics/pricing_recommendations)."
            )
            return 1
        rows = conn.execute(
            "select product_name, size_label, platform, recommended, currency, list_price, floor,"
            " expected_days_to_sell, expected_payout, expected_profit, clearance, loss, reason"
            " from analytics.pricing_recommendations where recommended or %s"
            " order by clearance, expected_profit desc, inventory_item_id, platform limit %s",
            (bool(args.all), args.limit),
        ).fetchall()
        total, priced_on, computed_at = conn.execute(
            "select count(distinct inventory_item_id), max(priced_on), max(computed_at)"
            " from analytics.pricing_recommendations"
        ).fetchone()
    _out(
        f"Pricing recommendations for {total} pairs in stock (priced for {priced_on}, computed {computed_at:%Y-%m-%d %H:%M} UTC)"
        if total
        else "No pairs in stock were priced."
    )
    if rows:
        _out(pricing_table(rows, args.reasons))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    backtest = sub.add_parser(
        "backtest", help="forecast accuracy (rolling-origin backtest) on the warehouse or a file"
    )
    backtest.add_argument(
        "--input", help="a sales history file to backtest instead of the warehouse (not loaded)"
    )
    backtest.add_argument("--format", choices=FILE_FORMATS, help="layout of --input")
    backtest.add_argument(
        "--level",
        action="append",
        choices=sorted(LEVEL_KEYS),
        help="series level (repeatable; default product)",
    )
    backtest.add_argument("--horizons", type=int, nargs="+", default=[4, 8, 12], help="horizons in weeks")
    backtest.add_argument("--models", nargs="+", help="models to compare (default: all)")
    backtest.add_argument(
        "--first-origin", type=int, default=26, help="weeks of history before the first origin"
    )
    backtest.add_argument("--step", type=int, default=4, help="weeks between origins")
    backtest.add_argument("--min-weeks", type=int, default=40, help="weeks of history a series needs")
    backtest.add_argument("--seed", type=int, default=0)
    backtest.add_argument("--out", help="write the accuracy table as CSV")
    backtest.set_defaults(func=cmd_backtest)

    pricing = sub.add_parser("pricing", help="the current list-price recommendations for the pairs in stock")
    pricing.add_argument("--all", action="store_true", help="every platform, not only the recommended one")
    pricing.add_argument("--limit", type=int, default=50)
    pricing.add_argument("--reasons", action="store_true", help="print each recommendation's reason")
    pricing.set_defaults(func=cmd_pricing)
