"""eBay Sell Fulfillment (getOrders) + Sell Finances (getTransactions) client on the shared core.

Contract (docs: /work/shared/reference/api-contracts.md §3):

* A **user** access token (authorization-code grant), never an application token: Fulfillment
  and Finances read the seller's own data. The long-lived refresh token (≈ 18 months) comes from
  ``SOLEFLIPPER_EBAY_REFRESH_TOKEN`` or from :meth:`EbayClient.exchange_code` (``soleflipper ebay
  login``; consent page: :func:`build_consent_url`); access tokens live 2 h (``expires_in: 7200``). Both are stored Fernet-encrypted through
  :class:`~resources.token_store.TokenStore` (provider ``ebay``), so processes share one access
  token instead of each refreshing. The client refreshes when less than 5 minutes are left and
  once more on a 401 (then re-sends once); a rejected refresh (400 ``invalid_grant``) raises
  :class:`~resources.http_client.AuthError` at once: no retry loop.
* Token calls: ``POST <auth>/identity/v1/oauth2/token`` with HTTP Basic ``client_id:secret``.
* Fulfillment on ``api.ebay.com``, Finances on ``apiz.ebay.com`` (two base URLs). Finances calls
  send ``X-EBAY-C-MARKETPLACE-ID``; its 204 No Content (nothing matches) is an empty page.
* Errors: ``{"errors": [{errorId, domain, message, longMessage}]}`` → ApiError with
  ``"<message> (errorId N, DOMAIN)"``; 429 and 5xx are retried by the core.
* Paging: ``limit``/``offset``; the walk stops when a page is empty, ``offset + len(page)``
  reaches ``total``, or there is no ``next``. Items are de-duplicated by natural key within a walk.
* Filters use eBay's bracket syntax, percent-encoded by httpx: ``lastmodifieddate:[a..b]``.
* EU/UK sellers: with ``signing_key`` and ``signature_key_jwe`` every Finances request carries
  eBay's digital-signature headers (:mod:`resources.ebay.signature`), signed again on each attempt.

Records are returned exactly as received (amounts stay strings): the loader validates.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from resources.ebay.signature import RequestSigner
from resources.http_client import ApiClient, ApiClientError, ApiError, AuthError, MalformedResponse
from resources.token_store import TokenStore

log = logging.getLogger(__name__)

PROVIDER = "ebay"
DEFAULT_API_URL = "https://api.ebay.com"
DEFAULT_FINANCES_URL = "https://apiz.ebay.com"
DEFAULT_AUTH_URL = "https://api.ebay.com"
DEFAULT_CONSENT_URL = "https://auth.ebay.com/oauth2/authorize"
DEFAULT_MARKETPLACE_ID = "EBAY_DE"
SCOPES = ("https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
          "https://api.ebay.com/oauth/api_scope/sell.finances")
ORDERS_PATH = "/sell/fulfillment/v1/order"
TRANSACTIONS_PATH = "/sell/finances/v1/transaction"
TOKEN_PATH = "/identity/v1/oauth2/token"
FINANCES_PREFIX = "/sell/finances/"
ORDERS_MAX_LIMIT = 200
FINANCES_MAX_LIMIT = 1000
REFRESH_MARGIN_SECONDS = 300.0
MAX_PAGES = 10_000
LOGIN_HINT = ("run `soleflipper ebay login`, or set SOLEFLIPPER_EBAY_REFRESH_TOKEN to a valid user refresh token "
              "(eBay developer portal, User Tokens, sell.fulfillment + sell.finances scopes)")


def ebay_time(moment: datetime) -> str:
    """eBay's filter timestamp: UTC with milliseconds and Z (``2025-06-01T00:00:00.000Z``)."""
    if moment.tzinfo is None:
        raise ValueError("eBay filter times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.astimezone(UTC).microsecond // 1000:03d}Z"


def date_range(name: str, start: datetime | None, end: datetime | None = None) -> str:
    """``name:[start..end]`` (either end open)."""
    return f"{name}:[{ebay_time(start) if start else ''}..{ebay_time(end) if end else ''}]"


def build_consent_url(consent_url: str, client_id: str, runame: str, state: str) -> str:
    """eBay's consent page for the authorization-code grant (``redirect_uri`` is the RuName, not a URL)."""
    if not runame:
        raise ValueError("no RuName configured (SOLEFLIPPER_EBAY_RUNAME): the eBay Redirect URL name of "
                         "your application (developer portal, User Tokens, 'Get a Token from eBay via Your Application')")
    params = {"client_id": client_id, "redirect_uri": runame, "response_type": "code",
              "scope": " ".join(SCOPES), "state": state}
    return f"{consent_url}?{urlencode(params, quote_via=quote)}"


@dataclass(frozen=True)
class TokenStatus:
    """What may be shown about stored tokens: whether and until when, never a value."""

    stored: bool
    access_expires_at: datetime | None = None
    has_refresh_token: bool = False
    refresh_expires_at: datetime | None = None


def _moment(epoch: Any) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if isinstance(epoch, int | float) and not isinstance(epoch, bool) else None


def describe_tokens(tokens: Mapping[str, Any] | None) -> TokenStatus:
    """The shareable facts of a stored token record (as :class:`TokenStore` returns it)."""
    if not tokens:
        return TokenStatus(stored=False)
    return TokenStatus(stored=True, access_expires_at=_moment(tokens.get("expires_at")),
                       has_refresh_token=bool(tokens.get("refresh_token")),
                       refresh_expires_at=_moment(tokens.get("refresh_expires_at")))


class EbayClient(ApiClient):
    """eBay Sell APIs (see module doc). Counters: ``calls_made``, ``retries_made``, ``refreshes``,
    ``pages_fetched``, ``duplicates_skipped``. ``clock`` is wall-clock epoch seconds (token expiry)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        refresh_token: str = "",
        api_url: str = DEFAULT_API_URL,
        finances_url: str = DEFAULT_FINANCES_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        marketplace_id: str = DEFAULT_MARKETPLACE_ID,
        redirect_uri: str = "",
        signing_key: str = "",
        signature_key_jwe: str = "",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        requests_per_second: float | None = 5.0,
        **core: Any,
    ) -> None:
        missing = [n for n, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
        if missing:
            raise ValueError(f"eBay client needs {', '.join(missing)}")
        signer = None
        if signing_key or signature_key_jwe:  # checked before the HTTP client exists: nothing to close
            if not (signing_key and signature_key_jwe):
                raise ValueError("eBay request signing needs both the signing key and its JWE "
                                 f"({'the JWE' if signing_key else 'the private key'} is missing)")
            signer = RequestSigner(signing_key, signature_key_jwe, clock)
        super().__init__(api_url.rstrip("/"), rate_limit_per_second=requests_per_second, sleep=sleep,
                         headers={"Accept": "application/json"}, **core)
        self.client_id = client_id
        self._client_secret = client_secret
        self._env_refresh = refresh_token
        self.finances_url = finances_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.marketplace_id = marketplace_id
        self.redirect_uri = redirect_uri
        self.token_store = token_store
        self._clock = clock
        self._tokens: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self.refreshes = 0
        self.pages_fetched = 0
        self.duplicates_skipped = 0
        self._signing_key = signing_key
        self._signer = signer
        if signer is not None:
            self._http.event_hooks["request"].append(self._sign)

    @property
    def signs_requests(self) -> bool:
        return self._signer is not None

    def _sign(self, request: httpx.Request) -> None:
        """httpx request hook: the final method, path, host and body are known only here."""
        if self._signer is not None and request.url.path.startswith(FINANCES_PREFIX):
            request.headers.update(self._signer.headers(request.method, request.url.path,
                                                        request.url.netloc.decode("ascii"), request.content))

    # -- ApiClient hooks ------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        with self._lock:
            tokens = self._tokens or self.token_store.load(PROVIDER) or {}
            self._tokens = tokens
            if not tokens.get("access_token") or tokens.get("expires_at", 0) - self._clock() < REFRESH_MARGIN_SECONDS:
                tokens = self._refresh("the access token is missing or expires within 5 minutes")
            return {"Authorization": f"Bearer {tokens['access_token']}"}

    def on_unauthorized(self) -> bool:
        with self._lock:
            self._refresh("the API answered 401")
        return True

    def parse_error(self, response: httpx.Response) -> ApiError:
        data = response.json()
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            text = first.get("longMessage") or first.get("message") or "error"
            message = f"{text} (errorId {first.get('errorId')}, {first.get('domain')})"
        elif isinstance(data, dict) and data.get("error"):
            message = f"{data['error']}: {data.get('error_description', '')}".strip()
        else:
            return ApiClient.parse_error(self, response)
        return ApiError(response.status_code, message, response.text[:4000])

    def secrets(self) -> Iterable[str]:
        tokens = self._tokens or {}
        # the key as configured, and each long line of it (a PEM's base64 body, wherever it is quoted)
        signing = [self._signing_key, *(p for p in self._signing_key.split() if len(p) >= 16)]
        return [s for s in (self._client_secret, self._env_refresh, tokens.get("access_token"),
                            tokens.get("refresh_token"), *signing) if isinstance(s, str) and s]

    # -- OAuth ----------------------------------------------------------------------------------

    def _basic(self) -> dict[str, str]:
        pair = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}

    def _token_call(self, form: Mapping[str, str], idempotent: bool) -> dict[str, Any]:
        data = self.request_json("POST", f"{self.auth_url}{TOKEN_PATH}", data=dict(form), headers=self._basic(),
                                 authenticate=False, idempotent=idempotent)
        if not isinstance(data, dict) or not data.get("access_token"):
            raise ApiClientError("the eBay token response has no access_token")
        return data

    def exchange_code(self, code: str) -> TokenStatus:
        """Trade a consent-page authorization code for tokens and store them (codes are single-use)."""
        try:
            data = self._token_call({"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": self.redirect_uri}, idempotent=False)
        except ApiError as exc:
            if exc.status in (400, 401):
                raise AuthError(exc.status, f"eBay rejected the authorization code ({exc.message})",
                                method="POST", url_path=TOKEN_PATH) from None
            raise
        with self._lock:
            return describe_tokens(self._store(data, data.get("refresh_token")))

    def _refresh(self, reason: str) -> dict[str, Any]:
        stored = self.token_store.load(PROVIDER) or {}
        current = self._tokens or {}
        if (stored.get("access_token") and stored["access_token"] != current.get("access_token")
                and stored.get("expires_at", 0) - self._clock() >= REFRESH_MARGIN_SECONDS):
            self._tokens = stored  # another process refreshed already
            return stored
        refresh_token = self._env_refresh or stored.get("refresh_token")
        if not refresh_token:
            raise AuthError(401, f"no eBay refresh token: {LOGIN_HINT}")
        log.info("eBay: refreshing the access token (%s)", reason)
        try:
            data = self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token,
                                     "scope": " ".join(SCOPES)}, idempotent=True)
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(exc.status, f"eBay rejected the refresh token ({exc.message}): {LOGIN_HINT}",
                                method="POST", url_path=TOKEN_PATH) from None
            raise
        self.refreshes += 1
        return self._store(data, refresh_token, previous=stored)

    def _store(self, data: Mapping[str, Any], refresh_token: str | None,
               previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Save a token response; ``previous``: the stored record it replaces (keeps the refresh
        token's expiry, which only the code grant reports)."""
        try:
            lifetime = float(data.get("expires_in") or 7200)
        except (TypeError, ValueError):
            lifetime = 7200.0
        tokens = {"access_token": data["access_token"], "refresh_token": refresh_token,
                  "expires_at": self._clock() + lifetime, "token_type": data.get("token_type")}
        # Only the code grant says how long the refresh token lives (≈ 18 months); keep it across refreshes.
        if isinstance(data.get("refresh_token_expires_in"), int | float):
            tokens["refresh_expires_at"] = self._clock() + float(data["refresh_token_expires_in"])
        else:
            previous = previous or {}
            if previous.get("refresh_token") == refresh_token and previous.get("refresh_expires_at"):
                tokens["refresh_expires_at"] = previous["refresh_expires_at"]
        self.token_store.save(PROVIDER, tokens)
        self._tokens = tokens
        return tokens

    # -- Fulfillment and Finances ---------------------------------------------------------------

    def iter_orders(self, modified_from: datetime, modified_to: datetime | None = None,
                    limit: int = ORDERS_MAX_LIMIT) -> Iterator[list[dict[str, Any]]]:
        """Orders last modified in [from, to], one list per page (getOrders, lastmodifieddate)."""
        if not isinstance(limit, int) or not 1 <= limit <= ORDERS_MAX_LIMIT:
            raise ValueError(f"limit must be an integer from 1 to {ORDERS_MAX_LIMIT}, not {limit!r}")
        params = {"filter": date_range("lastmodifieddate", modified_from, modified_to)}
        yield from self._pages(ORDERS_PATH, params, "orders", ("orderId",), limit)

    def iter_transactions(self, start: datetime, end: datetime, limit: int = FINANCES_MAX_LIMIT,
                          transaction_type: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Finances transactions dated in [start, end] (all types unless one is named), one list per page."""
        if not isinstance(limit, int) or not 1 <= limit <= FINANCES_MAX_LIMIT:
            raise ValueError(f"limit must be an integer from 1 to {FINANCES_MAX_LIMIT}, not {limit!r}")
        criteria = [date_range("transactionDate", start, end)]
        if transaction_type:
            criteria.append(f"transactionType:{{{transaction_type}}}")
        yield from self._pages(f"{self.finances_url}{TRANSACTIONS_PATH}", {"filter": ",".join(criteria)},
                               "transactions", ("transactionId", "transactionType"), limit,
                               headers={"X-EBAY-C-MARKETPLACE-ID": self.marketplace_id})

    def _pages(self, path: str, params: Mapping[str, Any], items_key: str, natural_key: tuple[str, ...],
               limit: int, headers: Mapping[str, str] | None = None) -> Iterator[list[dict[str, Any]]]:
        seen: set[tuple[Any, ...]] = set()
        where = path.split("?", 1)[0]
        offset = 0
        for _ in range(MAX_PAGES):
            body = self.get_json(path, params={**params, "limit": limit, "offset": offset}, headers=headers)
            if body is None:  # 204: nothing matches
                return
            if not isinstance(body, dict) or not isinstance(body.get(items_key, []), list):
                raise MalformedResponse(f"expected an object with a {items_key!r} list", status=200,
                                        method="GET", url_path=where)
            self.pages_fetched += 1
            items = body.get(items_key) or []
            fresh = []
            for item in items:
                key = tuple(item.get(k) for k in natural_key) if isinstance(item, dict) else None
                if key is not None and key in seen:
                    self.duplicates_skipped += 1
                    continue
                if key is not None:
                    seen.add(key)
                fresh.append(item)
            if fresh:
                yield fresh
            total = body.get("total")
            offset += len(items)
            if not items or "next" not in body or (isinstance(total, int) and offset >= total):
                return
        raise ApiClientError(f"GET {where}: more than {MAX_PAGES} pages; giving up")
