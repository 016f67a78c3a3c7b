"""Budibase entries as raw assets: ``raw/budibase_suppliers``, ``raw/budibase_purchases``,
``raw/budibase_sales`` (group ``budibase``).

Each reads the new and changed rows of its entry table (``entry.<entity>``, the only tables the
Budibase app writes), validates them like any file or API record (soleflipper/budibase/entries.py)
and loads them as one batch through the warehouse loader: bad rows go to ``raw.quarantine``
naming the entry table, the row's primary key and the field; the raw checks run at the end of
the step as for every raw asset. Re-running loads nothing twice; an edited row is loaded once, as
a new version (staging keeps the newest).
"""

import functools
import hashlib
import json
import operator

import dagster as dg
import psycopg

from assets.checks_raw import database_now, raw_check_results, raw_check_specs
from pipelines.jobs import WAREHOUSE_BUILD, downstream_of
from resources.warehouse import LoadResult, WarehouseResource, ensure_raw_table, load_rows
from soleflipper.budibase.entries import entry_source, pending_records, validate_records
from soleflipper.budibase.entry_tables import ENTRY_TABLES, EntryTable, ensure_entry_tables
from soleflipper.formats import load_format

GROUP = "budibase"


def load_entries(conn: psycopg.Connection, entry: EntryTable) -> LoadResult | None:
    """Load the pending rows of one entry table as one batch; None when there is nothing new
    (no empty batch is recorded, so an idle entry table leaves no trace in raw.load_batches)."""
    fmt = load_format(entry.format_name)
    ensure_entry_tables(conn)
    ensure_raw_table(conn, fmt)
    with conn.transaction():
        records = pending_records(conn, entry)
    if not records:
        return None
    return load_rows(conn, fmt, validate_records(entry, records, fmt), source=entry_source(entry))


def build_entry_asset(entry: EntryTable) -> dg.AssetsDefinition:
    fmt = load_format(entry.format_name)
    key = dg.AssetKey(["raw", fmt.table])

    @dg.asset(
        key=key,
        group_name=GROUP,
        kinds={"budibase", "postgres"},
        description=f"{fmt.description} New and changed rows of {entry.qualified}, loaded into raw.{fmt.table}.",
        metadata={"format": fmt.name, "entry_table": entry.qualified, "dagster/table_name": f"raw.{fmt.table}"},
        check_specs=raw_check_specs(key),
    )
    def _entries(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            since = database_now(conn)
            result = load_entries(conn, entry)
            if result is None:
                context.log.info(f"{entry.qualified}: nothing new")
            else:
                context.log.info(result.summary())
                for err in result.sample_errors:
                    context.log.warning(err.reason)
            metadata = {
                "rows_read": result.rows_read if result else 0,
                "rows_loaded": result.rows_loaded if result else 0,
                "rows_changed": result.rows_changed if result else 0,
                "rows_quarantined": result.rows_quarantined if result else 0,
                "table_rows": warehouse.count_rows(f"raw.{fmt.table}"),
            }
            checks = raw_check_results(conn, key, since)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _entries


budibase_entry_assets = [build_entry_asset(entry) for entry in ENTRY_TABLES]
# Load the entries and rebuild what reads them (as an import job does for a dropped file).
budibase_entries_job = dg.define_asset_job(
    "load_budibase_entries",
    selection=functools.reduce(operator.or_, (downstream_of(a.key) for a in budibase_entry_assets)),
    description="Load new and changed Budibase entries (entry.*) into raw.budibase_* and rebuild the warehouse "
                "models that read them.",
    tags=WAREHOUSE_BUILD,
)


def pending_entries(conn: psycopg.Connection) -> dict[str, list[tuple[int, str]]]:
    """(primary key, updated_at) of the rows not loaded yet, per entry table."""
    ensure_entry_tables(conn)
    pending = {}
    for entry in ENTRY_TABLES:
        ensure_raw_table(conn, load_format(entry.format_name))
        with conn.transaction():
            pending[entry.table] = [(r[entry.primary_key], r["updated_at"]) for r in pending_records(conn, entry)]
    return pending


@dg.sensor(job=budibase_entries_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def budibase_entries_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Every 5 minutes: one run when entry rows are waiting. The run key is the set of waiting row
    versions, so the same entries never start a second run while the first is queued."""
    with warehouse.connect() as conn:
        pending = pending_entries(conn)
    if not any(pending.values()):
        return dg.SkipReason("no new or changed Budibase entries")
    key = hashlib.sha256(json.dumps(pending, sort_keys=True).encode()).hexdigest()[:16]
    counts = ",".join(f"{table}={len(rows)}" for table, rows in sorted(pending.items()))
    return dg.RunRequest(run_key=f"budibase-{key}", tags={"soleflipper/budibase_pending": counts})
