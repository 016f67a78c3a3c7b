"""A Metabase API simulator (api-contracts.md §5 and §6.5): real Metabase cannot be installed here.

What it serves, the way Metabase v0.5x/v0.6x does:

* First run: ``GET /api/session/properties`` exposes ``setup-token`` and ``has-user-setup``;
  ``POST /api/setup`` with that token creates the first admin and returns a session (403 once
  an admin exists). ``MetabaseSimulator(admin=None)`` starts un-set-up; the default has
  :data:`DEMO_ADMIN`.
* Auth: ``POST /api/session`` ``{username, password}`` → ``{"id": uuid}``; requests carry
  ``X-Metabase-Session`` (valid for ``session_max_age`` seconds on the fake clock, 14 days by
  default) or ``x-api-key`` (:meth:`create_api_key`). Anything else → **401 text/plain
  ``Unauthenticated``**. :meth:`expire_sessions` ends every session now.
* Databases: ``GET/POST /api/database``, ``GET/PUT /api/database/:id`` (``engine`` and
  ``details`` validated; the password comes back as ``**MetabasePass**`` and sending that back
  keeps it), ``POST /api/database/:id/sync_schema`` → ``{"status": "ok"}``; the tables appear in
  ``GET /api/database/:id/metadata`` only ``sync_delay`` seconds (fake clock) later. The tables
  come from ``catalog`` ({schema: {table: [columns]}}) or, without one, from the PostgreSQL the
  connection details point at (information_schema, limited to ``schema-filters-patterns``).
  Field ids are stable across syncs.
* ``GET/POST /api/collection``, ``GET/POST /api/card``, ``GET/PUT /api/card/:id`` (``archived``
  moves a card to the trash; archived cards leave ``GET /api/card`` unless ``f=archived``).
  Cards come back with ``dataset_query`` in MBQL 5 (``stages``), as since v0.57, unless
  ``?legacy-mbql=true``: a client comparing what it sent with what it reads back sees a change
  every time. Dimension template tags must name a field id of the card's database.
* ``GET/POST /api/dashboard``, ``GET/PUT /api/dashboard/:id``: a PUT with ``dashcards`` replaces
  the whole set (negative id → created, known id → updated, left out → deleted);
  ``POST /api/dashboard/:id/cards`` (removed in Metabase 48) → 404.
* Errors: 401/403/404 as plain text, others as ``{"message": ...}``; the fault menu of
  :mod:`simulators.base` (``inject("status:500", ...)``) applies to every route, and
  :meth:`fail_write` makes the Nth write from now fail with a 500.

Run one with ``python -m simulators.metabase`` (``soleflipper`` demo: pipelines/demo.py).
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulators.base import Request, Response, Simulator, route, run_forever

VERSION = "v0.64.2"
SESSION_MAX_AGE = 14 * 24 * 3600.0  # Metabase's MAX_SESSION_AGE default (20160 minutes)
PASSWORD_MASK = "**MetabasePass**"
DEMO_ADMIN = ("admin@soleflipper.local", "soleflipper-demo-1")
ENGINES = frozenset({"postgres", "h2", "mysql", "redshift", "snowflake", "bigquery-cloud-sdk"})
DISPLAYS = frozenset(
    {"scalar", "smartscalar", "line", "bar", "row", "area", "combo", "pie", "table", "map",
     "funnel", "progress", "gauge", "waterfall", "scatter", "pivot", "object"}
)  # fmt: skip
Catalog = Mapping[str, Mapping[str, Sequence[str]]]  # schema -> table -> column names


class _Invalid(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class _Database:
    id: int
    body: dict[str, Any]
    tables: list[dict[str, Any]] = field(default_factory=list)
    synced_at: float | None = None  # fake-clock moment the last sync_schema's tables become visible
    pending: list[dict[str, Any]] | None = None


def introspect(details: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """{schema: {table/view: [columns]}} of the PostgreSQL ``details`` name, within the schema filter."""
    import psycopg

    patterns = [p.strip() for p in str(details.get("schema-filters-patterns") or "*").split(",") if p.strip()]
    conninfo = {
        "host": details.get("host"),
        "port": details.get("port") or 5432,
        "dbname": details.get("dbname"),
        "user": details.get("user"),
        "password": details.get("password") or None,
        "connect_timeout": 5,
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
        rows = conn.execute(
            """
            select c.table_schema, c.table_name, c.column_name
            from information_schema.columns as c
            where c.table_schema not in ('pg_catalog', 'information_schema')
            union all  -- materialized views are missing from information_schema
            select n.nspname, cl.relname, a.attname
            from pg_attribute as a
            join pg_class as cl on cl.oid = a.attrelid and cl.relkind = 'm'
            join pg_namespace as n on n.oid = cl.relnamespace
            where a.attnum > 0 and not a.attisdropped
            """
        ).fetchall()
    catalog: dict[str, dict[str, list[str]]] = {}
    for schema, table, column in rows:
        if any(fnmatch.fnmatchcase(schema, p) for p in patterns):
            catalog.setdefault(schema, {}).setdefault(table, []).append(column)
    return catalog


def _mbql5(dataset_query: Mapping[str, Any]) -> dict[str, Any]:
    """A legacy native ``dataset_query`` as Metabase >= v0.57 serialises it (options maps second in
    every clause, so a dimension ``["field", 12, null]`` reads ``["field", {"lib/uuid": ...}, 12]``)."""
    native = dataset_query.get("native") or {}
    tags = copy.deepcopy(native.get("template-tags") or {})
    for tag in tags.values():
        dimension = tag.get("dimension")
        if isinstance(dimension, list) and len(dimension) >= 2 and dimension[0] == "field":
            options = dimension[2] if len(dimension) > 2 and isinstance(dimension[2], dict) else {}
            tag["dimension"] = ["field", {"lib/uuid": str(uuid.uuid4()), **options}, dimension[1]]
    return {
        "lib/type": "mbql/query",
        "database": dataset_query.get("database"),
        "stages": [
            {
                "lib/type": "mbql.stage/native",
                "native": native.get("query"),
                "template-tags": tags,
            }
        ],
    }


class MetabaseSimulator(Simulator):
    """Metabase's provisioning API on loopback (see the module doc)."""

    name = "metabase"

    def __init__(
        self,
        port: int = 0,
        *,
        admin: tuple[str, str] | None = DEMO_ADMIN,
        catalog: Catalog | None = None,
        sync_delay: float = 0.0,
        session_max_age: float = SESSION_MAX_AGE,
    ) -> None:
        super().__init__(port)
        self.initial_admin = admin
        self.catalog = catalog
        self.sync_delay = sync_delay
        self.session_max_age = session_max_age
        self.reset()

    # -- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.users: dict[str, str] = dict([self.initial_admin]) if self.initial_admin else {}
            self.setup_token = str(uuid.uuid4())
            self.sessions: dict[str, float] = {}  # id -> expiry (fake clock)
            self.api_keys: set[str] = set()
            self.databases: dict[int, _Database] = {}
            self.collections: dict[int, dict[str, Any]] = {}
            self.cards: dict[int, dict[str, Any]] = {}
            self.dashboards: dict[int, dict[str, Any]] = {}
            self.field_ids: dict[tuple[int, str, str, str], int] = {}
            self._writes_until_failure: int | None = None
            self.table_ids: dict[tuple[int, str, str], int] = {}
            self._next = {"database": 1, "collection": 1, "card": 1, "dashboard": 1, "dashcard": 1,
                          "table": 1, "field": 1}  # fmt: skip

    def _new_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def create_api_key(self, key: str | None = None) -> str:
        """An API key the simulator accepts in ``x-api-key`` (Metabase shows it once: ``mb_…``)."""
        key = key or f"mb_{uuid.uuid4().hex}"
        with self.lock:
            self.api_keys.add(key)
        return key

    def fail_write(self, nth: int) -> None:
        """The ``nth`` write (POST/PUT, logins aside) from now answers 500 without doing anything."""
        with self.lock:
            self._writes_until_failure = nth

    def expire_sessions(self) -> None:
        """Every session ends now (a restart with a new MB_ENCRYPTION key, or an admin logout)."""
        with self.lock:
            self.sessions.clear()

    def card_by_name(self, name: str) -> dict[str, Any]:
        with self.lock:
            return next(c for c in self.cards.values() if c["name"] == name)

    def dashboard_by_name(self, name: str) -> dict[str, Any]:
        with self.lock:
            return next(d for d in self.dashboards.values() if d["name"] == name)

    # -- errors and auth ---------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Any) -> None:
        def guarded(request: Request) -> Any:
            try:
                return handler(request)
            except _Invalid as exc:
                return self.error(exc.status, exc.message)

        super().add_route(method, pattern, guarded)

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            return Response(401, body="Unauthenticated")
        if status == 403:
            return Response(403, body="You don't have permissions to do that.")
        if status == 404:
            return Response(404, body="Not found.")
        return {"message": message}

    def _authenticated(self, request: Request) -> bool:
        key = request.headers.get("x-api-key")
        session = request.headers.get("X-Metabase-Session")
        with self.lock:
            if key:
                return key in self.api_keys
            expiry = self.sessions.get(session or "")
            if expiry is None:
                return False
            if self.clock.now() >= expiry:
                del self.sessions[session or ""]
                return False
            return True

    def handle(self, request: Request) -> Response:
        public = {("GET", "/api/health"), ("GET", "/api/session/properties"), ("POST", "/api/session"),
                  ("POST", "/api/setup")}  # fmt: skip
        if (request.method, request.path) not in public and not self._authenticated(request):
            return self.error(401)
        if request.method in ("POST", "PUT") and request.path not in ("/api/session", "/api/setup"):
            with self.lock:
                if self._writes_until_failure is not None:
                    self._writes_until_failure -= 1
                    if self._writes_until_failure == 0:
                        self._writes_until_failure = None
                        return self.error(500, "simulated failure of this write (fail_write)")
        return super().handle(request)

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise _Invalid(400, "request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Invalid(400, "request body must be a JSON object")
        return body

    def _int_param(self, request: Request, name: str = "id") -> int:
        try:
            return int(request.params[name])
        except ValueError:
            raise _Invalid(404, "not an id") from None

    # -- setup and session -------------------------------------------------------------------

    @route("GET", "/api/health")
    def health(self, request: Request) -> Any:
        return {"status": "ok"}

    @route("GET", "/api/session/properties")
    def properties(self, request: Request) -> Any:
        with self.lock:
            has_user = bool(self.users)
            return {"setup-token": self.setup_token, "has-user-setup": has_user, "version": {"tag": VERSION}}

    def _new_session(self) -> str:
        session = str(uuid.uuid4())
        self.sessions[session] = self.clock.now() + self.session_max_age
        return session

    @route("POST", "/api/setup")
    def setup(self, request: Request) -> Any:
        body = self._body(request)
        with self.lock:
            if self.users:
                return self.error(403, "The /api/setup route can only be used to create the first user")
            if body.get("token") != self.setup_token:
                return Response(403, json={"errors": {"token": "Token does not match the setup token."}})
            user = body.get("user") or {}
            if not user.get("email") or not user.get("password"):
                raise _Invalid(400, "user.email and user.password are required")
            self.users[user["email"]] = user["password"]
            return {"id": self._new_session()}

    @route("POST", "/api/session")
    def login(self, request: Request) -> Any:
        body = self._body(request)
        with self.lock:
            if self.users.get(body.get("username")) != body.get("password") or not body.get("password"):
                return Response(401, json={"errors": {"password": "did not match stored password"}})
            return {"id": self._new_session()}

    @route("GET", "/api/user/current")
    def current_user(self, request: Request) -> Any:
        return {"id": 1, "is_superuser": True}

    # -- databases ---------------------------------------------------------------------------

    def _database(self, request: Request) -> _Database:
        database = self.databases.get(self._int_param(request))
        if database is None:
            raise _Invalid(404, "no such database")
        return database

    def _public_database(self, database: _Database) -> dict[str, Any]:
        body = copy.deepcopy(database.body)
        if body["details"].get("password"):
            body["details"]["password"] = PASSWORD_MASK
        return {"id": database.id, **body}

    def _validate_database(self, body: Mapping[str, Any], partial: bool) -> None:
        if not partial or "engine" in body:
            if body.get("engine") not in ENGINES:
                raise _Invalid(400, f"engine: value must be one of {sorted(ENGINES)}")
        if not partial or "name" in body:
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                raise _Invalid(400, "name: value must be a non-blank string")
        if not partial or "details" in body:
            details = body.get("details")
            if not isinstance(details, dict) or (
                body.get("engine") == "postgres" and not details.get("dbname")
            ):
                raise _Invalid(400, "details: value must be a map (postgres needs host and dbname)")

    @route("GET", "/api/database")
    def list_databases(self, request: Request) -> Any:
        with self.lock:
            data = [self._public_database(d) for d in self.databases.values()]
        return {"data": data, "total": len(data)}

    @route("POST", "/api/database")
    def create_database(self, request: Request) -> Any:
        body = self._body(request)
        self._validate_database(body, partial=False)
        with self.lock:
            database = _Database(self._new_id("database"), {
                "name": body["name"], "engine": body["engine"], "details": dict(body["details"]),
                "is_full_sync": body.get("is_full_sync", True), "auto_run_queries": body.get("auto_run_queries", True),
            })  # fmt: skip
            self.databases[database.id] = database
            public = self._public_database(database)
        self._schedule_sync(database)  # Metabase syncs a new database at once
        return public

    @route("GET", "/api/database/{id}")
    def get_database(self, request: Request) -> Any:
        with self.lock:
            return self._public_database(self._database(request))

    @route("PUT", "/api/database/{id}")
    def update_database(self, request: Request) -> Any:
        body = self._body(request)
        self._validate_database(body, partial=True)
        with self.lock:
            database = self._database(request)
            for key in ("name", "engine", "is_full_sync", "auto_run_queries"):
                if key in body:
                    database.body[key] = body[key]
            if "details" in body:
                details = dict(body["details"])
                if details.get("password") == PASSWORD_MASK:
                    details["password"] = database.body["details"].get("password")
                database.body["details"] = details
            return self._public_database(database)

    def _start_sync(self, database: _Database, catalog: Catalog | None) -> None:
        if catalog is None:
            with self.lock:
                details = dict(database.body["details"])
            try:
                catalog = introspect(details)
            except Exception as exc:  # Metabase logs sync failures; the metadata just stays empty
                print(f"metabase simulator: sync of database {database.id} failed: {exc}", flush=True)
                catalog = {}
        with self.lock:
            self._publish(database, catalog)

    def _publish(self, database: _Database, catalog: Catalog) -> None:
        tables = []
        for schema, schema_tables in sorted(catalog.items()):
            for table, columns in sorted(schema_tables.items()):
                table_key = (database.id, schema, table)
                if table_key not in self.table_ids:
                    self.table_ids[table_key] = self._new_id("table")
                table_id = self.table_ids[table_key]
                fields = []
                for column in columns:
                    key = (database.id, schema, table, column)
                    if key not in self.field_ids:
                        self.field_ids[key] = self._new_id("field")
                    fields.append({"id": self.field_ids[key], "name": column, "table_id": table_id,
                                   "display_name": column.replace("_", " ").title(),
                                   "base_type": "type/*"})  # fmt: skip
                tables.append({"id": table_id, "db_id": database.id, "schema": schema, "name": table,
                               "display_name": table.replace("_", " ").title(), "fields": fields})  # fmt: skip
        database.pending = tables
        database.synced_at = self.clock.now() + self.sync_delay

    def _visible_tables(self, database: _Database) -> list[dict[str, Any]]:
        if database.pending is not None and database.synced_at is not None:
            if self.clock.now() >= database.synced_at:
                database.tables, database.pending = database.pending, None
        return database.tables

    @route("POST", "/api/database/{id}/sync_schema")
    def sync_schema(self, request: Request) -> Any:
        with self.lock:
            database = self._database(request)
        self._schedule_sync(database)
        return {"status": "ok"}

    def _schedule_sync(self, database: _Database) -> None:
        """A fixed catalog is read at once (deterministic tests); a real PostgreSQL is introspected in
        the background, as Metabase does. Either way the tables show after ``sync_delay``."""
        if self.catalog is not None:
            self._start_sync(database, self.catalog)
        else:
            threading.Thread(target=self._start_sync, args=(database, None), daemon=True).start()

    @route("GET", "/api/database/{id}/metadata")
    def metadata(self, request: Request) -> Any:
        with self.lock:
            database = self._database(request)
            return {
                **self._public_database(database),
                "tables": copy.deepcopy(self._visible_tables(database)),
            }

    # -- collections -------------------------------------------------------------------------

    @route("GET", "/api/collection")
    def list_collections(self, request: Request) -> Any:
        with self.lock:
            root = {"id": "root", "name": "Our analytics", "location": None, "archived": False}
            return [root, *(copy.deepcopy(c) for c in self.collections.values() if not c["archived"])]

    @route("POST", "/api/collection")
    def create_collection(self, request: Request) -> Any:
        body = self._body(request)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise _Invalid(400, "name: value must be a non-blank string")
        with self.lock:
            collection = {"id": self._new_id("collection"), "name": body["name"], "location": "/",
                          "description": body.get("description"), "archived": False}  # fmt: skip
            self.collections[collection["id"]] = collection
            return copy.deepcopy(collection)

    # -- cards -------------------------------------------------------------------------------

    def _validate_card(self, body: Mapping[str, Any], partial: bool) -> None:
        required = ("name", "display", "dataset_query", "visualization_settings")
        for key in required if not partial else ():
            if key not in body:
                raise _Invalid(400, f"{key}: value is required")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise _Invalid(400, "name: value must be a non-blank string")
        if "display" in body and body["display"] not in DISPLAYS:
            raise _Invalid(400, f"display: unknown display {body['display']!r}")
        if "type" in body and body["type"] not in ("question", "model", "metric"):
            raise _Invalid(400, "type: value must be question, model or metric")
        if "visualization_settings" in body and not isinstance(body["visualization_settings"], dict):
            raise _Invalid(400, "visualization_settings: value must be a map")
        if "collection_id" in body and body["collection_id"] is not None:
            if body["collection_id"] not in self.collections:
                raise _Invalid(400, f"collection_id: no collection {body['collection_id']}")
        query = body.get("dataset_query")
        if query is None:
            return
        if not isinstance(query, dict) or query.get("type") != "native":
            raise _Invalid(400, "dataset_query: only native queries are simulated")
        database = self.databases.get(query.get("database"))  # type: ignore[arg-type]
        if database is None:
            raise _Invalid(400, f"dataset_query.database: no database {query.get('database')!r}")
        native = query.get("native") or {}
        if not isinstance(native.get("query"), str) or not native["query"].strip():
            raise _Invalid(400, "dataset_query.native.query: value must be a non-blank string")
        known = {fid for key, fid in self.field_ids.items() if key[0] == database.id}
        for name, tag in (native.get("template-tags") or {}).items():
            if tag.get("name") != name or tag.get("type") not in ("text", "number", "date", "dimension"):
                raise _Invalid(400, f"template-tags.{name}: needs name = {name!r} and a known type")
            if tag["type"] == "dimension":
                dimension = tag.get("dimension")
                if not (isinstance(dimension, list) and len(dimension) >= 2 and dimension[0] == "field"):
                    raise _Invalid(400, f'template-tags.{name}.dimension: must be ["field", id, opts]')
                if dimension[1] not in known:
                    raise _Invalid(
                        400, f"template-tags.{name}.dimension: no field {dimension[1]} in the database"
                    )

    def _public_card(self, card: Mapping[str, Any], legacy: bool) -> dict[str, Any]:
        out = copy.deepcopy(dict(card))
        if not legacy:
            out["dataset_query"] = _mbql5(card["dataset_query"])
        return out

    def _card(self, request: Request) -> dict[str, Any]:
        card = self.cards.get(self._int_param(request))
        if card is None:
            raise _Invalid(404, "no such card")
        return card

    @route("GET", "/api/card")
    def list_cards(self, request: Request) -> Any:
        archived = request.arg("f") == "archived"
        legacy = request.arg("legacy-mbql") == "true"
        with self.lock:
            return [self._public_card(c, legacy) for c in self.cards.values() if c["archived"] == archived]

    @route("POST", "/api/card")
    def create_card(self, request: Request) -> Any:
        body = self._body(request)
        with self.lock:
            self._validate_card(body, partial=False)
            card = {"type": "question", "description": None, "collection_id": None, "parameters": [],
                    **body, "id": self._new_id("card"), "archived": False}  # fmt: skip
            card["database_id"] = card["dataset_query"]["database"]
            self.cards[card["id"]] = card
            return self._public_card(card, legacy=False)

    @route("GET", "/api/card/{id}")
    def get_card(self, request: Request) -> Any:
        with self.lock:
            return self._public_card(self._card(request), legacy=request.arg("legacy-mbql") == "true")

    @route("PUT", "/api/card/{id}")
    def update_card(self, request: Request) -> Any:
        body = self._body(request)
        with self.lock:
            card = self._card(request)
            self._validate_card(body, partial=True)
            body.pop("id", None)
            card.update(body)
            if "dataset_query" in body:
                card["database_id"] = body["dataset_query"]["database"]
            return self._public_card(card, legacy=False)

    # -- dashboards --------------------------------------------------------------------------

    def _dashboard(self, request: Request) -> dict[str, Any]:
        dashboard = self.dashboards.get(self._int_param(request))
        if dashboard is None:
            raise _Invalid(404, "no such dashboard")
        return dashboard

    def _public_dashboard(self, dashboard: Mapping[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dict(dashboard))
        for dashcard in out["dashcards"]:
            card = self.cards.get(dashcard["card_id"])
            dashcard["card"] = self._public_card(card, legacy=False) if card else None
        return out

    @route("GET", "/api/dashboard")
    def list_dashboards(self, request: Request) -> Any:
        with self.lock:
            return [
                {k: copy.deepcopy(v) for k, v in d.items() if k != "dashcards"}
                for d in self.dashboards.values()
                if not d["archived"]
            ]

    @route("POST", "/api/dashboard")
    def create_dashboard(self, request: Request) -> Any:
        body = self._body(request)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise _Invalid(400, "name: value must be a non-blank string")
        with self.lock:
            if body.get("collection_id") is not None and body["collection_id"] not in self.collections:
                raise _Invalid(400, f"collection_id: no collection {body['collection_id']}")
            dashboard = {"id": self._new_id("dashboard"), "name": body["name"],
                         "description": body.get("description"), "collection_id": body.get("collection_id"),
                         "parameters": list(body.get("parameters") or []), "archived": False,
                         "dashcards": [], "tabs": []}  # fmt: skip
            self.dashboards[dashboard["id"]] = dashboard
            return self._public_dashboard(dashboard)

    @route("GET", "/api/dashboard/{id}")
    def get_dashboard(self, request: Request) -> Any:
        with self.lock:
            return self._public_dashboard(self._dashboard(request))

    @route("PUT", "/api/dashboard/{id}")
    def update_dashboard(self, request: Request) -> Any:
        body = self._body(request)
        with self.lock:
            dashboard = self._dashboard(request)
            parameters = body.get("parameters", dashboard["parameters"])
            if not isinstance(parameters, list) or any("id" not in p or "slug" not in p for p in parameters):
                raise _Invalid(400, "parameters: each parameter needs an id and a slug")
            dashcards = (
                self._replace_dashcards(dashboard, body["dashcards"], parameters)
                if "dashcards" in body
                else None
            )
            for key in ("name", "description", "collection_id", "archived"):
                if key in body:
                    dashboard[key] = body[key]
            dashboard["parameters"] = parameters
            if dashcards is not None:
                dashboard["dashcards"] = dashcards
            return self._public_dashboard(dashboard)

    def _replace_dashcards(
        self, dashboard: Mapping[str, Any], wanted: Any, parameters: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """The new dashcard set (validated whole before anything changes, as one transaction)."""
        if not isinstance(wanted, list):
            raise _Invalid(400, "dashcards: value must be a list")
        existing = {d["id"]: d for d in dashboard["dashcards"]}
        parameter_ids = {p["id"] for p in parameters}
        result = []
        for item in wanted:
            dashcard_id = item.get("id")
            if not isinstance(dashcard_id, int) or (dashcard_id >= 0 and dashcard_id not in existing):
                raise _Invalid(
                    400, f"dashcards: id {dashcard_id!r} is neither negative nor on this dashboard"
                )
            card_id = item.get("card_id")
            if card_id is not None and card_id not in self.cards:
                raise _Invalid(400, f"dashcards: no card {card_id}")
            for key in ("row", "col", "size_x", "size_y"):
                if not isinstance(item.get(key), int) or item[key] < 0:
                    raise _Invalid(400, f"dashcards: {key} must be a non-negative integer")
            for mapping in item.get("parameter_mappings") or []:
                if mapping.get("parameter_id") not in parameter_ids:
                    raise _Invalid(400, f"dashcards: parameter_mappings name unknown parameter "
                                        f"{mapping.get('parameter_id')!r}")  # fmt: skip
            stored = {"parameter_mappings": [], "visualization_settings": {}, "series": [],
                      "dashboard_tab_id": None, **{k: v for k, v in item.items() if k != "card"}}  # fmt: skip
            stored["id"] = dashcard_id if dashcard_id >= 0 else self._new_id("dashcard")
            stored["dashboard_id"] = dashboard["id"]
            result.append(stored)
        return result

    @route("POST", "/api/dashboard/{id}/cards")
    def removed_add_cards(self, request: Request) -> Any:
        return self.error(404)  # removed in Metabase 48: clients must PUT /api/dashboard/:id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Metabase API simulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--sync-delay", type=float, default=1.0, help="seconds before synced tables appear")
    args = parser.parse_args(argv)
    sim = MetabaseSimulator(args.port, sync_delay=args.sync_delay)
    print(f"  admin (simulated): {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
    run_forever(sim)


if __name__ == "__main__":
    main()
