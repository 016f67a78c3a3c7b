"""dbt tests are Dagster asset checks, and error-severity ones block what is downstream.

dagster-dbt turns every dbt test into an asset check (``enable_asset_checks=True``) and marks it
blocking when its severity is ``error`` (warn-severity tests only report). Within the dbt step,
dbt's own ``build`` skips models downstream of a failing test; that needs dbt's default *eager*
indirect selection (a subset run with ``cautious``/``buildable`` hides the skip: dagster #33351),
so nothing in the project may override it.
"""

from __future__ import annotations

import os

import yaml

from assets.dbt import KPI_VIEWS_DBT_SELECT, translator, warehouse_dbt_models
from resources.dbt import DBT_PROJECT_DIR


def test_error_severity_dbt_tests_are_blocking_checks_and_warn_tests_are_not():
    assert translator.settings.enable_asset_checks
    specs = list(warehouse_dbt_models.check_specs)
    assert specs
    manifest_tests = {spec.metadata["dagster_dbt/unique_id"] for spec in specs}
    assert all(uid.startswith("test.") for uid in manifest_tests)
    by_blocking = {spec.blocking for spec in specs}
    assert by_blocking == {True, False}  # the project has both error and warn tests
    views = {spec.asset_key for spec in specs if spec.asset_key.path[0] == "analytics" and spec.blocking}
    assert views  # the KPI views' own error tests block too
    assert KPI_VIEWS_DBT_SELECT == "config.materialized:kpi_view"


def test_inventory_type_accepted_values_test_warns_only():
    (spec,) = [s for s in warehouse_dbt_models.check_specs
               if s.asset_key.path == ["staging", "stg_stockx__orders"] and s.name.startswith("accepted_values")
               and "inventory_type" in s.name]
    assert not spec.blocking  # severity: warn in _stockx__models.yml


def test_indirect_selection_stays_eager():
    assert "DBT_INDIRECT_SELECTION" not in os.environ
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert "indirect_selection" not in (project.get("flags") or {})
