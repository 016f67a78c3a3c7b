"""``soleflipper ebay login|status``: the seller signs in to eBay once (authorization-code grant).

Wired into the main parser by :func:`register`; commands take ``(args, settings)`` like those in
:mod:`pipelines.cli`. Nothing here prints a token, the client secret or the signing key.

1. ``soleflipper ebay login`` prints eBay's consent address (client id, the RuName as
   ``redirect_uri``, ``response_type=code``, the Fulfillment + Finances scopes);
2. after the seller agrees, eBay sends the browser to the RuName's accept URL with ``?code=…``
   — copy that address (or only the code);
3. ``soleflipper ebay login --code '<address or code>'`` trades it at eBay's token endpoint and
   stores the tokens, Fernet-encrypted with SOLEFLIPPER_FERNET_KEY, in ``ops.api_credentials``
   (provider ``ebay``), where the pipeline's eBay client finds and refreshes them.

Against the local simulator (``python -m simulators.ebay``), ``login --auto-approve`` does 1-3 at once.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from typing import Any
from urllib.parse import unquote

from pipelines import cli_oauth
from soleflipper.settings import Settings


def _ebay_code(value: str) -> str:
    """The code from a pasted accept-URL address, or a bare code (eBay's arrive percent-encoded: v%5E1.1%23…)."""
    code = cli_oauth.code_from(value)
    return unquote(code) if code == value.strip() and "%" in code else code


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _is_set(name: str) -> bool:
    return bool((os.environ.get(name) or "").strip())


# --------------------------------------------------------------------------- ebay login


def cmd_ebay_login(args: argparse.Namespace, settings: Settings) -> int:
    from resources.ebay.client import build_consent_url
    from resources.ebay.resource import (
        ENV_CLIENT_ID,
        ENV_CLIENT_SECRET,
        ENV_REFRESH_TOKEN,
        ENV_RUNAME,
        client_from_env,
        consent_url_from_env,
    )
    from resources.http_client import ApiClientError
    from resources.token_store import TokenStoreError

    consent = consent_url_from_env()
    exchange = bool(args.code or args.auto_approve)
    needed = (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_RUNAME) if exchange else (ENV_CLIENT_ID, ENV_RUNAME)
    try:
        missing = [name for name in needed if not _is_set(name)]
        if missing:
            raise ValueError(f"eBay is not configured: set {', '.join(missing)}")
        if not exchange:
            state = secrets.token_urlsafe(16)
            client_id, runame = (os.environ[name].strip() for name in (ENV_CLIENT_ID, ENV_RUNAME))
            cli_oauth.out("Open this address in a browser, sign in to eBay as the seller and agree:")
            cli_oauth.out()
            cli_oauth.out(f"  {build_consent_url(consent, client_id, runame, state)}")
            cli_oauth.out()
            cli_oauth.out(f"eBay then sends the browser to your RuName's accept URL with ?state={state}&code=…")
            cli_oauth.out("Copy that whole address (or only the code) and run:")
            cli_oauth.out()
            cli_oauth.out("  soleflipper ebay login --code '<address or code>'")
            cli_oauth.out()
            cli_oauth.out("Codes are single-use and expire after 5 minutes.")
            return 0
        if args.auto_approve and not cli_oauth.is_loopback(consent):
            cli_oauth.err("--auto-approve only works against the local simulator (SOLEFLIPPER_EBAY_CONSENT_URL on "
                 "127.0.0.1/localhost); sign in through the browser for the real eBay")
            return 2
        with client_from_env(cli_oauth.database_url(settings)) as client:
            if args.auto_approve:
                code = cli_oauth.auto_approve(build_consent_url(consent, client.client_id, client.redirect_uri,
                                                       secrets.token_urlsafe(16)))
            else:
                code = _ebay_code(args.code)
            status = client.exchange_code(code)
    except (TokenStoreError, ApiClientError, ValueError) as exc:
        cli_oauth.err(f"eBay sign-in failed: {exc}")
        return 1
    refresh = (f"refresh token stored, valid until {_when(status.refresh_expires_at)}" if status.refresh_expires_at
               else "refresh token stored" if status.has_refresh_token else "refresh token MISSING")
    cli_oauth.out(f"Signed in to eBay. Tokens are stored encrypted in ops.api_credentials (access token valid until "
         f"{_when(status.access_expires_at) if status.access_expires_at else 'unknown'}; {refresh}).")
    if _is_set(ENV_REFRESH_TOKEN):
        cli_oauth.out(f"Note: {ENV_REFRESH_TOKEN} is set and wins over the stored refresh token: unset it to use this sign-in.")
    return 0


# --------------------------------------------------------------------------- ebay status


def cmd_ebay_status(args: argparse.Namespace, settings: Settings) -> int:
    from resources.ebay.client import DEFAULT_API_URL, PROVIDER, describe_tokens
    from resources.ebay.resource import (
        ENV_API_URL,
        ENV_CLIENT_ID,
        ENV_CLIENT_SECRET,
        ENV_REFRESH_TOKEN,
        ENV_RUNAME,
        ENV_SIGNATURE_KEY_JWE,
        ENV_SIGNING_KEY,
    )
    from resources.token_store import FERNET_KEY_ENV, TokenStore, TokenStoreError

    cli_oauth.out(f"eBay API: {(os.environ.get(ENV_API_URL) or '').strip() or DEFAULT_API_URL}")
    names = (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_RUNAME, ENV_REFRESH_TOKEN, FERNET_KEY_ENV)
    cli_oauth.out("settings: " + ", ".join(f"{name} {'set' if _is_set(name) else 'NOT SET'}" for name in names))
    signing = (_is_set(ENV_SIGNING_KEY), _is_set(ENV_SIGNATURE_KEY_JWE))
    cli_oauth.out("Finances request signing (EU/UK sellers): " + (
        "on" if all(signing) else "off" if not any(signing)
        else f"INCOMPLETE: set both {ENV_SIGNING_KEY} and {ENV_SIGNATURE_KEY_JWE}"))
    configured = _is_set(ENV_CLIENT_ID) and _is_set(ENV_CLIENT_SECRET) and all(signing) == any(signing)
    env_refresh = _is_set(ENV_REFRESH_TOKEN)
    try:
        store = TokenStore(cli_oauth.database_url(settings), os.environ.get(FERNET_KEY_ENV) or None)
        tokens = describe_tokens(store.load(PROVIDER))
    except TokenStoreError as exc:
        cli_oauth.out(f"tokens: {exc}")
        return 1
    if not tokens.stored:
        cli_oauth.out("tokens: none stored — run `soleflipper ebay login`"
             + (f" (until then the pipeline signs in with {ENV_REFRESH_TOKEN})" if env_refresh else ""))
        return 0 if configured and env_refresh else 1
    now = time.time()
    expires, refresh_expires = tokens.access_expires_at, tokens.refresh_expires_at
    if expires is None:
        access = "access token expiry unknown"
    elif expires.timestamp() > now:
        access = f"access token valid until {_when(expires)} (in {cli_oauth.duration(expires.timestamp() - now)})"
    else:
        access = f"access token expired {_when(expires)} (renewed automatically on the next call)"
    usable = tokens.has_refresh_token and (refresh_expires is None or refresh_expires.timestamp() > now)
    if not tokens.has_refresh_token:
        refresh = "NO refresh token: run `soleflipper ebay login`"
    elif refresh_expires is None:
        refresh = "refresh token stored"
    elif usable:
        refresh = f"refresh token valid until {_when(refresh_expires)}"
    else:
        refresh = f"refresh token EXPIRED {_when(refresh_expires)}: run `soleflipper ebay login`"
    cli_oauth.out(f"tokens: stored; {access}; {refresh}")
    if env_refresh:
        cli_oauth.out(f"note: {ENV_REFRESH_TOKEN} is set and is used instead of the stored refresh token")
    return 0 if configured and (usable or env_refresh) else 1


# --------------------------------------------------------------------------- parser


def register(subparsers: Any) -> None:
    """Add ``ebay login`` and ``ebay status`` to the main parser's subparsers."""
    ebay = subparsers.add_parser("ebay", help="eBay Sell APIs: sign in once, show token status")
    actions = ebay.add_subparsers(dest="ebay_command", required=True)
    login = actions.add_parser("login", help="print eBay's consent address; with --code, store the tokens")
    login.add_argument("--code", help="the code eBay redirected with, or the whole redirect address")
    login.add_argument("--auto-approve", action="store_true",
                       help="local simulator only: approve and store the tokens in one step")
    login.set_defaults(func=cmd_ebay_login)
    status = actions.add_parser("status", help="tokens stored? until when? signing on? (no secrets)")
    status.set_defaults(func=cmd_ebay_status)
