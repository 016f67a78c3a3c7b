"""Raw ingest of a StockX seller sales report CSV: SoleFlipper's loader vs \\copy, to_sql and dlt.

The file is the demo generator's (soleflipper/demo_data.py), in the real export's 44-column
layout, streamed to disk. Each contender loads the same file into a fresh table:

- SoleFlipper's loader: ``resources.warehouse.load_file``, the function ``soleflipper import``
  calls (validation, row hashing, quarantine on), in a fresh child process per run so its peak
  RSS is its own;
- ``psql \\copy`` into a plain table of 44 text columns: the physical limit (no parsing, no
  types, no dedup);
- ``pandas.DataFrame.to_sql(method="multi")`` in chunks below PostgreSQL's 65,535 bind
  parameters, on a slice (it is slow) and extrapolated linearly;
- dlt's PostgreSQL destination with its defaults, fed the CSV rows as dicts.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import os
import sys
import textwrap
import time
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.harness import BenchContext, Case, Result, median, run_child
from resources.postgres import libpq_params, sqlalchemy_url
from soleflipper.settings import PROJECT_ROOT

PSQL = os.environ.get("SOLEFLIPPER_BENCH_PSQL", "/usr/bin/psql")
# 44 columns x 1,400 rows = 61,600 bind parameters per INSERT: below PostgreSQL's 65,535.
TO_SQL_CHUNK = 1_400
COPY_TARGET = 0.7
TO_SQL_TARGET = 10.0
RSS_TOLERANCE = 0.20


@dataclass(frozen=True)
class Sizes:
    rows: int  # the main file
    big_rows: int  # the second file for the flat-memory check
    slice_rows: int  # to_sql's slice
    runs: int  # runs of the loader and of \copy (the median is reported)
    slow_runs: int  # runs of to_sql and dlt


FULL = Sizes(rows=1_000_000, big_rows=5_000_000, slice_rows=100_000, runs=3, slow_runs=1)
QUICK = Sizes(rows=2_000, big_rows=6_000, slice_rows=500, runs=1, slow_runs=1)
# e.g. "runs=1,big_rows=2000000": override the full sizes (a shorter run; each row names its size).
SIZES_ENV = "SOLEFLIPPER_BENCH_INGEST_SIZES"
ORDER_NUMBER = 16  # the column index of "Order Number" in the current layout


def sizes_for(quick: bool) -> Sizes:
    if quick:
        return QUICK
    override = os.environ.get(SIZES_ENV, "")
    fields = dict(item.split("=", 1) for item in override.split(",") if item.strip())
    return replace(FULL, **{k.strip(): int(v) for k, v in fields.items()})


def write_sales_csv(path: Path, rows: int) -> Path:
    """The demo generator's sales, streamed to ``path`` in the current 44-column export layout."""
    from soleflipper.demo_data import iter_sales, write_sales_report

    write_sales_report(path, iter_sales(rows, seed=11))
    return path


def write_copies(source: Path, path: Path, copies: int) -> Path:
    """``copies`` passes over ``source``, each with its own order numbers (pass k prefixes a digit k).

    The big file of the memory check: the generator's rows at C-csv speed. Distinct order
    numbers keep every row a new sale, so the loader does the same work per row as on ``source``.
    """
    with source.open(encoding="utf-8", newline="") as src, path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(next(csv.reader(src)))
        for k in range(copies):
            src.seek(0)
            reader = csv.reader(src)
            next(reader)
            for row in reader:
                row[ORDER_NUMBER] = f"{k + 1}{row[ORDER_NUMBER]}"
                writer.writerow(row)
    return path


def _libpq_env(url: str) -> dict[str, str]:
    """The connection as PG* variables: no password on a command line."""
    params = libpq_params(url)
    env = {**os.environ, "PGHOST": str(params["host"]), "PGPORT": str(params["port"]),
           "PGUSER": str(params["user"]), "PGDATABASE": str(params["dbname"])}
    if params["password"]:
        env["PGPASSWORD"] = str(params["password"])
    return env


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


# -- SoleFlipper's loader, in a child process --------------------------------------------------------

_LOADER_CHILD = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import psycopg
    from resources.warehouse import ensure_raw_table, load_file
    from soleflipper.formats import load_format

    url, path = sys.argv[1], Path(sys.argv[2])
    fmt = load_format("stockx_sales_report")
    with psycopg.connect(url) as conn:
        ensure_raw_table(conn, fmt)  # DDL once, as `soleflipper setup` does; not timed
        start = time.perf_counter()
        result = load_file(conn, fmt, path)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
                      "rows_quarantined": result.rows_quarantined}))
