"""A contract-faithful Notion API simulator (api-contracts.md §2 and §6.2).

* Auth and versions: ``Authorization: Bearer <token>`` (else 401 ``unauthorized``) and
  ``Notion-Version`` (else 400 ``missing_version``). ``2022-06-28`` (and older) serves the legacy
  ``POST /v1/databases/{id}/query`` (``type: page_or_database``, pages with a ``database_id``
  parent) and ``GET /v1/databases/{id}`` with the schema; ``2025-09-03`` and ``2026-03-11``
  serve ``GET /v1/databases/{id}`` with ``data_sources``, ``GET /v1/data_sources/{id}`` and
  ``POST /v1/data_sources/{id}/query`` (``type: page_or_data_source``, ``data_source_id`` parent);
  ``2026-03-11`` omits ``archived``. An endpoint the version does not serve, or an unknown path,
  answers 400 ``invalid_request_url``; ``GET /v1/pages/{id}`` works in every version.
* Queries: filters on ``timestamp: created_time|last_edited_time`` and on properties (text,
  number, checkbox, select, status, multi_select, date, relation, people, formula, unique_id),
  nested ``and``/``or`` (two levels), ``sorts`` by timestamp or property, opaque cursors that
  resume after the last page served (a page edited during paging shows up again later: the
  client de-duplicates), ``in_trash: true`` returns only trashed pages. ``result_cap`` (10,000 in
  Notion; set it small) ends a query with ``has_more: false`` and ``request_status: incomplete``;
  ``max_results_per_response`` makes short pages with ``has_more: true``.
* Validation (400 ``validation_error``): ``page_size`` outside 1..100, a malformed or unknown
  ``start_cursor``, an unknown property or operator in a filter or sort, unknown body keys;
  a body that is not JSON → 400 ``invalid_json``. Unknown or unshared ids → 404 ``object_not_found``.
* Limits: a token bucket of ``requests_per_second`` (3) with ``rate_burst`` on the fake clock,
  and optionally ``window_budget`` requests per 60-second window; over either → 429
  ``rate_limited`` with an integer ``Retry-After``. Injected faults (``inject``) answer in
  Notion's error shape (529 ``service_overload``, 500/503/504 ...). Every answer carries
  ``x-notion-request-id``; error bodies are ``{object: "error", status, code, message, request_id}``.
* Time: ``edit()`` and ``create_page()`` stamp ``last_edited_time`` with the fake clock rounded down
  to the minute, as Notion does.

Run one with ``python -m simulators.notion`` (prints the URL; the token is ``--token``).
``NotionSimulator.from_demo(n_sales, seed)`` (``--demo-sales N``) seeds the demo's Notion share of
purchases and their StockX sales instead (:func:`simulators.notion_data.seed_demo_workspace`).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulators.base import ADMIN_PREFIX, Request, Response, Simulator, route, run_forever
from simulators.notion_data import (
    SEED_NOW,
    USERS,
    WORKSPACE_PAGE_ID,
    Prop,
    SimDatabase,
    SimPage,
    build_demo_workspace,
    build_workspace,
    floor_minute,
    iso,
    rich_text,
)

LEGACY_VERSIONS = frozenset({"2021-05-13", "2021-08-16", "2022-02-22", "2022-06-28"})
DATA_SOURCE_VERSIONS = frozenset({"2025-09-03", "2026-03-11"})
KNOWN_VERSIONS = LEGACY_VERSIONS | DATA_SOURCE_VERSIONS
DEFAULT_TOKEN = "ntn_simulated_0000000000000000000000000000000000000000000"
MAX_PAGE_SIZE = 100
DEFAULT_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    503: "service_unavailable",
    504: "gateway_timeout",
    529: "service_overload",
}
DEFAULT_MESSAGES = {
    "unauthorized": "API token is invalid.",
    "rate_limited": "You have been rate limited. Please try again in a few minutes.",
    "internal_server_error": "Unexpected error occurred.",
    "service_unavailable": "Notion is unavailable. Please try again later.",
    "gateway_timeout": "Notion timed out while handling the request.",
    "service_overload": "Notion is currently overloaded with requests. Please try again later.",
    "conflict_error": "Conflict occurred while saving. Please try again.",
    "restricted_resource": "API token does not have access to this resource.",
    "object_not_found": "Could not find the requested object.",
}
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_BODY_KEYS = frozenset({"filter", "sorts", "start_cursor", "page_size", "in_trash", "archived"})
_DATA_SOURCE_BODY_KEYS = _BODY_KEYS | {"result_type"}
_TEXT_OPS = ("equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with")
_NUMBER_OPS = ("equals", "does_not_equal", "greater_than", "less_than", "greater_than_or_equal_to",
               "less_than_or_equal_to")  # fmt: skip
_DATE_OPS = ("equals", "before", "after", "on_or_before", "on_or_after")
_RELATIVE_DATE_OPS = (
    "past_week",
    "past_month",
    "past_year",
    "next_week",
    "next_month",
    "next_year",
    "this_week",
)
_EMPTY_OPS = ("is_empty", "is_not_empty")
# Which filter key a property type accepts, and how its value compares.
_FILTER_KINDS = {
    "title": ({"title", "rich_text"}, "text"),
    "rich_text": ({"rich_text"}, "text"),
    "url": ({"url", "rich_text"}, "text"),
    "email": ({"email", "rich_text"}, "text"),
    "phone_number": ({"phone_number", "rich_text"}, "text"),
    "number": ({"number"}, "number"),
    "unique_id": ({"unique_id"}, "number"),
    "checkbox": ({"checkbox"}, "checkbox"),
    "select": ({"select"}, "select"),
    "status": ({"status"}, "select"),
    "multi_select": ({"multi_select"}, "list"),
    "relation": ({"relation"}, "list"),
    "people": ({"people"}, "list"),
    "created_by": ({"created_by", "people"}, "list"),
    "last_edited_by": ({"last_edited_by", "people"}, "list"),
    "files": ({"files"}, "list"),
    "date": ({"date"}, "date"),
    "created_time": ({"created_time", "date"}, "date"),
    "last_edited_time": ({"last_edited_time", "date"}, "date"),
}
_FORMULA_KINDS = {"string": "text", "number": "number", "checkbox": "checkbox", "date": "date"}


class _Invalid(Exception):
    """A request Notion would refuse: answered as a Notion error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _validation(message: str) -> _Invalid:
    return _Invalid(400, "validation_error", message)


