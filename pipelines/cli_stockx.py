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
import time
from typing import Any

from pipelines import cli_oauth
from soleflipper.settings import Settings

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
            cli_oauth.out("Open this address in a browser and sign in to StockX:")
            cli_oauth.out()
            cli_oauth.out(f"  {url}")
            cli_oauth.out()
            cli_oauth.out(f"StockX then sends the browser to {config.redirect_uri}?code=…&state={state}")
            cli_oauth.out("Copy that whole address (or only the code) and run:")
            cli_oauth.out()
            cli_oauth.out("  soleflipper stockx login --code '<address or code>'")
            cli_oauth.out()
            cli_oauth.out("Codes are single-use and expire within minutes.")
            return 0
        with config.client(cli_oauth.database_url(settings), login=True) as client:
            if args.auto_approve:
                if not cli_oauth.is_loopback(client.auth_url):
                    cli_oauth.err("--auto-approve only works against a local simulator (SOLEFLIPPER_STOCKX_AUTH_URL "
                         "on 127.0.0.1/localhost); sign in through the browser for the real StockX")
                    return 2
                code = cli_oauth.auto_approve(client.authorize_url(secrets.token_urlsafe(16)))
            else:
                code = cli_oauth.code_from(args.code)
            status = client.exchange_code(code)
    except (StockXConfigError, TokenStoreError, ApiClientError, ValueError) as exc:
        cli_oauth.err(f"StockX sign-in failed: {exc}")
        return 1
    valid = status.expires_at.strftime("%Y-%m-%d %H:%M UTC") if status.expires_at else "unknown"
    cli_oauth.out(f"Signed in to StockX. Tokens are stored encrypted in ops.api_credentials "
         f"(access token valid until {valid}; refresh token {'stored' if status.has_refresh_token else 'MISSING'}).")
    if not status.has_refresh_token:
        cli_oauth.out("Without a refresh token the pipeline stops when the access token expires: "
             "check that the application may use scope offline_access.")
    return 0


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
        cli_oauth.err(str(exc))
        return 1
    cli_oauth.out(f"StockX API: {config.base_url} (sign-in: {config.auth_url})")
    flags = [(ENV_API_KEY, config.api_key), (ENV_CLIENT_ID, config.client_id),
             (ENV_CLIENT_SECRET, config.client_secret), (ENV_REDIRECT_URI, config.redirect_uri),
             (FERNET_KEY_ENV, config.fernet_key)]
    cli_oauth.out("settings: " + ", ".join(f"{name} {'set' if value else 'NOT SET'}" for name, value in flags))
    database_url = cli_oauth.database_url(settings)
    ok = True
    store = TokenStore(database_url, config.fernet_key or None)
    try:
        tokens = describe_tokens(store.load(PROVIDER))
    except TokenStoreError as exc:
        cli_oauth.out(f"tokens: {exc}")
        ok = False
    else:
        if not tokens.stored:
            cli_oauth.out("tokens: none stored — run `soleflipper stockx login`")
            ok = False
        else:
            left = tokens.expires_in(time.time())
            if tokens.expires_at is None or left is None:
                access = "access token expiry unknown (renewed on the first 401)"
            elif left > 0:
                access = f"access token valid until {tokens.expires_at:%Y-%m-%d %H:%M} UTC (in {cli_oauth.duration(left)})"
            else:
                access = (f"access token expired {tokens.expires_at:%Y-%m-%d %H:%M} UTC "
                          "(renewed automatically on the next call)")
            refresh = "refresh token stored" if tokens.has_refresh_token else "NO refresh token: run `soleflipper stockx login`"
            ok = ok and tokens.has_refresh_token
            cli_oauth.out(f"tokens: stored; {access}; {refresh}")
    with DailyBudget(database_url, PROVIDER, config.daily_budget) as budget:
        used = budget.used()
        cli_oauth.out(f"daily budget: {used} of {budget.limit} requests used today (UTC), "
             f"{max(0, budget.limit - used)} remaining; resets {budget.resets_at():%Y-%m-%d %H:%M} UTC")
    return 0 if ok else 1


# --------------------------------------------------------------------------- secrets, simulator


def cmd_secrets_new_key(args: argparse.Namespace, settings: Settings) -> int:
    from resources.token_store import FERNET_KEY_ENV, new_key

    cli_oauth.out(new_key())
    cli_oauth.err(f"Export it as {FERNET_KEY_ENV} (keep it secret; tokens stored with another key cannot be read). "
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
