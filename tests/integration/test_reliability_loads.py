"""A load killed at any point leaves nothing half-done, and the rerun ends exactly as a clean run.

The file: demo sales with bad rows (quarantined) and repeated rows (duplicates) mixed in
(tests/reliability_support.py). The reference: the same file loaded once, undisturbed, into its
own database. Every scenario compares against it: rows (by content hash, so no duplicate and no
lost row), payouts per currency, batches, quarantine.

Kill points are drawn from a seed (SOLEFLIPPER_RELIABILITY_SEED, printed in every assertion
message) so a failure reproduces. Server restarts use a private throwaway cluster, never the
shared server.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import _create_database, _drop_database
from reliability_support import SALES_TABLE, SalesFile, free_port, is_empty, snapshot, write_sales_file

from resources.postgres import LocalCluster
from resources.warehouse import load_file
from soleflipper.formats import load_format
from soleflipper.settings import PROJECT_ROOT

SEED = int(os.environ.get("SOLEFLIPPER_RELIABILITY_SEED", "20250609"))
N_SALES = 15_000  # a COPY of some seconds: room for kill points, within the file's time budget
LOADER = [sys.executable, str(Path(__file__).resolve().parents[1] / "reliability_support.py"), "load"]
SOLEFLIPPER = str(Path(sys.executable).parent / "soleflipper")


@pytest.fixture(scope="module")
def sales_file(tmp_path_factory: pytest.TempPathFactory) -> SalesFile:
    return write_sales_file(tmp_path_factory.mktemp("reliability") / "sales.csv", N_SALES, seed=SEED)


@pytest.fixture(scope="module")
def clean_run(pg_server: str, sales_file: SalesFile) -> tuple[dict, float]:
    """(snapshot, seconds) of the file loaded once, undisturbed, into a separate database."""
    name, url = _create_database(pg_server)
    try:
        started = time.monotonic()
        with psycopg.connect(url) as conn:
            result = load_file(conn, load_format(SALES_TABLE), sales_file.path)
        seconds = time.monotonic() - started
        state = snapshot(url)
    finally:
        _drop_database(pg_server, name)
    # The reference itself is what the file holds: every sale once, every bad row quarantined.
    assert (result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (
        sales_file.lines, sales_file.sales, sales_file.repeated, sales_file.bad)
    assert state["rows"] == state["distinct_orders"] == sales_file.sales and state["quarantined"] == sales_file.bad
    assert state["orphan_rows"] == state["orphan_quarantine"] == 0
    return state, seconds


def _loader(url: str, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*LOADER, url, str(path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _read_until(proc: subprocess.Popen[str], wanted: str) -> list[str]:
    """Lines of the loader's output up to and including the first that starts with ``wanted``."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.startswith(wanted):
            return seen
    proc.wait(timeout=30)
    raise AssertionError(f"the loader ended before printing {wanted!r}: {seen}; stderr: {proc.stderr.read()}")


def _kill_points(seconds: float) -> list[tuple[str, object]]:
    """Where the loader is killed: at each progress report, once the COPY is done (the server is
    moving rows from the stage into raw), and after a seeded delay."""
    rng = random.Random(SEED)
    delays = [round(rng.uniform(0.1, 0.7) * seconds, 2)]  # well inside the load: the kill must hit it
    return [("rows", 10_000), ("copy done", None), *(("after seconds", d) for d in delays)]


KILL_IDS = ["at 10k rows", "copy done", "seeded delay"]


