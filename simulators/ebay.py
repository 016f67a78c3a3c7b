"""A local eBay: OAuth consent page and token endpoint, Sell Fulfillment getOrders and Sell Finances getTransactions.

Contract: /work/shared/reference/api-contracts.md §3 and §6.3. Data: :mod:`simulators.ebay_data`.

    with EbaySimulator() as sim:
        client = EbayClient(api_url=sim.api_url, finances_url=sim.finances_url, auth_url=sim.auth_url,
                            client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                            refresh_token=DEMO_REFRESH_TOKEN, marketplace_id="EBAY_DE")

Served:

* ``GET /oauth2/authorize`` (eBay's consent page, ``auth.ebay.com``; here on :attr:`api_url`)
  approves at once: 302 to the RuName's accept URL (``accept_url``) with ``?state=…&code=…&expires_in=299``.
  It checks ``client_id``, ``response_type=code``, ``redirect_uri`` = the RuName (``runame``) and
  that every scope is an ``https://api.ebay.com/oauth/api_scope…`` one (else 400 ``invalid_request``
  / ``invalid_scope``).
* ``POST /identity/v1/oauth2/token`` (form body, ``Authorization: Basic base64(id:secret)``, else
  401 ``invalid_client``): ``refresh_token`` → ``{access_token, expires_in: 7200, token_type:
  "User Access Token"}`` (no new refresh token); an unknown/revoked refresh token → 400
  ``invalid_grant``; ``authorization_code`` (from ``/oauth2/authorize`` or
  :meth:`EbaySimulator.issue_code`; single-use, 299 s on the fake clock, ``redirect_uri`` must be the
  RuName it was issued for, else 400 ``invalid_grant``) → access + refresh token
  (``refresh_token_expires_in`` 18 months); ``client_credentials`` → an *application* token that
  ``/sell/*`` rejects with 403 errorId 1100 (catches a wrong token type).
* ``GET /sell/fulfillment/v1/order``: the bracket filter (``creationdate:[a..b]``,
  ``lastmodifieddate:[a..]``, ``orderfulfillmentstatus:{A|B}``; creationdate wins when both are
  given), ``limit`` 1..200 (default 50; else 400 errorId 30800), ``offset``, ``orderIds`` (all other
  parameters ignored); envelope ``href``, ``total``, ``limit``, ``offset``, ``orders`` and
  ``next`` / ``prev`` only when applicable. Orders sorted by creation date.
* ``GET /sell/finances/v1/transaction`` on a **different host name**: the simulator answers
  Finances paths only when the request's Host is ``localhost`` (:attr:`finances_url`) and
  Fulfillment / OAuth only on ``127.0.0.1`` (:attr:`api_url`), so a client that mixes the hosts
  up gets 404. Requires ``X-EBAY-C-MARKETPLACE-ID`` (400 otherwise). ``require_signature`` (the
  "EU seller") also requires the digital-signature headers, and with ``signature_public_key``
  set (:meth:`enroll_signing_key` sets it) verifies them (:func:`check_signature`). Filters
  ``transactionDate:[a..b]``, ``transactionType:{…}``, ``orderId:{…}``; ``limit`` ≤ 1000 (default 20), newest first; **204
  with an empty body** when nothing matches.

Errors use eBay's envelope ``{"errors": [{errorId, domain, category, message, longMessage}]}``:
missing/expired token → 401 errorId 1001 "Invalid access token"; a daily quota per API
(``daily_quota``, reset at midnight US Pacific on the fake clock) → 429 errorId 2001.

Signature errors (domain ``ACCESS``; ids as eBay returned them in public bug reports, e.g.
eBay/digital-signature-verification-ebay-api#21, #4 and matecsaj/ebay_rest#73; eBay publishes no
list): a missing header → 400 errorId 215001 "Missing <header> header" (215001 was seen for
``x-ebay-signature-key``, reused here for ``Signature`` / ``Signature-Input``); ``created`` more than
``signature_max_skew`` (300 s) from the fake clock → 400 errorId 215114; a signature that does not
verify, a wrong/unknown JWE, a ``Content-Digest`` that does not match the body, or a missing
covered component → 403 errorId 215120 "Signature validation failed" (eBay answered 403
"Forbidden" with 215122 in #4; neither status is documented).

Scenario switches: ``token_ttl``, ``daily_quota``, ``require_signature``, ``signature_public_key``,
``signature_jwe`` (constructor or :meth:`configure`). Events: :meth:`enroll_signing_key`,
:meth:`expire_tokens`, :meth:`revoke_refresh_tokens`,
:meth:`after_request` (run an action after the n-th successful request of a path),
:meth:`add_order`, :meth:`touch_order`, :meth:`add_transaction`. The base class's faults
(:meth:`inject`: 429 with/without Retry-After, 5xx, slow, malformed/truncated JSON, resets …)
work on every path. ``python -m simulators.ebay`` serves it until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from simulators.base import Request, Response, Simulator, route, run_forever
from simulators.ebay_data import (
    DEFAULT_ORDERS,
    DEFAULT_SEED,
    EbayWorld,
    build_world,
    iso,
    make_order,
    sale_transaction,
)

DEMO_CLIENT_ID = "sim-ebay-client-id"
DEMO_CLIENT_SECRET = "sim-ebay-client-secret-0000-demo"
DEMO_REFRESH_TOKEN = "v^1.1#i^1#sim-ebay-refresh-token-0000-demo"
DEMO_RUNAME = "SoleFlipper-SoleFlip-PRD-sim0demo-00000000"  # an RuName: what eBay takes as redirect_uri
DEMO_ACCEPT_URL = "https://localhost/soleflipper/ebay-accepted"  # the RuName's "auth accepted" URL
DEMO_PORT = 8790  # 8787 StockX, 8788 Notion, 8789 Metabase
ORDERS_PATH = "/sell/fulfillment/v1/order"
TRANSACTIONS_PATH = "/sell/finances/v1/transaction"
TOKEN_PATH = "/identity/v1/oauth2/token"
AUTHORIZE_PATH = "/oauth2/authorize"
CODE_TTL = 299.0  # eBay's consent redirect says expires_in=299
REFRESH_TTL = 47_304_000  # 18 months, refresh_token_expires_in on the code grant
SIGNATURE_KEY_HEADER = "x-ebay-signature-key"
ORDERS_MAX_LIMIT = 200
FINANCES_MAX_LIMIT = 1000
PACIFIC = ZoneInfo("America/Los_Angeles")
API_HOST = "127.0.0.1"
FINANCES_HOST = "localhost"
_FILTER = re.compile(r"(\w+):(\[[^\]]*\]|\{[^}]*\})")
_SIGNATURE_INPUT = re.compile(r'\s*([a-z][a-z0-9_-]*)=(\(((?:\s*"[^"]+")*)\s*\)((?:;[a-z][a-z0-9_-]*=[^;,]+)*))\s*')
_SIGNATURE = re.compile(r"\s*([a-z][a-z0-9_-]*)=:([A-Za-z0-9+/=]*):\s*")


class SignatureProblem(Exception):
    """A rejected signature: the HTTP status, eBay's errorId and the message."""

    def __init__(self, status: int, error_id: int, message: str, long: str) -> None:
        super().__init__(message)
        self.status, self.error_id, self.message, self.long = status, error_id, message, long


