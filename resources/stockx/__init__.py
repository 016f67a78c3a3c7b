"""StockX Public API v2: the client (``client.py``) and its Dagster resource (``resource.py``)."""

from resources.stockx.client import (
    AUDIENCE,
    DAILY_LIMIT,
    DEFAULT_AUTH_URL,
    DEFAULT_BASE_URL,
    PROVIDER,
    SCOPE,
    StockXClient,
    TokenStatus,
    build_authorize_url,
    decimal_amount,
    describe_tokens,
    shared_rate_limiter,
)
from resources.stockx.resource import StockXConfigError, StockXResource, StockXSettings, build_client

__all__ = [
    "AUDIENCE",
    "DAILY_LIMIT",
    "DEFAULT_AUTH_URL",
    "DEFAULT_BASE_URL",
    "PROVIDER",
    "SCOPE",
    "StockXClient",
    "StockXConfigError",
    "StockXResource",
    "StockXSettings",
    "TokenStatus",
    "build_authorize_url",
    "build_client",
    "decimal_amount",
    "describe_tokens",
    "shared_rate_limiter",
]
