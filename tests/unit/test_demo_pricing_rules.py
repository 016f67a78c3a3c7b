"""The demo business's pricing rules: the defaults with Alias and eBay (observed fees) enabled next to StockX."""

from __future__ import annotations

from dataclasses import replace

from pipelines.demo import DEMO_PRICING_RULES
from soleflipper.pricing.rules import DEFAULT_RULES_PATH, load_rules


def test_demo_rules_price_on_stockx_alias_and_ebay_and_keep_every_other_default():
    demo = load_rules(DEMO_PRICING_RULES)
    default = load_rules(DEFAULT_RULES_PATH)
    assert [p.platform for p in demo.enabled_platforms()] == ["stockx", "alias", "ebay"]
    assert [p.platform for p in default.enabled_platforms()] == ["stockx"]
    alias = next(p for p in demo.platforms if p.platform == "alias")
    assert (alias.currency, alias.region, alias.seller_rating) == ("USD", "DE", 95)
    ebay = next(p for p in demo.platforms if p.platform == "ebay")
    assert (ebay.currency, ebay.observed_fees, ebay.final_value_rate) == ("EUR", True, None)
    # apart from Alias and eBay being on, the demo rules are the defaults
    alias_off = tuple(replace(p, enabled=p.platform == "stockx") for p in demo.platforms)
    assert replace(demo.with_changes(platforms=alias_off), source=default.source) == default
