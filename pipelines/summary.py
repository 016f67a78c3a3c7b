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


def warehouse_summary(database_url: str) -> str:
    lines = ["Rows per table:"]
    with psycopg.connect(database_url) as conn:
        for name, n in _table_counts(conn):
            lines.append(f"  {name:<40} {n:>10,}")
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
