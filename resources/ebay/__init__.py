"""eBay Sell Fulfillment + Finances: the client (``client.py``) and its Dagster resource (``resource.py``)."""

from resources.ebay.client import PROVIDER, EbayClient, date_range, ebay_time
from resources.ebay.resource import EbayResource, ebay_enabled

__all__ = ["PROVIDER", "EbayClient", "EbayResource", "date_range", "ebay_enabled", "ebay_time"]
