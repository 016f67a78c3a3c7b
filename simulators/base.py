"""The framework every platform simulator is built on (standard library only).

Why: each connector must be proven against a server that speaks its contract *and* misbehaves
on demand (api-contracts.md §6). This module holds what all fakes share, so a platform file
contains only its routes, its error shape and its data:

    class Shop(Simulator):
        name = "shop"

        def error_body(self, status, message):
            return {"statusCode": status, "message": message}

        @route("GET", "/items/{item_id}")
        def item(self, request):
            return Response(200, json={"id": request.params["item_id"]})

    with Shop() as sim:
        sim.inject("status:429", times=2, retry_after=1)
        httpx.get(sim.url("/items/7"))          # 429, 429, then the real answer
        assert len(sim.requests) == 1

Faults (``inject(spec, times=N, path_prefix=...)``, or ``POST /__admin/faults`` with the same
fields as JSON): ``status:<code>`` (error body from ``error_body``; 502 is an HTML gateway page;
``retry_after=`` adds the header, ``body=`` replaces the body), ``slow:<seconds>`` (wait, then
answer normally), ``malformed_json``, ``truncated_json`` (the real body cut in half, with a
Content-Length that matches the cut), ``empty_body``, ``wrong_content_type`` (the real body as
text/html), ``reset`` (close the connection with a TCP reset, no response) and ``reset_mid_body``
(headers and half the body, then a reset). Faults are consumed first-match, in injection order.
"""

from __future__ import annotations

import http
import json as jsonlib
import re
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

ADMIN_PREFIX = "/__admin/"
_UNSET: Any = object()
FAULT_KINDS = frozenset(
    {
        "status",
        "slow",
        "malformed_json",
        "truncated_json",
        "empty_body",
        "wrong_content_type",
        "reset",
        "reset_mid_body",
    }
)
_BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:  # e.g. 529, which Notion uses but the stdlib does not know
        return f"Error {status}"


class Headers(Mapping[str, str]):
    """Read-only header mapping with case-insensitive names (repeated headers are comma-joined)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


@dataclass
class Request:
    """One received request, as handlers see it and as the request log records it."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    """Path parameters from the route's ``{name}`` placeholders."""
    at: float = field(default_factory=time.monotonic)
    """time.monotonic() when the request arrived: tests measure pacing from it."""
    fault: str | None = None
    """The injected fault that answered this request, if any."""

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (OAuth token calls), last value wins."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def bearer_token(self) -> str | None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
            "params": self.params,
            "at": self.at,
            "fault": self.fault,
        }


@dataclass
class Response:
    """What a handler returns. ``json`` wins over ``body``; a str body is sent as UTF-8 text."""

    status: int = 200
    json: Any = _UNSET
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def render(self) -> tuple[bytes, str | None]:
        """(body bytes, Content-Type)."""
        if self.json is not _UNSET:
            return jsonlib.dumps(self.json).encode(), self.content_type or "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return self.body, self.content_type or ("application/octet-stream" if self.body else None)


Handler = Callable[[Request], "Response | Any"]