""")


def _reset_raw(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade")


def load_with_soleflipper(url: str, path: Path, expected_rows: int) -> tuple[float, int]:
    """(seconds inside load_file, the child's peak RSS in bytes) of one load into an empty raw schema."""
    _reset_raw(url)
    child = run_child([sys.executable, "-c", _LOADER_CHILD, url, str(path)], cwd=PROJECT_ROOT)
    report = json.loads(child.stdout.strip().splitlines()[-1])
    if report["rows_loaded"] != expected_rows or report["rows_quarantined"] != 0:
        raise RuntimeError(f"loader loaded {report['rows_loaded']} of {expected_rows} rows "
                           f"({report['rows_quarantined']} quarantined)")
    return report["seconds"], child.peak_rss_bytes


# -- psql \copy -----------------------------------------------------------------------------------


def _create_text_table(url: str, table: str, columns: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("create table {} ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(len(columns)))))


def _count(url: str, table: str, schema: str = "public") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0]


def copy_with_psql(url: str, path: Path, columns: list[str]) -> float:
    """Wall time of one ``psql \\copy`` of the file into a fresh table of text columns."""
    _create_text_table(url, "copy_target", columns)
    quoted = str(path).replace("'", "''")
    child = run_child([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                       f"\\copy copy_target from '{quoted}' with (format csv, header true)"],
                      env=_libpq_env(url))
    return child.seconds


# -- pandas to_sql --------------------------------------------------------------------------------


def to_sql_seconds(url: str, path: Path, rows: int) -> float:
    """Wall time of ``DataFrame.to_sql(method='multi')`` of the first ``rows`` rows (read untimed)."""
    import pandas as pd
    from sqlalchemy import create_engine

    frame = pd.read_csv(path, nrows=rows, dtype=str, keep_default_na=False)
    # Plain column names, as for \copy: with the export's headers ("Seller Address (Billing)")
    # SQLAlchemy 2.1 escapes every bind name, quadratic in the parameters of a statement.
    frame.columns = [f"c{i}" for i in range(len(frame.columns))]
    engine = create_engine(sqlalchemy_url(url))
    try:
        start = time.perf_counter()
        frame.to_sql("to_sql_target", engine, if_exists="replace", index=False, method="multi",
                     chunksize=TO_SQL_CHUNK)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    if _count(url, "to_sql_target") != rows:
        raise RuntimeError("to_sql did not load every row")
    return seconds


# -- dlt ------------------------------------------------------------------------------------------


def dlt_available() -> bool:
    return importlib.util.find_spec("dlt") is not None


def dlt_seconds(url: str, path: Path, rows: int, pipelines_dir: Path, run: int) -> float:
    """Wall time of one dlt pipeline run (extract, normalize, load) of the file's first ``rows`` rows."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt

    def sales():
        with path.open(encoding="utf-8", newline="") as handle:
            yield from itertools.islice(csv.DictReader(handle), rows)

    params = libpq_params(url)
    # dlt insists on a password; a server trusting local connections ignores the placeholder.
    credentials = {"host": params["host"], "port": params["port"], "username": params["user"],
                   "password": params["password"] or "unused", "database": params["dbname"]}
    dataset = f"dlt_bench_{run}"
    pipeline = dlt.pipeline(pipeline_name=f"sf_bench_{run}", pipelines_dir=str(pipelines_dir),
                            destination=dlt.destinations.postgres(credentials=credentials), dataset_name=dataset)
    start = time.perf_counter()
    pipeline.run(sales(), table_name="sales", write_disposition="replace")
    seconds = time.perf_counter() - start
    if _count(url, "sales", dataset) != rows:
        raise RuntimeError("dlt did not load every row")
    return seconds


# -- the case -------------------------------------------------------------------------------------


def _rows_per_s(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def run_ingest(ctx: BenchContext) -> list[Result]:
    sizes = sizes_for(ctx.quick)
    url = ctx.database_url
    ctx.log(f"writing {sizes.rows:,} sales to CSV")
    path = write_sales_csv(ctx.work_dir / "sales.csv", sizes.rows)
    columns = _header(path)
    ctx.log(f"{path.stat().st_size / 2**20:,.0f} MiB, {len(columns)} columns")

    # Interleave the loader and \copy runs so a burst of other work on the machine hits both.
    loader_runs: list[float] = []
    loader_rss: list[int] = []
    copy_runs: list[float] = []
    for i in range(sizes.runs):
        copy_runs.append(copy_with_psql(url, path, columns))
        seconds, rss = load_with_soleflipper(url, path, sizes.rows)
        loader_runs.append(seconds)
        loader_rss.append(rss)
        ctx.log(f"run {i + 1}/{sizes.runs}: \\copy {copy_runs[-1]:.2f} s, loader {seconds:.2f} s, "
                f"loader peak RSS {rss / 2**20:.0f} MiB")
    loader_s, copy_s = median(loader_runs), median(copy_runs)
    copy_ratio = copy_s / loader_s  # throughput ratio: loader rows/s over \copy rows/s

    ctx.log(f"to_sql on {sizes.slice_rows:,} rows")
    slice_runs = [to_sql_seconds(url, path, sizes.slice_rows) for _ in range(sizes.slow_runs)]
    to_sql_s = median(slice_runs) * sizes.rows / sizes.slice_rows

    results = [
        Result(f"psql \\copy, {sizes.rows:,} rows (reference)", copy_s, runs=sizes.runs,
               samples=copy_runs, note=_rows_per_s(sizes.rows, copy_s) + "; text columns, no checks"),
        Result(f"SoleFlipper loader, {sizes.rows:,} rows", loader_s, runs=sizes.runs, samples=loader_runs,
               ratio=copy_ratio, target=f"≥ {COPY_TARGET}x \\copy throughput", met=copy_ratio >= COPY_TARGET,
               note=_rows_per_s(sizes.rows, loader_s) + "; validation, hashing, quarantine, dedup on"),
        Result(f"pandas to_sql(method='multi'), {sizes.rows:,} rows", to_sql_s, runs=sizes.slow_runs,
               samples=slice_runs, ratio=to_sql_s / loader_s, target=f"loader ≥ {TO_SQL_TARGET:g}x to_sql",
               met=to_sql_s / loader_s >= TO_SQL_TARGET,
               note=f"extrapolated linearly from {sizes.slice_rows:,} rows "
                    f"({median(slice_runs):.2f} s), chunks of {TO_SQL_CHUNK:,} rows; ratio = to_sql time / loader time"),
    ]

    if dlt_available():
        ctx.log(f"dlt on {sizes.slice_rows:,} rows")
        dlt_runs = [dlt_seconds(url, path, sizes.slice_rows, ctx.work_dir / "dlt", i)
                    for i in range(sizes.slow_runs)]
        dlt_s = median(dlt_runs) * sizes.rows / sizes.slice_rows
        results.append(Result(f"dlt PostgreSQL destination, {sizes.rows:,} rows", dlt_s, runs=sizes.slow_runs,
                              samples=dlt_runs, ratio=dlt_s / loader_s,
                              note=f"extrapolated linearly from {sizes.slice_rows:,} rows ({median(dlt_runs):.2f} s, "
                                   "pipeline start included); defaults (insert_values), rows as dicts from "
                                   "csv.DictReader; ratio = dlt time / loader time"))
    else:
        results.append(Result(f"dlt PostgreSQL destination, {sizes.rows:,} rows", None,
                              note="skipped: dlt is not installed (`make bench` installs it from "
                                   "benchmarks/requirements-bench.lock)"))

    # Flat memory: the same load of a file five times larger.
    ctx.log(f"writing {sizes.big_rows:,} sales to CSV for the memory check")
    big = write_copies(path, ctx.work_dir / "sales_big.csv", sizes.big_rows // sizes.rows)
    path.unlink()
    big_s, big_rss = load_with_soleflipper(url, big, sizes.big_rows)
    big.unlink()
    _reset_raw(url)
    small_rss = max(loader_rss)
    growth = big_rss / small_rss - 1
    ctx.log(f"{sizes.big_rows:,} rows: loader {big_s:.1f} s, peak RSS {big_rss / 2**20:.0f} MiB")
    results += [
        Result(f"loader peak RSS, {sizes.rows:,} rows", small_rss / 2**20, unit="MiB", runs=sizes.runs,
               note="highest of the runs above; the child process's ru_maxrss (Python, psycopg, dagster imports)"),
        Result(f"loader peak RSS, {sizes.big_rows:,} rows", big_rss / 2**20, unit="MiB", ratio=big_rss / small_rss,
               target=f"within {RSS_TOLERANCE:.0%} of {sizes.rows:,} rows", met=abs(growth) <= RSS_TOLERANCE,
               note=f"load took {big_s:.1f} s ({_rows_per_s(sizes.big_rows, big_s)})"),
    ]
    return results


CASES = [
    Case(
        name="ingest",
        run=run_ingest,
        description=(
            "Raw ingest of a StockX seller sales report (demo generator, 44 columns) from CSV into "
            "PostgreSQL. Times are medians; the loader's is the time inside `load_file` (what "
            "`soleflipper import` calls), \\copy's the whole `psql` process. Ratio for the loader: its "
            "throughput over \\copy's; for to_sql and dlt: their time over the loader's."
        ),
    ),
]
