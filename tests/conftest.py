"""Shared fixtures: a real PostgreSQL server and a fresh, empty database for every test.

The server is SOLEFLIPPER_TEST_DATABASE_URL's, else SOLEFLIPPER_DATABASE_URL's, else the
project-local cluster (started if needed). Each test gets its own database `sf_test_<id>`,
dropped afterwards, so tests never see each other's rows or the user's warehouse.

A warehouse that several tests start from (loaded and built by dbt, which takes a while) is
built once per session as a template database; each of those tests gets its own copy
(`database_copy`), so they stay as isolated as with an empty database.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cli_runner import Cli, with_password
from psycopg import sql

from resources.postgres import _libpq_url, _with_dbname, resolve_server
from soleflipper.settings import PROJECT_ROOT, load_settings

SHARED_REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _server_url_from_env() -> str | None:
    return os.environ.get("SOLEFLIPPER_TEST_DATABASE_URL") or os.environ.get("SOLEFLIPPER_DATABASE_URL")


def _with_workers(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("xdist") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    """With pytest-xdist (`make test` runs two workers), start the project-local cluster once in the
    controller, before the workers start, so two workers never race to start it."""
    if _with_workers(config) and not hasattr(config, "workerinput") and not _server_url_from_env():
        resolve_server(load_settings())


_CLI_DEMO_USE = re.compile(r"^def \w+\([^)]*\b(cli|first_run)\b", re.MULTILINE)


def _files_on_the_cli_demo() -> set[str]:
    """Test files with a test or fixture on the session's CLI demo (fixtures `cli` / `first_run`)."""
    root = Path(__file__).resolve().parent
    return {f"tests/{path.relative_to(root).as_posix()}" for path in root.rglob("test_*.py")
            if _CLI_DEMO_USE.search(path.read_text(encoding="utf-8"))}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With pytest-xdist (`make test`): a file's tests run on one worker (its module fixtures and
    template databases are built once), and every file on the session's CLI demo shares one worker,
    so the demo runs once. (xdist's own `loadgroup` marks do not work with pytest 9.)"""
    from xdist.scheduler import LoadScopeScheduling

    demo_files = _files_on_the_cli_demo()

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "cli_demo" if path in demo_files else path

    return FileScheduling(config, log)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the `postgres` maintenance database on the server tests use."""
    url = _server_url_from_env()
    if url:
        url = _with_dbname(_libpq_url(url), "postgres")
    else:
        info = resolve_server(load_settings())  # starts the project-local cluster if needed
        url = _with_dbname(info.warehouse_url, "postgres")
    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.execute("select 1")
    return url


def _create_database(server_url: str, template: str | None = None) -> tuple[str, str]:
    """A new database `sf_test_<id>`, empty or a copy of `template` (which must have no session).

    JIT is off in it: LLVM compiles the plan of any query whose estimated cost is high, and the
    estimates of the nested intermediate views (int_sales_matched and friends) are high whatever
    the data, so with JIT each query on them spends 10-20 s compiling and milliseconds running
    (measured on PostgreSQL 15). The results are the same; every dbt build in the suite is
    minutes faster. (Database settings are not copied from a template, hence set on each copy.)
    """
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("create database {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" template {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(create)
        conn.execute(sql.SQL("alter database {} set jit = off").format(sql.Identifier(name)))
    return name, _with_dbname(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


class BackgroundDrops:
    """Drops test databases on a thread while the next tests run.

    PostgreSQL checkpoints on every DROP DATABASE (it writes every dirty page of the server and
    fsyncs): from a tenth of a second on an idle disk to 10 s on a busy one, which a test's
    teardown would otherwise wait for. The session waits for the last drop (`wait`)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def drop(self, server_url: str, name: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
                self._thread.start()
            self._queue.put((server_url, name))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                _drop_database(*item)
            except Exception as exc:  # reported by wait(), at the end of the session
                self.errors.append(f"drop database {item[1]}: {type(exc).__name__}: {exc}")

    def wait(self) -> list[str]:
        """Wait until every database handed over so far is dropped; the drops that failed."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()
        return self.errors


_BACKGROUND_DROPS = BackgroundDrops()


@pytest.fixture(scope="session", autouse=True)
def _test_databases_dropped() -> Iterator[None]:
    """The session ends once every test database handed to BackgroundDrops is dropped."""
    yield
    errors = _BACKGROUND_DROPS.wait()
    assert not errors, errors


class DatabaseTemplates:
    """Databases built once per session, to copy (`create database ... template`)."""

    def __init__(self, server_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._server, self._tmp = server_url, tmp_path_factory
        self._built: dict[str, tuple[str, Any]] = {}
        self._failed: dict[str, str] = {}

    def copy(self, key: str, build: Callable[[str, Path], Any]) -> tuple[str, str, Any]:
        """(name, url, what `build` returned) of a new copy of the database that `build(url,
        work_dir)` made from an empty one, the first time `key` was asked for."""
        if key in self._failed:
            pytest.fail(
                f"building the template database {key!r} failed earlier in this session:\n{self._failed[key]}"
            )
        if key not in self._built:
            name, url = _create_database(self._server)
            try:
                self._built[key] = (name, build(url, self._tmp.mktemp(f"template_{key}")))
            except BaseException as exc:
                self._failed[key] = f"{type(exc).__name__}: {exc}"
                _drop_database(self._server, name)
                raise
        template, built = self._built[key]
        return *_create_database(self._server, template=template), built

    def drop_all(self) -> None:
        for name, _ in self._built.values():
            _drop_database(self._server, name)
        self._built.clear()


@pytest.fixture(scope="session")
def database_templates(
    pg_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(pg_server, tmp_path_factory)
    try:
        yield templates
    finally:
        templates.drop_all()


@pytest.fixture
def database_copy(
    pg_server: str, database_templates: DatabaseTemplates
) -> Iterator[Callable[..., tuple[str, Any]]]:
    """`copy(key, build)` -> (url, what build returned): this test's own copy of the database
    `build(url, work_dir)` made once per session (see DatabaseTemplates); dropped afterwards."""
    made: list[str] = []

    def copy(key: str, build: Callable[[str, Path], Any]) -> tuple[str, Any]:
        name, url, built = database_templates.copy(key, build)
        made.append(name)
        return url, built

    try:
        yield copy
    finally:
        for name in made:
            _BACKGROUND_DROPS.drop(pg_server, name)


@pytest.fixture
def database_url(pg_server: str) -> Iterator[str]:
    """A fresh empty database for this test (dropped in the background after it)."""
    name, url = _create_database(pg_server)
    try:
        yield url
    finally:
        _BACKGROUND_DROPS.drop(pg_server, name)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real (CI always has it; a user's clone does not)."""
    if not SHARED_REAL_DATA.is_dir():
        pytest.skip(f"needs the real third-party data in {SHARED_REAL_DATA} (not part of a user's clone)")
    return SHARED_REAL_DATA


@pytest.fixture
def demo_reports(tmp_path: Path) -> list[Path]:
    """The demo's two StockX report files (legacy 37-col + current 44-col, overlapping), 300 sales."""
    from soleflipper.demo_data import write_demo_reports

    return write_demo_reports(tmp_path / "imports" / "stockx_sales_report", n_sales=300, seed=11)


# --------------------------------------------------------------------------- the CLI demo (e2e)


@pytest.fixture(scope="session")
def cli(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The `soleflipper` CLI on fresh warehouse and Dagster databases (URLs with a password when the
    server accepts one) and its own home folder, for the whole session."""
    warehouse_name, warehouse_url = _create_database(pg_server)
    dagster_name, dagster_url = _create_database(pg_server)
    try:
        warehouse_url, password = with_password(warehouse_url)
        dagster_url, _ = with_password(dagster_url)
        home = tmp_path_factory.mktemp("soleflipper_home")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEFLIPPER_", "DAGSTER_", "PG"))}
        env.update({
            "SOLEFLIPPER_DATABASE_URL": warehouse_url,
            "SOLEFLIPPER_DAGSTER_DATABASE_URL": dagster_url,
            "SOLEFLIPPER_HOME": str(home),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        })
        yield Cli(warehouse_url, dagster_url, password, home, env)
    finally:
        _drop_database(pg_server, dagster_name)
        _drop_database(pg_server, warehouse_name)


@pytest.fixture(scope="session")
def first_run(cli) -> subprocess.CompletedProcess:
    """`soleflipper run --sales 300`, once per session (the CLI and browser tests build on it)."""
    return cli("run", "--sales", "300")
