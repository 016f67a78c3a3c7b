"""The drop-folder sensor: new or changed files start exactly one import run, touched ones none."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from resources.dbt import dbt_project
from resources.imports import ImportFolderResource
from sensors.import_folder import SETTLE_SECONDS, pending_files
from soleflipper.demo_data import generate_sales, write_sales_report

pytestmark = pytest.mark.e2e

SENSOR = defs.resolve_sensor_def("stockx_sales_report_import_folder")
OP = "raw__stockx_sales_report"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _settled(path: Path, seconds_ago: float = 10.0) -> Path:
    """Set the file's mtime back so the sensor's settle time has passed."""
    past = time.time() - seconds_ago
    os.utime(path, (past, past))
    return path


def _tick(root: Path, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"imports": ImportFolderResource(root=str(root))})
    return SENSOR.evaluate_tick(context)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "imports" / "stockx_sales_report"
    path.mkdir(parents=True)
    return path


def _paths(request: dg.RunRequest) -> list[str]:
    return request.run_config["ops"][OP]["config"]["paths"]


def test_new_file_starts_one_run_then_nothing_until_its_content_changes(folder):
    root = folder.parent
    report = folder / "report_2024.csv"
    write_sales_report(report, generate_sales(20, seed=3))
    _settled(report)
    sha = _sha(report)

    first = _tick(root, None)
    [request] = first.run_requests
    assert sha in request.run_key and request.run_key == f"stockx_sales_report:{sha}"
    assert request.run_config == {"ops": {OP: {"config": {"paths": [str(report)]}}}}
    assert request.tags["soleflipper/format"] == "stockx_sales_report"
    assert request.tags["soleflipper/files"] == "report_2024.csv"
    # The run config is valid for the job the sensor launches.
    job = defs.resolve_job_def(SENSOR.job_name)
    dg.validate_run_config(job, request.run_config)
    assert json.loads(first.cursor)[str(report)]["sha256"] == sha

    second = _tick(root, first.cursor)
    assert second.run_requests == [] and second.skip_message
    assert second.cursor == first.cursor

    _settled(report, seconds_ago=5.0)  # touched: new mtime, same bytes
    touched = _tick(root, second.cursor)
    assert touched.run_requests == []
    assert json.loads(touched.cursor)[str(report)]["mtime_ns"] == report.stat().st_mtime_ns
    assert json.loads(touched.cursor)[str(report)]["sha256"] == sha

    write_sales_report(report, generate_sales(21, seed=3))  # changed content
    _settled(report, seconds_ago=4.0)
    new_sha = _sha(report)
    assert new_sha != sha
    changed = _tick(root, touched.cursor)
    [again] = changed.run_requests
    assert again.run_key == f"stockx_sales_report:{new_sha}"
    assert _paths(again) == [str(report)]
    assert _tick(root, changed.cursor).run_requests == []


def test_file_still_being_written_waits_for_a_later_tick(folder):
    root = folder.parent
    report = folder / "fresh.csv"
    write_sales_report(report, generate_sales(5, seed=1))  # modified just now
    tick = _tick(root, None)
    assert tick.run_requests == []
    assert json.loads(tick.cursor) == {}  # not remembered, so it is looked at again
    _settled(report)
    [request] = _tick(root, tick.cursor).run_requests
    assert _paths(request) == [str(report)]


def test_files_arriving_together_share_one_run_and_non_matching_files_are_ignored(folder):
    root = folder.parent
    a, b, notes = folder / "a.csv", folder / "b.csv", folder / "notes.txt"
    write_sales_report(a, generate_sales(5, seed=1))
    write_sales_report(b, generate_sales(6, seed=2))
    notes.write_text("not a report")
    for path in (a, b, notes):
        _settled(path)
    [request] = _tick(root, None).run_requests
    assert _paths(request) == [str(a), str(b)]
    combined = hashlib.sha256("".join(sorted([_sha(a), _sha(b)])).encode()).hexdigest()
    assert request.run_key == f"stockx_sales_report:{combined}"
    assert request.tags["soleflipper/files"] == "a.csv, b.csv"


def test_empty_or_missing_folder_requests_nothing(tmp_path):
    tick = _tick(tmp_path / "nowhere", None)
    assert tick.run_requests == [] and "no new files" in tick.skip_message


# --------------------------------------------------------------------------- pending_files


def test_pending_files_settle_time_new_touched_and_changed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"one,two\n1,2\n")
    os.utime(path, ns=(1_000_000_000_000, 1_000_000_000_000))  # mtime 1000 s
    sha = hashlib.sha256(b"one,two\n1,2\n").hexdigest()

    # still settling: not pending, not remembered
    assert pending_files([path], {}, now=1000.0 + SETTLE_SECONDS - 0.5) == ([], {})
    pending, cursor = pending_files([path], {}, now=1000.0 + SETTLE_SECONDS)
    assert pending == [(path, sha)]
    assert cursor == {str(path): {"mtime_ns": 1_000_000_000_000, "size": 12, "sha256": sha}}

    # same mtime and size: nothing, cursor unchanged (and the input cursor is not mutated)
    before = json.dumps(cursor)
    assert pending_files([path], cursor, now=5000.0) == ([], cursor)
    assert json.dumps(cursor) == before

    # touched: new mtime, same bytes -> not pending, but the new mtime is remembered
    os.utime(path, ns=(2_000_000_000_000, 2_000_000_000_000))
    pending, touched = pending_files([path], cursor, now=5000.0)
    assert pending == [] and touched[str(path)] == {"mtime_ns": 2_000_000_000_000, "size": 12, "sha256": sha}

    # changed bytes (same size even) -> pending with the new hash
    path.write_bytes(b"one,two\n3,4\n")
    os.utime(path, ns=(3_000_000_000_000, 3_000_000_000_000))
    new_sha = hashlib.sha256(b"one,two\n3,4\n").hexdigest()
    pending, changed = pending_files([path], touched, now=5000.0)
    assert pending == [(path, new_sha)] and changed[str(path)]["sha256"] == new_sha


def test_pending_files_keeps_other_files_in_the_cursor(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("a\n1\n")
    new.write_text("a\n2\n")
    for p in (old, new):
        os.utime(p, (100.0, 100.0))
    _, cursor = pending_files([old], {}, now=200.0)
    pending, cursor2 = pending_files([old, new], cursor, now=200.0)
    assert pending == [(new, _sha(new))]
    assert set(cursor2) == {str(old), str(new)} and cursor2[str(old)] == cursor[str(old)]


# --------------------------------------------------------------------------- the targeted job


def test_sensor_targets_the_import_job_with_the_raw_asset_and_every_model_downstream():
    assert SENSOR.job_name == "import_stockx_sales_report"
    job = defs.resolve_job_def(SENSOR.job_name)
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    # Models downstream of the raw source, from dbt's own graph (transitively).
    downstream: set[str] = set()
    frontier = ["source.soleflipper.raw.stockx_sales_report"]
    while frontier:
        for child in manifest["child_map"][frontier.pop()]:
            if child.startswith("model.") and child not in downstream:
                downstream.add(child)
                frontier.append(child)
    expected = {dg.AssetKey(["raw", "stockx_sales_report"])} | {
        dg.AssetKey([manifest["nodes"][m]["config"]["schema"], manifest["nodes"][m]["name"]]) for m in downstream}
    assert dg.AssetKey(["transactions", "fct_sales"]) in expected
    assert dg.AssetKey(["analytics", "mv_executive_metrics"]) in expected
    assert set(job.asset_layer.selected_asset_keys) == expected
    assert job.tags["soleflipper/warehouse-build"] == "true"
