"""The read-only PostgreSQL role BI tools (Metabase, psql) connect as.

It may read the marts (schemas core, products, transactions, finance, analytics) and nothing
else: not the raw imports (raw), not the staging views, not SoleFlipper's operational tables
(ops, where resources/token_store.py keeps the encrypted API credentials). Sessions are
read-only by default.

Kept in sync from two sides, because dbt drops and recreates relations (and their grants):

* :func:`ensure_bi_role` (``soleflipper setup`` and every CLI command that starts the database)
  creates the role LOGIN, sets its password, grants USAGE/SELECT on the mart schemas and
  revokes everything elsewhere, including what PostgreSQL grants PUBLIC on schema public;
* dbt grants SELECT on every mart it builds (``+grants`` in dbt_project.yml, applied by the
  kpi_view materialization too) and its hooks create the role NOLOGIN if missing and grant
  USAGE on the mart schemas (dbt_project/macros/bi_role.sql).

The password is SOLEFLIPPER_BI_PASSWORD, else one generated once and kept in
``$SOLEFLIPPER_HOME/secrets/bi_password`` (mode 0600). It is never logged or printed, and it is
sent to the server only as a SCRAM-SHA-256 verifier, so a statement log does not hold it either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import errors, sql

from soleflipper.settings import Settings

log = logging.getLogger(__name__)

BI_ROLE_ENV = "SOLEFLIPPER_BI_ROLE"
BI_PASSWORD_ENV = "SOLEFLIPPER_BI_PASSWORD"
DEFAULT_BI_ROLE = "soleflipper_bi"
# The schemas the role reads (the marts); every other schema is closed to it.
MART_SCHEMAS = ("core", "products", "transactions", "finance", "analytics")
SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)


def bi_role_name(environ: Mapping[str, str] | None = None) -> str:
    """SOLEFLIPPER_BI_ROLE, default soleflipper_bi (the name dbt grants to, see dbt_project.yml)."""
    return ((environ if environ is not None else os.environ).get(BI_ROLE_ENV) or "").strip() or DEFAULT_BI_ROLE


def password_file(settings: Settings) -> Path:
    return settings.home / "secrets" / "bi_password"


def bi_password(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """SOLEFLIPPER_BI_PASSWORD, else the generated one in $SOLEFLIPPER_HOME/secrets/bi_password
    (created once, mode 0600, like the demo's Fernet key)."""
    value = ((environ if environ is not None else os.environ).get(BI_PASSWORD_ENV) or "").strip()
    if value:
        return value
    path = password_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    os.chmod(path, 0o600)
    stored = path.read_text(encoding="ascii").strip()
    if not stored:
        raise RuntimeError(f"{path} is empty: delete it (a new password is generated) or set {BI_PASSWORD_ENV}")
    return stored


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (what psql's \\password sends).

    RFC 5802/7677 without SASLprep, as PostgreSQL does for ASCII passwords."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def verifier_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier is the one of ``password``."""
    try:
        method, rest = verifier.split("$", 1)
        head, _ = rest.split("$", 1)
        iterations, salt = head.split(":", 1)
    except ValueError:
        return False
    if method != "SCRAM-SHA-256":
        return False
    expected = scram_verifier(password, base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(expected, verifier)


def ensure_bi_role(conn: psycopg.Connection, role: str | None = None, password: str | None = None) -> None:
    """Create or update the read-only BI role in the database of ``conn``; idempotent.

    The role: LOGIN (with ``password`` when given), no other attribute, read-only sessions,
    CONNECT on this database, USAGE + SELECT (now and for relations created later by this
    user) on the mart schemas that exist, and no privilege on any other schema or the tables in
    it; PUBLIC loses its privileges on those schemas too, including what PostgreSQL grants it
    on schema public by default (USAGE, and CREATE before 15). Needs CREATEROLE (or superuser) and ownership of the schemas; runs in the caller's
    transaction (commit it)."""
    role = role or bi_role_name()
    ident = sql.Identifier(role)
    attributes = sql.SQL("login nosuperuser nocreatedb nocreaterole noreplication nobypassrls")
    if password is not None:
        # A verifier, never the password: the statement may end up in the server log.
        attributes = sql.SQL("{} password {}").format(attributes, sql.Literal(scram_verifier(password)))
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        try:
            with conn.transaction():
                conn.execute(sql.SQL("create role {} {}").format(ident, attributes))
            log.info("Created the read-only BI role %s", role)
        except (errors.DuplicateObject, errors.UniqueViolation):
            exists = True  # created concurrently (a dbt hook, another process): update it below
    if exists:
        conn.execute(sql.SQL("alter role {} {}").format(ident, attributes))
    conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
    # No inherited privileges either (pg_read_all_data and the like would open raw and ops).
    for (granted,) in conn.execute(
            "select m.roleid::regrole::text from pg_auth_members as m where m.member = %s::regrole", (role,)):
        conn.execute(sql.SQL("revoke {} from {}").format(sql.SQL(granted), ident))
    dbname = conn.execute("select current_database()").fetchone()[0]
    conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), ident))
    schemas = [name for (name,) in conn.execute(
        "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
        " order by nspname")]
    for schema in schemas:
        name = sql.Identifier(schema)
        if schema in MART_SCHEMAS:
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(name, ident))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(name, ident))
            conn.execute(sql.SQL("alter default privileges in schema {} grant select on tables to {}")
                         .format(name, ident))
        else:
            # PUBLIC too: a grant to PUBLIC would reach the BI role as well.
            conn.execute(sql.SQL("revoke all on schema {} from public, {}").format(name, ident))
            conn.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(name, ident))
            conn.execute(sql.SQL("revoke all on all sequences in schema {} from {}").format(name, ident))
            conn.execute(sql.SQL("revoke all on all functions in schema {} from {}").format(name, ident))


