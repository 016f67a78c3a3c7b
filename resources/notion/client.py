"""Notion API client: database / data-source queries, incremental sync by last_edited_time.

Built on :class:`resources.http_client.ApiClient` (pacing, retries, Retry-After, redaction); this
module adds Notion's headers, error shape, cursor pagination and the sync logic. Contract:
api-contracts.md §2.

Versions. Every request carries ``Notion-Version``. The configured version (default
``2025-09-03``) is sent where it serves the endpoint; the legacy ``POST /databases/{id}/query``
exists only up to ``2022-06-28``, so those calls pin ``2022-06-28`` when a newer version is
configured, and data-source calls pin ``2025-09-03`` when a legacy version is configured. That
is what lets each database choose its API (``api: databases | data_sources``) in the mapping.

Incremental sync (:meth:`NotionClient.query`). Notion rounds ``last_edited_time`` down to the
minute, so the filter is ``last_edited_time on_or_after <since rounded down to the minute>``
(inclusive) sorted ascending by ``last_edited_time``: pages edited in the cursor's minute come
back again, and the caller de-duplicates by page id + ``last_edited_time``
(:class:`PageDeduper`). Each batch carries ``resume_from``: after storing a batch, a sync that
stops (error, crash) restarts safely with ``since=resume_from``.

Trash. A query returns pages in the trash only when asked with ``in_trash: true`` (and then
only those), so ``query`` runs two queries — live pages and trashed pages, both filtered the
same — and merges them by ``last_edited_time``; that is what makes ``resume_from`` safe across
both. Pages keep their ``in_trash`` (and, before 2026-03-11, ``archived``) flags.

Truncation. A query stops at 10,000 results with ``has_more: false`` and
``request_status: {type: incomplete, incomplete_reason: query_result_limit_reached}``. The
low-level iterators (:meth:`query_database`, :meth:`query_data_source`) raise
:class:`NotionQueryTruncated` after yielding the last results. :meth:`query` instead continues
with a narrower filter: ``on_or_after`` the last ``last_edited_time`` it received (inclusive, so
that minute's pages repeat and are de-duplicated). If that does not narrow the window (more
than the cap edited in one minute) it raises :class:`NotionQueryTruncated`.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from resources.http_client import (
    ApiClient,
    ApiClientError,
    ApiError,
    AuthError,
    MalformedResponse,
    error_message,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.notion.com/v1"
LEGACY_VERSION = "2022-06-28"
DATA_SOURCES_VERSION = "2025-09-03"
DEFAULT_VERSION = DATA_SOURCES_VERSION
TOKEN_ENV = "SOLEFLIPPER_NOTION_TOKEN"
APIS = ("databases", "data_sources")
MAX_PAGE_SIZE = 100
_BODY_KEPT = 4000


class NotionApiError(ApiError):
    """An error answer; Notion's ``code`` (e.g. ``validation_error``) and ``request_id`` when it sent them."""

    def __init__(
        self,
        status: int,
        message: str,
        body: str | None = None,
        url_path: str | None = None,
        *,
        method: str | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(status, message, body, url_path, method=method, retry_after=retry_after)
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.url_path) if part)
        text = f"HTTP {self.status}" + (f" {self.code}" if self.code else "") + f": {self.message}"
        text += f" ({where})" if where else ""
        return text + (f" [request_id {self.request_id}]" if self.request_id else "")


class NotionAuthError(NotionApiError, AuthError):
    """401 ``unauthorized``: the integration token is wrong or revoked (there is no refresh)."""


class NotionQueryTruncated(ApiClientError):
    """A query hit Notion's result cap (``request_status: incomplete``) and could not be narrowed."""

    def __init__(self, message: str, *, reason: str | None, last_edited_time: datetime | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.last_edited_time = last_edited_time


class NotionSyncError(ApiClientError):
    """The answers broke an assumption the sync relies on (e.g. results not in the requested order)."""


class QueryTarget(Protocol):
    """What :meth:`NotionClient.query` needs to know about a database (a ``DatabaseMapping`` fits)."""

    database_id: str | None
    api: str
    data_source_id: str | None
    data_source_name: str | None


@dataclass(frozen=True)
class NotionTarget:
    """A database to query, and through which API."""

    database_id: str | None
    api: str = "data_sources"
    data_source_id: str | None = None
    data_source_name: str | None = None


@dataclass(frozen=True)
class QueryBatch:
    """Pages from one sync, in ascending ``last_edited_time`` order (live and trashed merged).

    ``resume_from``: a ``since`` that restarts the sync without losing anything once this batch
    (and every earlier one) is stored — the last page's ``last_edited_time``.
    """

    pages: list[dict[str, Any]]
    resume_from: datetime | None

    def __len__(self) -> int:
        return len(self.pages)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.pages)


