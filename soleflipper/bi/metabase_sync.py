"""Provision Metabase from the dashboard YAML, idempotently: ``soleflipper metabase sync`` and the
``bi/metabase_dashboards`` asset are thin wrappers over :func:`sync_metabase`.

Order of work (every object is looked up by name, so a run that stopped half-way is finished by
the next one, and a second run finds nothing to change):

1. every card is checked against the dbt manifest (:func:`soleflipper.bi.dashboards.check_against_manifest`)
   **before any request**: a card naming a missing column fails here, with nothing sent;
2. first-run setup if Metabase has no admin yet; the warehouse connection, found by name, is
   created or updated (only when a non-secret setting differs: Metabase never shows the password
   back), then a schema sync is started and its tables/columns awaited (bounded);
3. field ids come from ``GET /api/database/:id/metadata``; the "SoleFlipper" collection is found
   or created;
4. cards are found by name in that collection and created, or updated only when a field we send
   differs from what Metabase holds. ``dataset_query`` is compared on its meaning (database, SQL,
   the template tags we send), never by round-trip equality: Metabase >= v0.57 answers in MBQL 5;
5. dashboards are found by name in the collection, created, then given their parameters and the
   whole dashcard set in one ``PUT /api/dashboard/:id`` (dashcards kept by id, negative ids for
   new ones, left-out ones deleted), only when something differs;
6. managed cards (in the collection and marked "Managed by SoleFlipper") that no YAML names any
   more are archived (Metabase's trash), after their dashcards were dropped in step 5.

The :class:`SyncReport` counts created / updated / unchanged / archived per kind.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from resources.http_client import ApiClientError
from resources.metabase.client import MetabaseClient
from soleflipper.bi import dashboards as spec
from soleflipper.settings import Settings

log = logging.getLogger(__name__)

COLLECTION_NAME = "SoleFlipper"
DATABASE_NAME = "SoleFlipper warehouse"
MANAGED_MARK = "Managed by SoleFlipper"
KINDS = ("database", "collection", "card", "dashboard", "dashcard")
# Where Metabase reaches the warehouse, when that differs from how SoleFlipper reaches it (e.g. the
# docker-compose service name `postgres`), and the (read-only) user it connects as.
HOST_ENV = "SOLEFLIPPER_METABASE_WAREHOUSE_HOST"
PORT_ENV = "SOLEFLIPPER_METABASE_WAREHOUSE_PORT"
DBNAME_ENV = "SOLEFLIPPER_METABASE_WAREHOUSE_DBNAME"
DB_USER_ENV = "SOLEFLIPPER_METABASE_DB_USER"
DB_PASSWORD_ENV = "SOLEFLIPPER_METABASE_DB_PASSWORD"


class MetabaseSyncError(RuntimeError):
    """The sync stopped; the message says at which step and why. Rerunning resumes (lookups by name)."""


@dataclass(frozen=True)
class WarehouseConnection:
    """The PostgreSQL database Metabase queries, as Metabase reaches it."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)
    name: str = DATABASE_NAME
    schemas: tuple[str, ...] = ("analytics",)
    ssl: bool = False

    def details(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "ssl": self.ssl,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": ",".join(self.schemas),
        }

    def payload(self) -> dict[str, Any]:
        return {
            "engine": "postgres",
            "name": self.name,
            "details": self.details(),
            "is_full_sync": True,
            "auto_run_queries": True,
        }


def connection_from_url(
    warehouse_url: str, environ: Mapping[str, str], bi_credentials: tuple[str, str] | None = None
) -> WarehouseConnection:
    """The connection Metabase should use: the warehouse URL's host/port/database (each overridable
    by ``SOLEFLIPPER_METABASE_WAREHOUSE_*``), as the BI role when its credentials are given, else as
    ``SOLEFLIPPER_METABASE_DB_USER``/``_PASSWORD``, else as the URL's own user."""
    url = urlsplit(warehouse_url)

    def env(name: str) -> str | None:
        return (environ.get(name) or "").strip() or None

    user, password = bi_credentials or (env(DB_USER_ENV), env(DB_PASSWORD_ENV))
    if not user:
        user, password = unquote(url.username or ""), unquote(url.password or "")
    return WarehouseConnection(
        host=env(HOST_ENV) or url.hostname or "localhost",
        port=int(env(PORT_ENV) or url.port or 5432),
        dbname=env(DBNAME_ENV) or unquote(url.path.lstrip("/")),
        user=user,
        password=password or "",
    )


