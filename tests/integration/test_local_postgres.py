"""The provisioning layer against real PostgreSQL servers (no mocks).

Local clusters run from the bundled binaries in a fresh temp directory on a free port and are
always stopped (and their directory removed) by their fixture.

Why not pytest's tmp_path: as root the cluster runs as ``soleflipper-pg``, which must traverse
``/tmp/pytest-of-root``; every other pytest session started as root meanwhile resets that directory
to 0700 and cuts the running server off from its own data directory. A ``mkdtemp`` directory is
still 0700 (the case the provisioning code has to handle) but nobody else touches it. Tests marked for the machine's own PostgreSQL (127.0.0.1:5432, trust auth,
user postgres) skip when it is not reachable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from resources.postgres import (
    LocalCluster,
    PortInUseError,
    check_server_version,
    ensure_database,
    libpq_params,
    redact_url,
    resolve_server,
    sqlalchemy_url,
)
from soleflipper.settings import Settings

SYSTEM_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="soleflipper-pgtest-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def stopped_afterwards(cluster: LocalCluster) -> Iterator[LocalCluster]:
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    with scratch_dir() as path:
        yield path


@pytest.fixture
def cluster(pg_dir: Path) -> Iterator[LocalCluster]:
    with stopped_afterwards(LocalCluster(pg_dir / "postgres" / "data", free_port())) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def shared_cluster() -> Iterator[LocalCluster]:
    with (
        scratch_dir() as path,
        stopped_afterwards(LocalCluster(path / "postgres" / "data", free_port())) as cluster,
    ):
        cluster.start()
        yield cluster


@pytest.fixture(scope="module")
def system_pg_url() -> str:
    try:
        with psycopg.connect(SYSTEM_PG_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"system PostgreSQL at 127.0.0.1:5432 (user postgres, trust) not reachable: {exc}")
    return SYSTEM_PG_URL


@pytest.fixture(params=["local", "system"])
def server_url(request: pytest.FixtureRequest) -> str:
    """A maintenance URL on either our bundled cluster or the machine's PostgreSQL."""
    if request.param == "local":
        return request.getfixturevalue("shared_cluster").url("postgres")
    return request.getfixturevalue("system_pg_url")


# -- LocalCluster lifecycle ------------------------------------------------------------------------


def test_start_serves_queries_on_the_configured_port(cluster: LocalCluster) -> None:
    cluster.start()

    assert cluster.is_running()
    assert scalar(cluster.url("postgres"), "select 1") == 1
    status = cluster.status()
    assert status.running and status.pid and status.port == cluster.port and status.version == 16
    assert scalar(cluster.url("postgres"), "show max_connections") == "200"
    assert scalar(cluster.url("postgres"), "show timezone") == "UTC"
    assert scalar(cluster.url("postgres"), "show unix_socket_directories") == ""
    assert (cluster.pgdata.parent / "server.log").exists()


def test_start_is_idempotent(cluster: LocalCluster) -> None:
    cluster.start()
    first_pid = cluster.status().pid

    cluster.start()

    assert cluster.status().pid == first_pid


def test_stop_then_restart_keeps_data(cluster: LocalCluster) -> None:
    cluster.start()
    with psycopg.connect(cluster.url("postgres")) as conn:
        conn.execute("create table kept (id int)")
        conn.execute("insert into kept values (42)")

    cluster.stop()
    assert not cluster.is_running()
    assert not cluster.status().running
    cluster.stop()  # idempotent

    cluster.start()
    assert scalar(cluster.url("postgres"), "select id from kept") == 42


def test_start_recovers_after_the_server_was_killed(cluster: LocalCluster) -> None:
    cluster.start()
    with psycopg.connect(cluster.url("postgres")) as conn:
        conn.execute("create table kept (id int)")
        conn.execute("insert into kept values (7)")
    killed_pid = cluster.status().pid
    assert killed_pid is not None

    os.kill(killed_pid, signal.SIGKILL)  # leaves a stale postmaster.pid behind
    deadline = time.monotonic() + 10
    while cluster.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not cluster.is_running()

    cluster.start()
    assert cluster.status().pid != killed_pid
    assert scalar(cluster.url("postgres"), "select id from kept") == 7  # committed, fsync=on


def test_port_in_use_gives_clear_error(pg_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with stopped_afterwards(LocalCluster(pg_dir / "data", port)) as cluster:
            with pytest.raises(PortInUseError) as info:
                cluster.start()
            assert not cluster.is_running()

    assert str(port) in str(info.value)
    assert "SOLEFLIPPER_LOCAL_PG_PORT" in str(info.value)


def test_failed_start_reports_the_log_tail(cluster: LocalCluster) -> None:
    cluster.ensure_initialized()
    with (cluster.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("this is not valid = = config\n")

    with pytest.raises(RuntimeError, match="syntax error") as info:
        cluster.start()

    assert "server.log" in str(info.value)


def test_unsupported_version_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SOLEFLIPPER_LOCAL_PG_VERSION"):
        LocalCluster(tmp_path / "data", free_port(), version=9)


# -- databases -------------------------------------------------------------------------------------


def test_ensure_database_creates_once(server_url: str) -> None:
    name = f"sf_test_{uuid.uuid4().hex[:10]}"
    params = libpq_params(server_url)
    target = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{name}"
    try:
        assert ensure_database(target) is True
        assert scalar(target, "select current_database()") == name
        assert ensure_database(target) is False
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))