def _guarded(handler: Callable[[NotionSimulator, Request], Response]) -> Callable[..., Response]:
    @functools.wraps(handler)
    def wrapper(self: NotionSimulator, request: Request) -> Response:
        try:
            return handler(self, request)
        except _Invalid as exc:
            return self.notion_error(exc.status, exc.code, exc.message)

    return wrapper


def _dashed(raw: str) -> str:
    hexes = raw.replace("-", "").lower()
    return f"{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:]}"


def _as_moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _parse_date_arg(value: Any, where: str) -> date | datetime:
    if not isinstance(value, str):
        raise _validation(
            f"body failed validation: {where} should be an ISO 8601 date string, instead was `{value!r}`."
        )
    try:
        if "T" not in value:
            return date.fromisoformat(value)
        return _as_moment(datetime.fromisoformat(value))
    except ValueError:
        raise _validation(
            f"body failed validation: {where} should be a valid ISO 8601 date string, instead was `{value}`."
        ) from None


class NotionSimulator(Simulator):
    """The reseller's Notion workspace behind Notion's REST contract (see the module doc)."""

    name = "notion"

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = DEFAULT_TOKEN,
        seed: int = 7,
        n_purchases: int = 120,
        result_cap: int = 10_000,
        max_results_per_response: int | None = None,
        requests_per_second: float | None = 3.0,
        rate_burst: int = 10,
        window_budget: int | None = None,
        demo: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(port)
        self.token = token
        self.seed = seed
        self.n_purchases = n_purchases
        self.demo = demo  # (n_sales, seed): serve the demo's Notion share instead of the default seeding
        self.result_cap = result_cap
        self.max_results_per_response = max_results_per_response
        self.requests_per_second = requests_per_second
        self.rate_burst = rate_burst
        self.window_budget = window_budget
        self._current_rid: str | None = None
        self._build()

    @classmethod
    def from_demo(cls, n_sales: int, seed: int = 7, port: int = 0, **kwargs: Any) -> NotionSimulator:
        """A simulator whose workspace holds the Notion share of the demo purchases (``soleflipper
        demo --sales n_sales --seed seed``) and their StockX sales, keyed by the StockX order
        number (see :func:`simulators.notion_data.seed_demo_workspace`). ``catalogue`` maps
        ``purchase:<unit>`` and ``sale:<order number>`` to page ids."""
        return cls(port, seed=seed, demo=(n_sales, seed), **kwargs)

    def _build(self) -> None:
        if self.demo is not None:
            self.workspace, self.catalogue = build_demo_workspace(*self.demo)
        else:
            self.workspace, self.catalogue = build_workspace(self.seed, self.n_purchases)
        self._cursors: dict[str, dict[str, Any]] = {}
        self._ids = random.Random(self.seed * 7919 + 1)
        self._tokens = float(self.rate_burst)
        self._bucket_at: float | None = None
        self._window: tuple[int, int] = (-1, 0)

    def reset(self) -> None:
        """Forget faults, log and clock changes, and restore the seeded workspace."""
        super().reset()
        with self.lock:
            self._build()

    # -- errors ----------------------------------------------------------------------------

    def _request_id(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def notion_error(
        self,
        status: int,
        code: str | None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        reason: str | None = None,
    ) -> Response:
        """An error in Notion's shape, with the request id in the body and the header."""
        rid = self._current_rid or self._request_id()
        code = code or DEFAULT_CODES.get(status, "internal_server_error")
        body: dict[str, Any] = {
            "object": "error",
            "status": status,
            "code": code,
            "message": message or DEFAULT_MESSAGES.get(code, "Unexpected error occurred."),
            "request_id": rid,
        }
        if reason is not None:
            body["additional_data"] = {"rate_limit_reason": reason}
        return Response(status, json=body, headers={"x-notion-request-id": rid, **(headers or {})})

    def error_body(self, status: int, message: str) -> Any:
        return self.notion_error(status, None, message)

    def error(self, status: int, message: str | None = None, headers: Any = None) -> Response:
        """Injected status faults and the base's own errors, in Notion's shape."""
        return self.notion_error(status, None, message, dict(headers or {}))

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self.lock:
            self._current_rid = self._request_id()
            try:
                response = self._handle(request)
            finally:
                rid, self._current_rid = self._current_rid, None
        response.headers.setdefault("x-notion-request-id", rid)
        return response

    def _handle(self, request: Request) -> Response:
        if request.bearer_token is None or request.bearer_token != self.token:
            return self.notion_error(401, "unauthorized")
        limited = self._rate_limit()
        if limited is not None:
            return limited
        version = request.headers.get("Notion-Version")
        if not version:
            return self.notion_error(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
            )
        if version not in KNOWN_VERSIONS:
            return self.notion_error(
                400,
                "validation_error",
                f"Notion-Version header failed validation: `{version}` is not a supported API version"
                f" ({', '.join(sorted(KNOWN_VERSIONS))}).",
            )
        routed = [(m, regex) for (m, _), (regex, _) in self._routes.items() if regex.match(request.path)]
        if not any(m == request.method for m, _ in routed):
            return self.notion_error(400, "invalid_request_url", "Invalid request URL.")
        request.notion_version = version  # type: ignore[attr-defined]
        return super().handle(request)

    def _rate_limit(self) -> Response | None:
        now = self.clock.now()
        if self.window_budget is not None:
            window = math.floor(now / 60)
            if window != self._window[0]:
                self._window = (window, 0)
            if self._window[1] >= self.window_budget:
                retry = max(1, math.ceil((window + 1) * 60 - now))
                return self.notion_error(
                    429, "rate_limited", None, {"Retry-After": str(retry)}, reason="window_budget"
                )
        if self.requests_per_second:
            if self._bucket_at is None:
                self._bucket_at = now
            elapsed = max(0.0, now - self._bucket_at)
            self._tokens = min(float(self.rate_burst), self._tokens + elapsed * self.requests_per_second)
            self._bucket_at = now
            if self._tokens < 1.0:
                retry = max(1, math.ceil((1.0 - self._tokens) / self.requests_per_second))
                return self.notion_error(
                    429, "rate_limited", None, {"Retry-After": str(retry)}, reason="average_rate"
                )
            self._tokens -= 1.0
        if self.window_budget is not None:
            self._window = (self._window[0], self._window[1] + 1)
        return None

    # -- lookups ---------------------------------------------------------------------------

    @staticmethod
    def _version(request: Request) -> str:
        return getattr(request, "notion_version", "2022-06-28")

    def _require(self, request: Request, data_sources: bool) -> None:
        version = self._version(request)
        if data_sources and version in LEGACY_VERSIONS:
            raise _Invalid(
                400,
                "invalid_request_url",
                f"Data sources are available from Notion-Version 2025-09-03; this request used {version}.",
            )
        if not data_sources and version in DATA_SOURCE_VERSIONS:
            raise _Invalid(
                400,
                "invalid_request_url",
                f"Database query is not supported in Notion-Version {version}: use"
                " POST /v1/data_sources/{data_source_id}/query (the ids are in GET /v1/databases/{id}).",
            )

    def _find(self, raw_id: str, kind: str) -> SimDatabase:
        if not _UUID.match(raw_id):
            raise _validation(
                f'path failed validation: path.{kind}_id should be a valid uuid, instead was `"{raw_id}"`.'
            )
        wanted = _dashed(raw_id)
        for db in self.workspace.databases.values():
            if wanted == (db.database_id if kind == "database" else db.data_source_id):
                return db
        raise _Invalid(
            404,
            "object_not_found",
            f"Could not find {kind} with ID: {wanted}. Make sure the relevant pages and databases are shared"
            " with your integration.",
        )

    def _now(self) -> datetime:
        return self.clock.utcnow()

    # -- routes ----------------------------------------------------------------------------

    @route("GET", "/v1/databases/{database_id}")
    @_guarded
    def get_database(self, request: Request) -> Response:
        db = self._find(request.params["database_id"], "database")
        version = self._version(request)
        out = self._container(db, version, "database", db.database_id)
        out["parent"] = {"type": "page_id", "page_id": WORKSPACE_PAGE_ID}
        if version in LEGACY_VERSIONS:
            out["properties"] = self._schema(db, legacy=True)
        else:
            out["data_sources"] = [{"id": db.data_source_id, "name": db.title}]
        out["request_id"] = self._current_rid
        return Response(200, json=out)

    @route("GET", "/v1/data_sources/{data_source_id}")
    @_guarded
    def get_data_source(self, request: Request) -> Response:
        self._require(request, data_sources=True)
        db = self._find(request.params["data_source_id"], "data_source")
        out = self._container(db, self._version(request), "data_source", db.data_source_id)
        out["parent"] = {"type": "database_id", "database_id": db.database_id}
        out["database_parent"] = {"type": "page_id", "page_id": WORKSPACE_PAGE_ID}
        out["properties"] = self._schema(db, legacy=False)
        out["request_id"] = self._current_rid
        return Response(200, json=out)

    @route("POST", "/v1/databases/{database_id}/query")
    @_guarded
    def query_database(self, request: Request) -> Response:
        self._require(request, data_sources=False)
        db = self._find(request.params["database_id"], "database")
        return self._query(request, db, "page_or_database", _BODY_KEYS)

    @route("POST", "/v1/data_sources/{data_source_id}/query")
    @_guarded
    def query_data_source(self, request: Request) -> Response:
        self._require(request, data_sources=True)
        db = self._find(request.params["data_source_id"], "data_source")
        return self._query(request, db, "page_or_data_source", _DATA_SOURCE_BODY_KEYS)

    @route("GET", "/v1/pages/{page_id}")
    @_guarded
    def get_page(self, request: Request) -> Response:
        raw = request.params["page_id"]
        if not _UUID.match(raw):
            raise _validation(
                f'path failed validation: path.page_id should be a valid uuid, instead was `"{raw}"`.'
            )
        page = self.workspace.pages.get(_dashed(raw))
        if page is None:
            raise _Invalid(404, "object_not_found", f"Could not find page with ID: {_dashed(raw)}.")
        out = self.workspace.render_page(
            page, self._version(request), self._now(), self._only(request, page.db)
        )
        return Response(200, json={**out, "request_id": self._current_rid})

    # -- objects ---------------------------------------------------------------------------

    def _container(self, db: SimDatabase, version: str, kind: str, object_id: str) -> dict[str, Any]:
        pages = [p for p in self.workspace.pages.values() if p.db == db.key]
        edited = max([db.created_time, *(p.last_edited_time for p in pages)])
        out: dict[str, Any] = {
            "object": kind,
            "id": object_id,
            "title": [rich_text(db.title)],
            "description": [],
            "is_inline": False,
            "in_trash": False,
            "archived": False,
            "is_locked": False,
            "created_time": iso(db.created_time),
            "last_edited_time": iso(edited),
            "created_by": {"object": "user", "id": next(iter(USERS))},
            "last_edited_by": {"object": "user", "id": next(iter(USERS))},
            "icon": {"type": "emoji", "emoji": db.icon},
            "cover": None,
            "url": f"https://www.notion.so/{object_id.replace('-', '')}",
            "public_url": None,
        }
        if version >= "2026-03-11":
            del out["archived"]
        return out

    def _schema(self, db: SimDatabase, *, legacy: bool) -> dict[str, Any]:
        out = {}
        for name, prop in db.props.items():
            kind, config = prop.type, prop.config
            detail: dict[str, Any] = {}
            if kind in ("select", "multi_select"):
                detail = {"options": list(config.get("options", []))}
            elif kind == "status":
                detail = dict(config)
            elif kind == "number":
                detail = {"format": config.get("format", "number")}
            elif kind == "formula":
                detail = {"expression": config["expression"]}
            elif kind == "unique_id":
                detail = {"prefix": config.get("prefix")}
            elif kind == "relation":
                other = self.workspace.databases[config["database"]]
                rtype = config["type"]
                detail = {"database_id": other.database_id, "type": rtype, rtype: {}}
                if not legacy:
                    detail["data_source_id"] = other.data_source_id
                if rtype == "dual_property":
                    synced = other.props[config["synced"]]
                    detail[rtype] = {"synced_property_name": synced.name, "synced_property_id": synced.id}
            elif kind == "rollup":
                relation = db.props[config["relation"]]
                target = self.workspace.databases[relation.config["database"]].props[config["rollup"]]
                detail = {
                    "function": config["function"],
                    "relation_property_name": relation.name,
                    "relation_property_id": relation.id,
                    "rollup_property_name": target.name,
                    "rollup_property_id": target.id,
                }
            out[name] = {"id": prop.id, "name": name, "description": None, "type": kind, kind: detail}
        return out

    def _only(self, request: Request, db_key: str) -> set[str] | None:
        wanted = request.query.get("filter_properties", []) + request.query.get("filter_properties[]", [])
        return set(wanted) if wanted else None

    # -- queries ---------------------------------------------------------------------------

    def _body(self, request: Request, allowed: frozenset[str]) -> dict[str, Any]:
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise _Invalid(400, "invalid_json", "Error parsing JSON body.") from None
        if not isinstance(body, dict):
            raise _validation("body failed validation: body should be an object, instead was not.")
        version = self._version(request)
        if version >= "2026-03-11":
            allowed = allowed - {"archived"}
        for key in body:
            if key not in allowed:
                raise _validation(
                    f"body failed validation: body.{key} should be not present, instead was `{body[key]!r}`."
                )
        size = body.get("page_size", MAX_PAGE_SIZE)
        if isinstance(size, bool) or not isinstance(size, int):
            raise _validation(
                f"body failed validation: body.page_size should be a number, instead was `{size!r}`."
            )
        if size > MAX_PAGE_SIZE:
            raise _validation(
                f"body failed validation: body.page_size should be ≤ `{MAX_PAGE_SIZE}`, instead was `{size}`."
            )
        if size < 1:
            raise _validation(
                f"body failed validation: body.page_size should be ≥ `1`, instead was `{size}`."
            )
        for flag in ("in_trash", "archived"):
            if flag in body and not isinstance(body[flag], bool):
                raise _validation(
                    f"body failed validation: body.{flag} should be a boolean, instead was `{body[flag]!r}`."
                )
        cursor = body.get("start_cursor")
        if cursor is not None and (not isinstance(cursor, str) or not _UUID.match(cursor)):
            raise _validation(
                f"body failed validation: body.start_cursor should be a valid uuid, instead was `{cursor!r}`."
            )
        if "result_type" in body and body["result_type"] not in ("page", "data_source"):
            raise _validation(
                'body failed validation: body.result_type should be `"page"` or `"data_source"`.'
            )
        return body

    def _query(self, request: Request, db: SimDatabase, list_type: str, allowed: frozenset[str]) -> Response:
        body = self._body(request, allowed)
        now = self._now()
        in_trash = bool(body.get("in_trash", body.get("archived", False)))
        matches = self._compile_filter(body["filter"], db, now, 0) if body.get("filter") is not None else None
        sort_specs = self._compile_sorts(body.get("sorts"), db, now)
        fingerprint = json.dumps(
            {
                "db": db.key,
                "type": list_type,
                "filter": body.get("filter"),
                "sorts": body.get("sorts"),
                "trash": in_trash,
            },
            sort_keys=True,
        )
        pages = [p for p in self.workspace.pages.values() if p.db == db.key and p.in_trash == in_trash]
        if body.get("result_type") == "data_source":
            pages = []  # a plain database holds pages only
        if matches is not None:
            pages = [p for p in pages if matches(p)]

        def key(page: SimPage) -> list[Any]:
            return [extract(page) for extract, _ in sort_specs] + [page.id]

        def compare(a: list[Any], b: list[Any]) -> int:
            for x, y, descending in zip(a, b, [d for _, d in sort_specs] + [False], strict=True):
                if x == y:
                    continue
                if x is None or y is None:  # empty values last, whatever the direction
                    return 1 if x is None else -1
                result = -1 if x < y else 1
                return -result if descending else result
            return 0

        ordered = sorted(pages, key=functools.cmp_to_key(lambda a, b: compare(key(a), key(b))))
        start, served = 0, 0
        cursor = body.get("start_cursor")
        if cursor is not None:
            state = self._cursors.get(cursor.lower())
            if state is None:
                raise _validation(f"The start_cursor provided is invalid: {cursor}")
            if state["fingerprint"] != fingerprint:
                raise _validation(
                    "start_cursor was issued for a different query (filter, sorts or in_trash changed)."
                )
            served = state["served"]
            start = next(
                (i for i, p in enumerate(ordered) if compare(key(p), state["key"]) >= 0), len(ordered)
            )
        take = body.get("page_size", MAX_PAGE_SIZE)
        if self.max_results_per_response:
            take = min(take, self.max_results_per_response)
        chunk = ordered[start : start + take]
        allowed_more = self.result_cap - served
        truncated = len(chunk) > allowed_more or (
            len(chunk) == allowed_more and start + len(chunk) < len(ordered)
        )
        chunk = chunk[:allowed_more]
        has_more = not truncated and start + len(chunk) < len(ordered)
        next_cursor = None
        if has_more:
            next_cursor = self._request_id()
            self._cursors[next_cursor] = {
                "fingerprint": fingerprint,
                "key": key(ordered[start + len(chunk)]),
                "served": served + len(chunk),
            }
        version = self._version(request)
        only = self._only(request, db.key)
        out: dict[str, Any] = {
            "object": "list",
            "results": [self.workspace.render_page(p, version, now, only) for p in chunk],
            "next_cursor": next_cursor,
            "has_more": has_more,
            "type": list_type,
            list_type: {},
            "request_id": self._current_rid,
        }
        if truncated:
            out["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return Response(200, json=out)

    def _prop(self, db: SimDatabase, name: Any, where: str) -> Prop:
        for prop in db.props.values():
            if name in (prop.name, prop.id):
                return prop
        raise _validation(f"Could not find property with name or id: {name}")

    def _compile_sorts(
        self, sorts: Any, db: SimDatabase, now: datetime
    ) -> list[tuple[Callable[[SimPage], Any], bool]]:
        if sorts is None:
            return [(lambda p: p.created_time, True)]  # no sorts: newest first
        if not isinstance(sorts, list):
            raise _validation("body failed validation: body.sorts should be an array.")
        specs = []
        for i, sort in enumerate(sorts):
            where = f"body.sorts[{i}]"
            if not isinstance(sort, dict) or sort.get("direction") not in ("ascending", "descending"):
                raise _validation(
                    f'body failed validation: {where}.direction should be `"ascending"` or `"descending"`.'
                )
            if set(sort) == {"timestamp", "direction"}:
                if sort["timestamp"] not in ("created_time", "last_edited_time"):
                    raise _validation(
                        f'body failed validation: {where}.timestamp should be `"created_time"` or `"last_edited_time"`.'
                    )
                field = sort["timestamp"]
                specs.append((lambda p, f=field: getattr(p, f), sort["direction"] == "descending"))
            elif set(sort) == {"property", "direction"}:
                prop = self._prop(db, sort["property"], where)
                specs.append(
                    (lambda p, pr=prop: self._sort_value(p, pr, now), sort["direction"] == "descending")
                )
            else:
                raise _validation(
                    f"body failed validation: {where} should have a property or a timestamp and a direction."
                )
        return specs

    def _value(self, page: SimPage, prop: Prop, now: datetime) -> Any:
        """A property's value as filters and sorts see it (text, number, bool, list, date/datetime)."""
        raw = self.workspace.render_value(page, prop, now)
        return _comparable(prop.type, raw[prop.type], page, prop)

    def _sort_value(self, page: SimPage, prop: Prop, now: datetime) -> Any:
        value = self._value(page, prop, now)
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or None
        if isinstance(value, date):
            value = _as_moment(value)
        return None if value == "" else value

    def _compile_filter(
        self, flt: Any, db: SimDatabase, now: datetime, depth: int
    ) -> Callable[[SimPage], bool]:
        if not isinstance(flt, dict):
            raise _validation("body failed validation: body.filter should be an object.")
        for compound in ("and", "or"):
            if compound in flt:
                if len(flt) != 1 or not isinstance(flt[compound], list):
                    raise _validation(
                        f"body failed validation: body.filter.{compound} should be an array of filters."
                    )
                if depth >= 2:
                    raise _validation(
                        "body failed validation: filters can be nested at most two levels deep."
                    )
                parts = [self._compile_filter(item, db, now, depth + 1) for item in flt[compound]]
                if compound == "and":
                    return lambda p: all(part(p) for part in parts)
                return lambda p: any(part(p) for part in parts)
        if "timestamp" in flt:
            field = flt["timestamp"]
            if field not in ("created_time", "last_edited_time") or set(flt) != {"timestamp", field}:
                raise _validation(
                    "body failed validation: a timestamp filter needs `timestamp` (created_time or last_edited_time)"
                    " and a condition under the same name."
                )
            return self._condition(
                "date", flt[field], lambda p: getattr(p, field), f"body.filter.{field}", now
            )
        if "property" in flt:
            prop = self._prop(db, flt["property"], "body.filter")
            keys = set(flt) - {"property"}
            if len(keys) != 1:
                raise _validation("body failed validation: a property filter needs exactly one condition.")
            (key,) = keys
            where = f"body.filter.{key}"
            if prop.type == "formula":
                condition = flt[key]
                if key != "formula" or not isinstance(condition, dict) or len(condition) != 1:
                    raise _validation(
                        f"body failed validation: {prop.name} is a formula: filter with `formula`."
                    )
                ((result, inner),) = condition.items()
                if result not in _FORMULA_KINDS:
                    raise _validation(f"body failed validation: {where}.{result} is not a formula filter.")
                return self._condition(
                    _FORMULA_KINDS[result], inner, lambda p: self._value(p, prop, now), where, now
                )
            if prop.type == "rollup":
                condition = flt[key]
                if key != "rollup" or not isinstance(condition, dict) or len(condition) != 1:
                    raise _validation(
                        f"body failed validation: {prop.name} is a rollup: filter with `rollup`."
                    )
                ((result, inner),) = condition.items()
                if result not in ("number", "date"):
                    raise _validation(
                        f"body failed validation: {where}.{result} is not supported by this simulator."
                    )
                return self._condition(result, inner, lambda p: self._value(p, prop, now), where, now)
            accepted, kind = _FILTER_KINDS.get(prop.type, (set(), ""))
            if key not in accepted:
                raise _validation(
                    f"body failed validation: {where} does not match the type of property {prop.name!r} ({prop.type})."
                )
            return self._condition(kind, flt[key], lambda p: self._value(p, prop, now), where, now)
        raise _validation(
            "body failed validation: body.filter should have `property`, `timestamp`, `and` or `or`."
        )

    def _condition(
        self, kind: str, condition: Any, get: Callable[[SimPage], Any], where: str, now: datetime
    ) -> Callable[[SimPage], bool]:
        if not isinstance(condition, dict) or len(condition) != 1:
            raise _validation(f"body failed validation: {where} should have exactly one condition.")
        ((op, arg),) = condition.items()
        if op in _EMPTY_OPS:
            if arg is not True:
                raise _validation(f"body failed validation: {where}.{op} should be `true`.")
            want_empty = op == "is_empty"
            return lambda p: (get(p) in (None, "", [])) == want_empty
        if kind == "text" and op in _TEXT_OPS:
            if not isinstance(arg, str):
                raise _validation(f"body failed validation: {where}.{op} should be a string.")
            test = {
                "equals": lambda v: v == arg,
                "does_not_equal": lambda v: v != arg,
                "contains": lambda v: arg.lower() in v.lower(),
                "does_not_contain": lambda v: arg.lower() not in v.lower(),
                "starts_with": lambda v: v.lower().startswith(arg.lower()),
                "ends_with": lambda v: v.lower().endswith(arg.lower()),
            }[op]
            return lambda p: test(get(p) or "")
        if kind == "number" and op in _NUMBER_OPS:
            if isinstance(arg, bool) or not isinstance(arg, int | float):
                raise _validation(f"body failed validation: {where}.{op} should be a number.")
            test = {
                "equals": lambda v: v == arg,
                "does_not_equal": lambda v: v != arg,
                "greater_than": lambda v: v > arg,
                "less_than": lambda v: v < arg,
                "greater_than_or_equal_to": lambda v: v >= arg,
                "less_than_or_equal_to": lambda v: v <= arg,
            }[op]
            return lambda p: (v := get(p)) is not None and test(v)
        if kind == "checkbox" and op in ("equals", "does_not_equal"):
            if not isinstance(arg, bool):
                raise _validation(f"body failed validation: {where}.{op} should be a boolean.")
            return lambda p: (bool(get(p)) == arg) == (op == "equals")
        if kind == "select" and op in ("equals", "does_not_equal"):
            if not isinstance(arg, str):
                raise _validation(f"body failed validation: {where}.{op} should be a string.")
            return lambda p: (get(p) == arg) == (op == "equals")
        if kind == "list" and op in ("contains", "does_not_contain"):
            if not isinstance(arg, str):
                raise _validation(f"body failed validation: {where}.{op} should be a string.")
            return lambda p: (arg in (get(p) or [])) == (op == "contains")
        if kind == "date" and op in _DATE_OPS:
            bound = _parse_date_arg(arg, f"{where}.{op}")
            return lambda p: _date_matches(get(p), op, bound)
        if kind == "date" and op in _RELATIVE_DATE_OPS:
            if arg != {}:
                raise _validation(f"body failed validation: {where}.{op} should be an empty object.")
            low, high = _relative_range(op, now)
            return lambda p: (v := get(p)) is not None and low <= _as_moment(v) <= high
        raise _validation(
            f"body failed validation: {where}.{op} is not a valid {kind or 'property'} filter condition."
        )

    # -- scenario control ------------------------------------------------------------------

    def edit(
        self,
        page_id: str,
        properties: dict[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
        archived: bool | None = None,
        by: str | None = None,
        **changes: Any,
    ) -> datetime:
        """Change a page as a user would, now (fake clock); return its new ``last_edited_time``.

        Property names are exact (``properties={"Gross Buy": 125}``) or Python-ish keywords
        (``gross_buy=125``); values are plain Python (str, number, date/datetime, (start, end[,
        tz]) tuples, lists of names or page ids). ``in_trash`` (alias ``archived``) moves the page
        to or from the trash. ``last_edited_time`` becomes the clock rounded down to the minute.
        """
        with self.lock:
            page = self._page(page_id)
            moment = floor_minute(self.clock.utcnow())
            editor = by or next(iter(USERS))
            for key, value in {**(properties or {}), **changes}.items():
                prop = self.workspace.resolve(page.db, key)
                if prop.type == "relation" and prop.config.get("type") == "dual_property":
                    self._relink(page, prop, list(value or []), moment, editor)
                self.workspace.set_value(page, prop, value)
            trash = in_trash if in_trash is not None else archived
            if trash is not None:
                page.in_trash = bool(trash)
            page.last_edited_time = moment
            page.last_edited_by = editor
            return moment

    def _admin(self, request: Request) -> Response:
        """Base admin endpoints plus ``POST /__admin/notion/edit`` ({page_id, properties, in_trash})
        and ``POST /__admin/notion/pages`` ({database, properties}) for scenarios driven over HTTP."""
        action = (request.method, request.path[len(ADMIN_PREFIX) :])
        try:
            if action == ("POST", "notion/edit"):
                payload = request.json()
                moment = self.edit(
                    payload["page_id"], payload.get("properties") or {}, in_trash=payload.get("in_trash")
                )
                return Response(200, json={"page_id": payload["page_id"], "last_edited_time": iso(moment)})
            if action == ("POST", "notion/pages"):
                payload = request.json()
                page_id = self.create_page(payload["database"], payload.get("properties") or {})
                return Response(200, json={"page_id": page_id})
        except (ValueError, TypeError, KeyError) as exc:
            return Response(400, json={"error": str(exc)})
        return super()._admin(request)

    def trash(self, page_id: str) -> datetime:
        return self.edit(page_id, in_trash=True)

    def create_page(
        self,
        database: str,
        properties: dict[str, Any] | None = None,
        *,
        by: str | None = None,
        **changes: Any,
    ) -> str:
        """A new page in ``purchases`` or ``sales``, created now (fake clock); returns its id."""
        with self.lock:
            if database not in self.workspace.databases:
                raise KeyError(f"unknown database {database!r}; known: {', '.join(self.workspace.databases)}")
            editor = by or next(iter(USERS))
            values = {
                self.workspace.resolve(database, key).name: value
                for key, value in {**(properties or {}), **changes}.items()
            }
            relations = {
                name: values.pop(name)
                for name in list(values)
                if self.workspace.databases[database].props[name].type == "relation"
            }
            page = self.workspace.new_page(database, self.clock.utcnow(), editor, values)
            for name, ids in relations.items():
                self.edit(page.id, {name: ids}, by=editor)
            return page.id

    def page_ids(self, database: str, *, in_trash: bool | None = None) -> list[str]:
        """Ids of the pages of ``purchases`` or ``sales`` (optionally only live / only trashed)."""
        with self.lock:
            return [
                p.id
                for p in self.workspace.pages.values()
                if p.db == database and (in_trash is None or p.in_trash == in_trash)
            ]

    def page(self, page_id: str, version: str = "2025-09-03") -> dict[str, Any]:
        """A page as the API would send it now."""
        with self.lock:
            return self.workspace.render_page(self._page(page_id), version, self._now())

    def _page(self, page_id: str) -> SimPage:
        page = self.workspace.pages.get(_dashed(page_id)) if _UUID.match(page_id) else None
        if page is None:
            raise KeyError(f"no page {page_id!r}")
        return page

    def _relink(self, page: SimPage, prop: Prop, new_ids: list[str], moment: datetime, editor: str) -> None:
        other_db = self.workspace.databases[prop.config["database"]]
        synced = prop.config["synced"]
        old = set(page.values.get(prop.name) or [])
        for pid in set(new_ids) ^ old:
            other = self.workspace.pages.get(pid)
            if other is None or other.db != other_db.key:
                raise KeyError(f"{pid!r} is not a page of {other_db.key}")
            ids = other.values.setdefault(synced, [])
            if pid in new_ids and page.id not in ids:
                ids.append(page.id)
            elif pid not in new_ids and page.id in ids:
                ids.remove(page.id)
            other.last_edited_time, other.last_edited_by = moment, editor


def _comparable(kind: str, value: Any, page: SimPage, prop: Prop) -> Any:
    if kind in ("title", "rich_text"):
        return "".join(item.get("plain_text", "") for item in value or [])
    if kind in ("select", "status"):
        return value["name"] if value else None
    if kind == "multi_select":
        return [option["name"] for option in value or []]
    if kind == "relation":
        return list(page.values.get(prop.name) or [])  # every related page, not only the 25 sent
    if kind in ("people",):
        return [user["id"] for user in value or []]
    if kind in ("created_by", "last_edited_by"):
        return [value["id"]]
    if kind == "files":
        return [item["name"] for item in value or []]
    if kind == "unique_id":
        return value["number"] if value else None
    if kind in ("created_time", "last_edited_time"):
        return datetime.fromisoformat(value)
    if kind == "date":
        return _date_start(value)
    if kind in ("formula", "rollup"):
        inner_kind = value.get("type")
        inner = value.get(inner_kind)
        if inner_kind == "date":
            return _date_start(inner)
        if inner_kind == "array":
            return [_comparable(item["type"], item.get(item["type"]), page, prop) for item in inner or []]
        if inner_kind in ("string", "number", "boolean"):
            return inner
        return None
    return value


def _date_start(value: dict[str, Any] | None) -> date | datetime | None:
    if not value or not value.get("start"):
        return None
    start = value["start"]
    if "T" not in start:
        return date.fromisoformat(start)
    return _as_moment(datetime.fromisoformat(start))


def _date_matches(value: date | datetime | None, op: str, bound: date | datetime) -> bool:
    if value is None:
        return False
    if isinstance(bound, datetime):
        left, right = _as_moment(value), bound
    else:  # a day: compare calendar days (UTC)
        left = value.astimezone(UTC).date() if isinstance(value, datetime) else value
        right = bound
    return {
        "equals": left == right,
        "before": left < right,
        "after": left > right,
        "on_or_before": left <= right,
        "on_or_after": left >= right,
    }[op]


def _relative_range(op: str, now: datetime) -> tuple[datetime, datetime]:
    spans = {"week": timedelta(days=7), "month": timedelta(days=30), "year": timedelta(days=365)}
    if op == "this_week":
        monday = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday())
        return monday, monday + timedelta(days=7)
    direction, unit = op.split("_")
    return (now - spans[unit], now) if direction == "past" else (now, now + spans[unit])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Notion API simulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the integration token clients must send")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--purchases", type=int, default=120, help="ordinary purchase pages to seed")
    parser.add_argument("--demo-sales", type=int, default=None, metavar="N",
                        help="serve the demo's Notion share instead (as `soleflipper demo --sales N --seed SEED`)")
    parser.add_argument("--result-cap", type=int, default=10_000, help="results per query before truncation")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable the 3 requests/s bucket")
    args = parser.parse_args(argv)
    sim = NotionSimulator(
        args.port,
        token=args.token,
        seed=args.seed,
        n_purchases=args.purchases,
        result_cap=args.result_cap,
        requests_per_second=None if args.no_rate_limit else 3.0,
        demo=None if args.demo_sales is None else (args.demo_sales, args.seed),
    )
    print("  clients use <base URL>/v1 with Notion-Version 2022-06-28, 2025-09-03 or 2026-03-11")
    print(f"  integration token (simulated): {sim.token}")
    print(f"  purchases database {sim.workspace.databases['purchases'].database_id}, sales database"
          f" {sim.workspace.databases['sales'].database_id} (seeded data up to {SEED_NOW:%Y-%m-%d})")  # fmt: skip
    run_forever(sim)


if __name__ == "__main__":
    main()
