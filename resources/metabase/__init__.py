"""Metabase: the API client (:mod:`.client`) and its Dagster resource (:mod:`.resource`)."""

from resources.metabase.client import (
    API_KEY_ENV,
    PASSWORD_ENV,
    URL_ENV,
    USER_ENV,
    MetabaseAuthError,
    MetabaseClient,
    MetabaseSyncTimeout,
)
from resources.metabase.resource import MetabaseResource, metabase_enabled

__all__ = [
    "API_KEY_ENV",
    "PASSWORD_ENV",
    "URL_ENV",
    "USER_ENV",
    "MetabaseAuthError",
    "MetabaseClient",
    "MetabaseResource",
    "MetabaseSyncTimeout",
    "metabase_enabled",
]
