"""The dbt project as a Dagster resource, connected to the same warehouse as the loader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from resources.postgres import libpq_params

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# dagster-dbt looks for the `dbt` executable; use the one installed beside this interpreter.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_connection_env(database_url: str) -> dict[str, str]:
    """The SOLEFLIPPER_PG* variables profiles.yml reads, from a postgresql:// URL."""
    params = libpq_params(database_url)
    return {f"SOLEFLIPPER_PG{key.upper()}": str(value) for key, value in params.items()}


def ensure_manifest() -> Path:
    """Parse the project once if no manifest exists yet (`make` does this up front)."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(manifest.parent)],
            check=True, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
    return manifest


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
