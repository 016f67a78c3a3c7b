"""The ``soleflipper`` command line: database, demo, imports, runs and summaries.

Every command works on the same settings as the Dagster code location, so what the CLI loads
is what the UI shows. Nothing here prints a password: URLs are redacted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines import cli_budibase, cli_ebay, cli_forecast, cli_metabase, cli_report, cli_stockx
from soleflipper.settings import PROJECT_ROOT, Settings, load_settings


def _out(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- environment


def prepare_environment(settings: Settings, start_database: bool = True) -> Settings:
    """Start/create what the pipeline needs and export the variables Dagster and dbt read.

    Returns the settings as they are after starting the database (the local cluster may have
    moved to a free port)."""
    import psycopg

    from resources.postgres import provision
    from resources.warehouse import ensure_all_raw_tables
    from soleflipper.bi.role import setup_bi_role

    if start_database:
        provision(settings)
        settings = load_settings()

        with psycopg.connect(settings.warehouse_url) as conn:
            ensure_all_raw_tables(conn)
            setup_bi_role(conn, settings)  # the read-only role Metabase connects as (soleflipper/bi/role.py)
    # DAGSTER_HOME is the checkout itself, which holds the committed dagster.yaml: one instance
    # config, no copy or link of it under the git-ignored .soleflipper/. Local artifacts and
    # compute logs go to .soleflipper/dagster_home (SOLEFLIPPER_DAGSTER_STORAGE_DIR).
    storage = settings.dagster_home
    storage.mkdir(parents=True, exist_ok=True)
    stale = storage / "dagster.yaml"  # a copy or link left by an older version
    if stale.is_symlink() or stale.exists():
        stale.unlink()
    os.environ["DAGSTER_HOME"] = str(PROJECT_ROOT)
    os.environ["SOLEFLIPPER_DAGSTER_STORAGE_DIR"] = str(storage)
    os.environ["SOLEFLIPPER_DAGSTER_STORAGE_URL"] = dagster_storage_sqlalchemy_url(settings.dagster_storage_url)
    # dagster-dbt and subprocesses find `dbt` and `dagster` beside this interpreter.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return settings


def dagster_storage_sqlalchemy_url(url: str) -> str:
    """dagster-postgres is built on psycopg2; SQLAlchemy 2.1 would pick psycopg 3 for a bare
    postgresql:// URL (and Dagster's NOTIFY breaks with it), so name the driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


# --------------------------------------------------------------------------- db commands


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from resources.postgres import LocalCluster, redact_url, resolve_server

    if args.action == "url":
        if getattr(args, "bi", False):
            from soleflipper.bi.role import bi_connection_details

            _out(bi_connection_details(settings).url())  # the read-only role's URL, as `db-url` prints the owner's
            return 0
        _out(settings.dagster_storage_url if args.dagster else settings.warehouse_url)
        return 0
    if not settings.uses_local_cluster:
        _out(f"Using the server in SOLEFLIPPER_DATABASE_URL: {redact_url(settings.warehouse_url)}")
        _out("(the project-local cluster is only used when that variable is unset)")
        return 0
    cluster = LocalCluster(settings.pgdata, settings.local_pg_port, settings.local_pg_version)
    if args.action == "start":
        info = resolve_server(settings)
        _out(f"PostgreSQL {settings.local_pg_version} running: {redact_url(info.warehouse_url)} "
             f"(data in {settings.pgdata})")
    elif args.action == "stop":
        cluster.stop()
        _out("PostgreSQL stopped")
    elif args.action == "status":
        status = cluster.status()
        state = f"running (pid {status.pid})" if status.running else "stopped"
        _out(f"local PostgreSQL {status.version}: {state}, port {status.port}, data {status.pgdata}")
    return 0


# --------------------------------------------------------------------------- demo, import, run


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from soleflipper.demo_data import write_demo_purchases_sheet, write_demo_reports
    from soleflipper.demo_expenses import write_demo_expenses_sheet
    from soleflipper.demo_fx import write_demo_fx_rates
    from soleflipper.demo_market_sales import write_demo_market_sales

    folder = settings.import_folder("stockx_sales_report")
    paths = write_demo_reports(folder, n_sales=args.sales, seed=args.seed)
    # The purchases sheet holds the cost of the earlier ~70 % of the sales (and of their unsold
    # stock); the Notion simulator started by `soleflipper run` / `dev` holds the rest.
    sheets = settings.import_folder("purchases_sheet")
    paths.append(write_demo_purchases_sheet(sheets, n_sales=args.sales, seed=args.seed))
    # Business expenses (storage, software, shipping supplies, fees) for the finance P&L.
    paths.append(write_demo_expenses_sheet(settings.import_folder("expenses_sheet"), n_sales=args.sales,
                                           seed=args.seed))
    # SYNTHETIC EUR reference rates in the ECB's layout, 2023-01-02 to today, for core.fx_rates_daily.
    paths.append(write_demo_fx_rates(settings.import_folder("ecb_fx_rates"), seed=args.seed))
    # SYNTHETIC market-wide StockX sales of the demo products (104 weeks, many sizes, USD) for
    # transactions.fct_market_sales: what demand forecasts and pricing recommendations learn from.
    paths.append(write_demo_market_sales(settings.import_folder("stockx_activity_sales"), seed=args.seed))
    for path in paths:
        _out(f"wrote {path}")
    return 0


