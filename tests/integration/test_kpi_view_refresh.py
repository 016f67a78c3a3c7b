"""KPI materialized views refresh in place, without blocking Metabase readers (issue 5, point 3).

`analytics.mv_executive_kpis` uses the project's `kpi_view` materialization and
`transactions.fct_sales` the `stable_replace` incremental strategy
(dbt_project/macros/materializations/). Builds select the KPI view's lineage
(`+mv_executive_kpis`) so the tests depend only on the models they are about.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_connection_env
from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.formats import load_format

KPI = "analytics.mv_executive_kpis"
FCT = "transactions.fct_sales"
LINEAGE = ("--select", "+mv_executive_kpis")


def _dbt_command(database_url: str, target: Path, args: tuple[str, ...], project: Path) -> tuple[list[str], dict]:
    env = {**os.environ, **dbt_connection_env(database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [DBT_EXECUTABLE, *args, "--project-dir", str(project), "--profiles-dir", str(project),
               "--target-path", str(target), "--log-path", str(target)]
    return command, env


def dbt(database_url: str, target: Path, *args: str, project: Path = DBT_PROJECT_DIR) -> str:
    """Run dbt; fail the test with its output unless it succeeds. Returns stdout."""
    command, env = _dbt_command(database_url, target, args, project)
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=project)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


def oids(conn: psycopg.Connection) -> dict[str, int]:
    return {name: conn.execute("select %s::regclass::oid", (name,)).fetchone()[0] for name in (KPI, FCT)}


def public_can_read_kpis(conn: psycopg.Connection) -> bool:
    return conn.execute("select has_table_privilege('public', 'analytics.mv_executive_kpis', 'select')").fetchone()[0]


def assert_kpis_match_fact(conn: psycopg.Connection) -> int:
    """The view agrees with fct_sales, which agrees with the newest raw version of every order."""
    raw_orders = conn.execute("select count(distinct order_number) from raw.stockx_sales_report").fetchone()[0]
    fact = conn.execute("select count(*), sum(payout_amount), sum(gross_amount)"
                        " from transactions.fct_sales").fetchone()
    kpi = conn.execute("select sum(orders), sum(payout), sum(revenue) from analytics.mv_executive_kpis").fetchone()
    assert fact[0] == raw_orders
    assert kpi == fact
    per_group = conn.execute(
        "select count(*) from analytics.mv_executive_kpis as k full join ("
        "  select date_trunc('month', sale_date)::date as sale_month, platform, payout_currency as currency,"
        "         count(*) as orders, sum(payout_amount) as payout"
        "  from transactions.fct_sales group by 1, 2, 3) as f using (sale_month, platform, currency)"
        " where k.orders is distinct from f.orders or k.payout is distinct from f.payout").fetchone()[0]
    assert per_group == 0
    return fact[0]


def dbt_failing(database_url: str, target: Path, project: Path, *args: str) -> str:
    """Run dbt expecting it to fail; returns stdout with whitespace collapsed."""
    command, env = _dbt_command(database_url, target, args, project)
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=project)
    assert proc.returncode == 1, proc.stdout[-4000:]
    return " ".join(proc.stdout.split())


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return project


@pytest.fixture
def db(database_url):
    """Autocommit, so the test's own reads never hold locks while dbt runs."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def loader(conn):
    # fct_sales reads every sales source: their raw tables exist (empty), as `soleflipper setup`
    # and the Dagster dbt asset make sure before any build.
    ensure_all_raw_tables(conn)
    fmt = load_format("stockx_sales_report")

    def load(path: Path) -> None:
        load_file(conn, fmt, path)

    return load


@pytest.fixture
def built(database_url, loader, demo_reports, tmp_path):
    """Both demo files loaded and the KPI lineage built once."""
    for path in demo_reports:
        loader(path)
    dbt(database_url, tmp_path / "target", "build", *LINEAGE)
    return database_url


