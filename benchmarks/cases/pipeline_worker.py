"""One pipeline benchmark run in a process of its own: ``python -m benchmarks.cases.pipeline_worker``.

A subprocess because the Dagster code location (pipelines/definitions.py) reads the warehouse URL
when it is imported, and so that a size that takes too long can be killed (the case's timeout).

Steps, each timed from the Dagster run's step stats (what the UI shows per step):

1. writes the demo generator's files for ``round(sales * 1.01)`` sales into the import folders:
   the first ``sales`` rows (by sale date) as the full run's StockX report, the last 1 % as a
   second report held back for the incremental run; the purchases sheet, expenses, FX rates and
   market sales as ``soleflipper demo`` writes them (not timed as pipeline work);
2. the full run: job ``refresh_everything`` (ingest, dbt build with the KPI views, forecasts,
   pricing), as ``soleflipper run`` launches it;
3. the incremental run: the held-back report dropped into the import folder and the job the import
   sensor launches for it (``import_stockx_sales_report``: load, then the dbt models downstream).

Writes one JSON object to ``--output``: stage seconds for both runs and row counts.
No API simulators: the API syncs are measured by the stockx_sync case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from itertools import islice
from pathlib import Path

STAGES = ("ingest", "dbt build", "KPI views", "forecasts", "pricing", "other")
INCREMENT_SHARE = 0.01


def write_inputs(home: Path, sales: int, seed: int, ingest_only: bool) -> Path:
    """The demo files for the full run; returns the held-back 1 % report (outside the import folders)."""
    from soleflipper.demo_data import iter_sales, write_demo_purchases_sheet, write_sales_report
    from soleflipper.demo_expenses import write_demo_expenses_sheet
    from soleflipper.demo_fx import write_demo_fx_rates
    from soleflipper.demo_market_sales import write_demo_market_sales

    imports = home / "imports"
    total = sales + max(1, round(sales * INCREMENT_SHARE))
    rows = iter_sales(total, seed=seed)  # sorted by sale date: the last 1 % are the newest sales
    write_sales_report(imports / "stockx_sales_report" / "bench_sales_full.csv", islice(rows, sales))
    held_back = home / "held_back" / "bench_sales_increment.csv"
    write_sales_report(held_back, rows)
    # Purchases come before sales: the sheet already holds the units the new sales sell.
    write_demo_purchases_sheet(imports / "purchases_sheet", n_sales=total, seed=seed)
    if ingest_only:  # quick mode: the fixed-size files (market sales: ~10 s to load) add nothing
        return held_back
    write_demo_expenses_sheet(imports / "expenses_sheet", n_sales=total, seed=seed)
    write_demo_fx_rates(imports / "ecb_fx_rates", seed=seed)
    write_demo_market_sales(imports / "stockx_activity_sales", seed=seed)
    return held_back


def stage_of(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key == "warehouse_dbt_models":
        return "dbt build"
    if "forecast" in step_key:
        return "forecasts"
    if "pricing" in step_key:
        return "pricing"
    return "other"


def kpi_view_keys() -> set:
    """Asset keys of the dbt models materialized as `kpi_view` (the KPI materialized views)."""
    import json as json_lib

    from assets.dbt import is_kpi_view, translator
    from resources.dbt import ensure_manifest

    nodes = json_lib.loads(ensure_manifest().read_text())["nodes"].values()
    return {translator.get_asset_key(node) for node in nodes if is_kpi_view(node)}


def kpi_view_seconds(instance, run_id: str, keys: set) -> float:
    """Seconds the dbt step spent on the KPI materialized views: their models' execution durations."""
    import dagster as dg

    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION,
                                           limit=100_000).records
    total = 0.0
    for record in records:
        mat = record.event_log_entry.dagster_event.event_specific_data.materialization
        duration = mat.metadata.get("Execution Duration")
        if mat.asset_key in keys and duration is not None:
            total += float(duration.value)
    return total


