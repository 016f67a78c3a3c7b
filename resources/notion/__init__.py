"""Notion: the API client (:mod:`.client`) and its Dagster resource (:mod:`.resource`)."""

from resources.notion.client import (
    DATA_SOURCES_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_VERSION,
    LEGACY_VERSION,
    TOKEN_ENV,
    NotionApiError,
    NotionAuthError,
    NotionClient,
    NotionQueryTruncated,
    NotionSyncError,
    NotionTarget,
    PageDeduper,
    QueryBatch,
    floor_minute,
    is_trashed,
    notion_timestamp,
)
from resources.notion.resource import NotionResource

__all__ = [
    "DATA_SOURCES_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_VERSION",
    "LEGACY_VERSION",
    "TOKEN_ENV",
    "NotionApiError",
    "NotionAuthError",
    "NotionClient",
    "NotionQueryTruncated",
    "NotionResource",
    "NotionSyncError",
    "NotionTarget",
    "PageDeduper",
    "QueryBatch",
    "floor_minute",
    "is_trashed",
    "notion_timestamp",
]
