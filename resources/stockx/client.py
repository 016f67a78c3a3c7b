"""StockX Public API v2 client: OAuth tokens, the daily budget, pacing and paging on the shared core.

Contract (docs: /work/shared/reference/api-contracts.md §1; StockX's OpenAPI 3 document):

* Every API call sends ``Authorization: Bearer <access token>`` **and** ``x-api-key``.
* Tokens come from the OAuth2 authorization-code flow on ``accounts.stockx.com`` (Auth0):
  :meth:`StockXClient.authorize_url` → the user signs in → :meth:`StockXClient.exchange_code`.
  They are stored Fernet-encrypted through :class:`~resources.token_store.TokenStore`, so every
  process shares them. Access tokens live 12 h (``expires_in``); the client refreshes when less
  than 5 minutes are left, and once more if the API still answers 401 (then re-sends once). A
  refresh response has no new refresh token: the old one is kept. A rejected refresh raises
  :class:`~resources.http_client.AuthError` telling the user to run ``soleflipper stockx login``.
* 1 request/s (a :class:`~resources.http_client.RateLimiter`, shareable) and 25,000 requests per
  UTC day (:class:`~resources.api_budget.DailyBudget` in PostgreSQL: one attempt = one unit, spent
  before the attempt is sent). Retries, Retry-After and backoff are the shared core's.
* Errors: StockX's ``{statusCode, message}`` and the gateway's ``{message}`` both become
  :class:`~resources.http_client.ApiError` with that message; behaviour branches on the HTTP
  status only, never on the body.
* Pages: ``pageNumber``/``pageSize`` (always sent: the server defaults are 1 or 10) until
  ``hasNextPage`` is false or a page is empty. Items are de-duplicated by natural key within one
  walk; if the total ``count`` changed while paging (an order arrived and shifted the pages), the
  walk is repeated once more to pick up what moved, yielding only items not seen yet.

Methods return the JSON exactly as received (amounts stay strings, unknown fields stay): the loader
validates. :func:`decimal_amount` turns an amount string into a Decimal for code needing numbers.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from resources.api_budget import DailyBudget
from resources.http_client import (
    ApiClient,
    ApiClientError,
    ApiError,
    AuthError,
    MalformedResponse,
    RateLimiter,
    error_message,
)
from resources.token_store import TokenStore

log = logging.getLogger(__name__)

PROVIDER = "stockx"
DEFAULT_BASE_URL = "https://api.stockx.com/v2"
DEFAULT_AUTH_URL = "https://accounts.stockx.com"
AUDIENCE = "gateway.stockx.com"
SCOPE = "offline_access openid"
DAILY_LIMIT = 25_000
REFRESH_MARGIN_SECONDS = 300.0  # refresh when fewer than 5 minutes of the access token are left
LOGIN_HINT = "run `soleflipper stockx login` to sign in to StockX again"

SEARCH_MAX_PAGE_SIZE = 50
LIST_MAX_PAGE_SIZE = 100
MAX_PAGES = 10_000  # a server that never says "last page" must not loop forever
MAX_REWALKS = 2

_LIMITERS: dict[tuple[str, float], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_rate_limiter(key: str, per_second: float) -> RateLimiter:
    """One RateLimiter per (key, rate) in this process, so all clients built for it share the pace."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get((key, per_second))
        if limiter is None:
            limiter = _LIMITERS[(key, per_second)] = RateLimiter(per_second)
        return limiter


def decimal_amount(value: Any) -> Decimal | None:
    """An amount as StockX sends it (``"48.94"``, ``"-5"``, rarely a number) as a Decimal; None if null.

    Raises ValueError for text that is not a finite number (never guesses).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    text = str(value).strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


@dataclass(frozen=True)
class TokenStatus:
    """What ``soleflipper stockx status`` may show: no token values."""

    stored: bool
    expires_at: datetime | None = None
    has_refresh_token: bool = False
    scope: str | None = None

    def expires_in(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at.timestamp() - now


def build_authorize_url(auth_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The StockX sign-in address (scope offline_access openid, audience gateway.stockx.com)."""
    if not redirect_uri:
        raise ValueError("no redirect URI configured (SOLEFLIPPER_STOCKX_REDIRECT_URI): "
                         "use the callback URL registered for your StockX application")
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "audience": AUDIENCE,
        "state": state,
    }
    return f"{auth_url.rstrip('/')}/authorize?{urlencode(params, quote_via=quote)}"