def metabase_connection(settings: Settings, environ: Mapping[str, str]) -> WarehouseConnection:
    """:func:`connection_from_url` for the warehouse, as ``SOLEFLIPPER_METABASE_DB_USER`` when set,
    else as the read-only BI role (:mod:`soleflipper.bi.role`, created by ``soleflipper setup``)."""
    credentials = None
    if not (environ.get(DB_USER_ENV) or "").strip():
        try:
            from soleflipper.bi.role import bi_connection_details
        except ImportError:  # a checkout without the BI role: the warehouse URL's user
            pass
        else:
            bi = bi_connection_details(settings, environ)
            credentials = (bi.user, bi.password)
    return connection_from_url(settings.warehouse_url, environ, credentials)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.archived


@dataclass
class SyncReport:
    """What a sync did (or, with ``dry_run``, would do), per kind of object."""

    counts: dict[str, Counts] = field(default_factory=lambda: {kind: Counts() for kind in KINDS})
    dashboard_ids: dict[str, int] = field(default_factory=dict)  # negative: would be created (dry run)
    dashboard_urls: dict[str, str] = field(default_factory=dict)
    database_id: int | None = None
    collection_id: int | None = None
    dry_run: bool = False
    requests: int = 0

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        setattr(self.counts[kind], outcome, getattr(self.counts[kind], outcome) + n)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.counts.values())

    def table(self) -> str:
        """A plain-text summary table (the CLI prints it)."""
        rows = [("", "created", "updated", "unchanged", "archived")]
        rows += [(k, *(str(getattr(c, f)) for f in ("created", "updated", "unchanged", "archived")))
                 for k, c in self.counts.items()]  # fmt: skip
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join(
            "  ".join(
                cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
            )
            for row in rows
        )

    def as_metadata(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for kind, counts in self.counts.items():
            for outcome in ("created", "updated", "unchanged", "archived"):
                flat[f"{kind}s_{outcome}"] = getattr(counts, outcome)
        return flat


def _subset_equal(sent: Any, held: Any) -> bool:
    """Whether Metabase holds what we send: keys we do not send (ids, timestamps, defaults Metabase
    adds, e.g. a template tag's ``id``) are ignored; lists must match element by element."""
    if isinstance(sent, Mapping):
        return isinstance(held, Mapping) and all(
            k in held and _subset_equal(v, held[k]) for k, v in sent.items()
        )
    if isinstance(sent, list | tuple):
        return (
            isinstance(held, list | tuple)
            and len(sent) == len(held)
            and all(_subset_equal(a, b) for a, b in zip(sent, held, strict=True))
        )
    return sent == held


def native_query(dataset_query: Mapping[str, Any] | None) -> tuple[Any, Any, Any]:
    """(database, SQL, template tags) of a native query in legacy or MBQL 5 shape."""
    query = dataset_query or {}
    if "stages" in query:  # MBQL 5 (Metabase >= v0.57)
        stage = (query.get("stages") or [{}])[0]
        return query.get("database"), stage.get("native"), stage.get("template-tags") or {}
    native = query.get("native") or {}
    return query.get("database"), native.get("query"), native.get("template-tags") or {}


def _tags_meaning(tags: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Template tags reduced to what they mean: the dimension's field id wherever its shape puts it
    (legacy ``["field", id, opts]``, MBQL 5 ``["field", {opts}, id]``)."""
    meaning = {}
    for name, tag in (tags or {}).items():
        dimension = tag.get("dimension") or []
        field_id = next((x for x in dimension[1:] if isinstance(x, int) and not isinstance(x, bool)), None)
        keys = ("name", "type", "display-name", "widget-type", "required", "default")
        meaning[name] = (*(tag.get(k) for k in keys), field_id)
    return meaning


def card_differs(payload: Mapping[str, Any], held: Mapping[str, Any]) -> bool:
    """Whether a card must be updated: any field we send differs (dataset_query by meaning)."""
    for key, value in payload.items():
        if key == "dataset_query":
            want_db, want_sql, want_tags = native_query(value)
            held_db, held_sql, held_tags = native_query(held.get(key))
            if want_db != held_db or (want_sql or "").strip() != (held_sql or "").strip():
                return True
            if _tags_meaning(want_tags) != _tags_meaning(held_tags):
                return True
        elif not _subset_equal(value, held.get(key)):
            return True
    return False


def _field_ids(metadata: Mapping[str, Any]) -> dict[tuple[str, str, str], int]:
    return {
        (table.get("schema"), table.get("name"), fld.get("name")): fld["id"]
        for table in metadata.get("tables") or []
        for fld in table.get("fields") or []
    }


class _Step:
    """Names the step in progress, so an API error says what was being done."""

    def __init__(self) -> None:
        self.what = "starting"

    def __call__(self, what: str) -> _Step:
        self.what = what
        return self


def sync_metabase(
    client: MetabaseClient,
    dashboards: Sequence[spec.Dashboard],
    manifest: Mapping[str, Any],
    connection: WarehouseConnection,
    *,
    public_url: str | None = None,
    collection_name: str = COLLECTION_NAME,
    dry_run: bool = False,
    wait_timeout: float = 120.0,
    poll_interval: float = 1.0,
) -> SyncReport:
    """Make Metabase match ``dashboards`` (see the module doc); ``dry_run`` reads but writes nothing."""
    spec.check_against_manifest(dashboards, manifest)  # before anything is sent
    _check_unique(dashboards)
    outside = sorted({f.qualified_column for d in dashboards for c in d.cards for f in c.filters.values()
                      if f.schema not in connection.schemas})  # fmt: skip
    if outside:
        raise MetabaseSyncError(
            f"field filters name columns outside the schemas Metabase syncs ({', '.join(connection.schemas)}): "
            + ", ".join(outside)
        )
    report = SyncReport(dry_run=dry_run)
    step = _Step()
    calls_before = client.calls_made
    try:
        _sync(
            client,
            dashboards,
            connection,
            report,
            step,
            collection_name,
            dry_run,
            wait_timeout,
            poll_interval,
        )
    except ApiClientError as exc:
        raise MetabaseSyncError(
            f"Metabase sync stopped while {step.what}: {exc}. Nothing is rolled back; run the sync "
            "again to finish (it finds what was already made by name)"
        ) from exc
    finally:
        report.requests = client.calls_made - calls_before
    base = (public_url or client.base_url).rstrip("/")
    report.dashboard_urls = {
        name: f"{base}/dashboard/{i}" for name, i in report.dashboard_ids.items() if i > 0
    }
    return report


def _check_unique(dashboards: Sequence[spec.Dashboard]) -> None:
    names = Counter(card.name for dashboard in dashboards for card in dashboard.cards)
    dupes = [name for name, n in names.items() if n > 1]
    if dupes:
        raise spec.DashboardSpecError(
            f"card names must be unique across dashboards (Metabase finds cards by name): {dupes}"
        )
    boards = Counter(d.name for d in dashboards)
    if any(n > 1 for n in boards.values()):
        raise spec.DashboardSpecError(
            f"dashboard names must be unique: {[n for n, c in boards.items() if c > 1]}"
        )


def _sync(
    client: MetabaseClient,
    dashboards: Sequence[spec.Dashboard],
    connection: WarehouseConnection,
    report: SyncReport,
    step: _Step,
    collection_name: str,
    dry_run: bool,
    wait_timeout: float,
    poll_interval: float,
) -> None:
    step("checking Metabase's first-run setup")
    if not dry_run:
        client.ensure_setup()

    # -- the warehouse connection -------------------------------------------------------------
    step(f"looking up the database connection {connection.name!r}")
    payload = connection.payload()
    existing = next((d for d in client.databases() if d.get("name") == connection.name), None)
    if existing is None:
        report.count("database", "created")
        if dry_run:
            _count_all_new(dashboards, report, collection=True)
            return
        step(f"creating the database connection {connection.name!r}")
        database_id = client.create_database(payload)["id"]
    else:
        database_id = existing["id"]
        held = {**existing, "details": {**(existing.get("details") or {})}}
        wanted = {**payload, "details": {k: v for k, v in payload["details"].items() if k != "password"}}
        if _subset_equal(wanted, held):
            report.count("database", "unchanged")
        else:
            report.count("database", "updated")
            if not dry_run:
                step(f"updating the database connection {connection.name!r}")
                client.update_database(database_id, payload)
    report.database_id = database_id

    # -- schema sync, then field ids ------------------------------------------------------------
    filters = [f for d in dashboards for c in d.cards for f in c.filters.values()]
    tables = {(f.schema, f.table) for f in filters}
    columns = {(f.schema, f.table, f.column) for f in filters}
    if dry_run:
        step("reading the database metadata")
        metadata = client.metadata(database_id)
    else:
        step(f"syncing the schema of database {database_id}")
        client.sync_schema(database_id)
        step(f"waiting for Metabase's schema sync of database {database_id}")
        metadata = client.wait_for_tables(
            database_id, tables, columns=columns, timeout=wait_timeout, interval=poll_interval
        )
    ids = _field_ids(metadata)

    def field_id(schema: str, table: str, column: str) -> int:
        return ids[(schema, table, column)]

    # -- the collection -------------------------------------------------------------------------
    step(f"looking up the collection {collection_name!r}")
    collection = next(
        (c for c in client.collections() if c.get("name") == collection_name and not c.get("archived")), None
    )
    if collection is not None:
        report.count("collection", "unchanged")
        collection_id = collection["id"]
    else:
        report.count("collection", "created")
        if dry_run:
            _count_all_new(dashboards, report, collection=False)
            return
        step(f"creating the collection {collection_name!r}")
        collection_id = client.create_collection(
            {
                "name": collection_name,
                "color": "#509EE3",
                "description": "Dashboards and questions generated by `soleflipper metabase sync`.",
            }  # fmt: skip
        )["id"]
    report.collection_id = collection_id

    # -- cards ----------------------------------------------------------------------------------
    step("listing cards")
    in_collection = [
        c for c in client.cards() if c.get("collection_id") == collection_id and not c.get("archived")
    ]
    by_name = {c["name"]: c for c in in_collection}
    card_ids: dict[str, int] = {}  # Card.key -> id
    for dashboard in dashboards:
        for card in dashboard.cards:
            try:
                body = spec.card_payload(card, database_id, field_id, collection_id)
            except KeyError as exc:
                raise MetabaseSyncError(
                    f"{dashboard.source_file.name}: card {card.key}: Metabase's metadata has no field "
                    f"{exc.args[0]!r} after the schema sync"
                ) from None
            held = by_name.get(card.name)
            if held is None:
                report.count("card", "created")
                step(f"creating card {card.name!r}")
                card_ids[card.key] = -len(card_ids) - 1 if dry_run else client.create_card(body)["id"]
            elif card_differs(body, held):
                report.count("card", "updated")
                step(f"updating card {card.name!r}")
                if not dry_run:
                    client.update_card(held["id"], body)
                card_ids[card.key] = held["id"]
            else:
                report.count("card", "unchanged")
                card_ids[card.key] = held["id"]
    wanted_names = {card.name for d in dashboards for card in d.cards}
    retired = [
        c
        for c in in_collection
        if c["name"] not in wanted_names and MANAGED_MARK in (c.get("description") or "")
    ]
    retired_ids = {c["id"] for c in retired}

    # -- dashboards -----------------------------------------------------------------------------
    step("listing dashboards")
    boards = [
        d for d in client.dashboards() if d.get("collection_id") == collection_id and not d.get("archived")
    ]
    boards_by_name = {d["name"]: d for d in boards}
    for dashboard in dashboards:
        held = boards_by_name.get(dashboard.name)
        if held is None:
            if dry_run:
                report.count("dashboard", "created")
                report.dashboard_ids[dashboard.name] = -1
                report.count("dashcard", "created", len(dashboard.cards))
                continue
            step(f"creating dashboard {dashboard.name!r}")
            held = client.create_dashboard(
                {
                    "name": dashboard.name,
                    "description": dashboard.description,
                    "collection_id": collection_id,
                    "parameters": spec.dashboard_parameters(dashboard),
                }  # fmt: skip
            )
            created = True
        else:
            created = False
        report.dashboard_ids[dashboard.name] = held["id"]
        step(f"reading dashboard {dashboard.name!r}")
        current = client.dashboard(held["id"])
        body, outcome = _dashboard_update(dashboard, current, card_ids, report)
        report.count("dashboard", "created" if created else outcome)
        if outcome == "updated" and not dry_run:
            step(f"updating dashboard {dashboard.name!r} (parameters and dashcards)")
            client.update_dashboard(held["id"], body)
    # Dashboards in the collection that no YAML defines keep their cards, minus the retired ones.
    for board in boards:
        if board["name"] in {d.name for d in dashboards} or not retired_ids:
            continue
        current = client.dashboard(board["id"])
        kept = [
            _dashcard_body(d) for d in current.get("dashcards") or [] if d.get("card_id") not in retired_ids
        ]
        if len(kept) != len(current.get("dashcards") or []):
            report.count("dashcard", "archived", len(current["dashcards"]) - len(kept))
            if not dry_run:
                step(f"removing retired cards from dashboard {board['name']!r}")
                client.update_dashboard(board["id"], {"dashcards": kept})

    # -- retired cards --------------------------------------------------------------------------
    for card in retired:
        report.count("card", "archived")
        if not dry_run:
            step(f"archiving card {card['name']!r} (no longer in the dashboard YAML)")
            client.update_card(card["id"], {"archived": True})


_DASHCARD_KEYS = ("id", "card_id", "row", "col", "size_x", "size_y", "parameter_mappings",
                  "visualization_settings", "series", "dashboard_tab_id")  # fmt: skip


def _dashcard_body(held: Mapping[str, Any]) -> dict[str, Any]:
    """An existing dashcard as a PUT element that keeps it unchanged."""
    return {k: held[k] for k in _DASHCARD_KEYS if k in held}


def _dashboard_update(
    dashboard: spec.Dashboard, current: Mapping[str, Any], card_ids: Mapping[str, int], report: SyncReport
) -> tuple[dict[str, Any], str]:
    """The PUT body making ``current`` match ``dashboard``, and "unchanged" if nothing differs."""
    existing = list(current.get("dashcards") or [])
    unused = {d["id"]: d for d in existing}
    dashcards, differs, new_id = [], False, -1
    for card in dashboard.cards:
        card_id = card_ids[card.key]
        held = next((d for d in unused.values() if d.get("card_id") == card_id), None)
        if held is None:
            dashcard_id, new_id = new_id, new_id - 1
        else:
            dashcard_id = held["id"]
            del unused[dashcard_id]
        body = spec.dashcard_payload(card, card_id, dashcard_id, dashboard)
        if held is None:
            report.count("dashcard", "created")
            differs = True
        elif _subset_equal(body, held):
            report.count("dashcard", "unchanged")
        else:
            report.count("dashcard", "updated")
            differs = True
        dashcards.append(body)
    if unused:
        report.count("dashcard", "archived", len(unused))
        differs = True
    parameters = spec.dashboard_parameters(dashboard)
    head = {"name": dashboard.name, "description": dashboard.description, "parameters": parameters}
    if not _subset_equal(head, current) or len(parameters) != len(current.get("parameters") or []):
        differs = True
    return {**head, "dashcards": dashcards}, "updated" if differs else "unchanged"


def _count_all_new(dashboards: Iterable[spec.Dashboard], report: SyncReport, *, collection: bool) -> None:
    """Dry run against a Metabase without our database or collection: everything would be created."""
    if collection:
        report.count("collection", "created")
    for dashboard in dashboards:
        report.count("dashboard", "created")
        report.count("card", "created", len(dashboard.cards))
        report.count("dashcard", "created", len(dashboard.cards))
        report.dashboard_ids[dashboard.name] = -1
