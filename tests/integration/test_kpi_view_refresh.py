"""KPI materialized views refresh in place, without blocking Metabase readers (issue 5, point 3).

The seven views in `analytics` use the project's `kpi_view` materialization and the marts they
read the `stable_replace` incremental strategy (dbt_project/macros/materializations/). Builds
select the views' lineage (`+path:models/marts/analytics`, or `+mv_executive_metrics` for one
view) so the tests depend only on the models they are about. The data: the demo's two StockX
seller reports (300 sales) and its purchases sheet (the cost of most of them, and unsold stock).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from dbt_runner import dbt_command, dbt_ok, run_dbt
from psycopg import sql
from warehouse_datasets import (
    KPI_VIEWS_LINEAGE,
    build_demo_views_on_older_report,
    build_demo_warehouse,
    load_clean,
)

from resources.dbt import DBT_PROJECT_DIR

KPI = "analytics.mv_executive_metrics"
FCT = "transactions.fct_sales"
VIEWS = ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
         "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")
# All seven views and everything they read; tests only where every model they read is built
# (dbt's default eager selection would also run tests that read models outside the lineage,
# such as transactions.unsold_purchases, which do not exist here).
LINEAGE = KPI_VIEWS_LINEAGE
# Each test runs two to four dbt builds of most of the project.
pytestmark = pytest.mark.timeout(1800)


def query(template: str, view: str) -> sql.Composed:
    """`template` with {} replaced by the quoted analytics.<view>."""
    return sql.SQL(template).format(sql.Identifier("analytics", view))


def oids(conn: psycopg.Connection) -> dict[str, int]:
    names = (FCT, *(f"analytics.{view}" for view in VIEWS))
    return {name: conn.execute("select to_regclass(%s)::oid", (name,)).fetchone()[0] for name in names}


def public_can_read(conn: psycopg.Connection, view: str = "mv_executive_metrics") -> bool:
    return conn.execute("select has_table_privilege('public', %s, 'select')", (f"analytics.{view}",)).fetchone()[0]


def kpi_plans(out: str) -> dict[str, str]:
    """The kpi_view materialization's decision per view in a dbt log: view -> 'refresh_concurrently (...)'."""
    plans = {}
    for line in out.splitlines():
        for view in VIEWS:
            marker = f'"analytics"."{view}": '
            if "kpi_view " in line and marker in line:
                plans[view] = line.split(marker, 1)[1].strip()
    return plans


def assert_kpis_match_fact(conn: psycopg.Connection) -> int:
    """The views agree with fct_sales, which agrees with the newest raw version of every order.

    The demo sells in EUR, the home currency, so home amounts equal the facts' amounts exactly.
    """
    raw_orders = conn.execute("select count(distinct order_number) from raw.stockx_sales_report").fetchone()[0]
    fact = conn.execute("select count(*), sum(payout_amount), sum(gross_amount)"
                        " from transactions.fct_sales").fetchone()
    assert fact[0] == raw_orders
    kpi = conn.execute("select sum(orders), sum(payout_home), sum(revenue_home) from analytics.mv_executive_metrics"
                       ).fetchone()
    assert kpi == fact
    for view in ("mv_platform_performance", "mv_customer_geography"):
        assert conn.execute(query("select sum(orders), sum(revenue_home) from {}", view)).fetchone() == (
            fact[0], fact[2]), view
    per_group = conn.execute(
        "select count(*) from analytics.mv_executive_metrics as k full join ("
        "  select sale_date, platform, count(*) as orders, sum(payout_amount) as payout"
        "  from transactions.fct_sales group by 1, 2) as f using (sale_date, platform)"
        " where k.orders is distinct from f.orders or k.payout_home is distinct from f.payout").fetchone()[0]
    assert per_group == 0
    # Every purchased unit is in the inventory view once, and each supplier's units add up.
    units = conn.execute("select count(*) from transactions.fct_purchases"
                         " where excluded_reason is distinct from 'purchase cancelled'").fetchone()[0]
    assert conn.execute("select count(*) from analytics.mv_inventory_status").fetchone()[0] == units
    assert conn.execute("select sum(units_purchased), sum(units_sold + unsold_units + returned_units"
                        " + written_off_units) from analytics.mv_supplier_performance").fetchone() == (units, units)
    return fact[0]


def dbt_failing(database_url: str, target: Path, project: Path, *args: str) -> str:
    """Run dbt expecting it to fail; returns stdout with whitespace collapsed."""
    proc = run_dbt(database_url, target, *args, project=project)
    assert proc.returncode == 1, proc.stdout[-4000:]
    return " ".join(proc.stdout.split())


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return project