def _invalid(reason: str) -> SignatureProblem:
    return SignatureProblem(403, 215120, "Signature validation failed",
                            f"Signature validation failed to fulfill the request. ({reason})")


def check_signature(headers: Mapping[str, str], method: str, path: str, body: bytes, *,
                    public_key: Ed25519PublicKey | None, jwe: str | None, now: float,
                    max_skew: float = 300.0) -> None:
    """Raise :class:`SignatureProblem` unless the request carries a valid eBay signature.

    Written from RFC 9421 apart from the client's signer (a shared mistake would otherwise pass):
    the covered components are read from ``Signature-Input``, which must cover
    ``x-ebay-signature-key``, ``@method``, ``@path``, ``@authority`` (and ``content-digest`` when
    there is a body); ``@authority`` is the ``Host`` header. Without ``public_key`` only the
    presence of the headers is checked.
    """
    fields = {name.lower(): value for name, value in headers.items()}  # field names are case-insensitive
    for name in (SIGNATURE_KEY_HEADER, "Signature", "Signature-Input"):
        if not fields.get(name.lower()):
            raise SignatureProblem(400, 215001, f"Missing {name} header", f"Missing {name} header to fulfill the request.")
    if public_key is None:
        return
    declared = _SIGNATURE_INPUT.fullmatch(fields["signature-input"])
    signature = _SIGNATURE.fullmatch(fields["signature"])
    if not declared or not signature or declared.group(1) != signature.group(1):
        raise _invalid("Signature-Input or Signature is not of the form sig1=(…);created=… / sig1=:…:")
    covered = re.findall(r'"([^"]+)"', declared.group(3))
    params = dict(p.split("=", 1) for p in declared.group(4).split(";") if p)
    required = {SIGNATURE_KEY_HEADER, "@method", "@path", "@authority"} | ({"content-digest"} if body else set())
    if required - set(covered):
        raise _invalid(f"not covered: {', '.join(sorted(required - set(covered)))}")
    if not re.fullmatch(r"\d+", params.get("created", "")):
        raise _invalid("no created parameter")
    if abs(now - int(params["created"])) > max_skew:
        raise SignatureProblem(400, 215114, "The create time of signature parameters is not in right range",
                               "The create time of signature parameters is not in right range to fulfill the request.")
    if jwe is not None and fields[SIGNATURE_KEY_HEADER] != jwe:
        raise _invalid("unknown x-ebay-signature-key")
    if body:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if fields.get("content-digest", "").strip() != f"sha-256=:{digest}:":
            raise _invalid("Content-Digest does not match the body")
    derived = {"@method": method.upper(), "@path": path, "@authority": fields.get("host", "").lower()}
    lines = []
    for name in covered:
        value = derived.get(name) if name.startswith("@") else fields.get(name)
        if value is None:
            raise _invalid(f"component {name} is not in the request")
        lines.append(f'"{name}": {value.strip()}')
    lines.append(f'"@signature-params": {declared.group(2)}')
    try:
        public_key.verify(base64.b64decode(signature.group(2), validate=True), "\n".join(lines).encode())
    except (InvalidSignature, ValueError, binascii.Error):
        raise _invalid("the signature does not verify") from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _BadFilter(Exception):
    pass


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _BadFilter(f"invalid date {text!r}") from None


