"""Tax-year export: revenue, cost of goods sold, fees, VAT and profit per platform and month, and a
DAC7 reconciliation (sales, consideration and fees per platform and quarter).

Everything is read from the dbt marts (finance.fct_unit_economics, one row per sold pair, joined
to transactions.fct_sales for the payout day and the fee kinds) and summed here as exact
Decimals in the home currency. The sums use the marts' per-pair home amounts, so the
all-platform month rows equal finance.fct_monthly_pnl to the cent (:func:`pnl_differences`).

Days are UTC days (the marts' sale_date; the settings have no reseller time zone), so the year
runs from 1 January 00:00 UTC to 31 December 24:00 UTC.

DAC7 (Council Directive (EU) 2021/514, Annex V): for each seller, per quarter, the platform
reports the number of relevant activities (sales of goods), the total consideration paid or
credited (compensation net of fees, commissions or taxes withheld or charged by the platform)
and those fees. Here: consideration = the payout (what the platform paid; VAT a domestic seller
owes is not withheld by the platform, so it stays in), fees = gross - payout, one activity per
sale (transactions.fct_sales row), each in the quarter of its payout day (paid_out_at, UTC),
else of its sale day when no payout day is known. Sales whose payout is unknown have no
consideration: they are counted apart (sales_without_payout, by sale day).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ALL_PLATFORMS = "all"
TOTAL = "total"


@dataclass(frozen=True)
class SoldUnit:
    """One finance.fct_unit_economics row (a sold pair) with its sale's payout day."""

    sale_id: str
    platform: str
    sale_date: date  # UTC
    paid_out_on: date | None  # UTC day of transactions.fct_sales.paid_out_at
    home_currency: str
    gross_sale_home: Decimal | None
    output_vat_home: Decimal | None
    payout_home: Decimal | None
    fees_home: Decimal | None
    net_sale_home: Decimal | None
    net_buy_home: Decimal | None
    input_vat_home: Decimal | None
    linked: bool  # has a linked purchase (its net buy is cost of goods sold)


@dataclass(frozen=True)
class SaleFeeKinds:
    """The fee kinds a platform reported for one sale (transactions.fct_sales), in home currency."""

    sale_id: str
    seller_fee_home: Decimal | None
    payment_fee_home: Decimal | None
    shipping_fee_home: Decimal | None


@dataclass(frozen=True)
class TaxRow:
    """One line of tax_<year>_by_platform_month.csv; month 'YYYY-MM' or 'total', platform or 'all'."""

    year: int
    month: str
    platform: str
    home_currency: str
    sales: int
    units_sold: int
    revenue_gross_home: Decimal
    output_vat_home: Decimal
    revenue_net_home: Decimal  # gross - output VAT
    fees_home: Decimal  # everything the platform kept: gross - payout
    seller_fee_home: Decimal  # the fee kinds as the platform reported them ...
    payment_fee_home: Decimal
    shipping_fee_home: Decimal
    other_fees_home: Decimal  # ... and the rest of fees_home
    payout_home: Decimal
    net_sales_home: Decimal  # payout - output VAT
    cost_of_goods_sold_home: Decimal  # net buy of the pairs sold that have a linked purchase
    input_vat_home: Decimal  # input VAT paid on buying the pairs sold
    gross_profit_home: Decimal  # net sales - cost of goods sold
    units_without_cost: int
    units_without_payout: int


@dataclass(frozen=True)
class Dac7Row:
    """One line of dac7_<year>_by_platform_quarter.csv; quarter 'YYYY-Qn' or 'total'."""

    year: int
    quarter: str
    platform: str
    home_currency: str
    sales: int  # relevant activities with consideration paid or credited in the quarter
    units: int
    consideration_home: Decimal  # payouts
    fees_home: Decimal  # fees and commissions the platform kept
    gross_home: Decimal  # consideration + fees
    sales_dated_by_sale_day: int  # of `sales`, those without a known payout day
    sales_without_payout: int  # sold in the quarter, payout unknown: no consideration yet
    platform_reported_sales: str = ""  # for the reseller to fill from the platform's DAC7 statement
    platform_reported_consideration: str = ""
    platform_reported_fees: str = ""


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def _one_currency(units: Sequence[SoldUnit], default: str) -> str:
    currencies = {u.home_currency for u in units}
    if len(currencies) > 1:
        raise ValueError(f"finance.fct_unit_economics mixes home currencies {sorted(currencies)}; rebuild it")
    return currencies.pop() if currencies else default


