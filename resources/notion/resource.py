"""The Notion API as a Dagster resource: configuration in, a :class:`NotionClient` out."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from resources.http_client import RateLimiter
from resources.notion.client import DEFAULT_BASE_URL, DEFAULT_VERSION, TOKEN_ENV, NotionClient


class NotionResource(dg.ConfigurableResource):
    """Notion integration settings. Wire the token as ``dg.EnvVar("SOLEFLIPPER_NOTION_TOKEN")``."""

    token: str = Field(description=f"Notion internal integration token (secret; from {TOKEN_ENV}).")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root; a simulator's URL + /v1 in tests.")
    notion_version: str = Field(
        default=DEFAULT_VERSION, description="Notion-Version header: 2025-09-03 (data sources) or 2022-06-28."
    )
    requests_per_second: float = Field(
        default=3.0, description="Pacing; Notion allows ~3 requests/s on average."
    )
    timeout_seconds: float = Field(default=60.0, description="Per-request timeout (Notion's own is 60 s).")
    max_attempts: int = Field(default=5, description="Attempts per request on 429/529/5xx and broken bodies.")

    _rate_limiter: RateLimiter | None = PrivateAttr(default=None)

    def get_client(self, **overrides: Any) -> NotionClient:
        """A new client; clients from one resource share one pace. ``overrides`` go to NotionClient."""
        if "rate_limiter" not in overrides and "requests_per_second" not in overrides:
            if self._rate_limiter is None:
                self._rate_limiter = RateLimiter(self.requests_per_second)
            overrides["rate_limiter"] = self._rate_limiter
        options: dict[str, Any] = {
            "base_url": self.base_url,
            "notion_version": self.notion_version,
            "timeout": self.timeout_seconds,
            "max_attempts": self.max_attempts,
            **overrides,
        }
        return NotionClient(self.token, **options)
