"""The real `soleflipper` CLI as a subprocess on its own warehouse and Dagster databases.

Shared by the CLI end-to-end tests and the browser test through the session fixtures `cli` and
`first_run` (tests/conftest.py): one demo run serves both, because `soleflipper run` is the
expensive part of the suite (Dagster, dbt, forecasts).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from soleflipper.settings import PROJECT_ROOT

SECRET = "e2e-Pw-4711"  # only used when the server accepts (ignores) it: trust auth


def with_password(url: str) -> tuple[str, str | None]:
    """``url`` carrying a password, and that password; ``(url, None)`` if the server refuses it."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if ":" in userinfo:  # the configured server already needs a password
        return url, userinfo.split(":", 1)[1]
    candidate = urlunsplit(parts._replace(netloc=f"{userinfo or 'postgres'}:{SECRET}@{hosts}"))
    try:
        with psycopg.connect(candidate, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return url, None
    return candidate, SECRET


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Cli:
    warehouse_url: str
    dagster_url: str
    password: str | None
    home: Path
    env: dict[str, str]
    calls: list[tuple[tuple[str, ...], subprocess.CompletedProcess]] = field(default_factory=list)

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600)
        self.calls.append((args, proc))
        return proc

    @property
    def import_folder(self) -> Path:
        return self.home / "imports" / "stockx_sales_report"

    def demo_files(self) -> tuple[Path, Path]:
        """(legacy 37-column file, current 44-column file) the `run` command wrote."""
        files = sorted(self.import_folder.glob("*.csv"))
        assert len(files) == 2
        by_layout = {"Payout ID" in read_csv(p)[0]: p for p in files}
        return by_layout[False], by_layout[True]

    def query(self, sql: str, url: str | None = None) -> list[tuple]:
        with psycopg.connect(url or self.warehouse_url) as conn:
            return conn.execute(sql).fetchall()
