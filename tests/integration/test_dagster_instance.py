"""The committed dagster.yaml loads as a Postgres-backed instance with our concurrency rules."""

from __future__ import annotations

import shutil

import dagster as dg

from pipelines.cli import dagster_storage_sqlalchemy_url
from soleflipper.settings import PROJECT_ROOT


def test_instance_uses_postgres_storage_and_limits_warehouse_builds_and_api_pools(database_url, tmp_path,
                                                                                 monkeypatch):
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("SOLEFLIPPER_DAGSTER_STORAGE_URL", dagster_storage_sqlalchemy_url(database_url))
    monkeypatch.setenv("SOLEFLIPPER_DAGSTER_STORAGE_DIR", str(tmp_path / "dagster_storage"))
    instance = dg.DagsterInstance.get()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        concurrency = instance.get_settings("concurrency")
        assert concurrency["runs"]["tag_concurrency_limits"] == [
            {"key": "soleflipper/warehouse-build", "limit": 1}]
        assert concurrency["pools"]["default_limit"] == 1
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    finally:
        instance.dispose()
