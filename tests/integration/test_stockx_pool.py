"""StockX's concurrency pool across runs: on the committed dagster.yaml (PostgreSQL instance storage,
``pools: default_limit: 1``) two runs never hold ``stockx_api`` at once, so the 1 request/s pace
holds however many StockX runs (schedules, backfills, the UI) are launched together.

The claims go through ``InstanceConcurrencyContext``, the object a run's executor asks before it
starts a step in a pool; no run is executed and nothing waits.
"""

from __future__ import annotations

import shutil
import uuid

import dagster as dg
import pytest
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

from assets.notion import notion_assets
from assets.stockx import POOL, stockx_assets
from pipelines.cli import dagster_storage_sqlalchemy_url
from soleflipper.settings import PROJECT_ROOT


@pytest.fixture
def instance(database_url, tmp_path, monkeypatch):
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("SOLEFLIPPER_DAGSTER_STORAGE_URL", dagster_storage_sqlalchemy_url(database_url))
    monkeypatch.setenv("SOLEFLIPPER_DAGSTER_STORAGE_DIR", str(tmp_path / "dagster_storage"))
    instance = dg.DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()


def _run(job_name: str) -> dg.DagsterRun:
    return dg.DagsterRun(job_name=job_name, run_id=str(uuid.uuid4()))


def test_every_stockx_step_is_in_the_pool_and_notion_has_its_own():
    assert {assets_def.op.pool for assets_def in stockx_assets} == {POOL} == {"stockx_api"}
    assert {assets_def.op.pool for assets_def in notion_assets} == {"notion_api"}


def test_two_runs_cannot_hold_the_stockx_pool_at_once(instance):
    storage = instance.event_log_storage
    orders_run, market_run = _run("sync_stockx_orders"), _run("sync_stockx_market_data")
    with InstanceConcurrencyContext(instance, orders_run) as orders, \
            InstanceConcurrencyContext(instance, market_run) as market:
        assert orders.claim(POOL, "raw__stockx_orders")
        assert not market.claim(POOL, "raw__stockx_market_data")  # the second run waits
        info = storage.get_concurrency_info(POOL)
        assert info.slot_count == 1  # dagster.yaml's default limit, applied on first use
        assert [(s.run_id, s.step_key) for s in info.claimed_slots] == [(orders_run.run_id, "raw__stockx_orders")]
        assert [(s.run_id, s.step_key) for s in info.pending_steps if not s.assigned_timestamp] == [
            (market_run.run_id, "raw__stockx_market_data")]

        # A third run (a backfill launched meanwhile) waits too; another pool is not affected.
        backfill = _run("__ASSET_JOB")
        with InstanceConcurrencyContext(instance, backfill) as third:
            assert not third.claim(POOL, "raw__stockx_orders")
            assert third.claim("notion_api", "raw__notion_sales")
            third.free_step("raw__notion_sales")

        # The first run's step ends: the slot goes to the waiting run, never to two at once.
        orders.free_step("raw__stockx_orders")
        claim = storage.claim_concurrency_slot(POOL, market_run.run_id, "raw__stockx_market_data")
        assert claim.is_claimed
        info = storage.get_concurrency_info(POOL)
        assert [(s.run_id, s.step_key) for s in info.claimed_slots] == [
            (market_run.run_id, "raw__stockx_market_data")]
        assert not orders.claim(POOL, "raw__stockx_catalog")  # the first run's next step waits its turn
        storage.free_concurrency_slot_for_step(market_run.run_id, "raw__stockx_market_data")