def setup_bi_role(conn: psycopg.Connection, settings: Settings) -> bool:
    """ensure_bi_role with the configured name and password, for `soleflipper setup`: False (and
    a warning saying what to ask an administrator) when the database user may not manage roles."""
    role = bi_role_name()
    try:
        with conn.transaction():
            ensure_bi_role(conn, role, bi_password(settings))
    except errors.InsufficientPrivilege:
        log.warning(
            "Cannot create or update the read-only BI role %s (the warehouse user lacks CREATEROLE or does "
            "not own the schemas): ask an administrator to create it with LOGIN and a password, or set %s "
            "to an existing role. Metabase cannot connect read-only until then.", role, BI_ROLE_ENV)
        return False
    return True


@dataclass(frozen=True)
class BiConnection:
    """How a BI tool connects to the warehouse as the read-only role (the password is not in repr)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)

    def url(self) -> str:
        """postgresql:// URL with the password (for psql or a Metabase connection string)."""
        from urllib.parse import quote

        return (f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{quote(self.dbname, safe='')}")

    def metabase_details(self) -> dict[str, object]:
        """The "details" of a Metabase PostgreSQL database (POST /api/database)."""
        return {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user,
                "password": self.password, "ssl": False}


def bi_connection_details(settings: Settings, environ: Mapping[str, str] | None = None) -> BiConnection:
    """Host, port and database of the warehouse, with the BI role's name and password."""
    from resources.postgres import libpq_params

    params = libpq_params(settings.warehouse_url)
    return BiConnection(host=str(params["host"]), port=int(params["port"]), dbname=str(params["dbname"]),
                        user=bi_role_name(environ), password=bi_password(settings, environ))


__all__ = [
    "BI_PASSWORD_ENV",
    "BI_ROLE_ENV",
    "DEFAULT_BI_ROLE",
    "MART_SCHEMAS",
    "BiConnection",
    "bi_connection_details",
    "bi_password",
    "bi_role_name",
    "ensure_bi_role",
    "password_file",
    "scram_verifier",
    "setup_bi_role",
    "verifier_matches",
]
