"""One settings object read from the environment (``SOLEFLIPPER_*``).

Every variable, its default and whether it is a secret is listed in the README. Nothing here
talks to a database; :mod:`resources.postgres` turns these settings into a running server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Where things live. Built from the environment by :func:`load_settings`."""

    home: Path
    database_url: str | None = None
    dagster_database_url: str | None = None
    local_pg_port: int = 54329
    local_pg_port_explicit: bool = False  # set by SOLEFLIPPER_LOCAL_PG_PORT: never moved
    local_pg_version: int = 16
    import_dir: Path = field(default=Path())
    demo_dir: Path = field(default=Path())

    @property
    def uses_local_cluster(self) -> bool:
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def pg_port_file(self) -> Path:
        """The port the local cluster last started on (it moves off a port another server holds)."""
        return self.home / "postgres" / "port"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def warehouse_url(self) -> str:
        """The warehouse: SOLEFLIPPER_DATABASE_URL, or database soleflipper on the local cluster."""
        if self.database_url:
            return self.database_url
        return f"postgresql://postgres@127.0.0.1:{self.local_pg_port}/soleflipper"

    @property
    def dagster_storage_url(self) -> str:
        """Dagster's run/event storage: a separate database on the same server by default."""
        if self.dagster_database_url:
            return self.dagster_database_url
        base = urlsplit(self.warehouse_url)
        return urlunsplit(base._replace(path=base.path.rstrip("/") + "_dagster"))

    def import_folder(self, format_name: str) -> Path:
        """The drop folder the sensor watches for one file format."""
        return self.import_dir / format_name


DEFAULT_LOCAL_PG_PORT = 54329


def _local_pg_port(home: Path) -> tuple[int, bool]:
    explicit = os.environ.get("SOLEFLIPPER_LOCAL_PG_PORT")
    if explicit:
        return int(explicit), True
    remembered = home / "postgres" / "port"
    if remembered.exists() and remembered.read_text().strip().isdigit():
        return int(remembered.read_text().strip()), False
    return DEFAULT_LOCAL_PG_PORT, False


def load_settings() -> Settings:
    home = _path("SOLEFLIPPER_HOME", PROJECT_ROOT / ".soleflipper")
    port, explicit = _local_pg_port(home)
    return Settings(
        home=home,
        database_url=os.environ.get("SOLEFLIPPER_DATABASE_URL") or None,
        dagster_database_url=os.environ.get("SOLEFLIPPER_DAGSTER_DATABASE_URL") or None,
        local_pg_port=port,
        local_pg_port_explicit=explicit,
        local_pg_version=int(os.environ.get("SOLEFLIPPER_LOCAL_PG_VERSION", "16")),
        import_dir=_path("SOLEFLIPPER_IMPORT_DIR", home / "imports"),
        demo_dir=_path("SOLEFLIPPER_DEMO_DIR", home / "demo"),
    )