def test_rebuilds_refresh_in_place_and_pick_up_new_rows(database_url, db, loader, demo_reports, tmp_path):
    """(i) a second build keeps both relations (same OIDs); (v) rows loaded later reach the view."""
    target = tmp_path / "target"
    older, newer = demo_reports
    loader(older)
    dbt(database_url, target, "build", *LINEAGE)
    first = oids(db)
    orders_before = assert_kpis_match_fact(db)
    db.execute("grant select on analytics.mv_executive_kpis to public")  # made outside dbt, as for Metabase

    out = dbt(database_url, target, "build", *LINEAGE)
    assert oids(db) == first
    assert "refresh_concurrently (definition and indexes unchanged)" in out
    assert assert_kpis_match_fact(db) == orders_before

    loader(newer)
    dbt(database_url, target, "build", *LINEAGE)
    assert oids(db) == first
    assert assert_kpis_match_fact(db) == 300 > orders_before
    assert public_can_read_kpis(db)
    # fct_sales keeps its contract constraints and configured indexes.
    indexes = {d for (d,) in db.execute("select indexdef from pg_indexes where schemaname = 'transactions'"
                                        " and tablename = 'fct_sales'")}
    assert any("UNIQUE" in d and "(sale_id)" in d for d in indexes)
    assert any("(sale_date, platform)" in d for d in indexes)
    assert db.execute("select count(*) from pg_constraint where conrelid = %s::regclass and contype = 'p'",
                      (FCT,)).fetchone()[0] == 1


def test_readers_are_not_blocked_while_the_view_refreshes(built, db, tmp_path):
    """(ii) A reader holds the view for the whole build, and a reader issued mid-refresh completes.

    To catch the refresh while it runs (no sleeps), `blocker` holds a concurrent refresh of its
    own open, so dbt's REFRESH ... CONCURRENTLY waits for it. A plain REFRESH would wait with an
    ACCESS EXCLUSIVE request, and new readers would queue behind that request.
    """
    url = built
    before = oids(db)
    with psycopg.connect(url) as long_reader, psycopg.connect(url) as blocker, \
            psycopg.connect(url, autocommit=True) as watcher:
        # long_reader's transaction stays open with the view read; blocker holds EXCLUSIVE until its commit.
        long_reader.execute("select count(*) from analytics.mv_executive_kpis").fetchone()
        blocker.execute("refresh materialized view concurrently analytics.mv_executive_kpis")
        ours = {long_reader.info.backend_pid, blocker.info.backend_pid, watcher.info.backend_pid}

        command, env = _dbt_command(url, tmp_path / "t2", ("build", "--select", "mv_executive_kpis"),
                                    DBT_PROJECT_DIR)
        with open(tmp_path / "dbt.out", "w") as out:
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=DBT_PROJECT_DIR)
        try:
            waiter, deadline = None, time.monotonic() + 120
            while waiter is None:  # until dbt waits for a lock (its refresh, waiting for `blocker`)
                assert proc.poll() is None, (tmp_path / "dbt.out").read_text()[-3000:]
                assert time.monotonic() < deadline, "dbt never waited for a lock"
                waiter = watcher.execute(
                    "select pid, query from pg_stat_activity where datname = current_database()"
                    " and not pid = any(%s) and wait_event_type = 'Lock'", (list(ours),)).fetchone()
                if waiter is None:
                    watcher.execute("select pg_sleep(0.1)")
            refresher, query = waiter
            assert "refresh materialized view concurrently" in query, query
            assert '"analytics"."mv_executive_kpis"' in query, query

            waiting = watcher.execute(
                "select pid, mode, relation::regclass::text from pg_locks where not granted and pid in"
                " (select pid from pg_stat_activity where datname = current_database())").fetchall()
            assert waiting == [(refresher, "ExclusiveLock", KPI)]  # only dbt waits, and not for ACCESS EXCLUSIVE

            with psycopg.connect(url, autocommit=True) as reader:
                reader.execute("set statement_timeout = '5s'")  # a blocked reader would fail here
                assert reader.execute("select sum(orders) from analytics.mv_executive_kpis").fetchone()[0] == 300
                assert reader.execute("select count(*) from transactions.fct_sales").fetchone()[0] == 300
            still_waiting = watcher.execute("select count(*) from pg_locks where not granted and pid = %s",
                                            (refresher,)).fetchone()[0]
            assert still_waiting == 1  # the reader ran while the refresh was in progress

            blocker.commit()
            assert proc.wait(timeout=120) == 0, (tmp_path / "dbt.out").read_text()[-3000:]
            # dbt finished while long_reader's transaction still holds the view.
            assert long_reader.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        long_reader.commit()
    assert "refresh_concurrently" in (tmp_path / "dbt.out").read_text()
    assert oids(db) == before


