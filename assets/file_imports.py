"""File-import assets: one asset per declarative format, loading files from its drop folder.

Thin on purpose: parsing and loading live in :mod:`soleflipper.csv_parsing` and
:mod:`resources.warehouse`; this module only picks files and reports what happened.
"""

from pathlib import Path

import dagster as dg

from assets.checks_raw import database_now, raw_check_results, raw_check_specs
from resources.imports import ImportFolderResource
from resources.warehouse import LoadError, LoadResult, WarehouseResource
from soleflipper.formats import load_format


class FileImportConfig(dg.Config):
    paths: list[str] = []
    """Files to load. Empty: every file in the format's import folder (already-loaded files are
    recognised by content hash and skipped)."""


def import_op_name(format_name: str) -> str:
    """Dagster names the op of asset raw/<table> `raw__<table>`; run config is keyed by it."""
    return f"raw__{load_format(format_name).table}"


def _results_table(results: list[LoadResult]) -> str:
    lines = ["| file | read | loaded | changed | duplicate | quarantined |", "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {Path(r.source).name} | {r.rows_read} | {r.rows_loaded} | {r.rows_changed} "
                     f"| {r.rows_duplicate} | {r.rows_quarantined} |")
    return "\n".join(lines)


def build_file_import_asset(format_name: str, group_name: str) -> dg.AssetsDefinition:
    fmt = load_format(format_name)
    key = dg.AssetKey(["raw", fmt.table])

    @dg.asset(
        key=key,
        group_name=group_name,
        kinds={"csv", "postgres"},
        description=f"{fmt.description} Loaded from the `{format_name}` import folder into raw.{fmt.table}.",
        metadata={"format": format_name, "dagster/table_name": f"raw.{fmt.table}"},
        # Schema, row-count and duplicate checks (blocking) on the rows this step loads.
        check_specs=raw_check_specs(key),
    )
    def _import(
        context: dg.AssetExecutionContext,
        config: FileImportConfig,
        warehouse: WarehouseResource,
        imports: ImportFolderResource,
    ) -> dg.MaterializeResult:
        warehouse.ensure_raw_table(fmt)  # an empty source still has its (empty) raw table
        with warehouse.connect() as conn:
            since = database_now(conn)
        paths = [Path(p) for p in config.paths] or imports.files(fmt)
        context.log.info(f"{len(paths)} file(s) to load into raw.{fmt.table}")
        results: list[LoadResult] = []
        failures: list[str] = []
        for path in paths:
            try:
                result = warehouse.load_file(
                    fmt, path, progress=lambda n, p=path: context.log.debug(f"{p.name}: {n} rows read"))
            except LoadError as exc:
                context.log.error(str(exc))
                failures.append(str(exc))
                continue
            context.log.info(result.summary())
            for err in result.sample_errors:
                context.log.warning(f"{path.name} line {err.line}, field {err.field or '-'}: {err.reason}")
            results.append(result)
        totals = {k: sum(getattr(r, k) for r in results)
                  for k in ("rows_read", "rows_loaded", "rows_changed", "rows_duplicate", "rows_quarantined")}
        metadata = {
            "files": len(paths),
            "files_failed": len(failures),
            **totals,
            "table_rows": warehouse.count_rows(f"raw.{fmt.table}"),
            "loads": dg.MetadataValue.md(_results_table(results) if results else "no files"),
        }
        if failures:
            raise dg.Failure(description="; ".join(failures), metadata=metadata)
        with warehouse.connect() as conn:
            checks = raw_check_results(conn, key, since)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _import
