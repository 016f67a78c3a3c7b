"""``soleflipper stockx login|status``, ``soleflipper secrets new-key`` and ``soleflipper simulate-stockx``.

Wired into the main parser by :func:`register`. Every command takes ``(args, settings)`` like the
commands in :mod:`pipelines.cli`. Nothing here prints a token, the client secret or the API key;
``secrets new-key`` prints a newly generated key, which is its purpose.

Sign-in is StockX's OAuth authorization-code flow, done once by a person:

1. ``soleflipper stockx login`` prints the StockX sign-in URL;
2. after signing in, StockX redirects the browser to SOLEFLIPPER_STOCKX_REDIRECT_URI with
   ``?code=…`` — copy that address (or just the code);
3. ``soleflipper stockx login --code '<address or code>'`` exchanges it and stores the tokens,
   Fernet-encrypted with SOLEFLIPPER_FERNET_KEY, in the warehouse (``ops.api_credentials``).

From then on the pipeline refreshes the access token by itself. Against the local simulator
(``soleflipper simulate-stockx``), ``login --auto-approve`` does steps 1-3 in one go.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from soleflipper.settings import Settings


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _database_url(settings: Settings) -> str:
    """The warehouse, started and created if it is the project-local cluster."""
    from resources.postgres import provision

    return provision(settings).warehouse_url


def _code_from(value: str) -> str:
    """The code itself, or the ``code`` parameter of the pasted redirect address."""
    value = value.strip()
    if "://" in value or value.startswith("?") or "code=" in value:
        codes = parse_qs(urlsplit(value).query or value.lstrip("?")).get("code")
        if not codes:
            raise ValueError("the pasted address has no code=… parameter")
        return codes[0]
    return value


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(abs(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m"


# --------------------------------------------------------------------------- stockx login


def cmd_stockx_login(args: argparse.Namespace, settings: Settings) -> int:
    from resources.http_client import ApiClientError
    from resources.stockx.client import build_authorize_url
    from resources.stockx.resource import StockXConfigError, StockXSettings
    from resources.token_store import TokenStoreError

    try:
        config = StockXSettings.from_env()
        if not args.code and not args.auto_approve:
            missing = [m for m in config.missing(login=True) if m != "SOLEFLIPPER_FERNET_KEY"]
            if missing:
                raise StockXConfigError(f"StockX is not configured: set {', '.join(missing)}")
            state = secrets.token_urlsafe(16)
            url = build_authorize_url(config.auth_url, config.client_id, config.redirect_uri, state)
            _out("Open this address in a browser and sign in to StockX:")
            _out()
            _out(f"  {url}")
            _out()
            _out(f"StockX then sends the browser to {config.redirect_uri}?code=…&state={state}")
            _out("Copy that whole address (or only the code) and run:")
            _out()
            _out("  soleflipper stockx login --code '<address or code>'")
            _out()
            _out("Codes are single-use and expire within minutes.")
            return 0
        with config.client(_database_url(settings), login=True) as client:
            if args.auto_approve:
                if not _is_loopback(client.auth_url):
                    _err("--auto-approve only works against a local simulator (SOLEFLIPPER_STOCKX_AUTH_URL "
                         "on 127.0.0.1/localhost); sign in through the browser for the real StockX")
                    return 2
                code = _auto_approve(client.authorize_url(secrets.token_urlsafe(16)))
            else:
                code = _code_from(args.code)
            status = client.exchange_code(code)
    except (StockXConfigError, TokenStoreError, ApiClientError, ValueError) as exc:
        _err(f"StockX sign-in failed: {exc}")
        return 1
    valid = status.expires_at.strftime("%Y-%m-%d %H:%M UTC") if status.expires_at else "unknown"
    _out(f"Signed in to StockX. Tokens are stored encrypted in ops.api_credentials "
         f"(access token valid until {valid}; refresh token {'stored' if status.has_refresh_token else 'MISSING'}).")
    if not status.has_refresh_token:
        _out("Without a refresh token the pipeline stops when the access token expires: "
             "check that the application may use scope offline_access.")
    return 0


def _auto_approve(authorize_url: str) -> str:
    """Simulator only: request the sign-in page and take the code from its redirect."""
    import httpx

    try:
        response = httpx.get(authorize_url, follow_redirects=False, timeout=10)
    except httpx.HTTPError as exc:
        raise ValueError(f"cannot reach the sign-in page ({type(exc).__name__}): is the simulator running?") from None
    location = response.headers.get("location")
    if response.status_code != 302 or not location:
        raise ValueError(f"the sign-in page did not redirect (HTTP {response.status_code})")
    return _code_from(location)


# --------------------------------------------------------------------------- stockx status


def cmd_stockx_status(args: argparse.Namespace, settings: Settings) -> int:
    from resources.api_budget import DailyBudget
    from resources.stockx.client import PROVIDER, describe_tokens
    from resources.stockx.resource import (
        ENV_API_KEY,
        ENV_CLIENT_ID,
        ENV_CLIENT_SECRET,
        ENV_REDIRECT_URI,
        StockXConfigError,
        StockXSettings,
    )
    from resources.token_store import FERNET_KEY_ENV, TokenStore, TokenStoreError

    try:
        config = StockXSettings.from_env()
    except StockXConfigError as exc:
        _err(str(exc))
        return 1
    _out(f"StockX API: {config.base_url} (sign-in: {config.auth_url})")
    flags = [(ENV_API_KEY, config.api_key), (ENV_CLIENT_ID, config.client_id),
             (ENV_CLIENT_SECRET, config.client_secret), (ENV_REDIRECT_URI, config.redirect_uri),
             (FERNET_KEY_ENV, config.fernet_key)]
    _out("settings: " + ", ".join(f"{name} {'set' if value else 'NOT SET'}" for name, value in flags))
    database_url = _database_url(settings)
    ok = True
    store = TokenStore(database_url, config.fernet_key or None)
    try:
        tokens = describe_tokens(store.load(PROVIDER))
    except TokenStoreError as exc:
        _out(f"tokens: {exc}")
        ok = False
    else:
        if not tokens.stored:
            _out("tokens: none stored — run `soleflipper stockx login`")
            ok = False
        else:
            left = tokens.expires_in(time.time())
            if tokens.expires_at is None or left is None:
                access = "access token expiry unknown (renewed on the first 401)"
            elif left > 0:
                access = f"access token valid until {tokens.expires_at:%Y-%m-%d %H:%M} UTC (in {_duration(left)})"
            else:
                access = (f"access token expired {tokens.expires_at:%Y-%m-%d %H:%M} UTC "
                          "(renewed automatically on the next call)")
            refresh = "refresh token stored" if tokens.has_refresh_token else "NO refresh token: run `soleflipper stockx login`"
            ok = ok and tokens.has_refresh_token
            _out(f"tokens: stored; {access}; {refresh}")
    with DailyBudget(database_url, PROVIDER, config.daily_budget) as budget:
        used = budget.used()
        _out(f"daily budget: {used} of {budget.limit} requests used today (UTC), "
             f"{max(0, budget.limit - used)} remaining; resets {budget.resets_at():%Y-%m-%d %H:%M} UTC")
    return 0 if ok else 1


# --------------------------------------------------------------------------- secrets, simulator


def cmd_secrets_new_key(args: argparse.Namespace, settings: Settings) -> int:
    from resources.token_store import FERNET_KEY_ENV, new_key

    _out(new_key())
    _err(f"Export it as {FERNET_KEY_ENV} (keep it secret; tokens stored with another key cannot be read). "
         "Changing it later means signing in again: `soleflipper stockx login`.")
    return 0


def cmd_simulate_stockx(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.stockx import serve, simulator_from_args

    serve(simulator_from_args(args))
    return 0


# --------------------------------------------------------------------------- parser


def register(subparsers: Any) -> None:
    """Add ``stockx``, ``secrets`` and ``simulate-stockx`` to the main parser's subparsers."""
    from simulators.stockx import add_arguments

    stockx = subparsers.add_parser("stockx", help="StockX API: sign in once, show token and budget status")
    actions = stockx.add_subparsers(dest="stockx_command", required=True)
    login = actions.add_parser("login", help="print the StockX sign-in URL; with --code, store the tokens")
    login.add_argument("--code", help="the code StockX redirected to, or the whole redirect address")
    login.add_argument("--auto-approve", action="store_true",
                       help="local simulator only: approve and store the tokens in one step")
    login.set_defaults(func=cmd_stockx_login)
    status = actions.add_parser("status", help="tokens stored? until when? requests left today? (no secrets)")
    status.set_defaults(func=cmd_stockx_status)

    secrets_parser = subparsers.add_parser("secrets", help="key management for stored API credentials")
    secret_actions = secrets_parser.add_subparsers(dest="secrets_command", required=True)
    new_key = secret_actions.add_parser("new-key", help="print a new SOLEFLIPPER_FERNET_KEY")
    new_key.set_defaults(func=cmd_secrets_new_key)

    simulate = subparsers.add_parser("simulate-stockx", help="serve the local StockX simulator until Ctrl-C")
    add_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate_stockx)