def parse_filter(text: str | None) -> dict[str, Any]:
    """``name:[a..b]`` → (a, b) datetimes (either None); ``name:{A|B}`` → set of values."""
    criteria: dict[str, Any] = {}
    if not text:
        return criteria
    rest = _FILTER.sub("", text).replace(",", "").strip()
    if rest:
        raise _BadFilter(f"cannot read filter near {rest!r}")
    for name, value in _FILTER.findall(text):
        inner = value[1:-1]
        if value.startswith("["):
            start, sep, end = inner.partition("..")
            if not sep:
                raise _BadFilter(f"{name}: a range needs '..'")
            criteria[name] = (_moment(start) if start else None, _moment(end) if end else None)
        else:
            criteria[name] = {v for v in inner.split("|") if v}
    return criteria


def _within(value: str, bounds: tuple[datetime | None, datetime | None]) -> bool:
    when = _moment(value)
    start, end = bounds
    return (start is None or when >= start) and (end is None or when <= end)


class EbaySimulator(Simulator):
    """See the module doc. Thread-safe; state is guarded by ``self.lock``."""

    name = "ebay"

    def __init__(
        self,
        port: int = 0,
        *,
        seed: int = DEFAULT_SEED,
        n_orders: int = DEFAULT_ORDERS,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        refresh_tokens: tuple[str, ...] = (DEMO_REFRESH_TOKEN,),
        token_ttl: float = 7200.0,
        daily_quota: int = 15_000,
        require_signature: bool = False,
        signature_public_key: Ed25519PublicKey | None = None,
        signature_jwe: str | None = None,
        runame: str = DEMO_RUNAME,
        accept_url: str = DEMO_ACCEPT_URL,
    ) -> None:
        super().__init__(port)
        self.seed, self.n_orders = seed, n_orders
        self.client_id, self.client_secret = client_id, client_secret
        self.token_ttl = token_ttl
        self.daily_quota = daily_quota
        self.require_signature = require_signature
        self.signature_public_key = signature_public_key
        self.signature_jwe = signature_jwe
        self.signature_max_skew = 300.0
        self.runame, self.accept_url = runame, accept_url
        self.world: EbayWorld = build_world(seed, n_orders)
        self._seed_refresh = set(refresh_tokens)
        self._refresh = set(refresh_tokens)
        self._access: dict[str, float] = {}
        self._app_tokens: set[str] = set()
        self._codes: dict[str, tuple[str, float]] = {}  # code -> (RuName, expiry on the fake clock)
        self._hooks: list[tuple[str, int, Callable[[], Any]]] = []
        self._served: dict[str, int] = {}
        self._quota: dict[str, tuple[Any, int]] = {}

    # -- addresses, switches, events ------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Fulfillment and OAuth host (``api.ebay.com``)."""
        return f"http://{API_HOST}:{self.port}"

    @property
    def finances_url(self) -> str:
        """Finances host (``apiz.ebay.com``): another host name for the same listener."""
        return f"http://{FINANCES_HOST}:{self.port}"

    auth_url = api_url

    def configure(self, **settings: Any) -> None:
        unknown = set(settings) - {"token_ttl", "daily_quota", "require_signature", "signature_public_key",
                                   "signature_jwe", "signature_max_skew"}
        if unknown:
            raise ValueError(f"unknown eBay simulator settings: {', '.join(sorted(unknown))}")
        with self.lock:
            for key, value in settings.items():
                setattr(self, key, value)

    def issue_code(self, runame: str | None = None) -> str:
        """An authorization code as eBay's consent page redirects with, for ``runame`` (default: the sim's)."""
        code = f"v^1.1#i^1#f^0#p^3#I^3#r^1#sim-code-{secrets.token_urlsafe(12)}"
        with self.lock:
            self._codes[code] = (runame or self.runame, self.clock.now() + CODE_TTL)
        return code

    def enroll_signing_key(self) -> tuple[str, str]:
        """A new Ed25519 key pair as eBay's Key Management API creates one: returns (private key PEM,
        JWE) for the client, and the simulator verifies signatures with the public half from now on."""
        key = Ed25519PrivateKey.generate()
        header = _b64url(json.dumps({"zip": "DEF", "enc": "A256GCM", "alg": "A256GCMKW",
                                     "kid": secrets.token_hex(8)}).encode())
        jwe = ".".join([header, *(_b64url(secrets.token_bytes(n)) for n in (32, 12, 120, 16))])
        with self.lock:
            self.signature_public_key, self.signature_jwe = key.public_key(), jwe
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return pem, jwe

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired from now on."""
        with self.lock:
            now = self.clock.now()
            self._access = {t: min(e, now) for t, e in self._access.items()}

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self._refresh.clear()

    def after_request(self, path: str, n: int, action: Callable[[], Any]) -> None:
        """Run ``action`` once, right after the ``n``-th successful request to ``path`` from now."""
        with self.lock:
            self._hooks.append((path, self._served.get(path, 0) + n, action))

    def add_order(self, created: datetime, items: list[int], *, cancelled: bool = False,
                  with_transaction: bool = False) -> dict[str, Any]:
        with self.lock:
            order = make_order(self.world, created, items, cancelled=cancelled)
            self.world.orders.append(order)
            if with_transaction:
                self.world.transactions.append(sale_transaction(order))
        return order

    def touch_order(self, order_id: str, modified: datetime, **changes: Any) -> dict[str, Any]:
        """Change an order (e.g. ``orderFulfillmentStatus``) and stamp ``lastModifiedDate``."""
        with self.lock:
            order = next(o for o in self.world.orders if o["orderId"] == order_id)
            order.update(changes, lastModifiedDate=iso(modified))
            return order

    def add_transaction(self, order_id: str, when: datetime | None = None) -> dict[str, Any]:
        """The order's SALE transaction (fees and payout) appears in Finances from now on."""
        with self.lock:
            order = next(o for o in self.world.orders if o["orderId"] == order_id)
            transaction = sale_transaction(order, when)
            self.world.transactions.append(transaction)
            return transaction

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.world = build_world(self.seed, self.n_orders)
            self._hooks.clear()
            self._served.clear()
            self._quota.clear()
            self._refresh = set(self._seed_refresh)

    # -- errors, gateway ------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        error_id = {401: 1001, 403: 1100, 429: 2001}.get(status, 10000 + status)
        category = "REQUEST" if status < 500 else "APPLICATION"
        return {"errors": [{"errorId": error_id, "domain": "API_FULFILLMENT", "category": category,
                            "message": message, "longMessage": message}]}

    def _errors(self, status: int, error_id: int, domain: str, message: str, long: str | None = None) -> Response:
        return Response(status, json={"errors": [{
            "errorId": error_id, "domain": domain, "category": "REQUEST", "message": message,
            "longMessage": long or message, "inputRefIds": [], "outputRefIds": [], "parameters": []}]})

    def quota_used(self, api: str) -> int:
        with self.lock:
            day, used = self._quota.get(api, (None, 0))
            return used if day == self.clock.utcnow().astimezone(PACIFIC).date() else 0

    def _gateway(self, request: Request, api: str) -> Response | None:
        with self.lock:
            day = self.clock.utcnow().astimezone(PACIFIC).date()
            quota_day, used = self._quota.get(api, (day, 0))
            used = used if quota_day == day else 0
            if used >= self.daily_quota:
                return self._errors(429, 2001, "ACCESS", "Too many requests",
                                    "The request limit has been reached for the resource.")
            self._quota[api] = (day, used + 1)
            token = request.bearer_token
            if token in self._app_tokens:
                return self._errors(403, 1100, "ACCESS", "Access denied",
                                    "Insufficient permissions to fulfill the request.")
            if token is None or self._access.get(token, float("-inf")) <= self.clock.now():
                return self._errors(401, 1001, "OAuth", "Invalid access token",
                                    "Invalid access token. Check the value of the Authorization HTTP request header.")
        return None

    def handle(self, request: Request) -> Response:
        host = request.headers.get("Host", "").rsplit(":", 1)[0]
        finances = request.path.startswith("/sell/finances/")
        if (finances and host != FINANCES_HOST) or (not finances and host == FINANCES_HOST):
            return self._errors(404, 2002, "API_ROUTING", f"{request.path} is not served on host {host}")
        if request.path.startswith("/sell/"):
            denied = self._gateway(request, "finances" if finances else "fulfillment")
            if denied is not None:
                return denied
        response = super().handle(request)
        if response.status < 300:
            self._run_hooks(request.path)
        return response

    def _run_hooks(self, path: str) -> None:
        with self.lock:
            self._served[path] = count = self._served.get(path, 0) + 1
            due = [h for h in self._hooks if h[0] == path and h[1] == count]
            for hook in due:
                self._hooks.remove(hook)
        for _, _, action in due:
            action()

    # -- OAuth ----------------------------------------------------------------------------------

    def _new_access(self) -> str:
        token = f"v^1.1#i^1#sim-{secrets.token_urlsafe(24)}"
        self._access[token] = self.clock.now() + self.token_ttl
        return token

    @route("GET", AUTHORIZE_PATH)
    def authorize(self, request: Request) -> Response:
        problems = []
        if request.arg("client_id") != self.client_id:
            problems.append("unknown client_id")
        if request.arg("response_type") != "code":
            problems.append("response_type must be code")
        if request.arg("redirect_uri") != self.runame:
            problems.append("redirect_uri must be the application's RuName")
        if problems:
            return Response(400, json={"error": "invalid_request", "error_description": "; ".join(problems)})
        scopes = (request.arg("scope") or "").split()
        if not scopes or any(not s.startswith("https://api.ebay.com/oauth/api_scope") for s in scopes):
            return Response(400, json={"error": "invalid_scope",
                                       "error_description": "The requested scope is invalid, unknown, malformed, "
                                                            "or exceeds the scope granted to the client"})
        query = {"state": request.arg("state") or "", "code": self.issue_code(), "expires_in": int(CODE_TTL)}
        return Response(302, headers={"Location": f"{self.accept_url}?{urlencode(query)}"})

    @route("POST", TOKEN_PATH)
    def token(self, request: Request) -> Response:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            pair = base64.b64decode(encoded).decode() if scheme.lower() == "basic" else ""
        except ValueError:
            pair = ""
        if pair != f"{self.client_id}:{self.client_secret}":
            return Response(401, json={"error": "invalid_client", "error_description": "client authentication failed"})
        if "application/x-www-form-urlencoded" not in request.headers.get("Content-Type", ""):
            return Response(400, json={"error": "invalid_request", "error_description": "form body expected"})
        form = request.form()
        grant = form.get("grant_type")
        with self.lock:
            if grant == "refresh_token":
                if form.get("refresh_token") not in self._refresh:
                    return Response(400, json={
                        "error": "invalid_grant",
                        "error_description": "the provided authorization refresh token is invalid "
                                             "or was issued to another client"})
                return Response(200, json={"access_token": self._new_access(), "expires_in": int(self.token_ttl),
                                           "token_type": "User Access Token"})
            if grant == "authorization_code":
                runame, expires = self._codes.pop(form.get("code", ""), ("", float("-inf")))
                if expires <= self.clock.now() or form.get("redirect_uri") != runame:
                    return Response(400, json={"error": "invalid_grant",
                                               "error_description": "the provided authorization grant code is invalid "
                                                                    "or was issued to another client"})
                refresh = f"v^1.1#i^1#r^1#sim-{secrets.token_urlsafe(24)}"
                self._refresh.add(refresh)
                return Response(200, json={"access_token": self._new_access(), "expires_in": int(self.token_ttl),
                                           "refresh_token": refresh, "refresh_token_expires_in": REFRESH_TTL,
                                           "token_type": "User Access Token"})
            if grant == "client_credentials":
                token = f"v^1.1#i^1#app-{secrets.token_urlsafe(16)}"
                self._app_tokens.add(token)
                return Response(200, json={"access_token": token, "expires_in": 7200,
                                           "token_type": "Application Access Token"})
        return Response(400, json={"error": "unsupported_grant_type", "error_description": f"grant {grant!r}"})

    # -- Fulfillment ----------------------------------------------------------------------------

    @staticmethod
    def _int(request: Request, name: str, default: int) -> int:
        value = request.arg(name)
        if value is None or value == "":
            return default
        if not re.fullmatch(r"\d+", value):
            raise _BadFilter(f"{name} must be a non-negative integer")
        return int(value)

    def _page_links(self, base: str, path: str, query: dict[str, str], offset: int, limit: int,
                    total: int) -> dict[str, Any]:
        def link(at: int) -> str:
            return f"{base}{path}?{urlencode({**query, 'limit': limit, 'offset': at})}"

        body: dict[str, Any] = {"href": link(offset), "total": total, "limit": limit, "offset": offset}
        if offset + limit < total:
            body["next"] = link(offset + limit)
        if offset > 0:
            body["prev"] = link(max(0, offset - limit))
        return body

    @route("GET", ORDERS_PATH)
    def orders(self, request: Request) -> Response:
        try:
            limit = self._int(request, "limit", 50)
            offset = self._int(request, "offset", 0)
            if not 1 <= limit <= ORDERS_MAX_LIMIT:
                return self._errors(400, 30800, "API_FULFILLMENT", "Invalid limit",
                                    f"The limit must be from 1 to {ORDERS_MAX_LIMIT}.")
            criteria = parse_filter(request.arg("filter"))
        except _BadFilter as exc:
            return self._errors(400, 30700, "API_FULFILLMENT", "Invalid filter name", str(exc))
        unknown = set(criteria) - {"creationdate", "lastmodifieddate", "orderfulfillmentstatus"}
        if unknown:
            return self._errors(400, 30700, "API_FULFILLMENT", "Invalid filter name", ", ".join(sorted(unknown)))
        with self.lock:
            orders = sorted(self.world.orders, key=lambda o: (o["creationDate"], o["orderId"]))
            if request.arg("orderIds"):
                wanted = request.arg("orderIds", "").split(",")
                orders = [o for o in orders if o["orderId"] in wanted]
                offset, limit = 0, max(1, len(orders))
            else:
                if "creationdate" in criteria:
                    orders = [o for o in orders if _within(o["creationDate"], criteria["creationdate"])]
                elif "lastmodifieddate" in criteria:
                    orders = [o for o in orders if _within(o["lastModifiedDate"], criteria["lastmodifieddate"])]
                else:  # no date filter: the last 90 days
                    since = self.clock.utcnow() - timedelta(days=90)
                    orders = [o for o in orders if _moment(o["creationDate"]) >= since]
                if "orderfulfillmentstatus" in criteria:
                    orders = [o for o in orders if o["orderFulfillmentStatus"] in criteria["orderfulfillmentstatus"]]
            query = {k: v[0] for k, v in request.query.items() if k in ("filter", "fieldGroups")}
            body = self._page_links(self.api_url, ORDERS_PATH, query, offset, limit, len(orders))
            body["orders"] = [dict(o) for o in orders[offset:offset + limit]]
        return Response(200, json=body)

    # -- Finances -------------------------------------------------------------------------------

    @route("GET", TRANSACTIONS_PATH)
    def transactions(self, request: Request) -> Response:
        if not request.headers.get("X-EBAY-C-MARKETPLACE-ID"):
            return self._errors(400, 135001, "API_FINANCES", "The marketplace ID header is missing",
                                "X-EBAY-C-MARKETPLACE-ID is required.")
        if self.require_signature:
            try:
                check_signature(request.headers, request.method, request.path, request.body,
                                public_key=self.signature_public_key, jwe=self.signature_jwe,
                                now=self.clock.now(), max_skew=self.signature_max_skew)
            except SignatureProblem as problem:
                return self._errors(problem.status, problem.error_id, "ACCESS", problem.message, problem.long)
        try:
            limit = self._int(request, "limit", 20)
            offset = self._int(request, "offset", 0)
            if not 1 <= limit <= FINANCES_MAX_LIMIT:
                return self._errors(400, 135004, "API_FINANCES", "Invalid limit",
                                    f"The limit must be from 1 to {FINANCES_MAX_LIMIT}.")
            criteria = parse_filter(request.arg("filter"))
        except _BadFilter as exc:
            return self._errors(400, 135002, "API_FINANCES", "Invalid filter", str(exc))
        with self.lock:
            rows = list(self.world.transactions)
            if "transactionDate" in criteria:
                rows = [t for t in rows if _within(t["transactionDate"], criteria["transactionDate"])]
            else:
                since = self.clock.utcnow() - timedelta(days=90)
                rows = [t for t in rows if _moment(t["transactionDate"]) >= since]
            for name in ("transactionType", "transactionStatus", "orderId", "payoutId"):
                if name in criteria:
                    rows = [t for t in rows if t.get(name) in criteria[name]]
            rows.sort(key=lambda t: (t["transactionDate"], t["transactionId"]), reverse=True)
            if not rows:
                return Response(204)
            query = {k: v[0] for k, v in request.query.items() if k == "filter"}
            body = self._page_links(self.finances_url, TRANSACTIONS_PATH, query, offset, limit, len(rows))
            body["transactions"] = [dict(t) for t in rows[offset:offset + limit]]
        return Response(200, json=body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.ebay", description="Serve a simulated eBay.")
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS)
    args = parser.parse_args(argv)
    sim = EbaySimulator(args.port, n_orders=args.orders)
    print(f"client id {DEMO_CLIENT_ID}; refresh token {DEMO_REFRESH_TOKEN}; RuName {DEMO_RUNAME}; "
          f"consent page http://{API_HOST}:<port>{AUTHORIZE_PATH}; finances at http://{FINANCES_HOST}:<port>",
          file=sys.stderr)
    run_forever(sim)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
