"""A local Alias (GOAT's seller app) API: personal access token, orders, listings (api-contracts.md §6.4).

Built on :mod:`simulators.base` (fault injection, request log, admin endpoints), so it has the same
fault switches as the other fakes. What it adds:

* ``Authorization: Bearer <PAT>``; an unknown token is 401, a token without the scope a route
  needs is 403 (``scopes``); ``GET /api/v1/test`` answers ``{"ok": true}``;
* errors in the gRPC-gateway shape ``{"code": <number>, "message", "details": []}``, and an
  ``x-request-id`` header on every answer (injected faults included);
* ``GET /api/v1/orders`` (``page_size`` 1..50, default 25; larger is a 400) newest ``updated_at``
  first — the order the incremental sync relies on; an assumption, the docs do not say —
  ``{orders, pagination: {next_page_token}}``, the last page's token empty, absent or null
  (``end_marker``); ``facet_filters=status:<STATUS>`` filters by status;
* ``GET /api/v1/listings``: ``{listings, pagination: {pagination_token, has_more, total_count}}``;
* ``complete_order()``: an open order is paid out later (status, take, ``updated_at``), as
  Alias does days after the sale.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import datetime
from typing import Any

from simulators.alias_data import DEFAULT_LISTINGS, DEFAULT_ORDERS, DEFAULT_SEED, AliasWorld, build_world, iso
from simulators.base import Request, Response, Simulator, route

DEFAULT_TOKEN = "goatapi_simulated_0000000000000000"
ALL_SCOPES = frozenset({"orders:read", "listings:read"})
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 25
END_MARKERS = ("empty", "absent", "null")
# HTTP status -> gRPC code, as grpc-gateway maps them.
GRPC_CODES = {400: 3, 401: 16, 402: 9, 403: 7, 404: 5, 409: 10, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        return None


class AliasSimulator(Simulator):
    name = "alias"

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = DEFAULT_TOKEN,
        scopes: frozenset[str] = ALL_SCOPES,
        seed: int = DEFAULT_SEED,
        n_orders: int = DEFAULT_ORDERS,
        n_listings: int = DEFAULT_LISTINGS,
        end_marker: str = "empty",
    ) -> None:
        super().__init__(port)
        if end_marker not in END_MARKERS:
            raise ValueError(f"end_marker must be one of {END_MARKERS}")
        self.token = token
        self.scopes = scopes
        self.seed, self.n_orders, self.n_listings = seed, n_orders, n_listings
        self.end_marker = end_marker
        self._ids = itertools.count(1)
        self.world: AliasWorld = build_world(seed, n_orders, n_listings)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.world = build_world(self.seed, self.n_orders, self.n_listings)

    # -- errors and headers ------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"code": GRPC_CODES.get(status, 2), "message": message, "details": []}

    def error(self, status: int, message: str | None = None, headers: Any = None) -> Response:
        response = super().error(status, message, headers)
        response.headers.setdefault("x-request-id", self._request_id())
        return response

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        response.headers.setdefault("x-request-id", self._request_id())
        return response

    def _request_id(self) -> str:
        return f"req-{next(self._ids):08d}"

    def _denied(self, request: Request, scope: str | None) -> Response | None:
        if request.bearer_token != self.token:
            return self.error(401, "missing or invalid personal access token")
        if scope is not None and scope not in self.scopes:
            return self.error(403, f"personal access token lacks the scope {scope}")
        return None

    def _page(self, request: Request, scope: str) -> tuple[int, int] | Response:
        """(page size, first index) of a paged list request, or the error it gets (auth first)."""
        denied = self._denied(request, scope)
        if denied:
            return denied
        text = request.arg("page_size")
        try:
            size = DEFAULT_PAGE_SIZE if text in (None, "") else int(text)
        except ValueError:
            return self.error(400, f"page_size must be an integer, got {text!r}")
        if not 1 <= size <= MAX_PAGE_SIZE:
            return self.error(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        start = _offset(request.arg("pagination_token"))
        if start is None:
            return self.error(400, "invalid pagination_token")
        return size, start

    # -- data changes (tests, demo) ----------------------------------------------------------

    def complete_order(self, order_id: str, after_take_cents: int | str, at: datetime) -> dict[str, Any]:
        """Alias pays an open order out: completed, with its take, ``updated_at`` = ``at``."""
        with self.lock:
            order = next(o for o in self.world.orders if o["id"] == order_id)
            order.update(status="ORDER_STATUS_COMPLETED", fulfillment_status="FULFILLMENT_STATUS_DELIVERED",
                         price_cents_after_take=after_take_cents, updated_at=iso(at))
            return dict(order)

    # -- routes ------------------------------------------------------------------------------

    @route("GET", "/api/v1/test")
    def test(self, request: Request) -> Response | dict[str, Any]:
        return self._denied(request, None) or {"ok": True}

    @route("GET", "/api/v1/orders")
    def orders(self, request: Request) -> Response | dict[str, Any]:
        page = self._page(request, "orders:read")
        if isinstance(page, Response):
            return page
        size, start = page
        facet = request.arg("facet_filters") or ""
        with self.lock:
            orders = sorted(self.world.orders, key=lambda o: o["updated_at"], reverse=True)
        if facet:
            kind, _, value = facet.partition(":")
            if kind != "status":
                return self.error(400, f"unsupported facet filter {facet!r}")
            orders = [o for o in orders if o["status"] == value]
        page = orders[start:start + size]
        pagination: dict[str, Any] = {}
        if start + size < len(orders):
            pagination["next_page_token"] = _token(start + size)
        elif self.end_marker != "absent":
            pagination["next_page_token"] = "" if self.end_marker == "empty" else None
        return {"orders": [dict(o) for o in page], "pagination": pagination}

    @route("GET", "/api/v1/orders/{order_id}")
    def order(self, request: Request) -> Response | dict[str, Any]:
        denied = self._denied(request, "orders:read")
        if denied:
            return denied
        with self.lock:
            found = [dict(o) for o in self.world.orders if o["id"] == request.params["order_id"]]
        return found[0] if found else self.error(404, "order not found")

    @route("GET", "/api/v1/listings")
    def listings(self, request: Request) -> Response | dict[str, Any]:
        page = self._page(request, "listings:read")
        if isinstance(page, Response):
            return page
        size, start = page
        with self.lock:
            listings = [dict(item) for item in self.world.listings]
        more = start + size < len(listings)
        return {
            "listings": listings[start:start + size],
            "pagination": {"pagination_token": _token(start + size) if more else "", "has_more": more,
                           "total_count": len(listings)},
        }