def route(method: str, pattern: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a Simulator method as the handler of ``method pattern`` (``{name}`` = one path segment)."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._sim_routes = [*getattr(fn, "_sim_routes", []), (method.upper(), pattern)]  # type: ignore[attr-defined]
        return fn

    return mark


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


class Clock:
    """Epoch seconds for simulated token expiry and quotas: real time until set or advanced.

    ``set()`` freezes the clock at a moment (deterministic tests); ``advance()`` moves it forward,
    frozen or not; ``reset()`` returns to real time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: float | None = None
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            return self._frozen if self._frozen is not None else time.time() + self._offset

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def set(self, when: float | datetime) -> None:
        with self._lock:
            self._frozen = when.timestamp() if isinstance(when, datetime) else float(when)

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._frozen, self._offset = None, 0.0


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` matching requests."""

    kind: str
    status: int | None = None
    seconds: float = 0.0
    times: int = 1
    path_prefix: str | None = None
    retry_after: float | str | None = None
    body: Any = _UNSET

    @classmethod
    def parse(cls, spec: str, **options: Any) -> Fault:
        kind, _, arg = spec.partition(":")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {spec!r}; kinds: {', '.join(sorted(FAULT_KINDS))}")
        if (kind in ("status", "slow")) != bool(arg):
            raise ValueError(f"fault {spec!r}: only status:<code> and slow:<seconds> take a value")
        fault = cls(kind, **options)
        if kind == "status":
            fault.status = int(arg)
        elif kind == "slow":
            fault.seconds = float(arg)
        if fault.times < 1:
            raise ValueError(f"fault {spec!r}: times must be at least 1")
        return fault

    @property
    def spec(self) -> str:
        if self.kind == "status":
            return f"status:{self.status}"
        return f"slow:{self.seconds:g}" if self.kind == "slow" else self.kind

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Simulator:
    """Base of one platform's fake: routes, request log, fake clock and fault injection.

    Subclasses declare handlers with ``@route``, override ``error_body`` with the platform's error
    shape, read ``self.clock`` for expiry and quotas, guard their own state with ``self.lock``,
    and extend ``reset()`` to restore their data.
    """

    name = "simulator"
    host = "127.0.0.1"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.clock = Clock()
        self.lock = threading.RLock()
        self._log: list[Request] = []
        self._faults: list[Fault] = []
        self._routes: dict[tuple[str, str], tuple[re.Pattern[str], Handler]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        for klass in reversed(type(self).__mro__):
            for attr, fn in vars(klass).items():
                for method, pattern in getattr(fn, "_sim_routes", ()):
                    self.add_route(method, pattern, getattr(self, attr))

    # -- routes and errors -------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register (or replace) a handler; the first route matching a path wins."""
        self._routes[(method.upper(), pattern)] = (_compile(pattern), handler)

    def error_body(self, status: int, message: str) -> Any:
        """The platform's error shape, used for its own errors and injected ones.

        Return a JSON-able value, or a full Response for non-JSON errors (e.g. text/plain).
        """
        return {"message": message}

    def error(
        self, status: int, message: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        shaped = self.error_body(status, message or _phrase(status))
        response = shaped if isinstance(shaped, Response) else Response(status, json=shaped)
        response.status = status
        response.headers.update(headers or {})
        return response

    def handle(self, request: Request) -> Response:
        """Answer one request from the route table (404/405 in the platform's error shape)."""
        path_matched = False
        for (method, _pattern), (regex, handler) in list(self._routes.items()):
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method != request.method and not (request.method == "HEAD" and method == "GET"):
                continue
            request.params = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                result = handler(request)
            except Exception as exc:
                traceback.print_exc()
                return self.error(500, f"simulator handler failed: {exc!r}")
            return result if isinstance(result, Response) else Response(200, json=result)
        if path_matched:
            return self.error(405, f"{request.method} not allowed on {request.path}")
        return self.error(404, f"no route for {request.method} {request.path}")

    # -- faults, log, reset ------------------------------------------------------------------

    def inject(
        self,
        fault: str,
        times: int = 1,
        path_prefix: str | None = None,
        *,
        retry_after: float | str | None = None,
        body: Any = _UNSET,
    ) -> Fault:
        """Make the next ``times`` requests under ``path_prefix`` misbehave (see module doc)."""
        parsed = Fault.parse(fault, times=times, path_prefix=path_prefix, retry_after=retry_after, body=body)
        with self.lock:
            self._faults.append(parsed)
        return parsed

    @property
    def pending_faults(self) -> list[Fault]:
        with self.lock:
            return list(self._faults)

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def requests(self) -> list[Request]:
        """Every non-admin request so far, in arrival order (a copy)."""
        with self.lock:
            return list(self._log)

    def reset(self) -> None:
        """Forget faults, the request log and clock changes. Subclasses also restore their data."""
        with self.lock:
            self._faults.clear()
            self._log.clear()
        self.clock.reset()

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        if fault.body is not _UNSET:
            body = fault.body
            if isinstance(body, bytes | str):
                return Response(fault.status, body=body, headers=headers)
            return Response(fault.status, json=body, headers=headers)
        if fault.status == 502:  # gateways answer in HTML, not in the platform's shape
            return Response(502, body=_BAD_GATEWAY_HTML, headers=headers, content_type="text/html")
        return self.error(fault.status, headers=headers)

    def _serve(self, request: Request, conn: _Handler) -> None:
        """Answer one request on ``conn``: admin, injected fault, or the route table."""
        if request.path.startswith(ADMIN_PREFIX):
            conn.send(self._admin(request))
            return
        fault = self._take_fault(request.path)
        request.fault = fault.spec if fault else None
        with self.lock:
            self._log.append(request)
        kind = fault.kind if fault else None
        if fault is None:
            conn.send(self.handle(request))
        elif kind == "status":
            conn.send(self._fault_response(fault))
        elif kind == "reset":
            conn.reset()
        elif kind == "malformed_json":
            conn.send(Response(200, body=b'{"data": [1, 2,, "oops"', content_type="application/json"))
        elif kind == "empty_body":
            conn.send(Response(200, body=b"", content_type="application/json"))
        elif kind == "slow":
            if not self._stopping.wait(fault.seconds):
                conn.send(self.handle(request))
        else:
            real = self.handle(request)
            body, content_type = real.render()
            if kind == "wrong_content_type":
                conn.send(
                    Response(200, body=body, headers=real.headers, content_type="text/html; charset=utf-8")
                )
            elif kind == "truncated_json":
                conn.send(
                    Response(
                        200, body=body[: len(body) // 2], headers=real.headers, content_type=content_type
                    )
                )
            else:  # reset_mid_body
                conn.send(
                    Response(real.status, body=body, headers=real.headers, content_type=content_type),
                    cut=True,
                )

    def _admin(self, request: Request) -> Response:
        action = (request.method, request.path[len(ADMIN_PREFIX) :])
        try:
            if action == ("POST", "faults"):
                payload = request.json()
                specs = payload if isinstance(payload, list) else [payload]
                injected = [self.inject(**spec) for spec in specs]
                return Response(200, json={"injected": [f.spec for f in injected]})
            if action == ("POST", "reset"):
                self.reset()
                return Response(200, json={"ok": True})
            if action == ("GET", "requests"):
                return Response(200, json=[r.to_dict() for r in self.requests])
            if action == ("POST", "clock"):
                payload = request.json()
                if "set" in payload:
                    self.clock.set(float(payload["set"]))
                if "advance" in payload:
                    self.clock.advance(float(payload["advance"]))
                return Response(200, json={"now": self.clock.now()})
        except (ValueError, TypeError, KeyError) as exc:
            return Response(400, json={"error": str(exc)})
        return Response(404, json={"error": f"unknown admin endpoint {request.method} {request.path}"})

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} simulator is not running; call start()")
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "") -> str:
        return self.base_url + path

    def start(self) -> Simulator:
        """Listen (on an ephemeral port the first time, the same port on a restart)."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.name}-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections, so clients then see "connection refused"."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); a loopback fake needs none.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    def drop_connections(self) -> None:
        """Close kept-alive connections too, or a pooled client would still reach a stopped fake."""
        with self._connections_lock:
            conns, self._connections = self._connections, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client gave up (timeout, reset): expected in fault scenarios
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real APIs; every response has a Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed ACKs
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr chatter

    def _dispatch(self) -> None:
        arrived = time.monotonic()
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)  # chunked uploads are not supported
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=Headers(self.headers.items()),
            body=body,
            at=arrived,
        )
        self.server.simulator._serve(request, self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def send(self, response: Response, *, cut: bool = False) -> None:
        """Write a response; ``cut`` sends half the body under the full Content-Length, then resets."""
        body, content_type = response.render()
        self.send_response(response.status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.reset()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing proxy would."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def run_forever(
    simulator: Simulator, *, until: threading.Event | None = None, out: TextIO | None = None
) -> None:
    """Serve until Ctrl-C (or until ``until`` is set), printing the base URL first.

    Backs ``soleflipper simulate <name>`` so a developer can point a client or the demo at a fake.
    """
    out = out or sys.stdout
    stop = until or threading.Event()
    simulator.start()
    try:
        print(f"{simulator.name} simulator listening on {simulator.base_url}", file=out, flush=True)
        print(
            f"  admin: POST {ADMIN_PREFIX}faults, POST {ADMIN_PREFIX}reset, GET {ADMIN_PREFIX}requests; Ctrl-C stops",
            file=out,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