def test_check_server_version_accepts_15_plus(server_url: str) -> None:
    assert check_server_version(server_url) >= 150000


def test_resolve_server_local_mode_starts_the_cluster(pg_dir: Path) -> None:
    settings = Settings(home=pg_dir / "home", local_pg_port=free_port())
    try:
        info = resolve_server(settings)
        assert info.mode == "local"
        assert info.warehouse_url == f"postgresql://postgres@127.0.0.1:{settings.local_pg_port}/soleflipper"
        assert info.dagster_url.endswith("/soleflipper_dagster")
        assert (settings.pgdata / "PG_VERSION").exists()
        assert scalar(info.warehouse_url.replace("/soleflipper", "/postgres"), "select 1") == 1
    finally:
        LocalCluster(settings.pgdata, settings.local_pg_port).stop()


def test_resolve_server_external_mode_starts_nothing(tmp_path: Path) -> None:
    url = "postgresql://reseller:s3cret@db.example.com:6543/warehouse?sslmode=require"
    settings = Settings(home=tmp_path / "home", database_url=url)

    info = resolve_server(settings)

    assert info.mode == "external"
    assert info.warehouse_url == url
    assert (
        info.dagster_url
        == "postgresql://reseller:s3cret@db.example.com:6543/warehouse_dagster?sslmode=require"
    )
    assert libpq_params(info.dagster_url)["dbname"] == "warehouse_dagster"
    assert not settings.pgdata.exists()


def test_resolve_server_uses_explicit_dagster_url(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, database_url="postgresql://u@h/wh", dagster_database_url="postgresql://u@other/dg"
    )
    assert resolve_server(settings).dagster_url == "postgresql://u@other/dg"


# -- URL helpers -----------------------------------------------------------------------------------


def test_redact_url_hides_passwords() -> None:
    assert redact_url("postgresql://u:p%40ss@h:5433/db") == "postgresql://u:***@h:5433/db"
    assert redact_url("postgresql://u@h/db?password=x&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )
    assert redact_url("host=h user=u password=secret dbname=d") == "host=h user=u password=*** dbname=d"
    assert redact_url("postgresql://postgres@127.0.0.1:54329/soleflipper") == (
        "postgresql://postgres@127.0.0.1:54329/soleflipper"
    )


def test_libpq_params_parses_and_decodes() -> None:
    assert libpq_params("postgresql://u:p%40ss@h:5433/db") == {
        "host": "h",
        "port": 5433,
        "user": "u",
        "password": "p@ss",
        "dbname": "db",
    }
    defaults = libpq_params("postgresql://h/db")
    assert (defaults["port"], defaults["user"], defaults["password"]) == (5432, "postgres", "")


def test_sqlalchemy_url_uses_psycopg3_driver() -> None:
    assert sqlalchemy_url("postgresql://u:p@h:1/db") == "postgresql+psycopg://u:p@h:1/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError):
        sqlalchemy_url("mysql://u@h/db")


def test_local_cluster_moves_off_a_taken_default_port_and_remembers_it(pg_dir: Path, monkeypatch) -> None:
    from soleflipper.settings import load_settings

    home = pg_dir / "home"
    home.mkdir()
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(home))
    monkeypatch.delenv("SOLEFLIPPER_LOCAL_PG_PORT", raising=False)
    monkeypatch.delenv("SOLEFLIPPER_DATABASE_URL", raising=False)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        settings = load_settings()
        settings = Settings(**{**settings.__dict__, "local_pg_port": taken})
        info = resolve_server(settings)
        try:
            port = int(libpq_params(info.warehouse_url)["port"])
            assert port != taken
            assert scalar(info.warehouse_url.replace("/soleflipper", "/postgres"), "select 1") == 1
            # the next process finds the cluster where it is
            assert load_settings().local_pg_port == port
            assert load_settings().warehouse_url == info.warehouse_url
            # an explicitly configured port is never moved
            explicit = Settings(**{**settings.__dict__, "local_pg_port": taken, "local_pg_port_explicit": True,
                                   "home": pg_dir / "home2"})
            with pytest.raises(PortInUseError, match="SOLEFLIPPER_LOCAL_PG_PORT"):
                resolve_server(explicit)
        finally:
            LocalCluster(settings.pgdata, port).stop()
