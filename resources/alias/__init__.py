"""Alias (GOAT's seller app): the API client (:mod:`.client`) and its Dagster resource (:mod:`.resource`)."""

from resources.alias.client import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    MAX_PAGE_SIZE,
    TOKEN_ENV,
    AliasApiError,
    AliasAuthError,
    AliasClient,
    AliasPagingError,
    AliasScopeError,
    cents_to_decimal,
)
from resources.alias.resource import AliasResource

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "TOKEN_ENV",
    "AliasApiError",
    "AliasAuthError",
    "AliasClient",
    "AliasPagingError",
    "AliasResource",
    "AliasScopeError",
    "cents_to_decimal",
]
