"""Runs of :mod:`soleflipper.pricing` on the warehouse's inputs: the rows of
analytics.pricing_recommendations (one per pair in stock × enabled platform that could be priced) and
the pricing replay on the market sales history.

Platforms are priced per listing currency: market data and the forecast's prices are converted into
it with the newest ECB rate on or before the pricing day; market data that cannot be converted is
left out and named in the reason.
"""

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from soleflipper.money import CENT, to_cents
from soleflipper.warehouse_inputs.fx import FxRates
from soleflipper.warehouse_inputs.pricing import Demand, Snapshot, StockPair
from soleflipper.warehouse_tables.pricing import BACKTEST_COLUMNS

AS_OF_ENV = "SOLEFLIPPER_PRICING_AS_OF"


def pricing_day(as_of: str | None = None) -> date:
    """The day prices are for: ``as_of`` (ISO), else $SOLEFLIPPER_PRICING_AS_OF, else today (UTC)."""
    text = (as_of or os.environ.get(AS_OF_ENV) or "").strip()
    return date.fromisoformat(text) if text else datetime.now(UTC).date()


def _demand_for(pair: StockPair, demand: Mapping[tuple[str, str], Demand]) -> Demand | None:
    if pair.variant_key and ("product_size", pair.variant_key) in demand:
        return demand[("product_size", pair.variant_key)]
    if pair.product_key and ("product", pair.product_key) in demand:
        return demand[("product", pair.product_key)]
    return None