def _tax_row(year: int, month: str, platform: str, currency: str, units: Sequence[SoldUnit],
             fee_kinds: Mapping[str, SaleFeeKinds]) -> TaxRow:
    sale_ids = {u.sale_id for u in units}
    # a sale's fee kinds count once, and only when its payout (so its total fee) is known
    paid = {u.sale_id for u in units if u.payout_home is not None} - {
        u.sale_id for u in units if u.payout_home is None
    }
    kinds = [fee_kinds[s] for s in sorted(paid) if s in fee_kinds]
    seller = _sum(k.seller_fee_home for k in kinds)
    payment = _sum(k.payment_fee_home for k in kinds)
    shipping = _sum(k.shipping_fee_home for k in kinds)
    gross = _sum(u.gross_sale_home for u in units)
    vat = _sum(u.output_vat_home for u in units)
    fees = _sum(u.fees_home for u in units)
    net_sales = _sum(u.net_sale_home for u in units)
    cogs = _sum(u.net_buy_home for u in units if u.linked)
    return TaxRow(
        year=year, month=month, platform=platform, home_currency=currency,
        sales=len(sale_ids), units_sold=len(units),
        revenue_gross_home=gross, output_vat_home=vat, revenue_net_home=gross - vat,
        fees_home=fees, seller_fee_home=seller, payment_fee_home=payment, shipping_fee_home=shipping,
        other_fees_home=fees - seller - payment - shipping,
        payout_home=_sum(u.payout_home for u in units), net_sales_home=net_sales,
        cost_of_goods_sold_home=cogs, input_vat_home=_sum(u.input_vat_home for u in units if u.linked),
        gross_profit_home=net_sales - cogs,
        units_without_cost=sum(1 for u in units if u.net_buy_home is None),
        units_without_payout=sum(1 for u in units if u.payout_home is None),
    )  # fmt: skip


def tax_by_platform_month(
    year: int, units: Iterable[SoldUnit], fee_kinds: Iterable[SaleFeeKinds], home_currency: str = "EUR"
) -> list[TaxRow]:
    """Per platform (alphabetical): its twelve months of ``year`` (by UTC sale day, quiet months
    as zeros) and its total; then the same over all platforms ('all'), ending with the year's
    grand total. Pairs sold in other years are ignored."""
    mine = [u for u in units if u.sale_date.year == year]
    currency = _one_currency(mine, home_currency)
    kinds = {k.sale_id: k for k in fee_kinds}
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    by_platform: dict[str, list[SoldUnit]] = defaultdict(list)
    for unit in mine:
        by_platform[unit.platform].append(unit)
    rows = []
    for platform in [*sorted(by_platform), ALL_PLATFORMS]:
        scope = mine if platform == ALL_PLATFORMS else by_platform[platform]
        for month in months:
            rows.append(_tax_row(year, month, platform, currency,
                                 [u for u in scope if month_of(u.sale_date) == month], kinds))
        rows.append(_tax_row(year, TOTAL, platform, currency, scope, kinds))
    return rows


def dac7_day(unit: SoldUnit) -> date:
    """The day a sale's consideration counts on: its payout day, else its sale day."""
    return unit.paid_out_on or unit.sale_date


