"""A local StockX: Public API v2 + the Auth0 token server, faithful to the contract and unreliable on demand.

Contract: /work/shared/reference/api-contracts.md §1 and §6.1, StockX's OpenAPI document. Data:
:mod:`simulators.stockx_data` (seeded; COMPLETED orders are the demo report's sales).

    with StockXSimulator(rate_limit=False) as sim:
        client = StockXClient(base_url=sim.api_base_url, auth_url=sim.auth_url,
                              api_key=DEMO_API_KEY, client_id=DEMO_CLIENT_ID,
                              client_secret=DEMO_CLIENT_SECRET, redirect_uri=DEMO_REDIRECT_URI, ...)
        client.exchange_code(sim.issue_code(DEMO_REDIRECT_URI))

Served:

* ``GET /authorize`` auto-approves: 302 to ``redirect_uri?code=…&state=…`` (no login page).
* ``POST /oauth/token`` (form-encoded): ``authorization_code`` → access + refresh + id token;
  ``refresh_token`` → a new access token and **no** refresh token; a wrong client secret, an
  unknown/used code or an unknown/revoked refresh token → 403 ``{"error": "invalid_grant", …}``.
  Access tokens are JWT-shaped and live ``token_ttl`` seconds on the fake clock (default 43200).
* ``/v2/...``: catalog search, product, variants (bare array), variant, variant by GTIN, product
  and variant market data, order history, active orders, one order, listings, one listing.

Gateway, in this order: no/unknown ``x-api-key`` → 403 ``{"message": "Forbidden"}``; token-bucket
rate limit (``rate_limit``, 1 req/s) → 429; daily quota (``daily_quota``, reset 00:00 UTC on the
fake clock) → 429 ``{"message": "Limit Exceeded"}``; missing/unknown/expired bearer → 401 (body
``unauthorized_body``: ``"public"`` ``{"statusCode": 401, "message": "Unauthorized"}`` or
``"gateway"`` ``{"message": "Unauthorized"}``). The 429 body is ``rate_limit_body`` (``"public"``
or ``"gateway"``) with a ``Retry-After`` only if ``rate_limit_retry_after`` is set (seconds, or
``"auto"`` for the time to the next token).

Validation as documented: ``pageSize`` 1..50 (search) / 1..100, defaults 1 (search, listings) or
10 (orders) when omitted, so a client that forgets it is caught; ``query`` 1..100 characters;
``fromDate``/``toDate`` ``YYYY-MM-DD``; ``currencyCode`` from the enum → else 400 ``PublicApiError``.

Scenario switches (attributes, ``configure(**kw)`` or ``POST /__admin/stockx/config``):
``rate_limit``, ``rate_limit_body``, ``rate_limit_retry_after``, ``daily_quota``,
``quota_retry_after``, ``unauthorized_body``, ``token_ttl``, ``include_expires_in``,
``float_counts`` (history and listings envelopes as 57.0), ``gtin_route`` (False: the 2025-only
GTIN route answers 404 as if it did not exist). Events: :meth:`expire_tokens` (now),
:meth:`revoke_refresh_tokens`, :meth:`add_order`, :meth:`insert_order_after_page` (shifts the
pages a client is walking), :meth:`expire_tokens_after_page`. Faults (429 bursts, 500s, slow,
malformed JSON, resets…) are the base class's :meth:`inject`, with named shortcuts
(:meth:`inject_429_burst`, :meth:`inject_server_errors`, :meth:`inject_slow`,
:meth:`inject_malformed_json`); the admin channel adds ``POST /__admin/stockx/expire-tokens``,
``…/revoke-refresh-tokens``, ``…/config``, ``…/orders`` and ``…/insert-order-after-page``.

``python -m simulators.stockx`` (or ``soleflipper simulate-stockx``) serves it until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import re
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from simulators.base import ADMIN_PREFIX, Request, Response, Simulator, route, run_forever
from simulators.stockx_data import (
    ACTIVE_STATUSES,
    BOOK_END,
    CURRENCY_CODES,
    DEFAULT_SALES,
    DEFAULT_SEED,
    HISTORICAL_STATUSES,
    LISTING_STATUSES,
    StockXWorld,
    build_world,
    created_at,
    make_order,
    market_data,
    sorted_newest_first,
)
from soleflipper.products import style_key

DEMO_API_KEY = "sim-stockx-api-key-0000-demo"
DEMO_CLIENT_ID = "sim-stockx-client-id"
DEMO_CLIENT_SECRET = "sim-stockx-client-secret-0000-demo"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/stockx/callback"
DEMO_PORT = 8787

SEARCH_MAX_PAGE = 50
LIST_MAX_PAGE = 100
CODE_TTL = 600.0
ENDPOINTS = {
    "search": "/v2/catalog/search",
    "history": "/v2/selling/orders/history",
    "active": "/v2/selling/orders/active",
    "listings": "/v2/selling/listings",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GTIN = re.compile(r"^\d{8}$|^\d{12,14}$")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _moment(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class _BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StockXSimulator(Simulator):
    """See the module doc. Thread-safe; state is guarded by ``self.lock``."""

    name = "stockx"

    def __init__(
        self,
        port: int = 0,
        *,
        seed: int = DEFAULT_SEED,
        n_sales: int = DEFAULT_SALES,
        api_keys: Sequence[str] = (DEMO_API_KEY,),
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        token_ttl: float = 43200.0,
        include_expires_in: bool = True,
        rate_limit: bool = True,
        requests_per_second: float = 1.0,
        rate_limit_slack: float = 0.05,
        rate_limit_body: str = "public",
        rate_limit_retry_after: float | str | None = None,
        daily_quota: int = 25_000,
        quota_retry_after: bool = False,
        unauthorized_body: str = "public",
        float_counts: bool = True,
        gtin_route: bool = True,
    ) -> None:
        super().__init__(port)
        self.seed = seed
        self.n_sales = n_sales
        self.api_keys = set(api_keys)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.include_expires_in = include_expires_in
        self.rate_limit = rate_limit
        self.requests_per_second = requests_per_second
        self.rate_limit_slack = rate_limit_slack
        self.rate_limit_body = rate_limit_body
        self.rate_limit_retry_after = rate_limit_retry_after
        self.daily_quota = daily_quota
        self.quota_retry_after = quota_retry_after
        self.unauthorized_body = unauthorized_body
        self.float_counts = float_counts
        self.gtin_route = gtin_route
        self.world: StockXWorld = build_world(seed, n_sales)
        self._serial = itertools.count(1)
        self._codes: dict[str, dict[str, Any]] = {}
        self._access: dict[str, float] = {}  # access token -> expiry (fake-clock epoch)
        self._refresh: set[str] = set()
        self._page_hooks: list[tuple[str, int, Callable[[], Any]]] = []
        self._reset_limits()

    # -- configuration and scenario events ----------------------------------------------------

    def configure(self, **settings: Any) -> None:
        """Change scenario switches (the constructor's keyword names) while running."""
        allowed = {"rate_limit", "requests_per_second", "rate_limit_slack", "rate_limit_body",
                   "rate_limit_retry_after", "daily_quota", "quota_retry_after", "unauthorized_body",
                   "token_ttl", "include_expires_in", "float_counts", "gtin_route"}
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown StockX simulator settings: {', '.join(sorted(unknown))}")
        with self.lock:
            for key, value in settings.items():
                setattr(self, key, value)

    @property
    def api_base_url(self) -> str:
        """What a client uses as its API base URL (``…/v2``)."""
        return self.url("/v2")

    @property
    def auth_url(self) -> str:
        """What a client uses as its OAuth server URL (``/authorize``, ``/oauth/token``)."""
        return self.base_url

    @property
    def quota_used(self) -> int:
        with self.lock:
            return self._quota_used if self._quota_day == self.clock.utcnow().date() else 0

    def issue_code(self, redirect_uri: str = DEMO_REDIRECT_URI, scope: str = "offline_access openid") -> str:
        """An authorization code as if the user had approved (what ``/authorize`` redirects with)."""
        code = f"code-{next(self._serial)}-{secrets.token_urlsafe(12)}"
        with self.lock:
            self._codes[code] = {"redirect_uri": redirect_uri, "scope": scope,
                                 "expires": self.clock.now() + CODE_TTL}
        return code

    # Named shortcuts for the base class's faults, all under /v2/ by default.

    def inject_429_burst(self, times: int = 3, *, retry_after: float | str | None = None, gateway: bool = False,
                         path_prefix: str = "/v2/") -> None:
        """The next ``times`` API calls answer 429 (StockX's body, or the gateway's with ``gateway``)."""
        body = {"message": "Too Many Requests"} if gateway else {"statusCode": 429, "message": "Too Many Requests"}
        self.inject("status:429", times, path_prefix, retry_after=retry_after, body=body)

    def inject_server_errors(self, times: int = 1, status: int = 500, path_prefix: str = "/v2/") -> None:
        """The next ``times`` API calls fail with ``status`` (502 is an HTML gateway page)."""
        self.inject(f"status:{status}", times, path_prefix)

    def inject_slow(self, seconds: float, times: int = 1, path_prefix: str = "/v2/") -> None:
        """The next ``times`` API calls answer after ``seconds`` (beyond a client's timeout, say)."""
        self.inject(f"slow:{seconds}", times, path_prefix)

    def inject_malformed_json(self, times: int = 1, truncated: bool = False, path_prefix: str = "/v2/") -> None:
        """The next ``times`` API calls answer 200 with invalid (or half of the real) JSON."""
        self.inject("truncated_json" if truncated else "malformed_json", times, path_prefix)

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired from now on (refresh tokens stay valid)."""
        with self.lock:
            now = self.clock.now()
            self._access = {token: min(expiry, now) for token, expiry in self._access.items()}

    def revoke_refresh_tokens(self) -> None:
        """Refresh tokens stop working (as after a password change): refresh → 403 invalid_grant."""
        with self.lock:
            self._refresh.clear()

    def valid_access_tokens(self) -> list[str]:
        with self.lock:
            now = self.clock.now()
            return [t for t, expiry in self._access.items() if expiry > now]

    def add_order(self, status: str = "COMPLETED", created: datetime | str | None = None, **kwargs: Any) -> dict:
        """Create one more historical (or, with an active status, active) order now; returns it."""
        created = _moment(created)
        with self.lock:
            used = {o["orderNumber"] for o in (*self.world.orders, *self.world.active_orders)}
            when = created or datetime.combine(BOOK_END, datetime.min.time(), UTC) + timedelta(hours=23)
            order = make_order(self.world, self.world.rng, used, created=when, status=status, **kwargs)
            (self.world.active_orders if status in ACTIVE_STATUSES else self.world.orders).append(order)
        return order

    def after_page(self, endpoint: str, page: int, action: Callable[[], Any]) -> None:
        """Run ``action`` once, right after ``endpoint`` (history/active/listings/search) served ``page``."""
        path = ENDPOINTS.get(endpoint, endpoint)
        with self.lock:
            self._page_hooks.append((path, page, action))

    def insert_order_after_page(
        self, page: int = 1, endpoint: str = "history", status: str = "COMPLETED",
        created: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Insert a (newest) order once ``page`` was served: later pages shift by one (a duplicate).

        Returns the order that will be inserted (it is not served before then).
        """
        created = _moment(created)
        with self.lock:
            used = {o["orderNumber"] for o in (*self.world.orders, *self.world.active_orders)}
            when = created or datetime.combine(BOOK_END, datetime.min.time(), UTC) + timedelta(hours=23)
            order = make_order(self.world, self.world.rng, used, created=when, status=status)
        target = self.world.active_orders if status in ACTIVE_STATUSES else self.world.orders
        self.after_page(endpoint, page, lambda: target.append(order))
        return order

    def expire_tokens_after_page(self, page: int, endpoint: str = "history") -> None:
        """The access token expires right after ``page`` was served (a refresh mid-pagination)."""
        self.after_page(endpoint, page, self.expire_tokens)

    def reset(self) -> None:
        """Forget faults, the log and clock changes; restore the seeded world, quota and hooks.

        Issued tokens stay valid (a test resetting data keeps its signed-in client).
        """
        super().reset()
        with self.lock:
            self.world = build_world(self.seed, self.n_sales)
            self._page_hooks.clear()
            self._reset_limits()

    def _reset_limits(self) -> None:
        self._quota_day: date | None = None
        self._quota_used = 0
        self._bucket = 1.0
        self._bucket_at: float | None = None

    # -- errors and gateway -------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"statusCode": status, "message": message}

    def _unauthorized(self) -> Response:
        body = {"message": "Unauthorized"}
        if self.unauthorized_body == "public":
            body = {"statusCode": 401, "message": "Unauthorized"}
        return Response(401, json=body)

    def _throttled(self, wait: float) -> Response:
        body: dict[str, Any] = {"message": "Too Many Requests"}
        if self.rate_limit_body == "public":
            body = {"statusCode": 429, "message": "Too Many Requests"}
        headers = {}
        if self.rate_limit_retry_after == "auto":
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        elif self.rate_limit_retry_after is not None:
            headers["Retry-After"] = str(self.rate_limit_retry_after)
        return Response(429, json=body, headers=headers)

    def _gateway(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key")
        if not key or key not in self.api_keys:
            return Response(403, json={"message": "Forbidden"})
        with self.lock:
            if self.rate_limit:
                rate = self.requests_per_second
                if self._bucket_at is not None:
                    self._bucket = min(1.0, self._bucket + (request.at - self._bucket_at) * rate)
                self._bucket_at = request.at
                if self._bucket < 1.0 - self.rate_limit_slack * rate:
                    return self._throttled((1.0 - self._bucket) / rate)
                self._bucket -= 1.0
            now = self.clock.utcnow()
            if self._quota_day != now.date():
                self._quota_day, self._quota_used = now.date(), 0
            if self._quota_used >= self.daily_quota:
                headers = {}
                if self.quota_retry_after:
                    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
                    headers["Retry-After"] = str(math.ceil((midnight - now).total_seconds()))
                return Response(429, json={"message": "Limit Exceeded"}, headers=headers)
            self._quota_used += 1
            token = request.bearer_token
            if token is None or self._access.get(token, -math.inf) <= self.clock.now():
                return self._unauthorized()
        return None

    def handle(self, request: Request) -> Response:
        if request.path == "/v2" or request.path.startswith("/v2/"):
            denied = self._gateway(request)
            if denied is not None:
                return denied
            response = super().handle(request)
            if response.status == 200:
                self._run_page_hooks(request)
            return response
        return super().handle(request)

    def _run_page_hooks(self, request: Request) -> None:
        page = request.arg("pageNumber", "1")
        with self.lock:
            due = [h for h in self._page_hooks if h[0] == request.path and str(h[1]) == page]
            for hook in due:
                self._page_hooks.remove(hook)
        for _, _, action in due:
            action()

    def _admin(self, request: Request) -> Response:
        action = (request.method, request.path[len(ADMIN_PREFIX):])
        try:
            if action == ("POST", "stockx/expire-tokens"):
                self.expire_tokens()
                return Response(200, json={"ok": True})
            if action == ("POST", "stockx/revoke-refresh-tokens"):
                self.revoke_refresh_tokens()
                return Response(200, json={"ok": True})
            if action == ("POST", "stockx/config"):
                self.configure(**request.json())
                return Response(200, json={"ok": True})
            if action == ("POST", "stockx/orders"):
                payload = request.json() if request.body else {}
                return Response(201, json=self.add_order(**payload))
            if action == ("POST", "stockx/insert-order-after-page"):
                payload = request.json() if request.body else {}
                return Response(200, json=self.insert_order_after_page(**payload))
        except (ValueError, TypeError, KeyError) as exc:
            return Response(400, json={"error": str(exc)})
        return super()._admin(request)

    # -- OAuth (Auth0 on accounts.stockx.com) --------------------------------------------------

    @route("GET", "/authorize")
    def authorize(self, request: Request) -> Response:
        redirect_uri = request.arg("redirect_uri")
        problems = []
        if request.arg("response_type") != "code":
            problems.append("response_type must be code")
        if request.arg("client_id") != self.client_id:
            problems.append("unknown client_id")
        if not redirect_uri:
            problems.append("redirect_uri is required")
        if problems:
            return Response(400, json={"error": "invalid_request", "error_description": "; ".join(problems)})
        assert redirect_uri is not None
        code = self.issue_code(redirect_uri, request.arg("scope") or "openid")
        query = {"code": code}
        if request.arg("state") is not None:
            query["state"] = request.arg("state") or ""
        separator = "&" if "?" in redirect_uri else "?"
        return Response(302, headers={"Location": f"{redirect_uri}{separator}{urlencode(query)}"})

    def _invalid_grant(self, description: str) -> Response:
        return Response(403, json={"error": "invalid_grant", "error_description": description})

    def _new_access_token(self, scope: str) -> tuple[str, float]:
        now = self.clock.now()
        expiry = now + self.token_ttl
        serial = next(self._serial)
        claims = {"iss": f"{self.base_url}/", "sub": "auth0|sim-seller", "aud": ["gateway.stockx.com"],
                  "iat": int(now), "exp": int(expiry), "scope": scope, "jti": f"sim-{serial}"}
        token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        self._access[token] = expiry
        return token, expiry

    @route("POST", "/oauth/token")
    def token(self, request: Request) -> Response:
        if "application/x-www-form-urlencoded" not in request.headers.get("Content-Type", ""):
            return Response(400, json={"error": "invalid_request",
                                       "error_description": "expected an application/x-www-form-urlencoded body"})
        form = request.form()
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "refresh_token"):
            return Response(400, json={"error": "unsupported_grant_type",
                                       "error_description": f"Grant type '{grant}' not allowed for the client."})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._invalid_grant("Unauthorized: wrong client credentials.")
        with self.lock:
            if grant == "authorization_code":
                issued = self._codes.pop(form.get("code", ""), None)
                if issued is None or issued["expires"] <= self.clock.now():
                    return self._invalid_grant("Invalid authorization code")
                if form.get("redirect_uri") != issued["redirect_uri"]:
                    return self._invalid_grant("redirect_uri does not match the one used to get the code")
                scope = issued["scope"]
                access, _ = self._new_access_token(scope)
                body: dict[str, Any] = {"access_token": access, "id_token": self._id_token(),
                                        "scope": scope, "token_type": "Bearer"}
                if "offline_access" in scope.split():
                    refresh = f"v1.{secrets.token_urlsafe(40)}"
                    self._refresh.add(refresh)
                    body["refresh_token"] = refresh
            else:
                if form.get("refresh_token") not in self._refresh:
                    return self._invalid_grant("Unknown or invalid refresh token.")
                scope = "openid email offline_access"
                access, _ = self._new_access_token(scope)
                body = {"access_token": access, "id_token": self._id_token(), "scope": scope,
                        "token_type": "Bearer"}
            if self.include_expires_in:
                body["expires_in"] = int(self.token_ttl)
        return Response(200, json=body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _id_token(self) -> str:
        claims = {"iss": f"{self.base_url}/", "sub": "auth0|sim-seller", "email": "seller@example.com"}
        return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(16)}"

    # -- request helpers ----------------------------------------------------------------------

    def _bad(self, message: str) -> Response:
        return self.error(400, message)

    @staticmethod
    def _int_arg(request: Request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(f"{name} must be an integer") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise _BadRequest(f"{name} must be {bounds}")
        return value

    def _page(self, request: Request, items: list[dict], key: str, max_size: int, default_size: int,
              floats: bool) -> dict[str, Any]:
        number = self._int_arg(request, "pageNumber", 1, 1, None)
        size = self._int_arg(request, "pageSize", default_size, 1, max_size)
        chunk = items[(number - 1) * size: number * size]
        total = len(items)
        cast: Callable[[int], float | int] = float if floats else int
        return {"count": cast(total), "pageSize": cast(len(chunk)), "pageNumber": cast(number),
                "hasNextPage": number * size < total, key: chunk}

    @staticmethod
    def _date_arg(request: Request, name: str) -> date | None:
        raw = request.arg(name)
        if raw is None or raw == "":
            return None
        if not _DATE.match(raw):
            raise _BadRequest(f"{name} must be a date in the format YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _BadRequest(f"{name} must be a date in the format YYYY-MM-DD") from None

    @staticmethod
    def _csv_arg(request: Request, name: str) -> list[str] | None:
        raw = request.arg(name)
        if raw is None or raw == "":
            return None
        if any(ch in raw for ch in "[]\"'"):
            raise _BadRequest(f"{name} must not include array brackets [] or quotation marks")
        return [part.strip() for part in raw.split(",") if part.strip()]

    def _currency(self, request: Request) -> str:
        currency = request.arg("currencyCode") or "USD"
        if currency not in CURRENCY_CODES:
            raise _BadRequest(f"currencyCode must be one of {', '.join(CURRENCY_CODES)}")
        return currency

    def _guarded(self, fn: Callable[[], Response | Any]) -> Response | Any:
        try:
            return fn()
        except _BadRequest as exc:
            return self._bad(exc.message)

    # -- catalog ------------------------------------------------------------------------------

    @route("GET", "/v2/catalog/search")
    def search(self, request: Request) -> Response | Any:
        def run() -> dict:
            query = request.arg("query")
            if query is None or not 1 <= len(query) <= 100:
                raise _BadRequest("query must be between 1 and 100 characters")
            with self.lock:
                products = list(self.world.products.values())
                by_gtin = self.world.gtin_index.get(query.strip())
            key = style_key(query)
            found = [p for p in products if key and style_key(p["styleId"]) == key]
            if by_gtin is not None:
                found.append(self.world.products[by_gtin["productId"]])
            words = query.lower().split()
            found += [p for p in products
                      if words and all(w in f"{p['brand'] or ''} {p['title'] or ''}".lower() for w in words)]
            unique = list({p["productId"]: p for p in found}.values())
            return self._page(request, unique, "products", SEARCH_MAX_PAGE, 1, floats=False)

        return self._guarded(run)

    def _product(self, product_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.world.products.get(product_id)

    @route("GET", "/v2/catalog/products/variants/gtins/{gtin}")
    def variant_by_gtin(self, request: Request) -> Response | Any:
        if not self.gtin_route:
            return Response(404, json={"message": "Not Found"})
        gtin = request.params["gtin"]
        if not _GTIN.match(gtin):
            return self._bad("Invalid GTIN")
        with self.lock:
            variant = self.world.gtin_index.get(gtin)
        return variant if variant is not None else self.error(404, "Variant not found")

    @route("GET", "/v2/catalog/products/{product_id}")
    def product(self, request: Request) -> Response | Any:
        product = self._product(request.params["product_id"])
        return product if product is not None else self.error(404, "Product not found")

    @route("GET", "/v2/catalog/products/{product_id}/variants")
    def variants(self, request: Request) -> Response | Any:
        with self.lock:
            variants = self.world.variants.get(request.params["product_id"])
        return Response(200, json=variants) if variants is not None else self.error(404, "Product not found")

    def _variant(self, request: Request) -> dict[str, Any] | Response:
        with self.lock:
            product = self.world.products.get(request.params["product_id"])
            variant = self.world.variant_index.get(request.params["variant_id"])
        if product is None:
            return self.error(404, "Product not found")
        if variant is None:
            return self.error(404, "Variant not found")
        if variant["productId"] != product["productId"]:
            return self._bad("Variant does not belong to the product")
        return variant

    @route("GET", "/v2/catalog/products/{product_id}/variants/{variant_id}")
    def variant(self, request: Request) -> Response | Any:
        return self._variant(request)

    @route("GET", "/v2/catalog/products/{product_id}/market-data")
    def product_market_data(self, request: Request) -> Response | Any:
        def run() -> Response:
            currency = self._currency(request)
            with self.lock:
                variants = self.world.variants.get(request.params["product_id"])
                if variants is None:
                    return self.error(404, "Product not found")
                return Response(200, json=[market_data(self.world, v, currency) for v in variants])

        return self._guarded(run)

    @route("GET", "/v2/catalog/products/{product_id}/variants/{variant_id}/market-data")
    def variant_market_data(self, request: Request) -> Response | Any:
        def run() -> Response | Any:
            currency = self._currency(request)
            variant = self._variant(request)
            if isinstance(variant, Response):
                return variant
            with self.lock:
                return market_data(self.world, variant, currency)

        return self._guarded(run)

    # -- selling ------------------------------------------------------------------------------

    @staticmethod
    def _filter_orders(request: Request, orders: list[dict], statuses: Sequence[str]) -> list[dict]:
        status = request.arg("orderStatus")
        if status is not None and status not in statuses:
            raise _BadRequest(f"orderStatus must be one of {', '.join(statuses)}")
        product_id, variant_id = request.arg("productId"), request.arg("variantId")
        inventory = StockXSimulator._csv_arg(request, "inventoryTypes")
        shipments = StockXSimulator._csv_arg(request, "initiatedShipmentDisplayIds")
        return [
            o for o in orders
            if (status is None or o["status"] == status)
            and (product_id is None or o["product"]["productId"] == product_id)
            and (variant_id is None or o["variant"]["variantId"] == variant_id)
            and (inventory is None or o["inventoryType"] in inventory)
            and (shipments is None or ((o.get("initiatedShipments") or {}).get("inbound") or {}).get("displayId")
                 in shipments)
        ]

    @route("GET", "/v2/selling/orders/history")
    def order_history(self, request: Request) -> Response | Any:
        def run() -> dict:
            start, end = self._date_arg(request, "fromDate"), self._date_arg(request, "toDate")
            with self.lock:
                orders = list(self.world.orders)
            orders = self._filter_orders(request, orders, HISTORICAL_STATUSES)
            orders = [o for o in orders
                      if (start is None or created_at(o).date() >= start)
                      and (end is None or created_at(o).date() <= end)]
            return self._page(request, sorted_newest_first(orders), "orders", LIST_MAX_PAGE, 10,
                              floats=self.float_counts)

        return self._guarded(run)

    @route("GET", "/v2/selling/orders/active")
    def active_orders(self, request: Request) -> Response | Any:
        def run() -> dict:
            with self.lock:
                orders = list(self.world.active_orders)
                shipments = dict(self.world.shipments)
            orders = self._filter_orders(request, orders, ACTIVE_STATUSES)
            sort = request.arg("sortOrder") or "CREATEDAT"
            if sort not in ("CREATEDAT", "SHIPBYDATE"):
                raise _BadRequest("sortOrder must be CREATEDAT or SHIPBYDATE")
            if sort == "SHIPBYDATE":
                orders.sort(key=lambda o: ((shipments.get(o["orderNumber"]) or {}).get("shipByDate") or "~",
                                           o["orderNumber"]))
            else:
                orders = sorted_newest_first(orders)
            return self._page(request, orders, "orders", LIST_MAX_PAGE, 10, floats=False)

        return self._guarded(run)

    @route("GET", "/v2/selling/orders/{order_number}")
    def order(self, request: Request) -> Response | Any:
        with self.lock:
            order = self.world.order(request.params["order_number"])
            shipment = self.world.shipments.get(request.params["order_number"])
        if order is None:
            return self.error(404, "Order not found")
        detailed = dict(order)
        detailed["shipment"] = shipment
        detailed.setdefault("initiatedShipments", None)
        if detailed.get("payout") is None:  # required (non-null) in DetailedOrder: nothing paid
            detailed["payout"] = {"totalPayout": "0", "salePrice": order["amount"], "totalAdjustments": "0",
                                  "currencyCode": order["currencyCode"] or "USD", "adjustments": []}
        return detailed

    @route("GET", "/v2/selling/listings")
    def listings(self, request: Request) -> Response | Any:
        def run() -> dict:
            statuses = self._csv_arg(request, "listingStatuses")
            if statuses and any(s not in LISTING_STATUSES for s in statuses):
                raise _BadRequest(f"listingStatuses must be among {', '.join(LISTING_STATUSES)}")
            product_ids = self._csv_arg(request, "productIds")
            variant_ids = self._csv_arg(request, "variantIds")
            batch_ids = self._csv_arg(request, "batchIds")
            inventory = self._csv_arg(request, "inventoryTypes")
            start, end = self._date_arg(request, "fromDate"), self._date_arg(request, "toDate")
            with self.lock:
                listings = list(self.world.listings)
            chosen = [
                item for item in listings
                if (not statuses or item["status"] in statuses)
                and (not product_ids or item["product"]["productId"] in product_ids)
                and (not variant_ids or item["variant"]["variantId"] in variant_ids)
                and (not batch_ids or (item["batch"] or {}).get("batchId") in batch_ids)
                and (not inventory or item["inventoryType"] in inventory)
                and (start is None or created_at(item).date() >= start)
                and (end is None or created_at(item).date() <= end)
            ]
            return self._page(request, sorted_newest_first(chosen), "listings", LIST_MAX_PAGE, 1,
                              floats=self.float_counts)

        return self._guarded(run)

    @route("GET", "/v2/selling/listings/{listing_id}")
    def listing(self, request: Request) -> Response | Any:
        listing_id = request.params["listing_id"]
        with self.lock:
            found = next((item for item in self.world.listings if item["listingId"] == listing_id), None)
            extras = self.world.listing_extras.get(listing_id, {})
        if found is None:
            return self.error(404, "Listing not found")
        return {**found, "payout": extras.get("payout"), "lastOperation": extras.get("lastOperation")}


def demo_environment(sim: StockXSimulator) -> dict[str, str]:
    """The SOLEFLIPPER_STOCKX_* variables that point the client and CLI at ``sim`` (demo credentials)."""
    return {
        "SOLEFLIPPER_STOCKX_BASE_URL": sim.api_base_url,
        "SOLEFLIPPER_STOCKX_AUTH_URL": sim.auth_url,
        "SOLEFLIPPER_STOCKX_API_KEY": DEMO_API_KEY,
        "SOLEFLIPPER_STOCKX_CLIENT_ID": DEMO_CLIENT_ID,
        "SOLEFLIPPER_STOCKX_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "SOLEFLIPPER_STOCKX_REDIRECT_URI": DEMO_REDIRECT_URI,
    }


def build_parser(prog: str = "python -m simulators.stockx") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Serve the local StockX simulator until Ctrl-C.")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEMO_PORT, help=f"port (default {DEMO_PORT}; 0 = any free)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed (as `soleflipper demo --seed`)")
    parser.add_argument("--sales", type=int, default=DEFAULT_SALES,
                        help="completed orders (as `soleflipper demo --sales`)")
    parser.add_argument("--no-rate-limit", action="store_true", help="do not enforce 1 request/s")
    parser.add_argument("--daily-quota", type=int, default=25_000)
    parser.add_argument("--token-ttl", type=float, default=43200.0, help="access-token lifetime in seconds")


def simulator_from_args(args: argparse.Namespace) -> StockXSimulator:
    return StockXSimulator(args.port, seed=args.seed, n_sales=args.sales, rate_limit=not args.no_rate_limit,
                           daily_quota=args.daily_quota, token_ttl=args.token_ttl)


def serve(sim: StockXSimulator, out: Any = None, until: Any = None) -> None:
    """Start ``sim``, print its URL and the environment to use it, block until Ctrl-C (or ``until``)."""
    out = out or sys.stdout
    sim.start()
    print("# point soleflipper at this simulator (demo credentials, not secrets):", file=out)
    for name, value in demo_environment(sim).items():
        print(f"export {name}={value}", file=out)
    print("# then: soleflipper stockx login --auto-approve   (the simulator approves at once)", file=out, flush=True)
    run_forever(sim, until=until, out=out)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    serve(simulator_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
