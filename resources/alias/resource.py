"""The Alias API as a Dagster resource: configuration in, an :class:`AliasClient` out."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from resources.alias.client import BASE_URL_ENV, DEFAULT_BASE_URL, TOKEN_ENV, AliasClient
from resources.http_client import RateLimiter


class AliasResource(dg.ConfigurableResource):
    """Alias settings. Wire the token as ``dg.EnvVar("SOLEFLIPPER_ALIAS_TOKEN")`` (:meth:`from_env`)."""

    token: str = Field(description=f"Alias personal access token (secret; from {TOKEN_ENV}).")
    base_url: str = Field(default=DEFAULT_BASE_URL, description=f"API root ({BASE_URL_ENV}); a simulator's in tests.")
    requests_per_second: float = Field(default=2.0, description="Pacing; Alias publishes no rate, 429s are retried.")
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")
    max_attempts: int = Field(default=5, description="Attempts per read on 429/5xx and broken bodies.")

    _rate_limiter: RateLimiter | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls) -> AliasResource:
        base_url = (os.environ.get(BASE_URL_ENV) or "").strip() or DEFAULT_BASE_URL
        return cls(token=dg.EnvVar(TOKEN_ENV), base_url=base_url)

    def get_client(self, **overrides: Any) -> AliasClient:
        """A new client; clients from one resource share one pace. ``overrides`` go to AliasClient."""
        if "rate_limiter" not in overrides and "requests_per_second" not in overrides:
            if self._rate_limiter is None:
                self._rate_limiter = RateLimiter(self.requests_per_second)
            overrides["rate_limiter"] = self._rate_limiter
        options: dict[str, Any] = {"base_url": self.base_url, "timeout": self.timeout_seconds,
                                   "max_attempts": self.max_attempts, **overrides}
        return AliasClient(self.token, **options)
