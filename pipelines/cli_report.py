"""``soleflipper report`` and ``soleflipper tax-report YEAR``: the static HTML report and the
tax-year export, read from the warehouse marts (nothing is written to the warehouse).

Wired into the main parser by :func:`register`; every command takes ``(args, settings)`` like the
commands in :mod:`pipelines.cli`. The work is done by :mod:`soleflipper.reporting`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from soleflipper.settings import Settings


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _warehouse_url(settings: Settings) -> str:
    """The warehouse URL; the project-local cluster is started if it is the one in use."""
    from resources.postgres import resolve_server

    return resolve_server(settings).warehouse_url


def _connect(settings: Settings):
    """A connection to the warehouse, or None after saying why not (the URL without its password)."""
    import psycopg

    from resources.postgres import redact_url

    url = _warehouse_url(settings)
    try:
        return psycopg.connect(url)
    except psycopg.OperationalError as exc:
        _err(f"cannot connect to the warehouse {redact_url(url)}: {str(exc).strip()}")
        return None


def default_report_path(settings: Settings) -> Path:
    return settings.home / "reports" / "soleflipper_report.html"


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from soleflipper.reporting.html_report import write_report
    from soleflipper.reporting.report_data import read_report

    path = Path(args.output).expanduser() if args.output else default_report_path(settings)
    conn = _connect(settings)
    if conn is None:
        return 1
    with conn:
        data = read_report(conn, top=args.top)
    write_report(data, path)
    for name in ("kpis", "aging", "recommendations", "accuracy"):
        section = getattr(data, name)
        if section.empty:
            _out(f"note: {name}: {section.missing}")
    _out(str(path.resolve()))
    return 0


def _year(text: str) -> int:
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise argparse.ArgumentTypeError(f"not a year: {text!r} (expected e.g. 2024)")
    return int(text)


def cmd_tax_report(args: argparse.Namespace, settings: Settings) -> int:
    from soleflipper.reporting import tax

    year = args.year
    out_dir = Path(args.output_dir).expanduser() if args.output_dir else settings.home / "reports" / f"tax_{year}"
    conn = _connect(settings)
    if conn is None:
        return 1
    with conn:
        for relation in ("finance.fct_unit_economics", "transactions.fct_sales", "finance.fct_monthly_pnl"):
            if not conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]:
                _err(f"{relation} does not exist: build the warehouse first (`soleflipper run` or `make run`).")
                return 1
        _out(f"Reading the sales of {year} (UTC days) from finance.fct_unit_economics ...")
        currency = tax.home_currency(conn)
        units = tax.read_units(conn, year)
        kinds = tax.read_fee_kinds(conn, year)
        pnl = tax.read_pnl(conn, year)
    rows = tax.tax_by_platform_month(year, units, kinds, currency)
    dac7 = tax.dac7_by_platform_quarter(year, units, currency)
    paths = tax.write_tax_export(out_dir, year, rows, dac7, currency)

    totals = [r for r in rows if r.month == tax.TOTAL]
    _out(f"{'platform':<14} {'sales':>6} {'pairs':>6} {'revenue':>14} {'fees':>12} {'output VAT':>12} "
         f"{'COGS':>14} {'gross profit':>14}  ({currency})")  # fmt: skip
    for r in totals:
        _out(f"{r.platform:<14} {r.sales:>6} {r.units_sold:>6} {r.revenue_gross_home:>14,.2f} {r.fees_home:>12,.2f} "
             f"{r.output_vat_home:>12,.2f} {r.cost_of_goods_sold_home:>14,.2f} {r.gross_profit_home:>14,.2f}")  # fmt: skip
    grand = totals[-1]
    if grand.units_without_cost or grand.units_without_payout:
        _out(f"note: {grand.units_without_cost} pair(s) without a known cost (not in COGS), "
             f"{grand.units_without_payout} without a known payout (not in fees or net sales)")  # fmt: skip
    dac7_totals = [r for r in dac7 if r.quarter == tax.TOTAL]
    for r in dac7_totals:
        _out(f"DAC7 {r.platform:<10} {r.sales:>5} sales, consideration {r.consideration_home:,.2f}, "
             f"fees {r.fees_home:,.2f} {currency}")  # fmt: skip
    problems = tax.pnl_differences(rows, pnl)
    if problems:
        _err("The month totals differ from finance.fct_monthly_pnl (rebuild the warehouse?):")
        for problem in problems:
            _err(f"  {problem}")
    else:
        _out("Month totals reconcile with finance.fct_monthly_pnl to the cent.")
    for path in paths:
        _out(f"wrote {path}")
    return 1 if problems else 0


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="write the static HTML report (KPIs, stock aging, pricing, forecasts)")
    report.add_argument("--output", help="the HTML file (default: <SOLEFLIPPER_HOME>/reports/soleflipper_report.html)")
    report.add_argument("--top", type=int, default=15, help="pricing recommendations to list (default 15)")
    report.set_defaults(func=cmd_report)

    tax_report = sub.add_parser(
        "tax-report", help="tax-year CSVs per platform and month, and the DAC7 reconciliation per quarter"
    )
    tax_report.add_argument("year", type=_year, help="calendar year (UTC), e.g. 2024")
    tax_report.add_argument("--output-dir", help="folder for the CSVs (default: <SOLEFLIPPER_HOME>/reports/tax_YEAR)")
    tax_report.set_defaults(func=cmd_tax_report)
