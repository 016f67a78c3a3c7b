"""``soleflipper doctor``: is this installation healthy? One row per check, OK / WARN / FAIL.

Checks, each a plain function returning :class:`Row` s (the CLI prints them as a table and exits
1 when any row is FAIL):

* ``database``: the warehouse and Dagster's storage database answer ``select 1``.
* ``credentials``: the variables each enabled source needs are set (StockX when
  ``SOLEFLIPPER_STOCKX_API_KEY`` is, Notion when ``SOLEFLIPPER_NOTION_TOKEN`` is, eBay when
  ``SOLEFLIPPER_EBAY_CLIENT_ID`` is, Alias when ``SOLEFLIPPER_ALIAS_TOKEN`` is, the Fernet key,
  the alert webhook). Only "set" / "missing" is printed, never a value.
* ``reachability``: an HTTP GET of each enabled API's base URL (the real API or a simulator)
  with a short timeout; any HTTP answer means reachable. The alert webhook gets a TCP connect
  only (a GET could trigger it), and only its host is shown (the path of a Slack URL is a secret).
* ``freshness``: the newest load time of every dbt source with a freshness threshold
  (``loaded_at_field`` / ``loaded_at_query`` and ``warn_after`` / ``error_after`` from the sources
  YAML in ``dbt_project/models``), compared as ``dbt source freshness`` would; tables never loaded
  are listed in one row.
* ``failures``: the latest failed runs in the Dagster instance (job, time, run id), WARN while the
  job has not succeeded since.

Every detail passes through :func:`soleflipper.alerts.scrub` before it is returned.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from soleflipper.alerts import UI_URL_ENV, WEBHOOK_URL_ENV, scrub
from soleflipper.settings import PROJECT_ROOT

OK, WARN, FAIL = "OK", "WARN", "FAIL"
DEFAULT_TIMEOUT = 3.0
MODELS_DIR = PROJECT_ROOT / "dbt_project" / "models"

STOCKX_API_KEY = "SOLEFLIPPER_STOCKX_API_KEY"
STOCKX_REQUIRED = (STOCKX_API_KEY, "SOLEFLIPPER_STOCKX_CLIENT_ID", "SOLEFLIPPER_STOCKX_CLIENT_SECRET")
STOCKX_BASE_URL_ENV, STOCKX_DEFAULT_BASE_URL = "SOLEFLIPPER_STOCKX_BASE_URL", "https://api.stockx.com/v2"
NOTION_TOKEN = "SOLEFLIPPER_NOTION_TOKEN"
NOTION_IDS = ("SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID", "SOLEFLIPPER_NOTION_SALES_DATABASE_ID")
NOTION_BASE_URL_ENV, NOTION_DEFAULT_BASE_URL = "SOLEFLIPPER_NOTION_BASE_URL", "https://api.notion.com/v1"
EBAY_CLIENT_ID = "SOLEFLIPPER_EBAY_CLIENT_ID"
EBAY_REQUIRED = (EBAY_CLIENT_ID, "SOLEFLIPPER_EBAY_CLIENT_SECRET")
EBAY_REFRESH_TOKEN = "SOLEFLIPPER_EBAY_REFRESH_TOKEN"  # may instead be in the token store (ebay login)
EBAY_SIGNING = ("SOLEFLIPPER_EBAY_SIGNING_KEY", "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE")
EBAY_API_URL_ENV, EBAY_DEFAULT_API_URL = "SOLEFLIPPER_EBAY_API_URL", "https://api.ebay.com"
ALIAS_TOKEN = "SOLEFLIPPER_ALIAS_TOKEN"
ALIAS_BASE_URL_ENV, ALIAS_DEFAULT_BASE_URL = "SOLEFLIPPER_ALIAS_API_URL", "https://api.alias.org/api/v1"
FERNET_KEY = "SOLEFLIPPER_FERNET_KEY"


@dataclass(frozen=True)
class Row:
    check: str
    status: str
    detail: str


def _get(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name) or "").strip()


def _redact(url: str) -> str:
    from resources.postgres import redact_url

    return redact_url(url)


def _error(exc: BaseException) -> str:
    """An exception's class and first line, never more (messages can be long)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --------------------------------------------------------------------------- databases


def check_database(name: str, url: str, timeout: float = DEFAULT_TIMEOUT) -> Row:
    """``select version()`` on ``url``: OK with the server version, FAIL with the error."""
    import psycopg

    from resources.postgres import _libpq_url

    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=max(1, int(timeout))) as conn:
            version = conn.execute("show server_version").fetchone()[0]
    except Exception as exc:
        return Row(name, FAIL, f"cannot connect to {_redact(url)}: {_error(exc)}")
    return Row(name, OK, f"PostgreSQL {version.split()[0]} at {_redact(url)}")


# --------------------------------------------------------------------------- credentials


