"""Metabase API client: session or API-key auth, first-run setup, and the provisioning calls.

Built on :class:`resources.http_client.ApiClient` (bounded retries of idempotent calls, errors
scrubbed of credentials); this module adds Metabase's auth (api-contracts.md §5.2):

* ``x-api-key`` when an API key is configured (no login; a 401 fails at once), otherwise
* a session from ``POST /api/session``, cached for the client's life (Metabase rate-limits
  logins). A 401 (``Unauthenticated``: the session expired) logs in again once and re-sends the
  request once; a second 401, or a rejected login, raises :class:`MetabaseAuthError`.
* :meth:`MetabaseClient.ensure_setup`: on a Metabase without an admin yet, ``POST /api/setup``
  with the setup token from ``GET /api/session/properties`` creates the configured user as the
  first admin (that call returns the session).

Writes (POST) are never re-sent after a 5xx (ApiClient's rule), so a failed sync stops with a
clear error and the next run, which looks everything up by name, finishes the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from resources.http_client import ApiClient, ApiClientError, ApiError, AuthError

log = logging.getLogger(__name__)

URL_ENV = "SOLEFLIPPER_METABASE_URL"
API_KEY_ENV = "SOLEFLIPPER_METABASE_API_KEY"
USER_ENV = "SOLEFLIPPER_METABASE_USER"
PASSWORD_ENV = "SOLEFLIPPER_METABASE_PASSWORD"


class MetabaseAuthError(AuthError):
    """Metabase refused the credentials (login rejected, API key invalid, or 401 after a re-login)."""


class MetabaseSyncTimeout(ApiClientError):
    """The tables a sync should bring did not appear in Metabase's metadata in time."""