def dac7_by_platform_quarter(year: int, units: Iterable[SoldUnit], home_currency: str = "EUR") -> list[Dac7Row]:
    """Per platform (alphabetical): its four quarters of ``year`` and its total (see the module
    docstring for the definitions)."""
    units = list(units)
    paid = [u for u in units if u.payout_home is not None and dac7_day(u).year == year]
    unpaid = [u for u in units if u.payout_home is None and u.sale_date.year == year]
    currency = _one_currency([*paid, *unpaid], home_currency)
    platforms = sorted({u.platform for u in [*paid, *unpaid]})
    quarters = [f"{year:04d}-Q{q}" for q in range(1, 5)]
    rows = []
    for platform in platforms:
        for quarter in [*quarters, TOTAL]:
            def within(u: SoldUnit, day: date, quarter: str = quarter, platform: str = platform) -> bool:
                return u.platform == platform and (quarter == TOTAL or quarter_of(day) == quarter)

            credited = [u for u in paid if within(u, dac7_day(u))]
            consideration = _sum(u.payout_home for u in credited)
            fees = _sum(u.fees_home for u in credited)
            rows.append(Dac7Row(
                year=year, quarter=quarter, platform=platform, home_currency=currency,
                sales=len({u.sale_id for u in credited}), units=len(credited),
                consideration_home=consideration, fees_home=fees, gross_home=consideration + fees,
                sales_dated_by_sale_day=len({u.sale_id for u in credited if u.paid_out_on is None}),
                sales_without_payout=len({u.sale_id for u in unpaid if within(u, u.sale_date)}),
            ))  # fmt: skip
    return rows


# Columns of fct_monthly_pnl that the all-platform month rows must equal.
PNL_COLUMNS = {
    "units_sold": "units_sold",
    "revenue_home": "revenue_gross_home",
    "fees_home": "fees_home",
    "output_vat_home": "output_vat_home",
    "net_sales_home": "net_sales_home",
    "cost_of_goods_sold_home": "cost_of_goods_sold_home",
    "gross_profit_home": "gross_profit_home",
}


def pnl_differences(rows: Sequence[TaxRow], pnl: Mapping[str, Mapping[str, object]]) -> list[str]:
    """Where the all-platform month rows differ from finance.fct_monthly_pnl ({'YYYY-MM': row});
    a month the P&L lacks counts as zeros. Empty when they reconcile."""
    problems = []
    for row in rows:
        if row.platform != ALL_PLATFORMS or row.month == TOTAL:
            continue
        month = pnl.get(row.month, {})
        for pnl_column, attribute in PNL_COLUMNS.items():
            expected = month.get(pnl_column, 0)
            if getattr(row, attribute) != expected:
                problems.append(f"{row.month} {pnl_column}: export {getattr(row, attribute)}, fct_monthly_pnl {expected}")
    return problems


# ------------------------------------------------------------------------------------ CSV