def _progress_bar(path: Path):
    from tqdm import tqdm

    bar = tqdm(desc=path.name, unit=" rows", disable=not sys.stderr.isatty(), leave=False)

    def update(rows_read: int) -> None:
        bar.update(rows_read - bar.n)

    return bar, update


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from resources.warehouse import LoadError, load_file
    from soleflipper.formats import load_format

    settings = prepare_environment(settings)
    fmt = load_format(args.format)
    failed = 0
    with psycopg.connect(settings.warehouse_url) as conn:
        for raw_path in args.paths:
            path = Path(raw_path)
            bar, update = _progress_bar(path)
            try:
                result = load_file(conn, fmt, path, progress=update)
            except LoadError as exc:
                bar.close()
                _out(f"FAILED {exc}")
                failed += 1
                continue
            bar.close()
            _out(f"{path}: read {result.rows_read} rows: {result.rows_loaded} loaded "
                 f"({result.rows_changed} changed), {result.rows_duplicate} skipped as duplicate, "
                 f"{result.rows_quarantined} quarantined" + (" (file already loaded)" if result.skipped_file else ""))
            for err in result.sample_errors:
                _out(f"  line {err.line}, field {err.field or '-'}: {err.reason}")
            if result.rows_quarantined > len(result.sample_errors):
                _out(f"  ... see raw.quarantine (batch {result.batch_id}) for all {result.rows_quarantined}")
    if not args.no_build and not failed:
        ok = materialize(["downstream_of_raw", fmt.table])
        return 0 if ok else 1
    return 1 if failed else 0


