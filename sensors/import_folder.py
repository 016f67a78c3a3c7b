"""Drop-folder sensors: a new or changed file in an import folder starts one import run.

Files are recognised by content hash, so touching or copying a file that was already
imported does nothing, and a changed file is imported again (the loader adds only new rows).
Files still being written (modified in the last few seconds) wait for the next tick.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from assets.file_imports import import_op_name
from resources.imports import ImportFolderResource
from resources.warehouse import file_sha256
from soleflipper.formats import load_format

SETTLE_SECONDS = 2.0


def pending_files(files: list[Path], cursor: dict, now: float) -> tuple[list[tuple[Path, str]], dict]:
    """Which files need importing, and the new cursor. Plain function, tested without Dagster."""
    # Forget files that are gone, so the cursor does not grow forever.
    present = {str(p) for p in files}
    new_cursor = {k: v for k, v in cursor.items() if k in present}
    pending = []
    for path in files:
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted between listing and now
            continue
        if now - stat.st_mtime < SETTLE_SECONDS:
            continue
        key = str(path)
        seen = cursor.get(key)
        if seen and seen["mtime_ns"] == stat.st_mtime_ns and seen["size"] == stat.st_size:
            continue
        try:
            sha = file_sha256(path)
        except FileNotFoundError:
            continue
        new_cursor[key] = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size, "sha256": sha}
        if seen and seen.get("sha256") == sha:
            continue  # touched, not changed
        pending.append((path, sha))
    return pending, new_cursor


def build_import_folder_sensor(format_name: str, job,
                               minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    fmt = load_format(format_name)
    op_name = import_op_name(format_name)

    @dg.sensor(
        name=f"{format_name}_import_folder",
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Imports new or changed files dropped into the {format_name} import folder.",
    )
    def _sensor(context: dg.SensorEvaluationContext, imports: ImportFolderResource):
        cursor = json.loads(context.cursor) if context.cursor else {}
        files = imports.files(fmt)
        pending, new_cursor = pending_files(files, cursor, time.time())
        if not pending:
            return dg.SensorResult(skip_reason=f"no new files in {imports.folder(fmt)}", cursor=json.dumps(new_cursor))
        # One run for everything that arrived since the last tick: one warehouse rebuild, not N.
        shas = sorted(sha for _, sha in pending)
        run_key = f"{format_name}:{shas[0]}" if len(shas) == 1 else \
            f"{format_name}:{hashlib.sha256(''.join(shas).encode()).hexdigest()}"
        request = dg.RunRequest(
            run_key=run_key,
            run_config={"ops": {op_name: {"config": {"paths": [str(path) for path, _ in pending]}}}},
            tags={"soleflipper/format": format_name,
                  "soleflipper/files": ", ".join(path.name for path, _ in pending)[:200]},
        )
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(new_cursor))

    return _sensor