def _var(name: str, environ: Mapping[str, str], need: str, missing_status: str) -> Row:
    if _get(environ, name):
        return Row(f"env {name}", OK, "set")
    return Row(f"env {name}", missing_status, f"missing ({need})")


def _ebay_signing(environ: Mapping[str, str]) -> Row:
    """Finances request signing: both variables or neither (EU and UK sellers need them)."""
    key, jwe = (bool(_get(environ, name)) for name in EBAY_SIGNING)
    name = "env " + " + ".join(EBAY_SIGNING)
    if key and jwe:
        return Row(name, OK, "set (Finances requests are signed)")
    if key or jwe:
        missing = EBAY_SIGNING[1] if key else EBAY_SIGNING[0]
        return Row(name, FAIL, f"{missing} missing: set both or neither")
    return Row(name, OK, "not set (Finances requests unsigned; EU and UK sellers need both)")


def check_credentials(environ: Mapping[str, str], *, fernet_key_file: Path | None = None) -> list[Row]:
    """Set / missing for the variables of every enabled source; values are never read out."""
    rows: list[Row] = []
    stockx = bool(_get(environ, STOCKX_API_KEY))
    if stockx:
        rows += [_var(name, environ, "StockX needs it", FAIL) for name in STOCKX_REQUIRED]
    else:
        rows.append(Row("StockX", OK, f"not configured ({STOCKX_API_KEY} missing): StockX assets are off"))
    ebay = bool(_get(environ, EBAY_CLIENT_ID))
    if _get(environ, FERNET_KEY):
        rows.append(Row(f"env {FERNET_KEY}", OK, "set"))
    elif stockx or ebay:
        key_file = " (the demo's key file exists: `soleflipper run` uses it)" if (
            fernet_key_file is not None and fernet_key_file.exists()) else ""
        owners = " and ".join(name for name, on in (("StockX", stockx), ("eBay", ebay)) if on)
        rows.append(Row(f"env {FERNET_KEY}", FAIL, f"missing ({owners} tokens are stored encrypted with it){key_file}"))
    else:
        rows.append(Row(f"env {FERNET_KEY}", OK, "missing (only StockX and eBay need it)"))
    if _get(environ, NOTION_TOKEN):
        rows.append(Row(f"env {NOTION_TOKEN}", OK, "set"))
        real_api = not _get(environ, NOTION_BASE_URL_ENV)
        for name in NOTION_IDS:
            rows.append(_var(name, environ, "the default ids are the simulator's", WARN) if real_api
                        else Row(f"env {name}", OK, "set" if _get(environ, name) else "default (simulator)"))
    else:
        rows.append(Row("Notion", OK, f"not configured ({NOTION_TOKEN} missing): Notion assets are off"))
    if ebay:
        rows += [_var(name, environ, "eBay needs it", FAIL) for name in EBAY_REQUIRED]
        rows.append(_var(EBAY_REFRESH_TOKEN, environ,
                         "eBay needs it unless `soleflipper ebay login` stored a token", WARN))
        rows.append(_ebay_signing(environ))
    else:
        rows.append(Row("eBay", OK, f"not configured ({EBAY_CLIENT_ID} missing): eBay assets are off"))
    if _get(environ, ALIAS_TOKEN):
        rows.append(Row(f"env {ALIAS_TOKEN}", OK, "set"))
    else:
        rows.append(Row("Alias", OK, f"not configured ({ALIAS_TOKEN} missing): Alias assets are off"))
    rows.append(_var(WEBHOOK_URL_ENV, environ, "failed runs are only logged, not sent", WARN))
    return rows


# --------------------------------------------------------------------------- reachability