def materialize(selection: Sequence[str]) -> bool:
    """Run assets through the Dagster instance, so the runs show up in the UI."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.jobs import downstream_of

    instance = dg.DagsterInstance.get()
    if selection[0] == "downstream_of_raw":
        key = dg.AssetKey(["raw", selection[1]])
        job = dg.define_asset_job("cli_build_downstream",
                                  selection=downstream_of(key) - dg.AssetSelection.assets(key))
        job_def = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("cli_build_downstream")
    else:
        job_def = defs.resolve_job_def(selection[0])
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    # Jobs holding the daily-partitioned StockX assets run today's partition (UTC), as their schedules
    # do, so the UI shows the partition filled rather than an unpartitioned materialization.
    partitions = job_def.partitions_def
    partition_key = partitions.get_last_partition_key() if partitions is not None else None
    result = job_def.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                        partition_key=partition_key)
    return result.success


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import nullcontext

    from pipelines.demo import demo_services, forget_demo, remember_demo

    settings = prepare_environment(settings)
    if args.no_demo:
        forget_demo(settings)
    else:
        cmd_demo(argparse.Namespace(sales=args.sales, seed=args.seed), settings)
        remember_demo(settings, args.sales, args.seed)
    # Demo data only: local API simulators with the same sales when no account is configured.
    services = nullcontext() if args.no_demo else demo_services(settings, n_sales=args.sales, seed=args.seed)
    with services as demo:
        _demo_banner(demo)
        _out("Materializing every asset (ingest, dbt build, KPI views)...")
        ok = materialize(["refresh_everything"])
    _out()
    cmd_summary(args, settings)
    _out()
    if not ok:
        _out("The run FAILED: open the Dagster UI (make dev) to see which asset and why.")
        return 1
    _out("Done. Open the Dagster UI with `make dev`, then http://127.0.0.1:3000")
    _out(f"Warehouse URL for psql and BI tools: `soleflipper db-url` ({_redacted(settings)})")
    return 0


def _demo_banner(demo) -> None:
    if demo is not None and demo.active:
        _out(f"StockX: demo simulator on {demo.stockx_api_url} (no StockX account configured; "
             "real StockX allows 1 request/s, the demo runs faster)")
    elif demo is not None and demo.note:
        _out(f"StockX: {demo.note}")
    if demo is not None and demo.notion_active:
        _out(f"Notion: demo simulator on {demo.notion_api_url} (no SOLEFLIPPER_NOTION_TOKEN set)")
    elif demo is not None and demo.notion_note:
        _out(f"Notion: {demo.notion_note}")
    if demo is None:
        return
    # The other simulated services: one line each, what runs or why nothing was started.
    for name, url, note, why in (
        ("eBay", demo.ebay_api_url, demo.ebay_note, "no SOLEFLIPPER_EBAY_CLIENT_ID set"),
        ("Alias", demo.alias_api_url, demo.alias_note, "no SOLEFLIPPER_ALIAS_TOKEN set"),
        ("Metabase", demo.metabase_url, demo.metabase_note,
         "no SOLEFLIPPER_METABASE_URL set; the run provisions the four dashboards on it"),
    ):
        if url:
            _out(f"{name}: demo simulator on {url} ({why})")
        elif note:
            _out(f"{name}: {note}")


def _redacted(settings: Settings) -> str:
    from resources.postgres import redact_url

    return redact_url(settings.warehouse_url)


def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.summary import warehouse_summary

    _out(warehouse_summary(settings.warehouse_url))
    return 0


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import nullcontext

    from pipelines.demo import demo_services, remembered_demo

    settings = prepare_environment(settings)
    dagster = shutil.which("dagster") or str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    demo = remembered_demo(settings)  # the warehouse holds `soleflipper run` demo data: same simulators
    with demo_services(settings, *demo) if demo else nullcontext() as services:
        _demo_banner(services)
        _out(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)")
        return subprocess.call(command, cwd=PROJECT_ROOT)


def cmd_dbt(args: argparse.Namespace, settings: Settings) -> int:
    """Run dbt against the warehouse: the analyst's loop (`make dbt-build`)."""
    from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_connection_env

    settings = prepare_environment(settings)
    env = {**os.environ, **dbt_connection_env(settings.warehouse_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [DBT_EXECUTABLE, *args.dbt_args, "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR)]
    return subprocess.call(command, env=env, cwd=DBT_PROJECT_DIR)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Databases, credentials (set/missing only), API reachability, freshness, failed runs."""
    from soleflipper import doctor

    def instance():
        import dagster as dg

        if not os.environ.get("DAGSTER_HOME"):
            prepare_environment(settings, start_database=False)  # DAGSTER_HOME + storage URL, starts nothing
        os.environ.setdefault("SOLEFLIPPER_DAGSTER_STORAGE_URL",
                              dagster_storage_sqlalchemy_url(settings.dagster_storage_url))
        os.environ.setdefault("SOLEFLIPPER_DAGSTER_STORAGE_DIR", str(settings.dagster_home))
        return dg.DagsterInstance.get()

    rows = doctor.run_checks(
        warehouse_url=settings.warehouse_url,
        dagster_storage_url=settings.dagster_storage_url,
        environ=os.environ,
        instance_factory=instance,
        timeout=args.timeout,
        fernet_key_file=settings.home / "secrets" / "fernet.key",
    )
    if settings.uses_local_cluster and rows[0].status == doctor.FAIL:
        rows[0] = doctor.Row(rows[0].check, rows[0].status,
                             rows[0].detail + " (the local cluster is not running? `make db-start`)")
    _out(doctor.render(rows))
    return doctor.exit_code(rows)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soleflipper", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the warehouse database (local cluster or SOLEFLIPPER_DATABASE_URL)")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.add_argument("--dagster", action="store_true", help="with url: Dagster's storage database instead")
    db.set_defaults(func=cmd_db)

    db_url = sub.add_parser("db-url", help="print the warehouse URL (for psql and BI tools)")
    db_url.add_argument("--dagster", action="store_true", help="Dagster's run/event storage database")
    db_url.add_argument("--bi", action="store_true",
                        help="the warehouse as the read-only BI role (for Metabase and psql)")
    db_url.set_defaults(func=cmd_db, action="url")

    setup = sub.add_parser("setup", help="start the database, create databases and tables")
    setup.set_defaults(func=lambda a, s: (prepare_environment(s), _out("ready"))[1] or 0)  # noqa: E501

    demo = sub.add_parser("demo", help="write the synthetic demo export files into the import folders")
    demo.add_argument("--sales", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="load export files (same code as the sensor) and rebuild")
    imp.add_argument("paths", nargs="+", help="files to load")
    imp.add_argument("--format", default="stockx_sales_report", help="file format (soleflipper/formats/*.yaml)")
    imp.add_argument("--no-build", action="store_true", help="only load; do not rebuild the warehouse models")
    imp.set_defaults(func=cmd_import)

    run = sub.add_parser("run", help="demo data (unless --no-demo), materialize everything, print a summary")
    run.add_argument("--no-demo", action="store_true")
    run.add_argument("--sales", type=int, default=2000)
    run.add_argument("--seed", type=int, default=7)
    run.set_defaults(func=cmd_run)

    dbt = sub.add_parser("dbt", help="run a dbt command against the warehouse (e.g. `soleflipper dbt build`)")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments passed to dbt")
    dbt.set_defaults(func=cmd_dbt)

    summary = sub.add_parser("summary", help="rows per table and headline KPIs")
    summary.set_defaults(func=cmd_summary)

    doctor = sub.add_parser("doctor", help="check databases, credentials, APIs, freshness and failed runs")
    doctor.add_argument("--timeout", type=float, default=3.0, help="seconds per network check (default 3)")
    doctor.set_defaults(func=cmd_doctor)

    cli_stockx.register(sub)
    cli_ebay.register(sub)
    cli_forecast.register(sub)
    cli_report.register(sub)
    cli_metabase.register(sub)
    cli_budibase.register(sub)

    dev = sub.add_parser("dev", help="start the Dagster UI (dagster dev) on the same instance")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args, load_settings()) or 0)


if __name__ == "__main__":
    sys.exit(main())