class MetabaseClient(ApiClient):
    """Metabase's REST API for provisioning. Pass ``api_key`` or ``username`` + ``password``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        max_attempts: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
        **options: Any,
    ) -> None:
        if not api_key and not (username and password):
            raise ValueError(f"Metabase needs {API_KEY_ENV}, or {USER_ENV} and {PASSWORD_ENV}")
        super().__init__(
            base_url.rstrip("/"),
            rate_limit_per_second=None,  # a self-hosted Metabase has no request quota
            timeout=timeout,
            max_attempts=max_attempts,
            **options,
        )
        self.base_url = base_url.rstrip("/")  # for links to what was made (dashboard URLs)
        self.api_key = api_key or None
        self.username = username
        self._password = password
        self._session: str | None = None
        self._monotonic = monotonic
        self.logins = 0  # for tests and metadata: a cached session means one per run

    # -- auth --------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        if self.api_key:
            return {"x-api-key": self.api_key}
        if self._session is None:
            self.login()
        assert self._session is not None
        return {"X-Metabase-Session": self._session}

    def on_unauthorized(self) -> bool:
        if self.api_key:
            return False  # a key does not expire; a 401 means it is wrong or revoked
        log.info("Metabase session no longer valid: logging in again")
        self._session = None
        self.login()
        return True

    def secrets(self) -> Iterable[str]:
        return [s for s in (self._password, self._session, self.api_key) if s]

    def login(self) -> str:
        """A new session for the configured user (raises MetabaseAuthError if Metabase refuses it)."""
        try:
            body = self.request_json(
                "POST",
                "/api/session",
                json={"username": self.username, "password": self._password},
                authenticate=False,
            )
        except AuthError as exc:
            raise MetabaseAuthError(
                exc.status, f"Metabase rejected the login of {self.username} (check {PASSWORD_ENV})"
            ) from None
        self._session = _session_id(body, "POST /api/session")
        self.logins += 1
        return self._session

    def ensure_setup(self, site_name: str = "SoleFlipper") -> bool:
        """Create the configured user as the first admin if Metabase has none yet; True if it did."""
        properties = self.get_json("/api/session/properties", authenticate=False)
        if properties.get("has-user-setup", True):
            return False
        if self.api_key or not self.username:
            raise MetabaseAuthError(
                401, f"Metabase is not set up yet: set {USER_ENV} and {PASSWORD_ENV} for the first admin"
            )
        token = properties.get("setup-token")
        if not token:
            raise ApiError(409, "Metabase has no admin and offers no setup token", url_path="/api/setup")
        body = self.request_json(
            "POST",
            "/api/setup",
            json={
                "token": token,
                "user": {
                    "email": self.username,
                    "password": self._password,
                    "first_name": "SoleFlipper",
                    "last_name": "Admin",
                    "site_name": site_name,
                },
                "prefs": {"site_name": site_name, "allow_tracking": False},
            },
            authenticate=False,
        )
        self._session = _session_id(body, "POST /api/setup")
        self.logins += 1
        log.info("Metabase first-run setup done: %s is the admin", self.username)
        return True

    # -- databases ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.get_json("/api/health", authenticate=False)

    def databases(self) -> list[dict[str, Any]]:
        body = self.get_json("/api/database")
        return body["data"] if isinstance(body, dict) else body  # {data, total} since v0.41; a list before

    def create_database(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("POST", "/api/database", json=payload)

    def update_database(self, database_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("PUT", f"/api/database/{database_id}", json=payload)

    def sync_schema(self, database_id: int) -> None:
        self.request_json("POST", f"/api/database/{database_id}/sync_schema", json={})

    def metadata(self, database_id: int) -> dict[str, Any]:
        return self.get_json(f"/api/database/{database_id}/metadata")

    def wait_for_tables(
        self,
        database_id: int,
        tables: Collection[tuple[str, str]],
        *,
        columns: Collection[tuple[str, str, str]] = (),
        timeout: float = 120.0,
        interval: float = 1.0,
    ) -> dict[str, Any]:
        """Poll the metadata until every (schema, table) and (schema, table, column) is there; its last
        answer. Bounded by ``timeout`` (a sync is asynchronous: Metabase answers before it is done)."""
        deadline = self._monotonic() + timeout
        while True:
            metadata = self.metadata(database_id)
            present: set[tuple[str, ...]] = set()
            for table in metadata.get("tables") or []:
                present.add((table.get("schema"), table.get("name")))
                present.update(
                    (table.get("schema"), table.get("name"), f.get("name")) for f in table.get("fields") or []
                )
            missing = sorted({*tables, *columns} - present)
            if not missing:
                return metadata
            if self._monotonic() + interval > deadline:
                names = ", ".join(".".join(item) for item in missing[:10])
                raise MetabaseSyncTimeout(
                    f"Metabase's schema sync of database {database_id} did not show {len(missing)} "
                    f"table(s)/column(s) within {timeout:g}s: {names} (does its connection user see them?)"
                )
            self._sleep(interval)

    # -- collections, cards, dashboards ------------------------------------------------------

    def collections(self) -> list[dict[str, Any]]:
        return self.get_json("/api/collection")

    def create_collection(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("POST", "/api/collection", json=payload)

    def cards(self) -> list[dict[str, Any]]:
        """Every card not in the trash."""
        return self.get_json("/api/card", params={"f": "all"})

    def create_card(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("POST", "/api/card", json=payload)

    def update_card(self, card_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("PUT", f"/api/card/{card_id}", json=payload)

    def dashboards(self) -> list[dict[str, Any]]:
        return self.get_json("/api/dashboard", params={"f": "all"})

    def dashboard(self, dashboard_id: int) -> dict[str, Any]:
        return self.get_json(f"/api/dashboard/{dashboard_id}")

    def create_dashboard(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("POST", "/api/dashboard", json=payload)

    def update_dashboard(self, dashboard_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self.request_json("PUT", f"/api/dashboard/{dashboard_id}", json=payload)


def _session_id(body: Any, where: str) -> str:
    session = body.get("id") if isinstance(body, dict) else None
    if not isinstance(session, str) or not session:
        raise ApiError(502, f"{where} answered without a session id", url_path=where.split(" ", 1)[1])
    return session
