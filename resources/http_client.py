"""The core every external-API client shares: pacing, retries, credential refresh, errors, redaction.

Why one core: StockX, Notion, eBay, Alias and Metabase need the same behaviours (api-contracts.md
§6 checklist). A platform client subclasses ApiClient and overrides only its hooks —
``auth_headers``, ``on_unauthorized``, ``parse_error``, ``secrets`` — and adds its own paging.
Plain Python, no Dagster, so a ``dagster.ConfigurableResource`` can build one per run.

Retry policy (the decisions, in one place):

* Idempotent requests only (GET/HEAD/PUT/DELETE/OPTIONS, or ``idempotent=True`` for e.g. Notion's
  POST query): 500/502/503/504/529, timeouts, resets, and MalformedResponse (invalid, truncated or
  empty JSON, a wrong content type). A corrupt body on a read is almost always a transient proxy
  or server fault, so it shares the same attempt and wait budget; when that runs out the
  MalformedResponse itself is raised. A write is never re-sent after it may have been processed.
* Every method: 429 (the server refused the request, nothing happened) and failures to connect
  (the request never left) — the rule urllib3's ``Retry`` also applies.
* ``Retry-After`` (seconds or an HTTP date) is slept exactly; otherwise full-jitter backoff
  ``uniform(0, min(backoff_max, backoff_base * 2**(n-1)))`` before retry n. ``total_retry_budget``
  caps the sum of those sleeps: a wait that would exceed it raises the last error at once, so a
  daily quota's Retry-After of hours fails the run loudly instead of blocking it.
* A 401 calls ``on_unauthorized()`` once; if it returns True the request is re-sent once (any
  method: a 401 was not processed; this uses no attempt); another 401 raises AuthError.

Logging says method, path and status only. Headers, query strings and bodies can carry secrets,
so they are never logged, and error messages are scrubbed of the credentials that were sent.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import math
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)

# httpx logs whole URLs (query strings) at INFO and httpcore logs headers at DEBUG: keep them
# quiet so turning on DEBUG for the pipeline cannot leak a secret. Explicit config still wins.
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

_BODY_KEPT = 4000  # characters of an error body kept on ApiError (HTML error pages can be huge)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: loading the CA bundle costs ~20 ms per client."""
    return httpx.create_ssl_context()


class ApiClientError(Exception):
    """Base of everything ApiClient raises."""


class ApiError(ApiClientError):
    """The API answered with an error status. ``str()`` is status, message and path — no headers."""

    def __init__(
        self,
        status: int,
        message: str,
        body: str | None = None,
        url_path: str | None = None,
        *,
        method: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.body = body
        self.url_path = url_path
        self.method = method
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.url_path) if part)
        return f"HTTP {self.status}: {self.message}" + (f" ({where})" if where else "")


class AuthError(ApiError):
    """401 although credentials were refreshed once (or could not be refreshed)."""


class MalformedResponse(ApiClientError):
    """A success status whose body is not the JSON promised: invalid, truncated, empty, wrong type."""

    def __init__(self, reason: str, *, status: int, method: str, url_path: str) -> None:
        super().__init__(f"{method} {url_path}: {reason} (HTTP {status})")
        self.reason = reason
        self.status = status
        self.method = method
        self.url_path = url_path


