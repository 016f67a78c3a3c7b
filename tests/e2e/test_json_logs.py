"""JSON-lines run logs (soleflipper.logging_json) configured through the instance's python_logs,
on real runs in a test DagsterInstance."""

from __future__ import annotations

import json
import logging
import types

import dagster as dg
import pytest

from soleflipper import logging_json
from soleflipper.logging_json import FIELDS, JsonLinesHandler, record_fields, register_definitions

pytestmark = pytest.mark.e2e

FAKE_SECRET = "sf-json-log-secret-5521"


@dg.asset(group_name="stockx", key_prefix="raw")
def stockx_orders_demo(context) -> int:
    context.log.info(f"fetched 3 orders with token {FAKE_SECRET}")
    logging.getLogger("soleflipper.demo").info("python logger inside the step")
    return 3


@dg.asset(group_name="sheets", key_prefix="raw", tags={"soleflipper/source": "google_sheets"})
def purchases_demo(context) -> int:
    context.log.warning("2 rows quarantined")
    return 2


@dg.multi_asset(specs=[dg.AssetSpec(["products", "dim_a"], group_name="products", deps=[stockx_orders_demo]),
                       dg.AssetSpec(["finance", "fct_b"], group_name="finance", deps=[stockx_orders_demo])],
                name="dbt_like")
def dbt_like(context):
    context.log.info("building two models")
    yield dg.MaterializeResult(asset_key=["products", "dim_a"])
    yield dg.MaterializeResult(asset_key=["finance", "fct_b"])


DEFS = dg.Definitions(
    assets=[stockx_orders_demo, purchases_demo, dbt_like],
    jobs=[dg.define_asset_job("json_log_job", selection="*", tags={"team": "ops"})],
)


@pytest.fixture(scope="module")
def run_logs(tmp_path_factory):
    """One run of the job with the handler configured: (run id, the JSON records written)."""
    log_file = tmp_path_factory.mktemp("json_logs") / "runs.jsonl"
    register_definitions(DEFS)
    overrides = {"python_logs": {
        "python_log_level": "INFO",
        "managed_python_loggers": ["soleflipper"],
        "dagster_handler_config": {"handlers": {"json_lines": {
            "class": "soleflipper.logging_json.JsonLinesHandler", "level": "DEBUG", "filename": str(log_file)}}},
    }}
    try:
        with pytest.MonkeyPatch.context() as mp, dg.instance_for_test(overrides=overrides) as instance:
            mp.setenv("SOLEFLIPPER_NOTION_TOKEN", FAKE_SECRET)
            result = DEFS.resolve_job_def("json_log_job").execute_in_process(instance=instance)
            assert result.success
        yield result.run_id, [json.loads(line) for line in log_file.read_text().splitlines()]
    finally:
        logging_json._registered = None


def test_every_record_is_json_with_run_id_job_and_the_same_fields(run_logs):
    run_id, records = run_logs
    assert len(records) > 10
    assert all(tuple(r) == FIELDS for r in records)
    assert {r["run_id"] for r in records} == {run_id}
    assert {r["job"] for r in records} == {"json_log_job"}


def test_step_records_carry_asset_and_source(run_logs):
    _, records = run_logs
    by_message = {r["message"]: r for r in records}
    fetched = by_message["fetched 3 orders with token ***"]
    assert {k: fetched[k] for k in ("level", "step", "asset", "source", "event", "logger")} == {
        "level": "INFO", "step": "raw__stockx_orders_demo", "asset": "raw/stockx_orders_demo",
        "source": "stockx", "event": None, "logger": "dagster"}
    quarantined = by_message["2 rows quarantined"]
    assert (quarantined["level"], quarantined["asset"], quarantined["source"]) == (
        "WARNING", "raw/purchases_demo", "google_sheets")
    python = by_message["python logger inside the step"]
    assert (python["step"], python["asset"], python["source"]) == (
        "raw__stockx_orders_demo", "raw/stockx_orders_demo", "stockx")
    # A multi-asset step: plain logs name the step's groups; each materialization its own asset.
    building = by_message["building two models"]
    assert (building["step"], building["asset"], building["source"]) == ("dbt_like", None, "finance,products")
    materialized = sorted((r["asset"], r["source"]) for r in records
                          if r["event"] == "ASSET_MATERIALIZATION" and r["step"] == "dbt_like")
    assert materialized == [("finance/fct_b", "finance"), ("products/dim_a", "products")]
    # Every step event names its step and asset.
    starts = {r["step"]: (r["asset"], r["source"]) for r in records if r["event"] == "STEP_START"}
    assert starts == {"raw__stockx_orders_demo": ("raw/stockx_orders_demo", "stockx"),
                      "raw__purchases_demo": ("raw/purchases_demo", "google_sheets"),
                      "dbt_like": (None, "finance,products")}


def test_no_secret_in_any_line(run_logs):
    _, records = run_logs
    assert FAKE_SECRET not in json.dumps(records)


def test_record_without_dagster_metadata_and_stderr_target(capsys):
    record = logging.LogRecord("soleflipper.cli", logging.ERROR, __file__, 1, "db at postgresql://u:pw12345@h/x", (), None)
    fields = record_fields(record, environ={})
    assert fields["run_id"] is None and fields["asset"] is None and fields["level"] == "ERROR"
    assert fields["message"] == "db at postgresql://u:***@h/x"
    handler = JsonLinesHandler("-")
    handler.emit(record)
    line = capsys.readouterr().err.strip()
    assert json.loads(line)["message"] == "db at postgresql://u:***@h/x"


def test_asset_index_falls_back_to_the_code_location_module(monkeypatch):
    monkeypatch.setattr(logging_json, "_registered", None)
    monkeypatch.setattr(logging_json, "_from_module", None)
    monkeypatch.setitem(__import__("sys").modules, "pipelines.definitions", types.SimpleNamespace(defs=DEFS))
    index = logging_json._index()
    assert sorted(index) == ["dbt_like", "raw__purchases_demo", "raw__stockx_orders_demo"]
    assert index["raw__purchases_demo"].asset == "raw/purchases_demo"
    assert index["raw__purchases_demo"].source == "google_sheets"