def test_changed_view_sql_is_swapped_in_without_full_refresh(built, db, tmp_path):
    """(iii) Editing the SQL changes the view on the next plain build; readers never lose it."""
    url = built
    target = tmp_path / "target"
    project = copy_project(tmp_path)
    model = project / "models" / "marts" / "analytics" / "mv_executive_kpis.sql"
    sql = model.read_text()
    assert "round(avg(gross_amount), 2) as average_sale_price" in sql
    model.write_text(sql.replace("round(avg(gross_amount), 2) as average_sale_price",
                                 "round(avg(gross_amount), 2) as average_sale_price,\n"
                                 "        max(gross_amount) as max_sale_price"))
    before = oids(db)
    db.execute("grant select on analytics.mv_executive_kpis to public")

    stop, reads, errors = threading.Event(), [], []

    def read_continuously() -> None:
        with psycopg.connect(url, autocommit=True) as reader:
            reader.execute("set statement_timeout = '10s'")
            while not stop.is_set() or not (reads or errors):
                try:
                    row = reader.execute("select sum(orders) from analytics.mv_executive_kpis").fetchone()
                    reads.append(row[0])
                except psycopg.Error as exc:  # e.g. "relation does not exist" or a timeout
                    errors.append(exc)

    thread = threading.Thread(target=read_continuously)
    thread.start()
    try:
        out = dbt(url, target, "build", "--select", "mv_executive_kpis", project=project)
    finally:
        stop.set()
        thread.join()
    assert errors == [] and set(reads) == {300}
    assert "max_sale_price" in db.execute("select pg_get_viewdef(%s::regclass)", (KPI,)).fetchone()[0]
    after = oids(db)
    assert after[FCT] == before[FCT] and after[KPI] != before[KPI]
    assert "swap (the SQL definition changed)" in out
    assert db.execute("select count(*) from analytics.mv_executive_kpis"
                      " where max_sale_price >= average_sale_price").fetchone()[0] > 0
    assert public_can_read_kpis(db)
    assert db.execute("select count(*) from pg_indexes where schemaname = 'analytics'"
                      " and tablename = 'mv_executive_kpis' and indexdef like 'CREATE UNIQUE%%'").fetchone()[0] == 1
    assert db.execute("select obj_description(%s::regclass)", (KPI,)).fetchone()[0].startswith("Executive KPIs")
    leftovers = db.execute("select relname from pg_class where relname like 'mv_executive_kpis__dbt%%'").fetchall()
    assert leftovers == []

    # The new definition is now the baseline: the next build refreshes it in place.
    out = dbt(url, target, "build", "--select", "mv_executive_kpis", project=project)
    assert oids(db) == after and "refresh_concurrently" in out


def test_full_refresh_still_works_and_is_what_shape_changes_ask_for(built, db, tmp_path):
    """(iv) --full-refresh swaps in a new view; a retyped fact column fails clearly until the
    rebuild its message asks for; a KPI view without a unique index fails clearly."""
    url = built
    before = oids(db)

    out = dbt(url, tmp_path / "target", "build", "--full-refresh", "--select", "mv_executive_kpis")
    swapped = oids(db)
    assert swapped[FCT] == before[FCT] and swapped[KPI] != before[KPI]
    assert "swap (--full-refresh)" in out
    assert assert_kpis_match_fact(db) == 300

    project = copy_project(tmp_path)
    target = tmp_path / "copy_target"
    kpi_yml = project / "models" / "marts" / "analytics" / "_analytics__models.yml"
    kpi_config = kpi_yml.read_text()
    kpi_yml.write_text(kpi_config.replace("{columns: [sale_month, platform, currency], unique: true}",
                                          "{columns: [sale_month, platform, currency]}"))
    out = dbt_failing(url, target, project, "run", "--select", "mv_executive_kpis")
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

    dbt(url, target, "build", "--full-refresh", "--select", "fct_sales+", project=project)
    rebuilt = oids(db)
    # A new table; the cascade took the view with the old one, and dbt rebuilt it (`fct_sales+`).
    assert rebuilt[FCT] != swapped[FCT] and rebuilt[KPI] != swapped[KPI]
    assert db.execute("select format_type(atttypid, atttypmod) from pg_attribute where attrelid = %s::regclass"
                      " and attname = 'buyer_city'", (FCT,)).fetchone()[0] == "character varying(200)"
    assert assert_kpis_match_fact(db) == 300