def describe_tokens(tokens: Mapping[str, Any] | None) -> TokenStatus:
    """The shareable facts about a stored token record (as :class:`TokenStore` returns it)."""
    if not tokens:
        return TokenStatus(stored=False)
    expires = tokens.get("expires_at")
    return TokenStatus(
        stored=True,
        expires_at=datetime.fromtimestamp(expires, UTC) if isinstance(expires, int | float) else None,
        has_refresh_token=bool(tokens.get("refresh_token")),
        scope=tokens.get("scope"),
    )


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT access token, if it is one (no signature check: a hint only)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _number(value: Any) -> float | None:
    """``count`` and friends arrive as 57 or 57.0 (declared ``number <double>``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _check_page_size(page_size: int, maximum: int) -> None:
    if not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ValueError(f"page_size must be an integer from 1 to {maximum}, not {page_size!r}")


class StockXClient(ApiClient):
    """The StockX Public API v2 (see module doc). Close it (or use ``with``) when done.

    ``clock`` is wall-clock epoch seconds (token expiry); ``monotonic`` and ``sleep`` drive the
    rate limiter and backoff. Counters for asset metadata: ``calls_made``, ``retries_made``
    (from the core), ``refreshes``, ``pages_fetched``, ``duplicates_skipped``, and
    ``budget.remaining()``.
    """

    def __init__(
        self,
        *,
        api_key: str,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        budget: DailyBudget,
        redirect_uri: str = "",
        base_url: str = DEFAULT_BASE_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        requests_per_second: float | None = 1.0,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_rewalks: int = MAX_REWALKS,
        **core: Any,
    ) -> None:
        missing = [name for name, value in (("api_key", api_key), ("client_id", client_id),
                                            ("client_secret", client_secret)) if not value]
        if missing:
            raise ValueError(f"StockX client needs {', '.join(missing)}")
        if rate_limiter is None and requests_per_second is not None:
            rate_limiter = RateLimiter(requests_per_second, clock=monotonic, sleep=sleep)
        super().__init__(
            base_url.rstrip("/"),
            rate_limit_per_second=None,
            rate_limiter=rate_limiter,
            sleep=sleep,
            clock=monotonic,
            timeout=timeout,
            max_attempts=max_attempts,
            headers={"Accept": "application/json"},
            **core,
        )
        self.api_key = api_key
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.auth_url = auth_url.rstrip("/")
        self.token_store = token_store
        self.budget = budget
        self.max_rewalks = max_rewalks
        self._clock = clock
        self._tokens: dict[str, Any] | None = None
        self._token_lock = threading.RLock()
        self.refreshes = 0
        self.pages_fetched = 0
        self.duplicates_skipped = 0

    # -- ApiClient hooks ----------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        """Bearer (refreshed first if it expires within 5 minutes) and x-api-key; spends 1 of the budget."""
        token = self._access_token()
        self.budget.consume()
        return {"Authorization": f"Bearer {token}", "x-api-key": self.api_key}

    def on_unauthorized(self) -> bool:
        """A 401 although the token looked valid: refresh once (AuthError if refused), then re-send."""
        with self._token_lock:
            self._refresh(reason="the API answered 401")
        return True

    def parse_error(self, response: httpx.Response) -> ApiError:
        """``{statusCode, message}`` (StockX) or ``{message}`` (gateway) → ApiError(HTTP status, message).

        The body's own ``statusCode`` is ignored: only the HTTP status decides what happens.
        """
        return ApiError(response.status_code, error_message(response), response.text[:4000])

    def secrets(self) -> Iterable[str]:
        tokens = self._tokens or {}
        return [s for s in (self._client_secret, self.api_key, tokens.get("access_token"),
                            tokens.get("refresh_token")) if isinstance(s, str) and s]

    def close(self) -> None:
        super().close()
        self.budget.close()

    # -- OAuth --------------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.auth_url}/oauth/token"

    def authorize_url(self, state: str) -> str:
        """Where the user signs in once; StockX redirects to ``redirect_uri?code=...&state=...``."""
        return build_authorize_url(self.auth_url, self.client_id, self.redirect_uri, state)

    def exchange_code(self, code: str) -> TokenStatus:
        """Trade an authorization code for tokens and store them; returns their status (no secrets)."""
        if not self.redirect_uri:
            raise ValueError("no redirect URI configured (SOLEFLIPPER_STOCKX_REDIRECT_URI)")
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
            "redirect_uri": self.redirect_uri,
        }
        with self._token_lock:
            try:
                # a code is single-use: never re-sent after the server may have consumed it
                data = self.request_json("POST", self.token_url, data=form, authenticate=False,
                                         idempotent=False)
            except ApiError as exc:
                if exc.status in (400, 401, 403):
                    raise AuthError(
                        exc.status,
                        f"StockX rejected the authorization code ({redact_code(exc.message, code)}); "
                        "codes are single-use and expire within minutes: run `soleflipper stockx login` again",
                        method="POST",
                        url_path=exc.url_path,
                    ) from None
                raise
            tokens = self._token_record(data, previous_refresh=None)
            if not tokens.get("refresh_token"):
                log.warning("StockX returned no refresh token (was scope offline_access granted?): "
                            "unattended runs will stop when the access token expires")
            self.token_store.save(PROVIDER, tokens)
            self._tokens = tokens
        log.info("StockX sign-in stored (access token valid until %s)", _when(tokens.get("expires_at")))
        return describe_tokens(tokens)

    def token_status(self) -> TokenStatus:
        """Whether tokens are stored and until when the access token is valid (decrypts; no values)."""
        return describe_tokens(self.token_store.load(PROVIDER))

    def _access_token(self) -> str:
        with self._token_lock:
            tokens = self._current_tokens()
            if self._expiring(tokens):
                tokens = self._refresh(reason="the access token expires within 5 minutes")
            return tokens["access_token"]

    def _current_tokens(self) -> dict[str, Any]:
        if self._tokens is None:
            stored = self.token_store.load(PROVIDER)
            if not stored or not stored.get("access_token"):
                raise AuthError(401, f"no StockX tokens are stored: {LOGIN_HINT}")
            self._tokens = stored
        return self._tokens

    def _expiring(self, tokens: Mapping[str, Any]) -> bool:
        expires = tokens.get("expires_at")
        return isinstance(expires, int | float) and expires - self._clock() < REFRESH_MARGIN_SECONDS

    def _refresh(self, reason: str) -> dict[str, Any]:
        """New access token from the refresh token (or a newer one another process already stored)."""
        current = self._tokens
        stored = self.token_store.load(PROVIDER)
        if (
            stored
            and stored.get("access_token")
            and (current is None or stored["access_token"] != current.get("access_token"))
            and not self._expiring(stored)
        ):
            log.info("StockX: using the access token another process refreshed")
            self._tokens = stored
            return stored
        refresh_token = (stored or current or {}).get("refresh_token")
        if not refresh_token:
            raise AuthError(401, f"the StockX access token cannot be renewed (no refresh token stored): {LOGIN_HINT}")
        log.info("StockX: refreshing the access token (%s)", reason)
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "audience": AUDIENCE,
            "refresh_token": refresh_token,
        }
        try:
            # a refresh changes nothing server-side that a repeat would break: safe to retry on 5xx
            data = self.request_json("POST", self.token_url, data=form, authenticate=False,
                                     idempotent=True)
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(
                    exc.status,
                    f"StockX rejected the stored refresh token ({exc.message}): {LOGIN_HINT}",
                    method="POST",
                    url_path=exc.url_path,
                ) from None
            raise
        tokens = self._token_record(data, previous_refresh=refresh_token)
        self.token_store.save(PROVIDER, tokens)
        self._tokens = tokens
        self.refreshes += 1
        log.info("StockX access token refreshed (valid until %s)", _when(tokens.get("expires_at")))
        return tokens

    def _token_record(self, data: Any, previous_refresh: str | None) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise ApiClientError("the StockX token response has no access_token")
        now = self._clock()
        access = data["access_token"]
        expires_at: float | None = None
        try:
            if data.get("expires_in") is not None:
                expires_at = now + float(data["expires_in"])
        except (TypeError, ValueError):
            expires_at = None
        if expires_at is None:  # never assume a lifetime: the JWT's exp, else refresh on 401 only
            expires_at = _jwt_expiry(access)
        return {
            "access_token": access,
            "refresh_token": data.get("refresh_token") or previous_refresh,
            "token_type": data.get("token_type", "Bearer"),
            "scope": data.get("scope"),
            "expires_at": expires_at,
            "obtained_at": now,
        }

    # -- catalog ------------------------------------------------------------------------------

    def search_catalog(self, query: str, page_size: int = SEARCH_MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Products matching a keyword, GTIN or style id, across all pages."""
        if not 1 <= len(query) <= 100:
            raise ValueError("query must be 1 to 100 characters")
        for page in self._pages("/catalog/search", {"query": query}, "products", "productId",
                                page_size, SEARCH_MAX_PAGE_SIZE):
            yield from page

    def get_product(self, product_id: str) -> dict[str, Any]:
        return self.get_json(f"/catalog/products/{_seg(product_id)}")

    def get_variants(self, product_id: str) -> list[dict[str, Any]]:
        """All variants (sizes) of a product: StockX answers a bare JSON array."""
        return self.get_json(f"/catalog/products/{_seg(product_id)}/variants")

    def get_variant_by_gtin(self, gtin: str) -> dict[str, Any] | None:
        """The variant with this barcode, or None if unknown (or the route is not offered: 404)."""
        try:
            return self.get_json(f"/catalog/products/variants/gtins/{_seg(gtin)}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def get_product_market_data(self, product_id: str, currency: str) -> list[dict[str, Any]]:
        """Market data for every variant of a product (bare array), amounts as strings or null."""
        return self.get_json(f"/catalog/products/{_seg(product_id)}/market-data",
                             params={"currencyCode": currency})

    def get_variant_market_data(self, product_id: str, variant_id: str, currency: str) -> dict[str, Any]:
        return self.get_json(
            f"/catalog/products/{_seg(product_id)}/variants/{_seg(variant_id)}/market-data",
            params={"currencyCode": currency},
        )

    # -- selling ------------------------------------------------------------------------------

    def iter_order_history(
        self,
        from_date: date,
        to_date: date,
        page_size: int = LIST_MAX_PAGE_SIZE,
        order_status: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Historical orders created from ``from_date`` to ``to_date`` (UTC dates), one list per page."""
        if to_date < from_date:
            raise ValueError("to_date is before from_date")
        params: dict[str, Any] = {"fromDate": from_date.isoformat(), "toDate": to_date.isoformat()}
        if order_status:
            params["orderStatus"] = order_status
        yield from self._pages("/selling/orders/history", params, "orders", "orderNumber",
                               page_size, LIST_MAX_PAGE_SIZE)

    def iter_active_orders(self, page_size: int = LIST_MAX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Orders not yet authenticated and paid out, one list per page."""
        yield from self._pages("/selling/orders/active", {}, "orders", "orderNumber",
                               page_size, LIST_MAX_PAGE_SIZE)

    def iter_listings(
        self, page_size: int = LIST_MAX_PAGE_SIZE, statuses: Iterable[str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The seller's listings (asks), optionally only some statuses, one list per page."""
        params: dict[str, Any] = {}
        if statuses:
            params["listingStatuses"] = ",".join(statuses)
        yield from self._pages("/selling/listings", params, "listings", "listingId",
                               page_size, LIST_MAX_PAGE_SIZE)

    def get_order(self, order_number: str) -> dict[str, Any]:
        return self.get_json(f"/selling/orders/{_seg(order_number)}")

    # -- paging -------------------------------------------------------------------------------

    def _pages(
        self,
        path: str,
        params: Mapping[str, Any],
        items_key: str,
        natural_key: str,
        page_size: int,
        max_page_size: int,
    ) -> Iterator[list[dict[str, Any]]]:
        _check_page_size(page_size, max_page_size)
        seen: set[Any] = set()
        for walk in range(self.max_rewalks + 1):
            counts: set[float] = set()
            for items, count in self._walk(path, params, items_key, page_size):
                if count is not None:
                    counts.add(count)
                fresh = []
                for item in items:
                    key = item.get(natural_key) if isinstance(item, dict) else None
                    if key is not None and key in seen:
                        self.duplicates_skipped += 1
                        continue
                    if key is not None:
                        seen.add(key)
                    fresh.append(item)
                if fresh:
                    yield fresh
            if len(counts) <= 1:
                return
            if walk < self.max_rewalks:
                log.info("GET %s: the total changed while paging (%s); walking again for moved items",
                         path, " -> ".join(f"{c:g}" for c in sorted(counts)))
        log.warning("GET %s: still changing after %d extra walks; the next run picks up the rest",
                    path, self.max_rewalks)

    def _walk(
        self, path: str, params: Mapping[str, Any], items_key: str, page_size: int
    ) -> Iterator[tuple[list[Any], float | None]]:
        page = 1
        while True:
            body = self.get_json(path, params={**params, "pageNumber": page, "pageSize": page_size})
            if not isinstance(body, dict) or not isinstance(body.get(items_key), list):
                raise MalformedResponse(f"expected an object with a {items_key!r} list",
                                        status=200, method="GET", url_path=path)
            self.pages_fetched += 1
            items = body[items_key]
            yield items, _number(body.get("count"))
            if not items or body.get("hasNextPage") is not True:
                return
            page += 1
            if page > MAX_PAGES:
                raise ApiClientError(f"GET {path}: more than {MAX_PAGES} pages; giving up")


def _seg(value: str) -> str:
    """One URL path segment (ids and order numbers are opaque)."""
    if not value:
        raise ValueError("an id must not be empty")
    return quote(str(value), safe="")


def redact_code(text: str, code: str) -> str:
    return text.replace(code, "***") if code else text


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "unknown (refreshed on the first 401)"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
