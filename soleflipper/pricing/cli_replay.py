"""``python -m soleflipper.pricing.cli_replay --input FILE [--out results.csv]``: the pricing backtest.

Prints the per-strategy summary (markdown) and, with ``--out``, writes one row per replayed pair ×
date × strategy. Protocol: :mod:`soleflipper.pricing.replay`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from soleflipper.pricing.replay import ReplayConfig, load_contest_sales, replay, summarize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soleflipper.pricing.cli_replay", description=__doc__)
    parser.add_argument("--input", required=True, help="StockX contest sales file (.csv or .csv.gz)")
    parser.add_argument("--out", help="write the per-pair results here (CSV)")
    parser.add_argument("--step-days", type=int, default=7, help="days between replay dates (default 7)")
    parser.add_argument("--start", type=date.fromisoformat, help="first replay date (YYYY-MM-DD)")
    parser.add_argument("--end", type=date.fromisoformat, help="last replay date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        sales = load_contest_sales(args.input)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = ReplayConfig(step_days=args.step_days, start=args.start, end=args.end)
    results = replay(sales, config)
    if args.out:
        results.to_csv(args.out, index=False)
    summary = summarize(results)
    print(f"{len(sales)} sales, {results['replay_date'].nunique()} replay dates, {len(results)} rows")
    print(summary.to_markdown(index=False) if _has_tabulate() else summary.to_string(index=False))
    print(f"runtime {time.monotonic() - started:.1f} s")
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