def http_reachable(name: str, url: str, timeout: float, transport: httpx.BaseTransport | None = None) -> Row:
    """GET ``url``: any HTTP answer (even 401/404) is OK; no answer in ``timeout`` is FAIL."""
    shown = _redact(url.split("?", 1)[0])
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
            response = client.get(url)
    except httpx.TimeoutException:
        return Row(name, FAIL, f"no answer from {shown} within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Row(name, FAIL, f"unreachable: {shown} ({type(exc).__name__})")
    return Row(name, OK, f"HTTP {response.status_code} from {shown}")


def tcp_reachable(name: str, url: str, timeout: float) -> Row:
    """A TCP connect to the host and port of ``url``; only ``scheme://host:port`` is shown."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    shown = f"{parts.scheme}://{parts.hostname}:{port}"
    if not parts.hostname:
        return Row(name, FAIL, f"not a URL (set {WEBHOOK_URL_ENV} to http(s)://...)")
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        return Row(name, FAIL, f"cannot connect to {shown} ({type(exc).__name__})")
    return Row(name, OK, f"{shown} accepts connections (path not shown)")


def check_reachability(environ: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> list[Row]:
    rows = []
    if _get(environ, STOCKX_API_KEY):
        rows.append(http_reachable("StockX API", _get(environ, STOCKX_BASE_URL_ENV) or STOCKX_DEFAULT_BASE_URL,
                                   timeout))
    if _get(environ, NOTION_TOKEN):
        rows.append(http_reachable("Notion API", _get(environ, NOTION_BASE_URL_ENV) or NOTION_DEFAULT_BASE_URL,
                                   timeout))
    if _get(environ, EBAY_CLIENT_ID):
        rows.append(http_reachable("eBay API", _get(environ, EBAY_API_URL_ENV) or EBAY_DEFAULT_API_URL, timeout))
    if _get(environ, ALIAS_TOKEN):
        rows.append(http_reachable("Alias API", _get(environ, ALIAS_BASE_URL_ENV) or ALIAS_DEFAULT_BASE_URL,
                                   timeout))
    if _get(environ, WEBHOOK_URL_ENV):
        rows.append(tcp_reachable("alert webhook", _get(environ, WEBHOOK_URL_ENV), timeout))
    ui = _get(environ, UI_URL_ENV) or "http://127.0.0.1:3000"
    row = http_reachable("Dagster UI", ui.rstrip("/") + "/server_info", timeout)
    rows.append(row if row.status == OK else Row(row.check, WARN, row.detail + " (not running? `make dev`)"))
    return rows


# --------------------------------------------------------------------------- freshness


@dataclass(frozen=True)
class FreshnessSource:
    """One dbt source table with a freshness threshold."""

    name: str  # schema.table
    loaded_at_field: str | None
    loaded_at_query: str | None
    warn_after: timedelta | None
    error_after: timedelta | None


_PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


def _after(spec: Any) -> timedelta | None:
    if not isinstance(spec, Mapping) or not spec.get("count"):
        return None
    return timedelta(**{_PERIODS[str(spec.get("period", "day"))]: float(spec["count"])})


def _describe(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = delta.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds / 3600:g} hours"


def _merged(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Freshness settings: source level then table level, each as keys or under ``config``."""
    out: dict[str, Any] = {}
    for layer in layers:
        for part in (layer or {}, (layer or {}).get("config") or {}):
            for key in ("loaded_at_field", "loaded_at_query", "freshness"):
                if key in part:
                    out[key] = part[key]
    return out


def freshness_sources(models_dir: Path = MODELS_DIR) -> list[FreshnessSource]:
    """Every source table in ``models_dir``'s YAML with a warn_after or error_after threshold."""
    found: dict[str, FreshnessSource] = {}
    for path in sorted([*models_dir.rglob("*.yml"), *models_dir.rglob("*.yaml")]):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in data.get("sources") or []:
            schema = source.get("schema") or source["name"]
            for table in source.get("tables") or []:
                settings = _merged(source, table)
                freshness = settings.get("freshness") or {}
                warn, error = _after(freshness.get("warn_after")), _after(freshness.get("error_after"))
                if warn is None and error is None:
                    continue
                name = f"{schema}.{table.get('identifier') or table['name']}"
                found[name] = FreshnessSource(name, settings.get("loaded_at_field"),
                                              settings.get("loaded_at_query"), warn, error)
    return [found[name] for name in sorted(found)]


# The loaded_at_query of sources whose table may not exist yet (dbt_project/macros/newest_timestamp.sql):
# the doctor reads it without the function, which only exists once dbt has run in this warehouse.
_NEWEST_TIMESTAMP = re.compile(r"select ops\.newest_timestamp\('(?P<relation>[\w.]+)', '(?P<column>\w+)'\)")


def _newest(conn: Any, source: FreshnessSource) -> datetime | None:
    from psycopg import sql

    relation, column = source.name, source.loaded_at_field or "_loaded_at"
    if source.loaded_at_query:
        match = _NEWEST_TIMESTAMP.fullmatch(source.loaded_at_query.strip())
        if match is None:
            return conn.execute(f"select ({source.loaded_at_query})::timestamptz").fetchone()[0]
        relation, column = match["relation"], match["column"]
    if conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is None:
        return None
    schema, table = relation.split(".", 1)
    query = sql.SQL("select max({})::timestamptz from {}").format(sql.SQL(column), sql.Identifier(schema, table))
    return conn.execute(query).fetchone()[0]


def freshness_row(source: FreshnessSource, newest: datetime, now: datetime) -> Row:
    age = now - newest
    status = FAIL if source.error_after and age > source.error_after else (
        WARN if source.warn_after and age > source.warn_after else OK)
    hours = age.total_seconds() / 3600
    ago = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"
    return Row(f"fresh {source.name}", status,
               f"newest {newest.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago} ago); warn after "
               f"{_describe(source.warn_after)}, error after {_describe(source.error_after)}")


def check_freshness(warehouse_url: str, *, now: datetime | None = None, models_dir: Path = MODELS_DIR,
                    timeout: float = DEFAULT_TIMEOUT) -> list[Row]:
    """One row per source with rows; one row naming the sources never loaded."""
    import psycopg

    from resources.postgres import _libpq_url

    now = now or datetime.now(UTC)
    sources = freshness_sources(models_dir)
    rows, never, errors = [], [], []
    try:
        with psycopg.connect(_libpq_url(warehouse_url), connect_timeout=max(1, int(timeout)),
                             autocommit=True) as conn:
            conn.execute("set timezone = 'UTC'")
            for source in sources:
                try:
                    newest = _newest(conn, source)
                except Exception as exc:
                    errors.append(Row(f"fresh {source.name}", FAIL, f"query failed: {_error(exc)}"))
                    continue
                if newest is None:
                    never.append(source.name)
                else:
                    rows.append(freshness_row(source, newest, now))
    except Exception as exc:
        return [Row("freshness", FAIL, f"warehouse unavailable: {_error(exc)}")]
    if never:
        rows.append(Row("fresh (never loaded)", OK, ", ".join(never)))
    if not sources:
        rows.append(Row("freshness", WARN, f"no source freshness thresholds found in {models_dir}"))
    return rows + errors


# --------------------------------------------------------------------------- failed runs


def check_failures(instance: Any, limit: int = 5) -> list[Row]:
    """The latest ``limit`` failed runs; WARN while the job has not succeeded since."""
    import dagster as dg

    try:
        failed = instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]),
                                          limit=limit)
    except Exception as exc:
        return [Row("failed runs", FAIL, f"cannot read the Dagster instance: {_error(exc)}")]
    if not failed:
        return [Row("failed runs", OK, "no failed runs")]
    rows = []
    for record in failed:
        run = record.dagster_run
        ended = record.end_time or record.create_timestamp.timestamp()
        later = instance.get_run_records(
            filters=dg.RunsFilter(job_name=run.job_name, statuses=[dg.DagsterRunStatus.SUCCESS],
                                  created_after=record.create_timestamp), limit=1)
        at = datetime.fromtimestamp(ended, UTC)
        detail = f"{run.job_name} failed {at:%Y-%m-%d %H:%M} UTC, run {run.run_id}"
        rows.append(Row("failed run", OK, detail + " (succeeded since)") if later
                    else Row("failed run", WARN, detail))
    return rows