def direct_ingest(imports: Path, only: Path | None = None) -> dict:
    """Quick mode: the loader the file import assets call, without Dagster (its code location
    alone takes 10-30 s to import here), on every file of the import folders or on ``only``."""
    import psycopg

    from resources.warehouse import load_file
    from soleflipper.formats import load_format

    started = time.perf_counter()
    files = [only] if only else sorted(p for p in imports.glob("*/*") if p.is_file())
    with psycopg.connect(os.environ["SOLEFLIPPER_DATABASE_URL"]) as conn:
        for path in files:
            result = load_file(conn, load_format(path.parent.name), path)
            # The demo data is clean: timing a load that rejected rows measures nothing.
            if result.rows_quarantined or not result.rows_loaded:
                raise RuntimeError(f"{path.name}: {result.rows_loaded} of {result.rows_read} rows loaded, "
                                   f"{result.rows_quarantined} quarantined")
    wall = time.perf_counter() - started
    stages = dict.fromkeys(STAGES, 0.0)
    stages["ingest"] = wall
    return {"success": True, "wall_s": wall, "stages": stages, "failed_steps": []}


def timed_run(job_def, instance, run_config=None) -> dict:
    started = time.perf_counter()
    result = job_def.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config or {})
    wall = time.perf_counter() - started
    stages = dict.fromkeys(STAGES, 0.0)
    for stat in instance.get_run_step_stats(result.run_id):
        if stat.start_time is not None and stat.end_time is not None:
            stages[stage_of(stat.step_key)] += stat.end_time - stat.start_time
    kpi = kpi_view_seconds(instance, result.run_id, kpi_view_keys())
    stages["KPI views"] = kpi
    stages["dbt build"] = max(0.0, stages["dbt build"] - kpi)
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    return {"success": result.success, "wall_s": wall, "stages": stages, "failed_steps": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True, help="where the JSON report goes")
    parser.add_argument("--ingest-only", action="store_true",
                        help="quick mode: the loader only, without Dagster (no dbt, forecasts, pricing)")
    args = parser.parse_args(argv)
    if not os.environ.get("SOLEFLIPPER_DATABASE_URL"):
        parser.error("SOLEFLIPPER_DATABASE_URL must name the scratch warehouse")
    os.environ["SOLEFLIPPER_HOME"] = str(args.home)
    bin_dir = str(Path(sys.executable).parent)  # dagster-dbt finds `dbt` on PATH
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    started = time.perf_counter()
    held_back = write_inputs(args.home, args.sales, args.seed, args.ingest_only)
    generate_s = time.perf_counter() - started

    import psycopg
    from psycopg import sql

    from resources.warehouse import ensure_all_raw_tables

    with psycopg.connect(os.environ["SOLEFLIPPER_DATABASE_URL"]) as conn:
        ensure_all_raw_tables(conn)
    imports = args.home / "imports"
    new_report = imports / "stockx_sales_report" / held_back.name
    if args.ingest_only:
        full = direct_ingest(imports)
        held_back.rename(new_report)
        incremental = direct_ingest(imports, only=new_report)
    else:
        import dagster as dg

        from pipelines.definitions import defs

        with dg.DagsterInstance.ephemeral() as instance:
            full = timed_run(defs.resolve_job_def("refresh_everything"), instance)
            # The new report lands in the import folder, as a user's next export would.
            held_back.rename(new_report)
            incremental = timed_run(defs.resolve_job_def("import_stockx_sales_report"), instance)
    with psycopg.connect(os.environ["SOLEFLIPPER_DATABASE_URL"]) as conn:
        table = ("raw", "stockx_sales_report") if args.ingest_only else ("transactions", "fct_sales")
        count = sql.SQL("select count(*) from {}").format(sql.Identifier(*table))
        rows = conn.execute(count).fetchone()[0]
    report = {"sales": args.sales, "generate_s": generate_s, "full": full, "incremental": incremental,
              "rows": rows, "rows_table": ".".join(table)}
    args.output.write_text(json.dumps(report), encoding="utf-8")
    return 0 if full["success"] and incremental["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
