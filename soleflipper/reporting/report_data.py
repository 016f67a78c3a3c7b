"""What the static HTML report shows, read from the warehouse marts and KPI views.

Each section reads one relation and is empty (``missing`` says why) when that relation does not
exist yet (dbt or the asset has not run) or holds no rows, so the report renders on any warehouse.
Amounts are the marts' home-currency amounts (Decimal), with the currency alongside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

AGE_BUCKETS = ("Fast", "Normal", "Slow", "Dead", "Unknown")  # mv_inventory_status.age_bucket


@dataclass
class Section:
    """Rows of one part of the report (dicts keyed by column name), or why there are none."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: str | None = None

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass
class ReportData:
    generated_at: datetime
    database: str  # the warehouse's database name (never the URL: it may hold a password)
    home_currency: str
    window: tuple[date, date] | None  # first and last month of the KPI window
    kpis: Section  # one row: totals over the window (mv_executive_metrics)
    by_platform: Section  # per platform over the window (mv_executive_metrics)
    monthly: Section  # fct_monthly_pnl, the window's months
    aging: Section  # pairs in stock per age bucket (mv_inventory_status)
    oldest: Section  # the longest-held pairs in stock
    stock_value: Section  # fct_inventory_valuation month ends of the window
    recommendations: Section  # analytics.pricing_recommendations, best first
    accuracy: Section  # analytics.forecast_accuracy, latest run
    accuracy_run: dict[str, Any] | None = None


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _rows(conn, sql: str, params: dict | tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _section(conn, relation: str, sql: str, params: dict | tuple = (), what: str = "") -> Section:
    if not _exists(conn, relation):
        return Section(missing=f"{relation} does not exist yet ({what or 'run `soleflipper run` or `make run`'})")
    rows = _rows(conn, sql, params)
    return Section(rows=rows, missing=None if rows else f"no data yet in {relation}")


def _window(conn) -> tuple[date, date] | None:
    """The twelve months up to the last month with a sale (mv_executive_metrics)."""
    if not _exists(conn, "analytics.mv_executive_metrics"):
        return None
    last = conn.execute("select max(sale_month) from analytics.mv_executive_metrics").fetchone()[0]
    if last is None:
        return None
    return months_back(last, 11), last


def months_back(month: date, n: int) -> date:
    """The first day of the month ``n`` months before ``month``'s."""
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


KPI_SQL = """
select count(distinct platform) as platforms, coalesce(sum(orders), 0) as orders,
       coalesce(sum(units_sold), 0) as units_sold, coalesce(sum(revenue_home), 0) as revenue_home,
       coalesce(sum(fees_home), 0) as fees_home, coalesce(sum(net_sales_home), 0) as net_sales_home,
       coalesce(sum(net_buy_home), 0) as net_buy_home, coalesce(sum(profit_home), 0) as profit_home,
       coalesce(sum(units_with_profit), 0) as units_with_profit,
       round(sum(profit_home) / nullif(sum(net_buy_home), 0) * 100, 2) as roi_pct
from analytics.mv_executive_metrics
where sale_month between %(first)s and %(last)s
having count(*) > 0
"""

PLATFORM_SQL = """
select platform, max(platform_name) as platform_name, sum(orders) as orders, sum(units_sold) as units_sold,
       coalesce(sum(revenue_home), 0) as revenue_home, coalesce(sum(fees_home), 0) as fees_home,
       coalesce(sum(profit_home), 0) as profit_home,
       round(sum(profit_home) / nullif(sum(net_buy_home), 0) * 100, 2) as roi_pct
from analytics.mv_executive_metrics
where sale_month between %(first)s and %(last)s
group by platform
order by revenue_home desc, platform
"""

MONTHLY_SQL = """
select month, units_sold, revenue_home, fees_home, net_sales_home, cost_of_goods_sold_home,
       gross_profit_home, expenses_home, net_profit_home
from finance.fct_monthly_pnl
where month between %(first)s and %(last)s
order by month
"""

AGING_SQL = """
select age_bucket, count(*) as pairs, coalesce(sum(net_cost_home), 0) as net_cost_home,
       count(*) filter (where net_cost_home is null) as pairs_without_cost,
       min(age_days) as min_age_days, max(age_days) as max_age_days, max(as_of) as as_of
from analytics.mv_inventory_status
where is_in_stock
group by age_bucket
"""

OLDEST_SQL = """
select product_name, size_label, supplier, purchase_date, current_status, age_days, net_cost_home
from analytics.mv_inventory_status
where is_in_stock
order by age_days desc nulls last, inventory_item_id
limit 10
"""

STOCK_VALUE_SQL = """
select month_end, units_in_stock, stock_value_net_home
from finance.fct_inventory_valuation
where month_end >= %(first)s
order by month_end
"""

RECOMMENDATIONS_SQL = """
select product_name, size_label, platform, days_in_stock, list_price, floor, currency, expected_days_to_sell,
       expected_payout, expected_profit, clearance, computed_at
from analytics.pricing_recommendations
where recommended
order by clearance, expected_profit desc, inventory_item_id
limit %(limit)s
"""

ACCURACY_SQL = """
with latest as (
    select run_id from analytics.forecast_accuracy order by computed_at desc, run_id limit 1
)
select a.run_id, a.computed_at, a.dataset, a.level, a.target, a.model, a.horizon, a.mase, a.smape, a.bias,
       a.coverage_80, a.n_series, a.n_forecasts
from analytics.forecast_accuracy as a
join latest using (run_id)
order by a.level, a.target, a.horizon, a.mase nulls last, a.model
"""


def read_report(conn, now: datetime | None = None, top: int = 15) -> ReportData:
    """Everything the report shows, from the warehouse ``conn`` points at."""
    database = conn.execute("select current_database()").fetchone()[0]
    currency = "EUR"
    if _exists(conn, "finance.fct_monthly_pnl"):
        row = conn.execute("select home_currency from finance.fct_monthly_pnl limit 1").fetchone()
        currency = row[0] if row else currency
    window = _window(conn)
    params = {"first": window[0], "last": window[1]} if window else None
    no_sales = Section(missing="no sales yet (analytics.mv_executive_metrics is empty or missing)")

    aging = _section(conn, "analytics.mv_inventory_status", AGING_SQL)
    order = {bucket: i for i, bucket in enumerate(AGE_BUCKETS)}
    aging.rows.sort(key=lambda r: order.get(r["age_bucket"], len(order)))
    if not aging.rows and aging.missing and "no data" in aging.missing:
        aging.missing = "no pairs in stock"

    accuracy = _section(conn, "analytics.forecast_accuracy", ACCURACY_SQL,
                        what="the analytics/forecast_accuracy asset has not run")  # fmt: skip
    run = None
    if accuracy.rows:
        first = accuracy.rows[0]
        run = {"run_id": first["run_id"], "computed_at": first["computed_at"], "dataset": first["dataset"]}

    return ReportData(
        generated_at=now or datetime.now(UTC),
        database=database,
        home_currency=currency,
        window=window,
        kpis=_section(conn, "analytics.mv_executive_metrics", KPI_SQL, params) if params else no_sales,
        by_platform=_section(conn, "analytics.mv_executive_metrics", PLATFORM_SQL, params) if params else no_sales,
        monthly=_section(conn, "finance.fct_monthly_pnl", MONTHLY_SQL, params) if params else no_sales,
        aging=aging,
        oldest=_section(conn, "analytics.mv_inventory_status", OLDEST_SQL),
        stock_value=(
            _section(conn, "finance.fct_inventory_valuation", STOCK_VALUE_SQL, params)
            if params
            else _section(conn, "finance.fct_inventory_valuation", STOCK_VALUE_SQL, {"first": date(1900, 1, 1)})
        ),
        recommendations=_section(conn, "analytics.pricing_recommendations", RECOMMENDATIONS_SQL, {"limit": top},
                                 what="the analytics/pricing_recommendations asset has not run"),
        accuracy=accuracy,
        accuracy_run=run,
    )  # fmt: skip
