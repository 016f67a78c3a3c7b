"""`make dbt-docs`: the analyst's docs site, generated through the `soleflipper dbt` wrapper.

The wrapper connects dbt to the warehouse (here a fresh test database given as
SOLEFLIPPER_DATABASE_URL), so the static page carries the warehouse catalog: the columns and
types of what has been built, next to the project's models, sources and exposures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import _create_database, _drop_database

from resources.postgres import libpq_params
from soleflipper.settings import PROJECT_ROOT

PASSWORD = "D0cs-s3cret-pw"


def _with_password(url: str) -> str:
    """`url` with PASSWORD when the server accepts it (trust authentication), else `url`: the docs
    site and the wrapper's output must never carry the warehouse password."""
    if libpq_params(url)["password"]:
        return url
    scheme, rest = url.split("://", 1)
    candidate = f"{scheme}://{rest.replace('@', f':{PASSWORD}@', 1)}" if "@" in rest else url
    try:
        psycopg.connect(candidate, connect_timeout=10).close()
    except psycopg.OperationalError:
        return url
    return candidate


@pytest.fixture
def cli_env(pg_server, tmp_path):
    warehouse, warehouse_url = _create_database(pg_server)
    warehouse_url = _with_password(warehouse_url)
    dagster, dagster_url = _create_database(pg_server)
    env = {**os.environ, "SOLEFLIPPER_DATABASE_URL": warehouse_url, "SOLEFLIPPER_DAGSTER_DATABASE_URL": dagster_url,
           "SOLEFLIPPER_HOME": str(tmp_path / "home"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    try:
        yield env
    finally:
        _drop_database(pg_server, warehouse)
        _drop_database(pg_server, dagster)


def soleflipper(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def _embedded(html: str, name: str) -> dict:
    """The JSON dbt inlines into static_index.html (`{manifest:{...},catalog:{...}}` in the app's JS)."""
    marker = "{manifest:{" if name == "manifest" else "},catalog:{"
    start = html.find(marker)
    assert start >= 0, f"static_index.html does not embed the {name}"
    data, _ = json.JSONDecoder().raw_decode(html, start + len(marker) - 1)
    return data


def test_docs_generate_static_writes_one_file_with_models_exposures_and_the_warehouse_catalog(cli_env, tmp_path):
    target = tmp_path / "target"
    runs = [soleflipper(cli_env, "dbt", "run", "--select", "stg_stockx__sales_report", "--target-path", str(target)),
            soleflipper(cli_env, "dbt", "docs", "generate", "--static", "--target-path", str(target))]

    page = target / "static_index.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    manifest = _embedded(html, "manifest")
    catalog = _embedded(html, "catalog")
    assert "model.soleflipper.mv_executive_metrics" in manifest["nodes"]
    assert set(manifest["exposures"]) == {
        "exposure.soleflipper.executive_dashboard", "exposure.soleflipper.product_analytics_dashboard",
        "exposure.soleflipper.platform_performance_dashboard", "exposure.soleflipper.inventory_management_dashboard"}
    # The catalog comes from the warehouse: the view that was built, with its columns' types.
    built = catalog["nodes"]["model.soleflipper.stg_stockx__sales_report"]
    assert built["metadata"]["schema"] == "staging"
    assert built["metadata"]["type"] == "VIEW"
    assert built["columns"]["order_number"]["type"] == "text"
    assert "model.soleflipper.fct_sales" not in catalog["nodes"]  # never built here
    # Source freshness thresholds are part of the documented sources.
    report = manifest["sources"]["source.soleflipper.raw.stockx_sales_report"]
    assert report["freshness"]["error_after"] == {"count": 35, "period": "day"}
    # The page is made to be shared: neither it, nor anything else dbt wrote, nor the wrapper's
    # output holds the warehouse password.
    password = libpq_params(cli_env["SOLEFLIPPER_DATABASE_URL"])["password"]
    if password:
        for proc in runs:
            assert password not in proc.stdout + proc.stderr
        for path in (p for p in target.rglob("*") if p.is_file()):
            assert password.encode() not in path.read_bytes(), path


def test_makefile_dbt_docs_uses_the_wrapper():
    out = subprocess.run(["make", "-n", "dbt-docs"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert re.search(r"/soleflipper dbt docs generate --static$", out.stdout, re.M), out.stdout
    assert "dbt_project/target/static_index.html" in out.stdout
    assert Path(PROJECT_ROOT / "dbt_project" / ".sqlfluff").is_file()
