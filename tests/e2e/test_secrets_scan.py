"""No secret of the session's demo run (`soleflipper run --sales 300`, fixtures `cli` / `first_run`)
reaches its output, Dagster's storage, the files it writes or the HTML report.

The secrets are the values the demo really used: the simulators' demo credentials, the tokens the
run stored (decrypted with the home folder's Fernet key), the Fernet key and the BI password in
$SOLEFLIPPER_HOME/secrets, the database password when the server accepts one, and the eBay
Finances signing key the demo makes per run (unknown here: found by its PEM/PKCS#8 Ed25519 form).
Every scan also proves it read something, so an empty scan cannot pass.
"""

from __future__ import annotations

import re
import zlib

import psycopg
import pytest
from cli_runner import Cli
from psycopg import sql

from resources.token_store import TokenStore
from simulators import alias, ebay, metabase, notion, stockx

pytestmark = pytest.mark.e2e

# Any Ed25519 private key in PKCS#8 PEM (the demo's eBay signing key), and the demo's JWE header.
KEY_PATTERNS = {"eBay signing key (PEM)": "BEGIN PRIVATE KEY", "eBay signing key (PKCS#8)": "MC4CAQAwBQYDK2VwBCIEI",
                "eBay signature key JWE": "eyJ6aXAiOiAiREVGIiwgImVuYyI6ICJBMjU2R0NNIiwgImFsZyI6ICJBMjU2"}
_SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|API_KEY|FERNET_KEY|SIGNING_KEY)$")


@pytest.fixture(scope="module")
def secrets(cli: Cli, first_run) -> dict[str, str]:
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    key = (cli.home / "secrets" / "fernet.key").read_text(encoding="ascii").strip()
    store = TokenStore(cli.warehouse_url, key)
    tokens = {provider: store.load(provider) for provider in ("stockx", "ebay")}
    assert all(tokens.values()), "the demo signed in to StockX and eBay and stored their tokens"
    found = {
        "Fernet key": key,
        "BI password": (cli.home / "secrets" / "bi_password").read_text(encoding="utf-8").strip(),
        "StockX API key": stockx.DEMO_API_KEY, "StockX client secret": stockx.DEMO_CLIENT_SECRET,
        "eBay client secret": ebay.DEMO_CLIENT_SECRET, "eBay demo refresh token": ebay.DEMO_REFRESH_TOKEN,
        "Notion token": notion.DEFAULT_TOKEN, "Alias token": alias.DEFAULT_TOKEN,
        "Metabase password": metabase.DEMO_ADMIN[1],
        **{f"{provider} {name}": value for provider, stored in tokens.items()
           for name, value in stored.items() if name.endswith("_token")},
        **{name: value for name, value in cli.env.items()
           if name.startswith("SOLEFLIPPER_") and _SECRET_NAME.search(name) and value.strip()},
    }
    if cli.password:
        found["database password"] = cli.password
    assert all(len(value) >= 8 for value in found.values()), "short values would match by chance"
    return found | KEY_PATTERNS


def leaks(text: str, secrets: dict[str, str]) -> set[str]:
    return {name for name, value in secrets.items() if value in text}


@pytest.fixture(scope="module")
def report(cli, first_run):
    """`soleflipper report`: the HTML report of the demo warehouse, in the home folder."""
    proc = cli("report")
    assert proc.returncode == 0, proc.stderr
    return cli.home / "reports" / "soleflipper_report.html"


def test_no_command_output_shows_a_secret(cli, first_run, secrets, report):
    assert "transactions.fct_sales" in first_run.stdout and str(report) in cli.calls[-1][1].stdout
    shown = {(" ".join(args), name) for args, proc in cli.calls if args[0] != "db-url"  # db-url prints it on purpose
             for name in leaks(proc.stdout + proc.stderr, secrets)}
    assert shown == set()


def _bytes_text(value: bytes) -> str:
    """A bytea value as text: Dagster stores snapshots zlib-compressed."""
    try:
        value = zlib.decompress(value)
    except zlib.error:
        pass
    return value.decode("latin-1")


def _rows_as_text(url: str, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Every user table of a database: all rows as PostgreSQL prints them, plus every bytea value
    as its (decompressed) bytes, by table."""
    found: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select c.oid, n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')"
            " and n.nspname not like 'pg\\_toast%%' order by 2, 3").fetchall()
        for oid, schema, table in tables:
            if f"{schema}.{table}" in exclude:
                continue
            name = sql.Identifier(schema, table)
            texts = [r[0] for r in conn.execute(sql.SQL("select scanned_row::text from {} scanned_row").format(name))]
            for (column,) in conn.execute("select attname from pg_attribute where attrelid = %s and attnum > 0"
                                          " and not attisdropped and atttypid = 'bytea'::regtype", (oid,)):
                query = sql.SQL("select {} from {} where {} is not null").format(sql.Identifier(column), name,
                                                                                sql.Identifier(column))
                texts += [_bytes_text(bytes(r[0])) for r in conn.execute(query)]
            found[f"{schema}.{table}"] = "\n".join(texts)
    return found


def test_no_dagster_event_log_entry_or_materialization_metadata_holds_a_secret(cli, secrets):
    with psycopg.connect(cli.dagster_url) as conn:
        events, materializations = conn.execute(
            "select count(*), count(*) filter (where dagster_event_type = 'ASSET_MATERIALIZATION') from event_logs"
        ).fetchone()
        metadata = conn.execute(  # the serialized materializations, with their metadata
            "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
            " and event like '%%\"AssetMaterialization\"%%' and event like '%%metadata%%'").fetchone()[0]
    assert events > 100 and materializations > 20 and metadata == materializations
    tables = _rows_as_text(cli.dagster_url, exclude=("public.snapshots",))
    assert "public.event_logs" in tables and "public.runs" in tables
    assert {(table, name) for table, text in tables.items() for name in leaks(text, secrets)} == set()


def test_no_dagster_snapshot_holds_a_secret(cli, secrets):
    """Job snapshots keep every resource's configured values (the Dagster UI shows them): secrets must
    be EnvVar there, never plain strings."""
    text = _rows_as_text(cli.dagster_url)["public.snapshots"]
    assert "database_url" in text  # the scan sees the resources' config
    if cli.password:  # the warehouse URL holds it: its config is the EnvVar (pipelines/definitions.py)
        assert "SOLEFLIPPER_DATABASE_URL" in text
    assert leaks(text, secrets) == set()


def test_no_warehouse_table_holds_a_secret(cli, secrets):
    tables = _rows_as_text(cli.warehouse_url)
    assert "ops.api_credentials" in tables and len(tables["raw.stockx_orders"]) > 1000
    assert {(table, name) for table, text in tables.items() for name in leaks(text, secrets)} == set()


def test_no_file_under_the_home_folder_holds_a_secret(cli, secrets, report):
    """Compute logs, JSON run logs, imports, the HTML report: everything but the secrets folder."""
    files = [p for p in cli.home.rglob("*") if p.is_file() and "secrets" not in p.relative_to(cli.home).parts]
    dagster_files = [p for p in files if p.is_relative_to(cli.home / "dagster_home")]  # compute logs, outputs
    assert report in files and report.stat().st_size > 10_000 and dagster_files
    assert (cli.home / "logs" / "runs.jsonl") in files
    found = {(str(p.relative_to(cli.home)), name) for p in files
             for name in leaks(p.read_bytes().decode("latin-1"), secrets)}
    assert found == set()
    assert sorted(p.name for p in (cli.home / "secrets").iterdir()) == ["bi_password", "fernet.key"]