def _cell(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    return str(value)


def write_rows(path: Path, rows: Sequence[TaxRow] | Sequence[Dac7Row], row_type: type) -> Path:
    """``rows`` as CSV with a header of the dataclass's field names; amounts with two decimals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(row_type)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            values = asdict(row)
            writer.writerow([_cell(values[n]) for n in names])
    return path


NOTES = """\
SoleFlipper tax-year export {year} (home currency {currency})

Days are UTC days: the year runs from {year}-01-01 00:00 UTC to {year}-12-31 24:00 UTC.
Amounts are in {currency}, exact to the cent: the sums of the per-pair home amounts of
finance.fct_unit_economics (each converted at the ECB rate of its day), so the 'all' month rows
equal finance.fct_monthly_pnl.

tax_{year}_by_platform_month.csv - per platform and month of sale (then 'total' and platform 'all'):
  sales / units_sold       orders (transactions.fct_sales rows) and pairs sold
  revenue_gross_home       what buyers paid (listing price)
  output_vat_home          VAT owed on the sales (domestic sales only; 0 on self-billed intra-EU platforms)
  revenue_net_home         revenue_gross_home - output_vat_home
  fees_home                everything the platform kept: gross - payout (pairs with a known payout)
  seller/payment/shipping_fee_home  the fee kinds the platform reported (sales with a payout; converted
                           when the fee is in the payout's currency); other_fees_home = the rest of fees_home
  payout_home              what the platforms paid out
  net_sales_home           payout - output VAT
  cost_of_goods_sold_home  net purchase price of the pairs sold that have a linked purchase
  input_vat_home           input VAT paid when buying those pairs (the VAT return deducts input VAT by
                           purchase date instead: finance.fct_monthly_pnl.purchases_vat_home)
  gross_profit_home        net_sales_home - cost_of_goods_sold_home (before business expenses)
  units_without_cost / units_without_payout  pairs missing from COGS / from fees, payout and net sales

dac7_{year}_by_platform_quarter.csv - what platforms report under DAC7 (Directive (EU) 2021/514):
  per quarter, the number of relevant activities (sales), the consideration paid or credited
  (compensation net of the platform's fees, commissions and withheld taxes) and those fees.
  sales / units            sales whose payout day (paid_out_at, else the sale day) is in the quarter
  consideration_home       their payouts; fees_home their fees (gross - payout); gross_home the sum
  sales_dated_by_sale_day  of those, sales without a recorded payout day (dated by the sale day)
  sales_without_payout     sold in the quarter with no known payout (no consideration counted)
  platform_reported_*      empty: copy the platform's DAC7 statement here to compare. Platforms may
                           report in the payout currency and date payouts differently.
"""


def write_tax_export(
    out_dir: Path, year: int, tax_rows: Sequence[TaxRow], dac7_rows: Sequence[Dac7Row], home_currency: str
) -> list[Path]:
    """The two CSVs and the notes file explaining their columns; their paths."""
    return [
        write_rows(out_dir / f"tax_{year}_by_platform_month.csv", tax_rows, TaxRow),
        write_rows(out_dir / f"dac7_{year}_by_platform_quarter.csv", dac7_rows, Dac7Row),
        _write_text(out_dir / f"tax_{year}_notes.txt", NOTES.format(year=year, currency=home_currency)),
    ]


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- warehouse

UNITS_SQL = """
select ue.sale_id, ue.platform, ue.sale_date, (s.paid_out_at at time zone 'UTC')::date,
       ue.home_currency, ue.gross_sale_home, ue.output_vat_home, ue.payout_home, ue.fees_home,
       ue.net_sale_home, ue.net_buy_home, ue.input_vat_home, ue.purchase_id is not null
from finance.fct_unit_economics as ue
join transactions.fct_sales as s on s.sale_id = ue.sale_id
where extract(year from ue.sale_date) = %(year)s
   or extract(year from s.paid_out_at at time zone 'UTC') = %(year)s
order by ue.sale_unit_id
"""

# Fee kinds converted like the payout (the sale's rate, rounded per sale) when in its currency.
FEE_KINDS_SQL = """
with rate as (
    select distinct sale_id, sale_currency, sale_home_per_unit
    from finance.fct_unit_economics
    where extract(year from sale_date) = %(year)s
)
select s.sale_id,
       case when s.seller_fee_currency = rate.sale_currency then round(s.seller_fee_amount * rate.sale_home_per_unit, 2) end,
       case when s.payment_fee_currency = rate.sale_currency then round(s.payment_fee_amount * rate.sale_home_per_unit, 2) end,
       case when s.shipping_fee_currency = rate.sale_currency then round(s.shipping_fee_amount * rate.sale_home_per_unit, 2) end
from transactions.fct_sales as s
join rate on rate.sale_id = s.sale_id
order by s.sale_id
"""

PNL_SQL = """
select to_char(month, 'YYYY-MM'), units_sold, revenue_home, fees_home, output_vat_home, net_sales_home,
       cost_of_goods_sold_home, gross_profit_home
from finance.fct_monthly_pnl
where extract(year from month) = %(year)s
"""


def read_units(conn, year: int) -> list[SoldUnit]:
    """The pairs sold in ``year`` or paid out in it (UTC), from the marts."""
    return [SoldUnit(*row) for row in conn.execute(UNITS_SQL, {"year": year}).fetchall()]


def read_fee_kinds(conn, year: int) -> list[SaleFeeKinds]:
    return [SaleFeeKinds(*row) for row in conn.execute(FEE_KINDS_SQL, {"year": year}).fetchall()]


def read_pnl(conn, year: int) -> dict[str, dict[str, object]]:
    names = ["units_sold", *list(PNL_COLUMNS)[1:]]
    return {r[0]: dict(zip(names, r[1:], strict=True)) for r in conn.execute(PNL_SQL, {"year": year}).fetchall()}


def home_currency(conn) -> str:
    """The warehouse's home currency (dbt var home_currency), from the P&L; EUR when it is empty."""
    row = conn.execute("select home_currency from finance.fct_monthly_pnl limit 1").fetchone()
    return row[0] if row else "EUR"
