"""The short summary `make run` ends with: rows per table and a few headline KPIs."""

from __future__ import annotations

import psycopg


def _table_counts(conn: psycopg.Connection) -> list[tuple[str, int]]:
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in ('raw', 'products', 'transactions', 'analytics') and table_type = 'BASE TABLE'"
        " union all select schemaname, matviewname from pg_matviews where schemaname = 'analytics'"
        " order by 1, 2").fetchall()
    counts = []
    for schema, name in tables:
        n = conn.execute(
            psycopg.sql.SQL("select count(*) from {}").format(psycopg.sql.Identifier(schema, name))).fetchone()[0]
        counts.append((f"{schema}.{name}", n))
    return counts


def _forecasts_and_pricing(conn: psycopg.Connection) -> list[str]:
    """Forecast counts and the five most profitable recommendations (nothing before their first run)."""
    lines: list[str] = []
    if conn.execute("select to_regclass('analytics.demand_forecasts') is not null").fetchone()[0]:
        series, rows, end = conn.execute(
            "select count(distinct (level, series_id)), count(*), max(history_end)"
            " from analytics.demand_forecasts").fetchone()
        by_level = ", ".join(f"{n:,} {level.replace('_', ' x ')}" for level, n in conn.execute(
            "select level, count(distinct series_id) from analytics.demand_forecasts group by 1 order by 1"))
        lines += ["", f"Demand forecasts: {rows:,} rows for {series:,} series ({by_level or 'none'})"
                  + (f", history up to {end}" if end else "")]
    if conn.execute("select to_regclass('analytics.pricing_recommendations') is not null").fetchone()[0]:
        pairs, clearance = conn.execute(
            "select count(*), count(*) filter (where clearance) from analytics.pricing_recommendations"
            " where recommended").fetchone()
        lines += ["", f"Pricing recommendations: {pairs:,} pairs in stock priced ({clearance:,} in clearance); "
                      "top 5 by expected profit (`soleflipper pricing` for all):"]
        for name, size, platform, price, currency, days, profit in conn.execute(
                "select product_name, size_label, platform, list_price, currency, expected_days_to_sell,"
                " expected_profit from analytics.pricing_recommendations where recommended"
                " order by expected_profit desc, inventory_item_id limit 5"):
            lines.append(f"  {(name or '-')[:40]:<40} {(size or '-'):<6} {platform:<7} list {price:>9,.2f} {currency}"
                         f"  ~{days} days  profit {profit:,.2f}")
    return lines


def warehouse_summary(database_url: str) -> str:
    lines = ["Rows per table:"]
    with psycopg.connect(database_url) as conn:
        for name, n in _table_counts(conn):
            lines.append(f"  {name:<40} {n:>10,}")
        lines += _forecasts_and_pricing(conn)
        has_kpis = conn.execute("select to_regclass('analytics.mv_executive_metrics') is not null").fetchone()[0]
        if not has_kpis:
            lines.append("No KPI views yet: run `make run`.")
            return "\n".join(lines)
        lines.append("")
        lines.append("Executive metrics (all days, amounts in the home currency):")
        lines.append(f"  {'platform':<10} {'currency':<8} {'orders':>8} {'revenue':>14} {'payout':>14} {'fees':>12}")
        for platform, currency, orders, revenue, payout, fees in conn.execute(
            "select platform, home_currency, sum(orders), coalesce(sum(revenue_home), 0),"
            " coalesce(sum(payout_home), 0), coalesce(sum(fees_home), 0)"
            " from analytics.mv_executive_metrics group by 1, 2 order by 1, 2"):
            lines.append(f"  {platform:<10} {currency:<8} {orders:>8,} {revenue:>14,.2f} {payout:>14,.2f} {fees:>12,.2f}")
        recent = conn.execute(
            "select sale_month, platform, home_currency, sum(orders), coalesce(sum(payout_home), 0)"
            " from analytics.mv_executive_metrics group by 1, 2, 3"
            " order by sale_month desc, platform limit 3").fetchall()
        if recent:
            lines.append("  latest months:")
            for month, platform, currency, orders, payout in recent:
                lines.append(f"    {month:%Y-%m} {platform:<8} {orders:>5} orders, payout {payout:,.2f} {currency}")
    return "\n".join(lines)