@pytest.mark.parametrize("point", range(len(KILL_IDS)), ids=KILL_IDS)
def test_a_loader_killed_mid_load_leaves_nothing_and_the_rerun_equals_a_clean_run(
        database_url: str, sales_file: SalesFile, clean_run: tuple[dict, float], point: int) -> None:
    reference, seconds = clean_run
    kind, at = _kill_points(seconds)[point]
    where = f"seed {SEED}, kill {kind} {at if at is not None else ''} ({N_SALES} sales)"
    proc = _loader(database_url, sales_file.path)
    try:
        output = _read_until(proc, "ready")
        if kind == "rows":
            output += _read_until(proc, f"rows {at}")
        elif kind == "copy done":
            output += _read_until(proc, f"rows {sales_file.lines}")
        else:
            time.sleep(float(at))  # type: ignore[arg-type]
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    finished = proc.returncode == 0
    assert kind == "copy done" or not finished, f"{where}: the load ended before the kill: {output}"

    # Wait for the killed session's transaction to end: the server notices the dead client on its
    # next read, after the statement it is running.
    with psycopg.connect(database_url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while conn.execute("select count(*) from pg_stat_activity where datname = current_database()"
                           " and pid <> pg_backend_pid() and backend_type = 'client backend'").fetchone()[0]:
            assert time.monotonic() < deadline, f"{where}: the killed loader's session did not end"
            time.sleep(0.05)
    after_kill = snapshot(database_url)
    # All or nothing: either no trace of the batch, or the whole batch (killed after its commit).
    if not finished:
        assert is_empty(after_kill) or after_kill == reference, (
            f"{where}: partial batch left behind after {output[-1:]}: {after_kill}")

    with psycopg.connect(database_url) as conn:
        rerun = load_file(conn, load_format(SALES_TABLE), sales_file.path)
    assert snapshot(database_url) == reference, f"{where}: the rerun differs from a clean run"
    if is_empty(after_kill):
        assert (rerun.rows_loaded, rerun.skipped_file) == (sales_file.sales, False), where
    else:
        assert rerun.skipped_file, where


# --------------------------------------------------------------------------- the server restarted


@pytest.fixture(scope="module")
def private_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A throwaway cluster of our own on a free port: these tests stop and kill its server."""
    import shutil
    import tempfile

    # mkdtemp, not tmp_path: see tests/integration/test_local_postgres.py (the pg user must reach it)
    root = Path(tempfile.mkdtemp(prefix="soleflipper-reliability-"))
    cluster = LocalCluster(root / "postgres" / "data", free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _cli_env(cluster: LocalCluster, dbname: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEFLIPPER_", "DAGSTER_", "PG"))}
    env.update({"SOLEFLIPPER_DATABASE_URL": cluster.url(dbname),
                "SOLEFLIPPER_DAGSTER_DATABASE_URL": cluster.url(f"{dbname}_dagster"),
                "SOLEFLIPPER_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    return env


def _copied_rows(url: str) -> int:
    """Rows the running COPY has taken so far (0 when none runs)."""
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            return conn.execute("select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def _restart(cluster: LocalCluster, how: str) -> None:
    if how == "fast shutdown":
        cluster.stop()  # pg_ctl stop -m fast: sessions are cut, open transactions rolled back
    else:
        pid = cluster.status().pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # the postmaster dies: crash recovery on the next start
        deadline = time.monotonic() + 20
        while cluster.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
    cluster.start()


@pytest.mark.parametrize("how", ["fast shutdown", "postmaster killed"])
def test_the_server_restarted_mid_load_fails_the_import_clearly_and_the_rerun_equals_a_clean_run(
        private_cluster: LocalCluster, sales_file: SalesFile, clean_run: tuple[dict, float],
        tmp_path: Path, how: str) -> None:
    reference, _ = clean_run
    dbname = "wh_" + how.split()[0]
    threshold = random.Random(f"{SEED}-{how}").randrange(2_000, N_SALES - 3_000)
    where = f"seed {SEED}, server {how} after {threshold} rows copied ({N_SALES} sales)"
    command = [SOLEFLIPPER, "import", str(sales_file.path), "--no-build"]
    env = _cli_env(private_cluster, dbname, tmp_path / "home")
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while _copied_rows(private_cluster.url("postgres")) < threshold:
            assert proc.poll() is None, f"{where}: the import ended first: {proc.stdout.read()}"
            assert time.monotonic() < deadline, f"{where}: the COPY never got that far"
            time.sleep(0.02)
        _restart(private_cluster, how)
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=30)

    # A clear failure: not zero, and it says the server went away.
    assert proc.returncode != 0, f"{where}: the import claimed success:\n{output}"
    assert "server closed the connection unexpectedly" in output or "terminating connection" in output, (
        f"{where}: unclear failure:\n{output}")
    assert is_empty(snapshot(private_cluster.url(dbname))), f"{where}: partial batch left behind"

    rerun = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, f"{where}: the rerun failed:\n{rerun.stdout}{rerun.stderr}"
    assert (f"read {sales_file.lines} rows: {sales_file.sales} loaded (0 changed), {sales_file.repeated} skipped"
            f" as duplicate, {sales_file.bad} quarantined") in rerun.stdout, where
    assert snapshot(private_cluster.url(dbname)) == reference, f"{where}: the rerun differs from a clean run"