# --------------------------------------------------------------------------- all together


def run_checks(
    *,
    warehouse_url: str,
    dagster_storage_url: str,
    environ: Mapping[str, str],
    instance_factory: Callable[[], Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
    models_dir: Path = MODELS_DIR,
    fernet_key_file: Path | None = None,
) -> list[Row]:
    """Every check in order; every detail scrubbed of secrets."""
    rows = [check_database("warehouse database", warehouse_url, timeout)]
    dagster_db = check_database("Dagster storage database", dagster_storage_url, timeout)
    rows.append(dagster_db)
    rows += check_credentials(environ, fernet_key_file=fernet_key_file)
    rows += check_reachability(environ, timeout)
    if rows[0].status == OK:
        rows += check_freshness(warehouse_url, now=now, models_dir=models_dir, timeout=timeout)
    else:
        rows.append(Row("freshness", FAIL, "skipped: the warehouse is unavailable"))
    if dagster_db.status != OK:
        rows.append(Row("failed runs", FAIL, "skipped: Dagster's storage database is unavailable"))
    elif instance_factory is not None:
        try:
            instance = instance_factory()
        except Exception as exc:
            rows.append(Row("failed runs", FAIL, f"cannot open the Dagster instance: {_error(exc)}"))
        else:
            rows += check_failures(instance)
    secrets = [warehouse_url, dagster_storage_url]
    return [Row(r.check, r.status, _scrub_detail(r.detail, environ, secrets)) for r in rows]


def _scrub_detail(detail: str, environ: Mapping[str, str], urls: Iterable[str]) -> str:
    # Passwords of the database URLs, in case one appears unredacted in a driver message.
    passwords = [urlsplit(u).password for u in urls if "://" in u]
    return scrub(detail, environ, passwords)


def render(rows: list[Row]) -> str:
    """A fixed-width table: check, status, detail."""
    width = max([len("check"), *(len(r.check) for r in rows)])
    lines = [f"{'check':<{width}}  status  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{r.check:<{width}}  {r.status:<6}  {r.detail}" for r in rows]
    counts = {s: sum(r.status == s for r in rows) for s in (OK, WARN, FAIL)}
    lines.append(f"\n{counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL")
    return "\n".join(lines)


def exit_code(rows: Iterable[Row]) -> int:
    return 1 if any(r.status == FAIL for r in rows) else 0

