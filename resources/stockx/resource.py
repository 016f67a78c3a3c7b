"""StockX as a Dagster resource, and the environment variables that configure it.

| Variable | Default | Secret | What |
|---|---|---|---|
| ``SOLEFLIPPER_STOCKX_BASE_URL`` | ``https://api.stockx.com/v2`` | no | API base (a simulator: ``http://127.0.0.1:<port>/v2``) |
| ``SOLEFLIPPER_STOCKX_AUTH_URL`` | ``https://accounts.stockx.com`` | no | OAuth server (``/authorize``, ``/oauth/token``) |
| ``SOLEFLIPPER_STOCKX_API_KEY`` | — (required) | **yes** | developer-portal API key, sent as ``x-api-key`` |
| ``SOLEFLIPPER_STOCKX_CLIENT_ID`` | — (required) | no* | OAuth application client id (*not secret, but account-specific) |
| ``SOLEFLIPPER_STOCKX_CLIENT_SECRET`` | — (required) | **yes** | OAuth application client secret |
| ``SOLEFLIPPER_STOCKX_REDIRECT_URI`` | — (needed by ``stockx login``) | no | callback URL registered for the application |
| ``SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND`` | ``1`` | no | client-side pace (StockX allows 1/s) |
| ``SOLEFLIPPER_STOCKX_DAILY_BUDGET`` | ``25000`` | no | requests per UTC day, shared by all processes |
| ``SOLEFLIPPER_FERNET_KEY`` | — (required) | **yes** | encrypts stored tokens (``soleflipper secrets new-key``) |

Tokens themselves are never configured: ``soleflipper stockx login`` stores them, encrypted, in
``ops.api_credentials`` of the warehouse database.

In Definitions, build the resource with :meth:`StockXResource.from_env` (secrets become
``dagster.EnvVar`` so their values never appear in the UI or run config).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from resources.api_budget import DailyBudget
from resources.stockx.client import (
    DAILY_LIMIT,
    DEFAULT_AUTH_URL,
    DEFAULT_BASE_URL,
    PROVIDER,
    StockXClient,
    shared_rate_limiter,
)
from resources.token_store import FERNET_KEY_ENV, TokenStore

ENV_BASE_URL = "SOLEFLIPPER_STOCKX_BASE_URL"
ENV_AUTH_URL = "SOLEFLIPPER_STOCKX_AUTH_URL"
ENV_API_KEY = "SOLEFLIPPER_STOCKX_API_KEY"
ENV_CLIENT_ID = "SOLEFLIPPER_STOCKX_CLIENT_ID"
ENV_CLIENT_SECRET = "SOLEFLIPPER_STOCKX_CLIENT_SECRET"
ENV_REDIRECT_URI = "SOLEFLIPPER_STOCKX_REDIRECT_URI"
ENV_REQUESTS_PER_SECOND = "SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND"
ENV_DAILY_BUDGET = "SOLEFLIPPER_STOCKX_DAILY_BUDGET"


class StockXConfigError(RuntimeError):
    """A required StockX setting is missing or unreadable (the message names variables, not values)."""


@dataclass(frozen=True)
class StockXSettings:
    """The StockX variables read once from the environment (for the CLI; Dagster uses the resource)."""

    base_url: str = DEFAULT_BASE_URL
    auth_url: str = DEFAULT_AUTH_URL
    api_key: str = ""
    client_id: str = ""
    client_secret: str = ""
    redirect_uri: str = ""
    fernet_key: str = ""
    requests_per_second: float = 1.0
    daily_budget: int = DAILY_LIMIT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StockXSettings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or "").strip() or default

        try:
            rps = float(get(ENV_REQUESTS_PER_SECOND, "1"))
            budget = int(get(ENV_DAILY_BUDGET, str(DAILY_LIMIT)))
        except ValueError as exc:
            raise StockXConfigError(f"{ENV_REQUESTS_PER_SECOND} / {ENV_DAILY_BUDGET} must be numbers: {exc}") from None
        return cls(
            base_url=get(ENV_BASE_URL, DEFAULT_BASE_URL),
            auth_url=get(ENV_AUTH_URL, DEFAULT_AUTH_URL),
            api_key=get(ENV_API_KEY),
            client_id=get(ENV_CLIENT_ID),
            client_secret=get(ENV_CLIENT_SECRET),
            redirect_uri=get(ENV_REDIRECT_URI),
            fernet_key=get(FERNET_KEY_ENV),
            requests_per_second=rps,
            daily_budget=budget,
        )

    def missing(self, *, login: bool = False) -> list[str]:
        """Names of required variables that are unset (``login``: the redirect URI too)."""
        required = [(ENV_API_KEY, self.api_key), (ENV_CLIENT_ID, self.client_id),
                    (ENV_CLIENT_SECRET, self.client_secret), (FERNET_KEY_ENV, self.fernet_key)]
        if login:
            required.append((ENV_REDIRECT_URI, self.redirect_uri))
        return [name for name, value in required if not value]

    def client(self, database_url: str, *, login: bool = False, **overrides: Any) -> StockXClient:
        """A client from these settings; StockXConfigError naming every missing variable."""
        missing = self.missing(login=login)
        if missing:
            hint = " (generate the key with `soleflipper secrets new-key`)" if FERNET_KEY_ENV in missing else ""
            raise StockXConfigError(f"StockX is not configured: set {', '.join(missing)}{hint}")
        return build_client(
            database_url=database_url,
            base_url=self.base_url,
            auth_url=self.auth_url,
            api_key=self.api_key,
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            fernet_key=self.fernet_key,
            requests_per_second=self.requests_per_second,
            daily_budget=self.daily_budget,
            **overrides,
        )


def build_client(
    *,
    database_url: str,
    base_url: str,
    auth_url: str,
    api_key: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    fernet_key: str,
    requests_per_second: float = 1.0,
    daily_budget: int = DAILY_LIMIT,
    **overrides: Any,
) -> StockXClient:
    """A StockXClient on the shared token store, budget and (per process) rate limiter."""
    options: dict[str, Any] = {}
    if requests_per_second and requests_per_second > 0 and "rate_limiter" not in overrides:
        options["rate_limiter"] = shared_rate_limiter(base_url, requests_per_second)
    options["requests_per_second"] = None
    options.update(overrides)
    return StockXClient(
        api_key=api_key,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        base_url=base_url,
        auth_url=auth_url,
        token_store=TokenStore(database_url, fernet_key or None),
        budget=DailyBudget(database_url, PROVIDER, daily_budget),
        **options,
    )


def _value(field: str) -> str:
    """A field's value; an unresolved EnvVar (resource used outside Dagster) is read from the environment."""
    return (field.get_value("") or "") if isinstance(field, dg.EnvVar) else field