@pytest.fixture
def built(database_copy) -> str:
    """Both demo reports and the purchases sheet loaded, the whole project built once (as a
    warehouse is: `dbt build --full-refresh --select fct_sales+` rebuilds marts beside the views'
    lineage, such as finance.fct_monthly_pnl, which reads finance.fct_expenses): this test's copy."""
    url, _ = database_copy("demo_warehouse", build_demo_warehouse)
    return url


@pytest.fixture
def db(built):
    """Autocommit, so the test's own reads never hold locks while dbt runs."""
    with psycopg.connect(built, autocommit=True) as connection:
        yield connection


@pytest.fixture
def older(database_copy):
    """(url, dbt's output, autocommit connection): the older demo report and the purchases sheet
    loaded and the views' lineage built from nothing, once per session (test_refresh_jobs starts
    from the same database); this test's copy."""
    url, out = database_copy("demo_views_on_older_report", build_demo_views_on_older_report)
    with psycopg.connect(url, autocommit=True) as connection:
        yield url, out, connection


def test_rebuilds_refresh_all_seven_views_in_place_and_pick_up_new_rows(older, demo_reports, tmp_path):
    """(i) a second build refreshes every view concurrently and keeps every relation (same OIDs);
    (v) rows loaded later reach the views."""
    database_url, out, db = older  # the first build: the older report and the purchases sheet
    target = tmp_path / "target"
    newer = demo_reports[1]
    assert kpi_plans(out) == {view: "create (no relation yet)" for view in VIEWS}
    first = oids(db)
    assert all(first.values())
    orders_before = assert_kpis_match_fact(db)
    for view in VIEWS:  # made outside dbt, as for Metabase
        db.execute(query("grant select on {} to public", view))

    out = dbt_ok(database_url, target, "build", *LINEAGE)
    assert oids(db) == first
    assert kpi_plans(out) == {view: "refresh_concurrently (definition and indexes unchanged)" for view in VIEWS}
    assert assert_kpis_match_fact(db) == orders_before

    with psycopg.connect(database_url) as conn:
        load_clean(conn, "stockx_sales_report", newer)
    out = dbt_ok(database_url, target, "build", *LINEAGE)
    assert oids(db) == first
    assert kpi_plans(out) == {view: "refresh_concurrently (definition and indexes unchanged)" for view in VIEWS}
    assert assert_kpis_match_fact(db) == 300 > orders_before
    assert all(public_can_read(db, view) for view in VIEWS)
    # fct_sales keeps its contract constraints and configured indexes.
    indexes = {d for (d,) in db.execute("select indexdef from pg_indexes where schemaname = 'transactions'"
                                        " and tablename = 'fct_sales'")}
    assert any("UNIQUE" in d and "(sale_id)" in d for d in indexes)
    assert any("(sale_date, platform)" in d for d in indexes)
    assert db.execute("select count(*) from pg_constraint where conrelid = %s::regclass and contype = 'p'",
                      (FCT,)).fetchone()[0] == 1


