"""KPI view refresh under read load: reader latency idle vs during REFRESH ... CONCURRENTLY, blocked readers.

The warehouse: the demo generator's 100k sales and their purchases sheet, loaded by the project's
loader, then the seven KPI views' lineage built by dbt (`dbt seed`, `dbt run --select +path:models/marts/analytics`).
Reader threads (one psycopg connection each, like dashboard users) query the views in turn, first
with nothing else running (idle), then while a refresher runs `REFRESH MATERIALIZED VIEW
CONCURRENTLY` on every view, round after round: the statement the project's `kpi_view`
materialization issues (dbt_project/macros/materializations/kpi_view.sql), one transaction per
view. A sampler reads pg_stat_activity every 0.1 s: a reader query seen waiting on a lock
(wait_event_type 'Lock') more than 1 s after it started counts as a blocked reader. Quick mode
(the smoke test) uses one synthetic materialized view instead of the dbt build.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from itertools import islice

import psycopg
from psycopg import sql

from benchmarks.harness import BenchContext, Case, Result

KPI_VIEWS = ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
             "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")
READER_APP = "sf_bench_reader"
BLOCKED_AFTER_S = 1.0
SAMPLE_EVERY_S = 0.1
READ_LIMIT = 500  # rows a dashboard card fetches


@dataclass(frozen=True)
class Sizes:
    sales: int
    readers: int
    idle_s: float
    min_refresh_s: float  # refresh rounds continue until at least this long


FULL = Sizes(sales=100_000, readers=4, idle_s=20.0, min_refresh_s=20.0)
QUICK = Sizes(sales=0, readers=2, idle_s=1.0, min_refresh_s=1.0)


def build_warehouse(ctx: BenchContext, sales: int) -> list[tuple[str, str]]:
    """Demo sales and purchases loaded, the KPI views built; returns their (schema, name)."""
    from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_connection_env
    from resources.warehouse import ensure_all_raw_tables, load_file
    from soleflipper.demo_data import iter_sales, write_demo_purchases_sheet, write_sales_report
    from soleflipper.formats import load_format

    report = ctx.work_dir / "imports" / "bench_sales.csv"
    write_sales_report(report, islice(iter_sales(sales, seed=7), sales))
    purchases = write_demo_purchases_sheet(ctx.work_dir / "imports", n_sales=sales, seed=7)
    with psycopg.connect(ctx.database_url) as conn:
        ensure_all_raw_tables(conn)
        load_file(conn, load_format("stockx_sales_report"), report)
        load_file(conn, load_format("purchases_sheet"), purchases)
    target = ctx.work_dir / "dbt"
    env = {**os.environ, **dbt_connection_env(ctx.database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # The seeds (mappings the staging models join), then the views' lineage without the tests.
    for args in (["seed"], ["run", "--select", "+path:models/marts/analytics"]):
        command = [DBT_EXECUTABLE, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                   str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)]
        proc = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt {args[0]} for the KPI views failed: {proc.stdout[-2000:]}")
    return [("analytics", view) for view in KPI_VIEWS]


def build_synthetic_view(database_url: str) -> list[tuple[str, str]]:
    """Quick mode: one materialized view with the unique index a concurrent refresh needs."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create schema bench_kpi")
        conn.execute("create table bench_kpi.sales as select g as id, g % 500 as product, (g % 97)::numeric as amount "
                     "from generate_series(1, 50000) g")
        conn.execute("create materialized view bench_kpi.mv_product as select product, count(*) as units, "
                     "sum(amount) as revenue from bench_kpi.sales group by product")
        conn.execute("create unique index on bench_kpi.mv_product (product)")
    return [("bench_kpi", "mv_product")]


class Readers:
    """Reader threads querying the views in turn; every query's (start, seconds)."""

    def __init__(self, database_url: str, views: list[tuple[str, str]], count: int) -> None:
        self.url = database_url
        self.queries = [sql.SQL("select * from {} limit {}").format(sql.Identifier(*v), sql.Literal(READ_LIMIT))
                        for v in views]
        self.samples: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(i,), daemon=True) for i in range(count)]
        self.lock = threading.Lock()

    def _read(self, index: int) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True, application_name=READER_APP) as conn:
                n = index
                while not self.stop.is_set():
                    start = time.perf_counter()
                    conn.execute(self.queries[n % len(self.queries)]).fetchall()
                    with self.lock:
                        self.samples.append((start, time.perf_counter() - start))
                    n += 1
        except psycopg.Error as exc:  # a reader that fails is reported, not hidden
            self.errors.append(str(exc))

    def __enter__(self) -> Readers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


