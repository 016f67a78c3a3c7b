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
import re
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


# dbt's grants (+grants in dbt_project.yml) put the role's name into SQL unquoted: only plain names.
_PLAIN_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def checked_role_name(role: str) -> str:
    """``role`` if it is a plain PostgreSQL name, else ValueError naming SOLEFLIPPER_BI_ROLE."""
    if not _PLAIN_ROLE.fullmatch(role):
        raise ValueError(f"{BI_ROLE_ENV}={role!r} is not a plain role name (lower-case letters, digits and _, "
                         "at most 63): dbt's grants use it unquoted")
    return role


def bi_role_name(environ: Mapping[str, str] | None = None) -> str:
    """SOLEFLIPPER_BI_ROLE, default soleflipper_bi (the name dbt grants to, see dbt_project.yml)."""
    role = ((environ if environ is not None else os.environ).get(BI_ROLE_ENV) or "").strip() or DEFAULT_BI_ROLE
    return checked_role_name(role)


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


def _stored_verifier(conn: psycopg.Connection, role: str) -> tuple[bool, str | None]:
    """(readable, the role's stored password verifier): pg_authid is for superusers only."""
    try:
        with conn.transaction():
            row = conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
    except errors.InsufficientPrivilege:
        return False, None
    return True, row[0] if row else None


def ensure_bi_role(conn: psycopg.Connection, role: str | None = None, password: str | None = None) -> None:
    """Create or update the read-only BI role in the database of ``conn``; idempotent.

    The role: LOGIN (with ``password`` when given), no other attribute, read-only sessions,
    CONNECT on this database, USAGE + SELECT (now and for relations created later by this
    user) on the mart schemas that exist, and no privilege on any other schema or what is in it;
    PUBLIC loses its privileges on those schemas too, including what PostgreSQL grants it on
    schema public by default (USAGE, and CREATE before 15). Needs CREATEROLE (or superuser) and
    ownership of the schemas; runs in the caller's transaction (commit it).

    Only what differs is changed: every CLI command calls this, and catalog rows written by
    concurrent sessions (another command, a dbt build) can collide ("tuple concurrently
    updated"), so a setup that is in place writes nothing."""
    role = checked_role_name(role or bi_role_name())
    ident = sql.Identifier(role)
    attributes = sql.SQL("login nosuperuser nocreatedb nocreaterole noreplication nobypassrls")
    with_password = attributes
    if password is not None:
        # A verifier, never the password: the statement may end up in the server log.
        with_password = sql.SQL("{} password {}").format(attributes, sql.Literal(scram_verifier(password)))
    state_query = (
        "select rolcanlogin and not (rolsuper or rolcreatedb or rolcreaterole or rolreplication or rolbypassrls),"
        " coalesce(rolconfig, '{}') from pg_roles where rolname = %s")
    state = conn.execute(state_query, (role,)).fetchone()
    if state is None:
        try:
            with conn.transaction():
                conn.execute(sql.SQL("create role {} {}").format(ident, with_password))
            log.info("Created the read-only BI role %s", role)
        except (errors.DuplicateObject, errors.UniqueViolation):
            pass  # created concurrently (a dbt hook, another process): updated below
        state = conn.execute(state_query, (role,)).fetchone()
    attributes_ok, config = state
    readable, verifier = _stored_verifier(conn, role)
    password_ok = password is None or (readable and verifier is not None and verifier_matches(verifier, password))
    if not attributes_ok or not password_ok:
        conn.execute(sql.SQL("alter role {} {}").format(ident, attributes if password_ok else with_password))
    if "default_transaction_read_only=on" not in config:
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
    # No inherited privileges either (pg_read_all_data and the like would open raw and ops).
    for (granted,) in conn.execute(
            "select m.roleid::regrole::text from pg_auth_members as m where m.member = %s::regrole", (role,)):
        conn.execute(sql.SQL("revoke {} from {}").format(sql.SQL(granted), ident))
    dbname = conn.execute("select current_database()").fetchone()[0]
    if not conn.execute("select has_database_privilege(%s, current_database(), 'CONNECT')", (role,)).fetchone()[0]:
        conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), ident))
    schemas = conn.execute(
        "select n.nspname,"
        "  has_schema_privilege(%(role)s, n.oid, 'USAGE') or has_schema_privilege(%(role)s, n.oid, 'CREATE'),"
        "  exists (select from pg_default_acl as d, aclexplode(d.defaclacl) as a"
        "          where d.defaclrole = current_user::regrole and d.defaclnamespace = n.oid"
        "            and d.defaclobjtype = 'r' and a.grantee = %(role)s::regrole and a.privilege_type = 'SELECT'),"
        "  exists (select from pg_class as c, aclexplode(c.relacl) as a"
        "          where c.relnamespace = n.oid and a.grantee = %(role)s::regrole)"
        "  or exists (select from pg_proc as f, aclexplode(f.proacl) as a"
        "             where f.pronamespace = n.oid and a.grantee = %(role)s::regrole)"
        " from pg_namespace as n where n.nspname not like 'pg\\_%%' and n.nspname <> 'information_schema'"
        " order by 1", {"role": role}).fetchall()
    for schema, usable, default_select, has_acl in schemas:
        name = sql.Identifier(schema)
        if schema in MART_SCHEMAS:
            if not usable:
                conn.execute(sql.SQL("grant usage on schema {} to {}").format(name, ident))
            missing = conn.execute(
                "select c.oid::regclass::text from pg_class as c where c.relnamespace = %s::regnamespace"
                " and c.relkind in ('r', 'p', 'v', 'm', 'f') and not has_table_privilege(%s, c.oid, 'SELECT')"
                " order by 1", (schema, role)).fetchall()
            for (relation,) in missing:  # regclass text: already quoted and schema-qualified
                conn.execute(sql.SQL("grant select on {} to {}").format(sql.SQL(relation), ident))
            if not default_select:
                conn.execute(sql.SQL("alter default privileges in schema {} grant select on tables to {}")
                             .format(name, ident))
        else:
            if usable:  # PUBLIC too: a grant to PUBLIC reaches the BI role as well
                conn.execute(sql.SQL("revoke all on schema {} from public, {}").format(name, ident))
            if has_acl:
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
