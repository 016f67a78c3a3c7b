"""Run the protocol backtest on a real sales file and print the results table.

    python -m soleflipper.forecasting.cli_backtest --input FILE \\
        --format stockx_contest|sneakertracker --level product|product_size [--out results.csv] [--plot acc.png]
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from soleflipper.forecasting.backtest import run_backtest
from soleflipper.forecasting.plots import accuracy_plot_png
from soleflipper.forecasting.sales_history import read_sneakertracker, read_stockx_contest
from soleflipper.forecasting.weekly import weekly_panel

READERS = {"stockx_contest": read_stockx_contest, "sneakertracker": read_sneakertracker}
LEVELS = {"product": ["product"], "product_size": ["product", "size"]}


def format_table(results: pd.DataFrame) -> str:
    cols = ["target", "horizon", "model", "mase", "smape", "bias", "coverage_80", "n_series", "n_forecasts"]
    table = results[cols].sort_values(["target", "horizon", "mase"]).reset_index(drop=True)
    return table.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="sales file (.csv or .csv.gz)")
    parser.add_argument("--format", required=True, choices=sorted(READERS))
    parser.add_argument("--level", required=True, choices=sorted(LEVELS))
    parser.add_argument("--out", help="write the results table as CSV here")
    parser.add_argument("--plot", help="write the accuracy plot (PNG) here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.monotonic()
    sales = READERS[args.format](args.input)
    panel = weekly_panel(sales, LEVELS[args.level])
    print(
        f"{len(sales)} sales, {panel.n_series} series with >= 40 weeks, "
        f"weeks {panel.weeks[0].date()}..{panel.weeks[-1].date()}",
        file=sys.stderr,
    )

    def progress(done: int, total: int) -> None:
        print(f"  {done}/{total} model runs ({time.monotonic() - started:.0f} s)", file=sys.stderr)

    results = run_backtest(panel, seed=args.seed, progress=progress)
    print(format_table(results))
    print(f"excluded (zero scale): {results.attrs.get('excluded_zero_scale')}")
    print(f"runtime: {time.monotonic() - started:.0f} s")
    if args.out:
        results.to_csv(args.out, index=False)
    if args.plot:
        with open(args.plot, "wb") as fh:
            fh.write(accuracy_plot_png(results, f"{args.format} / {args.level}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
