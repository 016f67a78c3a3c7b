"""Metabase as a Dagster resource: configuration in, a :class:`MetabaseClient` out.

Configured from the environment (:meth:`MetabaseResource.from_env`): ``SOLEFLIPPER_METABASE_URL``,
then ``SOLEFLIPPER_METABASE_API_KEY`` or ``SOLEFLIPPER_METABASE_USER`` +
``SOLEFLIPPER_METABASE_PASSWORD``. Secrets are wired as ``dg.EnvVar`` so the UI never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import Field

from resources.metabase.client import API_KEY_ENV, PASSWORD_ENV, URL_ENV, USER_ENV, MetabaseClient


def metabase_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a Metabase is configured: its URL and either an API key or a user and password."""
    env = os.environ if environ is None else environ

    def has(name: str) -> bool:
        return bool((env.get(name) or "").strip())

    return has(URL_ENV) and (has(API_KEY_ENV) or (has(USER_ENV) and has(PASSWORD_ENV)))


class MetabaseResource(dg.ConfigurableResource):
    """A Metabase instance to provision dashboards into."""

    url: str = Field(description=f"Metabase's address, e.g. http://localhost:3001 (from {URL_ENV}).")
    api_key: str | None = Field(default=None, description=f"An API key (secret; from {API_KEY_ENV}).")
    username: str | None = Field(default=None, description=f"An admin's email (from {USER_ENV}).")
    password: str | None = Field(default=None, description=f"That admin's password (secret; {PASSWORD_ENV}).")
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MetabaseResource:
        env = os.environ if environ is None else environ

        def value(name: str, secret: bool = False) -> Any:
            if not (env.get(name) or "").strip():
                return None
            return dg.EnvVar(name) if secret and environ is None else env[name].strip()

        return cls(
            url=(env.get(URL_ENV) or "").strip(),
            api_key=value(API_KEY_ENV, secret=True),
            username=value(USER_ENV),
            password=value(PASSWORD_ENV, secret=True),
        )

    def get_client(self, **overrides: Any) -> MetabaseClient:
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "username": self.username,
            "password": self.password,
            "timeout": self.timeout_seconds,
            **overrides,
        }
        return MetabaseClient(self.url, **options)