def recommendation_rows(
    pairs: list[StockPair],
    snapshots: Mapping[str, list[Snapshot]],
    recent: Mapping[str, list[tuple[date, Decimal, str]]],
    demand: Mapping[tuple[str, str], Demand],
    schedules: list,
    rules,
    fx: FxRates,
    today: date,
    platform_notes: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per pair × platform that could be priced (see module doc) and counts of what was not.
    ``platform_notes``: appended to the reason of that platform's rows (e.g. where eBay's observed
    fee rates come from).

    Platforms are priced per listing currency (market data and the forecast's prices converted into
    it); the recommended platform is the library's best within one currency, across currencies the
    best in the home currency."""
    from soleflipper.pricing import DemandEstimate, MarketSnapshot, PairInStock, Sale, recommend

    platforms = rules.enabled_platforms()
    by_currency: dict[str, list] = defaultdict(list)
    for platform in platforms:
        by_currency[platform.currency].append(platform)
    fx_pairs = fx.pairs()
    rows: list[dict[str, Any]] = []
    stats = {"pairs": len(pairs), "pairs_without_cost": 0, "pairs_priced": 0, "skipped": defaultdict(int)}
    for pair in pairs:
        if pair.cost is None or pair.cost_currency is None or pair.purchase_date is None:
            stats["pairs_without_cost"] += 1
            continue
        stock = PairInStock(
            product=pair.product_name or pair.style_code or pair.inventory_item_id,
            size=pair.size_label,
            cost=Decimal(str(pair.cost)),
            currency=pair.cost_currency,
            purchase_date=pair.purchase_date,
            item_id=pair.inventory_item_id,
        )
        found = _demand_for(pair, demand)
        results = []
        for currency, group in by_currency.items():
            market = {}
            notes = []
            for platform in group:
                if platform.platform != "stockx":
                    continue  # market data and market sales are StockX's
                snap = _snapshot_in(snapshots.get(pair.variant_key or "", []), currency, fx)
                sales = []
                for day, price, cur in recent.get(pair.variant_key or "", []):
                    converted = fx.convert(price, cur, currency)
                    if converted is None:
                        notes.append(f"market sale in {cur} without FX rate to {currency}")
                        continue
                    sales.append(Sale(day, converted.quantize(CENT)))
                market[platform.platform] = MarketSnapshot(
                    platform.platform,
                    currency,
                    lowest_ask=snap.lowest_ask if snap else None,
                    highest_bid=snap.highest_bid if snap else None,
                    recent_sales=tuple(sales),
                )
            estimate = None
            if found is not None:
                to = currency

                def conv(
                    value: Decimal | None, src: str | None = found.currency, dst: str = to
                ) -> Decimal | None:
                    return None if value is None or src is None else fx.convert(value, src, dst)

                estimate = DemandEstimate(
                    weekly_units=found.weekly_units,
                    price_point=conv(found.price_point),
                    price_lower_80=conv(found.price_lower_80),
                    price_upper_80=conv(found.price_upper_80),
                )
            group_rules = rules.with_changes(
                platforms=tuple(replace(p, enabled=p in group) for p in rules.platforms)
            )
            result = recommend(stock, market, estimate, schedules, group_rules, today, fx_pairs)
            for reason in result.skipped:
                stats["skipped"][reason.split(":", 1)[0]] += 1
            results.append((currency, result, market, notes))
        best = _best_across_currencies(results, rules.home_currency)
        for _currency, result, market, notes in results:
            for rec in result.recommendations:
                snap = market.get(rec.platform)
                row = _row(pair, rec, rec is best, snap, found, notes, today)
                if platform_notes and rec.platform in platform_notes:
                    row["reason"] += "; " + platform_notes[rec.platform]
                rows.append(row)
        if any(r for _, r, _, _ in results if r.recommendations):
            stats["pairs_priced"] += 1
    stats["skipped"] = dict(stats["skipped"])
    return rows, stats


def _snapshot_in(snapshots: list[Snapshot], currency: str, fx: FxRates) -> Snapshot | None:
    """The snapshot in ``currency``, else the newest other one converted into it (None: no rate)."""
    for snap in snapshots:
        if snap.currency == currency:
            return snap
    for snap in sorted(snapshots, key=lambda s: s.snapshot_date, reverse=True):
        ask, bid = (
            fx.convert(snap.lowest_ask, snap.currency, currency),
            fx.convert(snap.highest_bid, snap.currency, currency),
        )
        if (ask is not None or snap.lowest_ask is None) and (bid is not None or snap.highest_bid is None):
            return Snapshot(currency, to_cents(ask), to_cents(bid), snap.snapshot_date)
    return None


def _best_across_currencies(results, home_currency: str):
    bests = [(currency, r.best) for currency, r, _, _ in results if r.best is not None]
    if not bests:
        return None
    if len(bests) == 1:
        return bests[0][1]
    home = [best for currency, best in bests if currency == home_currency]
    return home[0] if home else bests[0][1]


def _row(
    pair: StockPair, rec, recommended: bool, snap, demand: Demand | None, notes: list[str], today: date
) -> dict[str, Any]:
    reason = rec.reason + ("; " + "; ".join(sorted(set(notes))) if notes else "")
    if demand is not None:
        reason += f"; demand from the {demand.level.replace('_', ' x ')} forecast"
    return {
        "inventory_item_id": pair.inventory_item_id,
        "platform": rec.platform,
        "recommended": recommended,
        "product_key": pair.product_key,
        "variant_key": pair.variant_key,
        "style_code": pair.style_code,
        "product_name": pair.product_name,
        "size_label": pair.size_label,
        "current_status": pair.current_status,
        "purchase_date": pair.purchase_date,
        "days_in_stock": (today - pair.purchase_date).days if pair.purchase_date else None,
        "currency": rec.currency,
        "list_price": to_cents(rec.list_price),
        "floor": to_cents(rec.floor),
        "floor_basis": rec.floor_basis,
        "expected_days_to_sell": int(rec.expected_days_to_sell),
        "sell_probability": float(rec.sell_probability),
        "expected_fees": to_cents(rec.fees.total_fees),
        "expected_payout": to_cents(rec.expected_payout),
        "cost": to_cents(rec.cost),
        "holding_cost": to_cents(rec.holding_cost),
        "expected_profit": to_cents(rec.expected_profit),
        "clearance": bool(rec.clearance),
        "loss": to_cents(rec.clearance_loss),
        "market_reference": to_cents(rec.market_reference),
        "lowest_ask": to_cents(snap.lowest_ask) if snap else None,
        "highest_bid": to_cents(snap.highest_bid) if snap else None,
        "recent_sales": len(snap.recent_sales) if snap else 0,
        "demand_level": demand.level if demand else None,
        "demand_weekly_units": demand.weekly_units if demand else None,
        "reason": reason,
        "priced_on": today,
    }


@dataclass
class ReplayOutcome:
    """The pricing replay of the market sales history: per replayed pair and strategy, and summarised."""

    results: pd.DataFrame  # one row per replayed pair and strategy (soleflipper.pricing.replay.replay)
    summary: pd.DataFrame  # per strategy: the columns of analytics.pricing_backtest (BACKTEST_COLUMNS)
    first_replay_date: date | None
    last_replay_date: date | None

    @property
    def replayed_pairs(self) -> int:
        """Pairs replayed (every pair is priced by both strategies)."""
        return len(self.results) // 2 if len(self.results) else 0


def replay_market_history(
    sales: list, currency: str | None, schedules: list, step_days: int, horizon_days: int, warmup_days: int
) -> ReplayOutcome:
    """The replay (:func:`soleflipper.pricing.replay.replay`) of ``sales`` with the default replay rules,
    every platform listing in the sales' ``currency`` (when given and not the rules' home currency)."""
    from soleflipper.pricing.replay import ReplayConfig, replay, summarize

    defaults = ReplayConfig()
    rules = defaults.rules
    if currency and currency != rules.home_currency:
        rules = rules.with_changes(
            home_currency=currency, platforms=tuple(replace(p, currency=currency) for p in rules.platforms)
        )
    config = replace(
        defaults, rules=rules, step_days=step_days, horizon_days=horizon_days, warmup_days=warmup_days
    )
    results = replay(sales, config, schedules) if sales else pd.DataFrame()
    summary = summarize(results) if len(results) else pd.DataFrame(columns=BACKTEST_COLUMNS)
    first = results["replay_date"].min() if len(results) else None
    last = results["replay_date"].max() if len(results) else None
    return ReplayOutcome(results, summary, first, last)