def floor_minute(moment: datetime) -> datetime:
    """``moment`` rounded down to the minute (how Notion stores ``last_edited_time``)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: pass a timezone-aware one (UTC)")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def notion_timestamp(moment: datetime) -> str:
    """``2025-06-01T10:15:00.000Z``: the form Notion sends and accepts."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: pass a timezone-aware one (UTC)")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def page_last_edited(page: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(page["last_edited_time"]).astimezone(UTC)


def is_trashed(page: Mapping[str, Any]) -> bool:
    """``in_trash``, or the deprecated ``archived`` alias where an old version sends only that."""
    if page.get("in_trash") is not None:
        return bool(page["in_trash"])
    return bool(page.get("archived", False))


class PageDeduper:
    """Drops pages already seen with the same ``last_edited_time`` (the inclusive cursor repeats them).

    A page edited again (a later ``last_edited_time``) is new: it is a newer version of the row.
    """

    def __init__(self, seen: Iterable[tuple[str, datetime]] = ()) -> None:
        self.seen: set[tuple[str, datetime]] = set(seen)
        self.duplicates = 0

    @staticmethod
    def key(page: Mapping[str, Any]) -> tuple[str, datetime]:
        return page["id"], page_last_edited(page)

    def new(self, pages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        fresh = []
        for page in pages:
            key = self.key(page)
            if key in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(key)
            fresh.append(dict(page))
        return fresh


def _is_legacy(version: str) -> bool:
    return version < DATA_SOURCES_VERSION  # ISO dates compare as strings


class NotionClient(ApiClient):
    """Notion REST client: an integration token, a pinned ``Notion-Version``, ~3 requests/s.

    ``kwargs`` go to :class:`ApiClient` (``sleep``, ``clock``, ``rng``, ``transport``,
    ``max_attempts``, ``total_retry_budget``, ...). ``requests_per_second=None`` turns pacing off
    (tests that want to provoke the server's 429).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        notion_version: str = DEFAULT_VERSION,
        requests_per_second: float | None = 3.0,
        timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        if not token or not token.strip():
            raise ValueError(f"a Notion integration token is required (set {TOKEN_ENV})")
        if not notion_version or len(notion_version) != 10:
            raise ValueError(
                f"Notion-Version must be a date like {DEFAULT_VERSION!r}, got {notion_version!r}"
            )
        kwargs["rate_limit_per_second"] = None if kwargs.get("rate_limiter") else requests_per_second
        super().__init__(base_url.rstrip("/"), timeout=timeout, **kwargs)
        self._token = token.strip()
        self.notion_version = notion_version
        self.pages_received = 0
        self.truncations = 0
        self._data_sources: dict[str, str] = {}

    # -- ApiClient hooks -----------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def secrets(self) -> list[str]:
        return [self._token]

    def parse_error(self, response: httpx.Response) -> ApiError:
        request_id = response.headers.get("x-notion-request-id")
        cls = NotionAuthError if response.status_code == 401 else NotionApiError
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("object") == "error":
            return cls(
                response.status_code,
                str(data.get("message") or response.reason_phrase),
                response.text[:_BODY_KEPT],
                code=data.get("code"),
                request_id=data.get("request_id") or request_id,
            )
        # a gateway's page (502 HTML) or another non-Notion body
        return cls(
            response.status_code, error_message(response), response.text[:_BODY_KEPT], request_id=request_id
        )

    # -- versions ------------------------------------------------------------------------

    def version_for(self, api: str) -> str:
        """The Notion-Version sent for an API family (see the module doc)."""
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, got {api!r}")
        legacy = _is_legacy(self.notion_version)
        if api == "databases":
            return self.notion_version if legacy else LEGACY_VERSION
        return DATA_SOURCES_VERSION if legacy else self.notion_version

    def _call(self, method: str, path: str, version: str, **kwargs: Any) -> Any:
        headers = {"Notion-Version": version}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        return self.request_json(method, path, headers=headers, **kwargs)

    # -- single objects ------------------------------------------------------------------

    def get_database(self, database_id: str) -> dict[str, Any]:
        """``GET /databases/{id}``: from 2025-09-03 with ``data_sources: [{id, name}]``, before with the schema."""
        return self._call("GET", f"/databases/{database_id}", self.notion_version)

    def get_data_source(self, data_source_id: str) -> dict[str, Any]:
        """``GET /data_sources/{id}``: the schema (``properties``) of one data source."""
        return self._call("GET", f"/data_sources/{data_source_id}", self.version_for("data_sources"))

    def resolve_data_source(self, target: QueryTarget) -> str:
        """The target's data source id: configured, or discovered (once) from its database."""
        if target.data_source_id:
            return target.data_source_id
        if not target.database_id:
            raise ValueError("a data_sources target needs a database_id or a data_source_id")
        cached = self._data_sources.get(target.database_id)
        if cached:
            return cached
        database = self._call("GET", f"/databases/{target.database_id}", self.version_for("data_sources"))
        sources = [s for s in database.get("data_sources") or () if isinstance(s, dict) and s.get("id")]
        if target.data_source_name:
            sources = [s for s in sources if s.get("name") == target.data_source_name]
        if len(sources) != 1:
            names = [s.get("name") for s in database.get("data_sources") or ()]
            wanted = f" named {target.data_source_name!r}" if target.data_source_name else ""
            raise ValueError(
                f"database {target.database_id} has data sources {names}; expected exactly one{wanted}"
                " (set data_source_id or data_source_name in the Notion mapping)"
            )
        self._data_sources[target.database_id] = sources[0]["id"]
        return sources[0]["id"]

    # -- queries -------------------------------------------------------------------------

    def query_database(
        self,
        database_id: str,
        filter: Mapping[str, Any] | None = None,
        sorts: list[Mapping[str, Any]] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        *,
        in_trash: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Legacy ``POST /databases/{id}/query``: one list of pages per response, every page walked.

        Raises :class:`NotionQueryTruncated` after the last results if Notion capped the query.
        """
        body = _body(filter, sorts, page_size, in_trash)
        path = f"/databases/{database_id}/query"
        yield from _raise_on_truncation(self._paginate(path, body, self.version_for("databases")))

    def query_data_source(
        self,
        data_source_id: str,
        filter: Mapping[str, Any] | None = None,
        sorts: list[Mapping[str, Any]] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        *,
        in_trash: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """``POST /data_sources/{id}/query`` (2025-09-03+): one list of pages per response.

        Raises :class:`NotionQueryTruncated` after the last results if Notion capped the query.
        """
        body = _body(filter, sorts, page_size, in_trash)
        path = f"/data_sources/{data_source_id}/query"
        yield from _raise_on_truncation(self._paginate(path, body, self.version_for("data_sources")))

    def query(
        self,
        target: QueryTarget,
        since: datetime | None = None,
        full_refresh: bool = False,
        *,
        include_trashed: bool = True,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[QueryBatch]:
        """Every page edited at or after ``since`` (all pages if ``full_refresh`` or no ``since``).

        Batches of up to ``page_size`` pages in ascending ``last_edited_time`` order, live and
        trashed pages merged; pages of the cursor's minute repeat (de-duplicate them). See the
        module doc for truncation and resuming.
        """
        if target.api not in APIS:
            raise ValueError(f"api must be one of {APIS}, got {target.api!r}")
        _check_page_size(page_size)
        start = None if full_refresh or since is None else floor_minute(since)
        if target.api == "databases":
            if not target.database_id:
                raise ValueError("an api: databases target needs a database_id")
            path = f"/databases/{target.database_id}/query"
        else:
            path = f"/data_sources/{self.resolve_data_source(target)}/query"
        version = self.version_for(target.api)
        log.info(
            "Notion sync of %s via %s (%s) %s",
            path.rsplit("/", 2)[-2],
            target.api,
            version,
            f"from {notion_timestamp(start)}" if start else "in full",
        )
        streams = [self._stream(path, version, start, page_size, in_trash=False)]
        if include_trashed:
            streams.append(self._stream(path, version, start, page_size, in_trash=True))
        batch: list[dict[str, Any]] = []
        last: datetime | None = None
        for last, page in heapq.merge(*streams, key=lambda item: item[0]):
            batch.append(page)
            if len(batch) == page_size:
                yield QueryBatch(batch, last)
                batch = []
        if batch:
            yield QueryBatch(batch, last)

    # -- internals -----------------------------------------------------------------------

    def _paginate(
        self, path: str, body: dict[str, Any], version: str
    ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """(results, response) per response, following next_cursor until has_more is false."""
        cursor: str | None = None
        while True:
            payload = {**body, "start_cursor": cursor} if cursor else body
            data = self._call("POST", path, version, json=payload, idempotent=True)
            if (
                not isinstance(data, dict)
                or data.get("object") != "list"
                or not isinstance(data.get("results"), list)
            ):
                raise MalformedResponse(
                    "expected a Notion list object", status=200, method="POST", url_path=path
                )
            self.pages_received += len(data["results"])
            yield data["results"], data
            if not data.get("has_more"):
                return
            cursor = data.get("next_cursor")
            if not cursor:
                raise MalformedResponse(
                    "has_more without a next_cursor", status=200, method="POST", url_path=path
                )

    def _stream(
        self, path: str, version: str, start: datetime | None, page_size: int, *, in_trash: bool
    ) -> Iterator[tuple[datetime, dict[str, Any]]]:
        """(last_edited_time, page) in ascending order; continues past truncation (module doc)."""
        window = start
        previous: datetime | None = None
        while True:
            body = _body(_since_filter(window), _ASCENDING, page_size, in_trash)
            truncated: str | None = None
            in_window: datetime | None = None
            for results, data in self._paginate(path, body, version):
                for page in results:
                    edited = page_last_edited(page)
                    if in_window is not None and edited < in_window:
                        raise NotionSyncError(
                            f"{path}: results are not sorted by last_edited_time ascending"
                            f" ({notion_timestamp(edited)} after {notion_timestamp(in_window)})"
                        )
                    in_window = previous = edited
                    yield edited, page
                truncated = _truncation(data)
            if truncated is None:
                return
            self.truncations += 1
            if previous is None or (window is not None and floor_minute(previous) <= window):
                raise NotionQueryTruncated(
                    f"{path}: Notion stopped the query ({truncated}) and more than its result cap were"
                    f" edited in the minute {notion_timestamp(previous) if previous else '?'};"
                    " the window cannot be narrowed by last_edited_time",
                    reason=truncated,
                    last_edited_time=previous,
                )
            window = floor_minute(previous)
            log.warning(
                "%s: Notion stopped the query (%s); continuing from %s",
                path,
                truncated,
                notion_timestamp(window),
            )


_ASCENDING = [{"timestamp": "last_edited_time", "direction": "ascending"}]


def _check_page_size(page_size: int) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size!r}")


def _body(
    filter: Mapping[str, Any] | None, sorts: list[Mapping[str, Any]] | None, page_size: int, in_trash: bool
) -> dict[str, Any]:
    _check_page_size(page_size)
    body: dict[str, Any] = {"page_size": page_size}
    if filter:
        body["filter"] = dict(filter)
    if sorts:
        body["sorts"] = [dict(s) for s in sorts]
    if in_trash:
        body["in_trash"] = True
    return body


def _since_filter(start: datetime | None) -> dict[str, Any] | None:
    if start is None:
        return None
    return {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": notion_timestamp(start)}}


def _truncation(data: Mapping[str, Any]) -> str | None:
    """The incomplete_reason when Notion cut the query short, else None."""
    status = data.get("request_status")
    if isinstance(status, Mapping) and status.get("type") == "incomplete":
        return str(status.get("incomplete_reason") or "incomplete")
    return None


def _raise_on_truncation(
    pages: Iterator[tuple[list[dict[str, Any]], dict[str, Any]]],
) -> Iterator[list[dict[str, Any]]]:
    last: datetime | None = None
    for results, data in pages:
        if results:
            last = page_last_edited(results[-1])
        yield results
        reason = _truncation(data)
        if reason is not None:
            raise NotionQueryTruncated(
                f"Notion stopped the query early ({reason}); narrow the filter and query again",
                reason=reason,
                last_edited_time=last,
            )
