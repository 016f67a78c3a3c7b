"""Reseller pricing rules: defaults, the env override and errors that name the file and field."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from soleflipper.pricing.rules import DEFAULT_RULES_PATH, RULES_ENV, PricingRulesError, load_rules


def test_defaults(monkeypatch):
    monkeypatch.delenv(RULES_ENV, raising=False)
    rules = load_rules()
    assert rules.source == str(DEFAULT_RULES_PATH)
    assert (rules.home_currency, rules.min_margin_pct, rules.max_discount_pct) == ("EUR", D("10"), D("15"))
    assert rules.rounding == "charm_99" and rules.clearance_after_days == 180
    stockx = rules.enabled_platforms()
    assert [p.platform for p in stockx] == ["stockx"]
    assert (stockx[0].region, stockx[0].seller_level, stockx[0].min_seller_fee) == ("EU", "1", None)  # the seed's
    assert {p.platform for p in rules.platforms} == {"stockx", "alias", "ebay"}


def test_env_file_overrides_fields_and_keeps_the_rest(tmp_path: Path, monkeypatch):
    path = tmp_path / "rules.yaml"
    path.write_text("min_margin_pct: 25\nrounding: five\nclearance_after_days: null\n", encoding="utf-8")
    monkeypatch.setenv(RULES_ENV, str(path))
    rules = load_rules()
    assert rules.source == str(path)
    assert (rules.min_margin_pct, rules.rounding, rules.clearance_after_days) == (D("25"), "five", None)
    assert rules.max_discount_pct == D("15")  # default kept
    assert rules.enabled_platforms()[0].platform == "stockx"


def test_explicit_path_wins_over_env(tmp_path: Path, monkeypatch):
    env_file, explicit = tmp_path / "env.yaml", tmp_path / "explicit.yaml"
    env_file.write_text("min_margin_pct: 1\n", encoding="utf-8")
    explicit.write_text("min_margin_pct: 2\n", encoding="utf-8")
    monkeypatch.setenv(RULES_ENV, str(env_file))
    assert load_rules(explicit).min_margin_pct == D("2")


def test_platforms_replace_the_default_set(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "home_currency: usd\nplatforms:\n  alias: {region: US, seller_rating: 80, shipping_cost: 9.5}\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.home_currency == "USD"
    (alias,) = rules.platforms
    assert (alias.platform, alias.currency, alias.seller_rating, alias.shipping_cost) == (
        "alias",
        "USD",
        80,
        D("9.5"),
    )
    profile = alias.profile()
    assert (profile.platform, profile.region, profile.seller_rating) == ("alias", "US", 80)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_margin_pct: abc\n", "field 'min_margin_pct': expected a number, got 'abc'"),
        ("min_margin_pct: -1\n", "field 'min_margin_pct': must be >= 0, got -1"),
        ("max_discount_pct: 150\n", "field 'max_discount_pct': must be <= 100, got 150"),
        (
            "rounding: nearest\n",
            "field 'rounding': expected one of cent, whole, charm_99, five, got 'nearest'",
        ),
        ("clearance_after_days: 1.5\n", "field 'clearance_after_days': expected a whole number, got 1.5"),
        ("target_days_to_sell: 0\n", "field 'target_days_to_sell': must be >= 1, got 0"),
        ("home_currency: euro\n", "field 'home_currency': expected a 3-letter currency code, got 'euro'"),
        ("min_margin: 10\n", "field 'min_margin': unknown field"),
        ("platforms: [stockx]\n", "field 'platforms': expected a mapping"),
        (
            "platforms:\n  stockx: {shipping_cost: -2}\n",
            "field 'platforms.stockx.shipping_cost': must be >= 0",
        ),
        (
            "platforms:\n  stockx: {enabled: yes please}\n",
            "field 'platforms.stockx.enabled': expected true or false",
        ),
        ("platforms:\n  stockx: {level: 2}\n", "field 'platforms.stockx.level': unknown field"),
        (
            "platforms:\n  stockx: {performance_bonuses: two}\n",
            "field 'platforms.stockx.performance_bonuses'",
        ),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text, message):
    path = tmp_path / "bad_rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PricingRulesError) as info:
        load_rules(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_unreadable_and_invalid_files(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PricingRulesError, match=f"{missing}: cannot read the pricing rules file"):
        load_rules(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("min_margin_pct: [1\n", encoding="utf-8")
    with pytest.raises(PricingRulesError, match=f"{broken}: not valid YAML"):
        load_rules(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n", encoding="utf-8")
    with pytest.raises(PricingRulesError, match=f"{scalar}: expected a mapping"):
        load_rules(scalar)
