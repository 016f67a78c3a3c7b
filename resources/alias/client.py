"""Alias API client: personal access token, orders and listings pages, cents (api-contracts.md §4.1).

Built on :class:`resources.http_client.ApiClient` (pacing, retries on 429/5xx with Retry-After,
redaction); this module adds the bearer PAT, the gRPC-gateway error shape (numeric ``code``,
``x-request-id``), and each endpoint's own pagination fields:

* orders: ``{orders, pagination: {next_page_token}}`` — the end is an empty, null or absent token;
* listings: ``{listings, pagination: {pagination_token, has_more, total_count}}``.

A token the server repeats would loop forever, so it raises :class:`AliasPagingError`. PATs do not
expire or refresh: a 401 is final (:class:`AliasAuthError`), a 403 means a missing scope
(:class:`AliasScopeError`). Money arrives in cents as strings or numbers; :func:`cents_to_decimal`
turns both into an exact Decimal amount.

Payouts: the API documents no payouts endpoint. An order's payout is its
``price_cents_after_take``, present once the order is completed; it changes the order's
``updated_at``, which is what the incremental sync follows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from resources.http_client import ApiClient, ApiClientError, ApiError, AuthError, error_message

DEFAULT_BASE_URL = "https://api.alias.org/api/v1"
TOKEN_ENV = "SOLEFLIPPER_ALIAS_TOKEN"
BASE_URL_ENV = "SOLEFLIPPER_ALIAS_API_URL"
MAX_PAGE_SIZE = 50
_BODY_KEPT = 4000


def cents_to_decimal(value: Any, field: str = "amount") -> Decimal | None:
    """``"22000"`` or ``22000`` -> ``Decimal("220.00")``; None stays None. Anything else is an error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(f"{field}: expected cents as a string or an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{field}: cents must be whole, got {value!r}")
        value = int(value)
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{field}: cents must be whole, got {value!r}")
    return Decimal(int(text)).scaleb(-2).quantize(Decimal("0.01"))


class AliasApiError(ApiError):
    """An error answer, with the gRPC ``code`` and the ``x-request-id`` for Alias support."""

    def __init__(self, *args: Any, grpc_code: int | None = None, request_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grpc_code = grpc_code
        self.request_id = request_id

    def __str__(self) -> str:
        text = super().__str__()
        return text + (f" [x-request-id {self.request_id}]" if self.request_id else "")


class AliasAuthError(AliasApiError, AuthError):
    """401: the personal access token is wrong or revoked (PATs do not refresh)."""


class AliasScopeError(AliasApiError):
    """403: the personal access token lacks the scope this call needs."""


class AliasPagingError(ApiClientError):
    """The server sent a page token it had already sent: paging would never end."""


class AliasClient(ApiClient):
    """Alias REST client. ``kwargs`` go to :class:`ApiClient` (``sleep``, ``rng``, ``max_attempts``, ...)."""

    def __init__(self, token: str, *, base_url: str = DEFAULT_BASE_URL, requests_per_second: float | None = 2.0,
                 timeout: float = 30.0, **kwargs: Any) -> None:
        if not token or not token.strip():
            raise ValueError(f"an Alias personal access token is required (set {TOKEN_ENV})")
        kwargs["rate_limit_per_second"] = None if kwargs.get("rate_limiter") else requests_per_second
        super().__init__(base_url.rstrip("/"), timeout=timeout, **kwargs)
        self._token = token.strip()
        self.pages_received = 0

    # -- ApiClient hooks -----------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def secrets(self) -> list[str]:
        return [self._token]

    def parse_error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        try:
            data = response.json()
        except ValueError:
            data = None
        grpc_code = data.get("code") if isinstance(data, dict) and isinstance(data.get("code"), int) else None
        message = error_message(response)
        if status == 401:
            cls: type[AliasApiError] = AliasAuthError
            message = f"Alias rejected the personal access token ({message}); create a new one and set {TOKEN_ENV}"
        elif status == 403:
            cls = AliasScopeError
            message = f"the Alias personal access token lacks a scope for this call ({message})"
        else:
            cls = AliasApiError
        return cls(status, message, response.text[:_BODY_KEPT], grpc_code=grpc_code, request_id=request_id)

    # -- endpoints -----------------------------------------------------------------------

    def test(self) -> bool:
        """``GET /test``: True when the token is valid (an invalid one raises AliasAuthError)."""
        return bool((self.get_json("/test") or {}).get("ok"))

    def iter_orders(self, *, page_size: int = MAX_PAGE_SIZE, status: str | None = None
                    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of ``GET /orders`` (optionally one status), in the server's order."""
        params: dict[str, Any] = {"page_size": _checked(page_size)}
        if status:
            params["facet_filters"] = f"status:{status}"
        yield from self._pages("/orders", "orders", params, lambda p: p.get("next_page_token"))

    def iter_listings(self, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Every page of ``GET /listings``."""
        def next_token(pagination: Mapping[str, Any]) -> str | None:
            return pagination.get("pagination_token") if pagination.get("has_more") else None

        yield from self._pages("/listings", "listings", {"page_size": _checked(page_size)}, next_token)

    def _pages(self, path: str, items_key: str, params: dict[str, Any], next_token: Any
               ) -> Iterator[list[dict[str, Any]]]:
        seen: set[str] = set()
        token: str | None = None
        while True:
            query = {**params, **({"pagination_token": token} if token else {})}
            body = self.get_json(path, query)
            if not isinstance(body, dict) or not isinstance(body.get(items_key, []), list):
                raise AliasPagingError(f"GET {path}: expected an object with a {items_key!r} list")
            self.pages_received += 1
            yield list(body.get(items_key) or [])
            pagination = body.get("pagination") or {}
            token = next_token(pagination) if isinstance(pagination, dict) else None
            if not token:
                return
            if token in seen:
                raise AliasPagingError(f"GET {path}: the server repeated a pagination token; stopping")
            seen.add(token)


def _checked(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"Alias page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size