def test_readers_are_not_blocked_while_any_view_refreshes(built, db, tmp_path):
    """(ii) A reader holds all seven views for the whole build, and while dbt refreshes each view
    a new reader of every view completes.

    To catch each refresh while it runs (no sleeps), a `blocker` per view holds a concurrent
    refresh of its own open, so dbt's REFRESH ... CONCURRENTLY of that view waits for it; dbt
    runs with one thread, so it refreshes the views one after the other and the test releases
    them one at a time. A plain REFRESH would wait with an ACCESS EXCLUSIVE request, and new
    readers would queue behind that request.
    """
    url = built
    before = oids(db)
    counts = {view: db.execute(query("select count(*) from {}", view)).fetchone()[0] for view in VIEWS}
    assert all(counts.values())
    blockers = {view: psycopg.connect(url) for view in VIEWS}
    try:
        with psycopg.connect(url) as long_reader, psycopg.connect(url, autocommit=True) as watcher, \
                psycopg.connect(url, autocommit=True) as reader:
            reader.execute("set statement_timeout = '5s'")  # a blocked reader would fail here
            # long_reader's transaction stays open with every view read; each blocker holds
            # EXCLUSIVE on its view until its commit.
            for view in VIEWS:
                long_reader.execute(query("select count(*) from {}", view)).fetchone()
                blockers[view].execute(query("refresh materialized view concurrently {}", view))
            ours = [c.info.backend_pid for c in (long_reader, watcher, reader, *blockers.values())]

            command, env = dbt_command(url, tmp_path / "t2", "build", "--threads", "1",
                                       "--select", "path:models/marts/analytics")
            with open(tmp_path / "dbt.out", "w") as out:
                proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=DBT_PROJECT_DIR)
            released = []
            try:
                while len(released) < len(VIEWS):
                    waiter, deadline = None, time.monotonic() + 120
                    while waiter is None:  # until dbt waits for a lock (a refresh, waiting for a blocker)
                        assert proc.poll() is None, (tmp_path / "dbt.out").read_text()[-3000:]
                        assert time.monotonic() < deadline, f"dbt never waited for a lock after {released}"
                        waiter = watcher.execute(
                            "select pid, query from pg_stat_activity where datname = current_database()"
                            " and not pid = any(%s) and wait_event_type = 'Lock'", (ours,)).fetchone()
                        if waiter is not None and any(f'"analytics"."{v}"' in waiter[1] for v in released):
                            waiter = None  # the refresh just released has not woken up yet
                        if waiter is None:
                            watcher.execute("select pg_sleep(0.1)")
                    refresher, statement = waiter
                    assert "refresh materialized view concurrently" in statement, statement
                    [view] = [v for v in VIEWS if f'"analytics"."{v}"' in statement]
                    assert view not in released

                    waiting = watcher.execute(
                        "select pid, mode, relation::regclass::text from pg_locks where not granted and pid in"
                        " (select pid from pg_stat_activity where datname = current_database())").fetchall()
                    # only dbt waits, and not for ACCESS EXCLUSIVE
                    assert waiting == [(refresher, "ExclusiveLock", f"analytics.{view}")]
                    for other in VIEWS:
                        assert reader.execute(query("select count(*) from {}", other)).fetchone()[0] \
                            == counts[other], other
                    assert reader.execute("select sum(orders) from analytics.mv_executive_metrics"
                                          ).fetchone()[0] == 300
                    still_waiting = watcher.execute("select count(*) from pg_locks where not granted and pid = %s",
                                                    (refresher,)).fetchone()[0]
                    assert still_waiting == 1  # the readers ran while the refresh was in progress
                    blockers[view].commit()
                    released.append(view)

                assert proc.wait(timeout=120) == 0, (tmp_path / "dbt.out").read_text()[-3000:]
                # dbt finished while long_reader's transaction still holds every view.
                assert long_reader.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            long_reader.commit()
    finally:
        for blocker in blockers.values():
            blocker.close()
    assert sorted(released) == sorted(VIEWS)
    plans = kpi_plans((tmp_path / "dbt.out").read_text())
    assert plans == {view: "refresh_concurrently (definition and indexes unchanged)" for view in VIEWS}
    assert oids(db) == before


def test_changed_view_sql_is_swapped_in_without_full_refresh(built, db, tmp_path):
    """(iii) Editing the SQL changes the view on the next plain build; readers never lose it."""
    url = built
    target = tmp_path / "target"
    project = copy_project(tmp_path)
    model = project / "models" / "marts" / "analytics" / "mv_executive_metrics.sql"
    sql = model.read_text()
    for anchor in ("        max(sold_at) as last_sale_at\n",
                   "        daily.last_sale_at::timestamptz as last_sale_at\n"):
        assert anchor in sql
    sql = sql.replace("        max(sold_at) as last_sale_at\n",
                      "        max(sold_at) as last_sale_at,\n        max(gross_sale_home) as max_sale_price_home\n")
    model.write_text(sql.replace("        daily.last_sale_at::timestamptz as last_sale_at\n",
                                 "        daily.last_sale_at::timestamptz as last_sale_at,\n"
                                 "        daily.max_sale_price_home\n"))
    before = oids(db)
    db.execute("grant select on analytics.mv_executive_metrics to public")

    stop, reads, errors = threading.Event(), [], []

    def read_continuously() -> None:
        with psycopg.connect(url, autocommit=True) as reader:
            reader.execute("set statement_timeout = '10s'")
            while not stop.is_set() or not (reads or errors):
                try:
                    row = reader.execute("select sum(orders) from analytics.mv_executive_metrics").fetchone()
                    reads.append(row[0])
                except psycopg.Error as exc:  # e.g. "relation does not exist" or a timeout
                    errors.append(exc)

    thread = threading.Thread(target=read_continuously)
    thread.start()
    try:
        out = dbt_ok(url, target, "build", "--select", "mv_executive_metrics", project=project)
    finally:
        stop.set()
        thread.join()
    assert errors == [] and set(reads) == {300}
    assert "max_sale_price_home" in db.execute("select pg_get_viewdef(%s::regclass)", (KPI,)).fetchone()[0]
    after = oids(db)
    # only the edited view was replaced
    assert {k for k in after if after[k] != before[k]} == {KPI}
    assert kpi_plans(out) == {"mv_executive_metrics": "swap (the SQL definition changed)"}
    rows, consistent = db.execute(
        "select count(*), count(*) filter (where max_sale_price_home > 0 and max_sale_price_home <= revenue_home"
        " and max_sale_price_home >= revenue_home / units_sold) from analytics.mv_executive_metrics").fetchone()
    assert rows == consistent > 0
    assert public_can_read(db)
    assert db.execute("select count(*) from pg_indexes where schemaname = 'analytics'"
                      " and tablename = 'mv_executive_metrics' and indexdef like 'CREATE UNIQUE%%'").fetchone()[0] == 1
    assert db.execute("select obj_description(%s::regclass)", (KPI,)).fetchone()[0].startswith("Executive metrics")
    leftovers = db.execute("select relname from pg_class where relname like 'mv_executive_metrics__dbt%%'").fetchall()
    assert leftovers == []

    # The new definition is now the baseline: the next build refreshes it in place.
    out = dbt_ok(url, target, "build", "--select", "mv_executive_metrics", project=project)
    assert oids(db) == after
    assert kpi_plans(out) == {"mv_executive_metrics": "refresh_concurrently (definition and indexes unchanged)"}