class StockXResource(dg.ConfigurableResource):
    """The StockX Public API for assets: ``with resource.get_client() as stockx: ...``.

    Secrets are meant to come from ``dagster.EnvVar`` (see :meth:`from_env`); the access and
    refresh tokens come from the encrypted token store, written by ``soleflipper stockx login``.
    """

    base_url: str = DEFAULT_BASE_URL
    auth_url: str = DEFAULT_AUTH_URL
    api_key: str
    client_id: str
    client_secret: str
    redirect_uri: str = ""
    database_url: str
    fernet_key: str
    requests_per_second: float = 1.0
    daily_budget: int = DAILY_LIMIT

    def get_client(self) -> StockXClient:
        """A new client (close it when done). Works inside Dagster and, reading EnvVars, outside it."""
        return build_client(
            database_url=_value(self.database_url),
            base_url=_value(self.base_url),
            auth_url=_value(self.auth_url),
            api_key=_value(self.api_key),
            client_id=_value(self.client_id),
            client_secret=_value(self.client_secret),
            redirect_uri=_value(self.redirect_uri),
            fernet_key=_value(self.fernet_key),
            requests_per_second=self.requests_per_second,
            daily_budget=self.daily_budget,
        )

    @classmethod
    def from_env(cls, database_url: str, environ: Mapping[str, str] | None = None) -> StockXResource:
        """The resource for Definitions: secrets as EnvVar (resolved at run time), the rest read now."""
        settings = StockXSettings.from_env(environ)
        return cls(
            base_url=settings.base_url,
            auth_url=settings.auth_url,
            api_key=dg.EnvVar(ENV_API_KEY),
            client_id=dg.EnvVar(ENV_CLIENT_ID),
            client_secret=dg.EnvVar(ENV_CLIENT_SECRET),
            redirect_uri=settings.redirect_uri,
            database_url=database_url,
            fernet_key=dg.EnvVar(FERNET_KEY_ENV),
            requests_per_second=settings.requests_per_second,
            daily_budget=settings.daily_budget,
        )