class LockSampler:
    """Polls pg_stat_activity for reader queries waiting on a lock; keeps the longest wait per query."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.waits: dict[tuple[int, object], float] = {}  # (pid, query_start) -> seconds seen waiting
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        query = ("select pid, query_start, extract(epoch from clock_timestamp() - query_start) "
                 "from pg_stat_activity where application_name = %s and wait_event_type = 'Lock'")
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                for pid, started, seconds in conn.execute(query, (READER_APP,)).fetchall():
                    key = (pid, started)
                    self.waits[key] = max(self.waits.get(key, 0.0), float(seconds))
                self.samples += 1
                time.sleep(SAMPLE_EVERY_S)

    def blocked(self) -> int:
        return sum(1 for seconds in self.waits.values() if seconds > BLOCKED_AFTER_S)

    def __enter__(self) -> LockSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def refresh_rounds(database_url: str, views: list[tuple[str, str]], min_seconds: float) -> tuple[float, float, int]:
    """Refresh every view concurrently, round after round, for at least ``min_seconds``.

    Returns (window start, window end, rounds) on the perf_counter clock."""
    start = time.perf_counter()
    rounds = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        while rounds == 0 or time.perf_counter() - start < min_seconds:
            for view in views:
                conn.execute(sql.SQL("refresh materialized view concurrently {}").format(sql.Identifier(*view)))
            rounds += 1
    return start, time.perf_counter(), rounds


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def run(ctx: BenchContext) -> list[Result]:
    sizes = QUICK if ctx.quick else FULL
    if ctx.quick:
        views, data = build_synthetic_view(ctx.database_url), "a synthetic view of 50,000 rows"
    else:
        ctx.log(f"loading {sizes.sales:,} demo sales and building the KPI views (dbt run)")
        views, data = build_warehouse(ctx, sizes.sales), f"the 7 KPI views on {sizes.sales:,} demo sales"
    ctx.log(f"{sizes.readers} readers: {sizes.idle_s:.0f} s idle, then refresh rounds")
    with LockSampler(ctx.database_url) as sampler, Readers(ctx.database_url, views, sizes.readers) as readers:
        time.sleep(0.5)  # connections open
        idle_start = time.perf_counter()
        time.sleep(sizes.idle_s)
        idle_end = time.perf_counter()
        start, end, rounds = refresh_rounds(ctx.database_url, views, sizes.min_refresh_s)
        time.sleep(2 * SAMPLE_EVERY_S)  # the sampler sees the last waits
    if readers.errors:
        raise RuntimeError(f"reader failed: {readers.errors[0]}")
    idle = [s for t, s in readers.samples if idle_start <= t < idle_end]
    during = [s for t, s in readers.samples if start <= t < end]
    if not idle or not during:
        raise RuntimeError("no reader query fell in a window")
    blocked = sampler.blocked()
    ms = 1000.0
    idle_p50, idle_p95 = percentile(idle, 50) * ms, percentile(idle, 95) * ms
    during_p50, during_p95 = percentile(during, 50) * ms, percentile(during, 95) * ms
    context = f"{sizes.readers} reader threads on {data}"
    return [
        Result("reader latency p50, idle (reference)", idle_p50, unit="ms", note=f"{len(idle):,} queries; {context}"),
        Result("reader latency p95, idle", idle_p95, unit="ms"),
        Result("reader latency p50, during concurrent refresh", during_p50, unit="ms", ratio=during_p50 / idle_p50,
               note=f"{len(during):,} queries"),
        Result("reader latency p95, during concurrent refresh", during_p95, unit="ms", ratio=during_p95 / idle_p95),
        Result("reader latency max, during concurrent refresh", max(during) * ms, unit="ms"),
        Result("refresh round (all views, CONCURRENTLY)", (end - start) / rounds, note=f"{rounds} round(s)"),
        Result(f"blocked readers (lock wait > {BLOCKED_AFTER_S:.0f} s)", float(blocked), unit="readers",
               ratio=blocked / len(during), target="0 (share of reader queries during refresh)", met=blocked == 0,
               note=f"{sampler.samples:,} pg_stat_activity samples, {len(sampler.waits)} lock waits seen "
                    "(any length)"),
    ]


CASES = [Case(name="refresh", run=run, description=" ".join(__doc__.split()))]