def test_full_refresh_still_works_and_is_what_shape_changes_ask_for(built, db, tmp_path):
    """(iv) --full-refresh swaps in a new view; a retyped fact column fails clearly until the
    rebuild its message asks for; a KPI view without a unique index fails clearly."""
    url = built
    before = oids(db)

    out = dbt_ok(url, tmp_path / "target", "build", "--full-refresh", "--select", "mv_executive_metrics")
    swapped = oids(db)
    assert {k for k in swapped if swapped[k] != before[k]} == {KPI}
    assert kpi_plans(out) == {"mv_executive_metrics": "swap (--full-refresh)"}
    assert assert_kpis_match_fact(db) == 300

    project = copy_project(tmp_path)
    target = tmp_path / "copy_target"
    kpi_yml = project / "models" / "marts" / "analytics" / "_analytics__models.yml"
    kpi_config = kpi_yml.read_text()
    assert kpi_config.count("{columns: [sale_date, platform], unique: true}") == 1
    kpi_yml.write_text(kpi_config.replace("{columns: [sale_date, platform], unique: true}",
                                          "{columns: [sale_date, platform]}"))
    out = dbt_failing(url, target, project, "run", "--select", "mv_executive_metrics")
    assert "the `indexes` config needs a unique index" in out
    kpi_yml.write_text(kpi_config)

    contract = project / "models" / "marts" / "transactions" / "_transactions__models.yml"
    city = "      - name: buyer_city\n        description: Buyer destination city, when the platform reports it.\n"
    assert city + "        data_type: text\n" in contract.read_text()
    contract.write_text(contract.read_text().replace(city + "        data_type: text\n",
                                                     city + "        data_type: varchar(200)\n"))
    fct = project / "models" / "marts" / "transactions" / "fct_sales.sql"
    fct.write_text(fct.read_text().replace("        buyer_city,\n",
                                           "        buyer_city::varchar(200) as buyer_city,\n"))
    out = dbt_failing(url, target, project, "build", "--select", "fct_sales")
    assert "the model now has: column buyer_city character varying(200)" in out
    assert "the table still has: column buyer_city text" in out
    assert "dbt build --full-refresh --select fct_sales+" in out
    assert oids(db) == swapped  # nothing was dropped or replaced
    assert assert_kpis_match_fact(db) == 300

    dbt_ok(url, target, "build", "--full-refresh", "--select", "fct_sales+", project=project)
    rebuilt = oids(db)
    # A new table; the cascade took the views with the old one, and dbt rebuilt them (`fct_sales+`).
    assert all(rebuilt[k] != swapped[k] for k in rebuilt)
    assert db.execute("select format_type(atttypid, atttypmod) from pg_attribute where attrelid = %s::regclass"
                      " and attname = 'buyer_city'", (FCT,)).fetchone()[0] == "character varying(200)"
    assert assert_kpis_match_fact(db) == 300
