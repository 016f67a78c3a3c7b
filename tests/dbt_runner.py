"""Running the dbt project against a test database: one place for every integration test.

Each run gets its own target and log folder (`target`), so tests never share compiled state,
and the connection comes from `dbt_connection_env` exactly as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_connection_env


def dbt_command(database_url: str, target: Path, *args: str,
                project: Path = DBT_PROJECT_DIR) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `dbt <args>` on `database_url` (for a background Popen)."""
    env = {**os.environ, **dbt_connection_env(database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [DBT_EXECUTABLE, *args, "--project-dir", str(project), "--profiles-dir", str(project),
               "--target-path", str(target), "--log-path", str(target)]
    return command, env


def run_dbt(database_url: str, target: Path, *args: str, project: Path = DBT_PROJECT_DIR) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on `database_url`; returns the finished process whatever its exit code."""
    command, env = dbt_command(database_url, target, *args, project=project)
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=project)


def dbt_ok(database_url: str, target: Path, *args: str, project: Path = DBT_PROJECT_DIR) -> str:
    """Run dbt; fail the test with the end of dbt's output unless it succeeds. Returns stdout."""
    proc = run_dbt(database_url, target, *args, project=project)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.stdout


def node_statuses(target: Path) -> dict[str, str]:
    """unique_id -> status of every node of the last run written to `target` (empty if none ran)."""
    results = target / "run_results.json"
    if not results.exists():
        return {}
    # Project hooks (on-run-start) are results too; they are not nodes of the project.
    return {r["unique_id"]: r["status"] for r in json.loads(results.read_text())["results"]
            if not r["unique_id"].startswith("operation.")}


def dbt_build(database_url: str, target: Path, *args: str) -> dict[str, str]:
    """`dbt build <args>` that must succeed; returns every node's status."""
    dbt_ok(database_url, target, "build", *args)
    return node_statuses(target)