class ApiConnectionError(ApiClientError):
    """No answer at all (connect failure, timeout, reset) after the retries allowed."""


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every known secret value in ``text`` with ``***`` (longest first, so none half-survives)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_message(response: httpx.Response) -> str:
    """Best-effort message from common error shapes (message / error_description / errors[0]...)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            data = errors[0]  # eBay: {"errors": [{"message": ...}]}
        for key in ("message", "error_description", "errorMessage", "error", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    content_type = response.headers.get("content-type", "")
    text = response.text.strip()
    if text and data is None and "html" not in content_type and len(text) <= 200:
        return text  # plain-text errors, e.g. Metabase's "Unauthenticated"
    return response.reason_phrase or f"HTTP {response.status_code}"


class RateLimiter:
    """A minimum interval between request starts, shared by every client holding this object.

    Slots are reserved under a lock and slept outside it, so concurrent threads queue in order
    without blocking each other while they wait.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start = -math.inf

    def acquire(self) -> float:
        """Wait for the next free slot; return how long that took."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait


class ApiClient:
    """httpx client with pacing, bounded retries, one-shot credential refresh and safe errors.

    ``sleep`` and ``rng`` are injectable so tests record backoff instead of waiting; ``clock``
    (monotonic) drives the rate limiter; ``transport`` lets tests swap the network out.
    ``calls_made`` and ``retries_made`` are meant for asset metadata.
    """

    IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
    RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})

    def __init__(
        self,
        base_url: str,
        *,
        rate_limit_per_second: float | None,
        rate_limiter: RateLimiter | None = None,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        total_retry_budget: float = 300.0,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if rate_limiter is not None and rate_limit_per_second is not None:
            raise ValueError("pass rate_limit_per_second or a shared rate_limiter, not both")
        if rate_limit_per_second is not None:
            rate_limiter = RateLimiter(rate_limit_per_second, clock=clock, sleep=sleep)
        self.rate_limiter = rate_limiter
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.total_retry_budget = total_retry_budget
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport, verify=_tls_context()
        )
        self._counter_lock = threading.Lock()
        self.calls_made = 0
        self.retries_made = 0

    # -- hooks for platform clients ----------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        """Credentials for one request; called before every attempt (refresh proactively here)."""
        return {}

    def on_unauthorized(self) -> bool:
        """Called once on a 401: refresh credentials and return True to re-send, False to give up."""
        return False

    def parse_error(self, response: httpx.Response) -> ApiError:
        """Turn an error response into an ApiError; override for the platform's error shape."""
        return ApiError(response.status_code, error_message(response), response.text[:_BODY_KEPT])

    def secrets(self) -> Iterable[str]:
        """Secret values besides the auth headers (client secret, refresh token) to scrub from errors."""
        return ()

    # -- requests ----------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send with pacing, retries and auth; return the 2xx response (raw, e.g. a PDF).

        kwargs: params, json, data, content, headers, idempotent (None = by method),
        authenticate (False for token calls).
        """
        return self._send(method, path, None, **kwargs)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like ``request`` but return the parsed JSON body (None for 204 / HEAD)."""
        return self._send(method, path, self._parse_json, **kwargs)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request_json("GET", path, params=params, **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response, str, str], Any] | None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticate: bool = True,
    ) -> Any:
        method = method.upper()
        where = path.split("?", 1)[0]  # never log a query string
        repeatable = method in self.IDEMPOTENT_METHODS if idempotent is None else idempotent
        failures, waited, refreshed = 0, 0.0, False
        while True:
            # Credentials first: a token call made here takes its own slot before this request's.
            auth = self.auth_headers() if authenticate else {}
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self._count("calls_made")
            retry_after: float | None = None
            failure: ApiClientError
            try:
                response = self._http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    data=data,
                    content=content,
                    headers={**(headers or {}), **auth},
                )
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                log.warning("%s %s failed: %s", method, where, type(exc).__name__)
                failure = ApiConnectionError(f"{method} {where}: {type(exc).__name__}")
                failure.__cause__ = exc
                retryable = repeatable or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            else:
                status = response.status_code
                log.debug("%s %s -> %s", method, where, status)
                if status == 401:
                    if authenticate and not refreshed and self.on_unauthorized():
                        refreshed = True
                        self._count("retries_made")
                        log.info("%s %s -> 401; credentials refreshed, re-sending once", method, where)
                        continue
                    raise self._error(response, method, where, auth, AuthError)
                if status in self.RETRY_STATUSES:
                    failure = self._error(response, method, where, auth)
                    retry_after = failure.retry_after
                    retryable = repeatable or status == 429
                elif not response.is_success:
                    raise self._error(response, method, where, auth)
                elif parse is None:
                    return response
                else:
                    try:
                        return parse(response, method, where)
                    except MalformedResponse as exc:
                        log.warning("%s %s -> %s with a malformed body", method, where, status)
                        failure, retryable = exc, repeatable
            failures += 1
            if not retryable or failures >= self.max_attempts:
                raise failure
            delay = retry_after if retry_after is not None else self._backoff(failures)
            if waited + delay > self.total_retry_budget:
                log.warning(
                    "%s %s: a %.1fs wait would exceed the retry budget; giving up", method, where, delay
                )
                raise failure
            log.warning(
                "%s %s: retry %d of %d in %.2fs", method, where, failures, self.max_attempts - 1, delay
            )
            self._sleep(delay)
            waited += delay
            self._count("retries_made")

    def _backoff(self, failures: int) -> float:
        return self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2 ** (failures - 1)))

    def _error(
        self,
        response: httpx.Response,
        method: str,
        where: str,
        auth: Mapping[str, str],
        cls: type[ApiError] = ApiError,
    ) -> ApiError:
        """parse_error's result, located, with Retry-After, and scrubbed of every credential sent."""
        try:
            err = self.parse_error(response)
        except Exception:  # a platform parser meeting a gateway's HTML page must not hide the status
            err = ApiClient.parse_error(self, response)
        secrets = [*auth.values(), *(v.split(" ", 1)[1] for v in auth.values() if " " in v), *self.secrets()]
        if not isinstance(err, cls):
            err = cls(
                err.status,
                err.message,
                err.body,
                err.url_path,
                method=err.method,
                retry_after=err.retry_after,
            )
        err.message = redact(err.message, secrets)
        err.body = redact(err.body, secrets) if err.body is not None else None
        err.method = err.method or method
        err.url_path = err.url_path or where
        if err.retry_after is None:
            err.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        err.args = (err.status, err.message)
        return err

    def _parse_json(self, response: httpx.Response, method: str, where: str) -> Any:
        if response.status_code == 204 or method == "HEAD":
            return None

        def malformed(reason: str) -> MalformedResponse:
            return MalformedResponse(reason, status=response.status_code, method=method, url_path=where)

        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not response.content:
            raise malformed("empty body where JSON was expected")
        if media != "application/json" and not media.endswith("+json"):
            raise malformed(f"expected JSON, got content type {media or 'none'!r}")
        try:
            return jsonlib.loads(response.content)
        except jsonlib.JSONDecodeError as exc:
            raise malformed(f"invalid JSON ({exc.msg} at position {exc.pos}); truncated or corrupt") from None
        except UnicodeDecodeError:
            raise malformed("body is not valid UTF-8") from None

    def _count(self, counter: str) -> None:
        with self._counter_lock:
            setattr(self, counter, getattr(self, counter) + 1)
