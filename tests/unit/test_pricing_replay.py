"""Pricing backtest on a tiny hand-made history: hand-computed prices, outcomes and rates."""

from __future__ import annotations

import gzip
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

from soleflipper.pricing import cli_replay
from soleflipper.pricing.replay import (
    ContestSale,
    ReplayConfig,
    load_contest_sales,
    original_market_based_price,
    psychological_round,
    replay,
    summarize,
)

D0 = date(2018, 1, 15)  # the one replay date
RELEASE = date(2017, 6, 1)


def sale(day: date, product: str, price: int, size: str = "10") -> ContestSale:
    return ContestSale(day, product, size, D(price), D("100"), RELEASE)


HISTORY = [
    # A: three sales at 200 in the 14 days before D0; later sales at 195 (day 3) and 210 (day 16)
    sale(date(2018, 1, 5), "A", 200),
    sale(date(2018, 1, 8), "A", 200),
    sale(date(2018, 1, 10), "A", 200),
    sale(date(2018, 1, 17), "A", 195),
    sale(date(2018, 1, 30), "A", 210),
    # B: one sale at 150 before D0; later one at 146 (day 6)
    sale(date(2018, 1, 10), "B", 150, size="9"),
    sale(date(2018, 1, 20), "B", 146, size="9"),
    # C: no sale in the 14 days before D0: not replayed
    sale(date(2017, 12, 1), "C", 300),
    sale(date(2018, 1, 20), "C", 300),
]
CONFIG = ReplayConfig(start=D0, end=D0)


def test_original_rule_and_its_rounding():
    assert original_market_based_price([D(200)] * 3, D(100)) == D("195.00")  # 196 -> nearest 5
    assert original_market_based_price([D(150)], D(100)) == D("145.00")  # 147 -> 145
    assert original_market_based_price([], D(100)) is None
    # floor 220 / 0.85 = 258.82, rounded to the nearest 5: 260; 255.88 (cost 217.50) -> 255 < floor
    assert original_market_based_price([D(200)], D(220)) == D("260.00")
    assert original_market_based_price([D(200)], D("217.50")) == D("255.00")
    assert psychological_round(D("19.40")) == D("18.95")
    assert psychological_round(D("54.60")) == D("54.99")


def test_replay_hand_computed():
    frame = replay(HISTORY, CONFIG)
    assert len(frame) == 4 and set(frame["product"]) == {"A", "B"}
    rows = {(r.product, r.strategy): r for r in frame.itertuples()}

    # A, original: 195.00 sells on 01-17 (day 3); payout 195 - 19.50 - 5.85 = 169.65; holding 0.10
    a_orig = rows[("A", "original_market_based")]
    assert (a_orig.list_price, a_orig.days_to_sell, a_orig.sale_price) == (D("195.00"), 3, D(195))
    assert (a_orig.payout, a_orig.profit) == (D("169.65"), D("69.55"))
    # A, recommended: level 200, 0.7/week; 200.00 (38 days, 54.6 % × 72.73) beats the 15 % discount
    # bound 170.00 (20 days, 77.7 % × 47.23); sells on 01-30 (day 16); payout 174.00, holding 0.53
    a_rec = rows[("A", "recommended")]
    assert (a_rec.list_price, a_rec.floor, a_rec.expected_days) == (D("200.00"), D("126.43"), 38)
    assert (a_rec.days_to_sell, a_rec.payout, a_rec.profit) == (16, D("174.00"), D("73.47"))
    assert not a_rec.sold_within_7 and a_rec.sold_within_30

    # B, original: 145.00 sells on 01-20 at 146 (day 6); payout 145 - 14.50 - 4.35 = 126.15, holding 0.20
    b_orig = rows[("B", "original_market_based")]
    assert (b_orig.list_price, b_orig.days_to_sell, b_orig.profit) == (D("145.00"), 6, D("25.95"))
    # B, recommended: one sale, no bid/ask: every price 65 days away, so the highest profit: 150.00; unsold
    b_rec = rows[("B", "recommended")]
    assert (b_rec.list_price, b_rec.expected_days, b_rec.profit) == (D("150.00"), 65, None)
    assert pd.isna(b_rec.days_to_sell) and not b_rec.sold_within_30

    summary = summarize(frame).set_index("strategy")
    orig, rec = summary.loc["original_market_based"], summary.loc["recommended"]
    assert (orig.pairs, orig.sold_within_7_rate, orig.sold_within_30_rate) == (2, 1.0, 1.0)
    assert (rec.pairs, rec.sold_within_7_rate, rec.sold_within_30_rate) == (2, 0.0, 0.5)
    assert orig.realised_margin == round(95.50 / 340, 4)  # (69.55 + 25.95) / (195 + 145)
    assert rec.realised_margin == round(73.47 / 200, 4)
    assert (orig.median_days_to_sell, rec.median_days_to_sell) == (4.5, 16.0)
    assert (orig.profit_per_pair_offered, rec.profit_per_pair_offered) == (D("47.75"), D("36.74"))
    assert (rec.below_min_margin, orig.below_cost) == (0, 0)


def test_replay_is_deterministic_and_ignores_input_order():
    first = replay(HISTORY, CONFIG)
    second = replay(list(reversed(HISTORY)), CONFIG)
    assert first.equals(second)


def test_outcome_window_is_the_horizon():
    frame = replay(HISTORY, ReplayConfig(start=D0, end=D0, horizon_days=10))
    a_rec = frame[(frame["product"] == "A") & (frame["strategy"] == "recommended")].iloc[0]
    assert pd.isna(a_rec["days_to_sell"]) and not a_rec["sold_within_30"]  # the 01-30 sale is day 16


def write_contest(path: Path) -> None:
    header = "Order Date,Brand,Sneaker Name,Sale Price,Retail Price,Release Date,Shoe Size,Buyer Region\n"
    lines = [
        f"{s.order_date},Nike,{s.product},{s.price},{s.retail},{s.release_date},{s.size},Oregon\n"
        for s in HISTORY
    ]
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write(header + "".join(lines))


def test_loader_and_cli(tmp_path: Path, capsys):
    path = tmp_path / "contest.csv.gz"
    write_contest(path)
    assert load_contest_sales(path) == HISTORY
    out = tmp_path / "results.csv"
    assert (
        cli_replay.main(
            ["--input", str(path), "--out", str(out), "--start", "2018-01-15", "--end", "2018-01-15"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "9 sales, 1 replay dates, 4 rows" in printed and "original_market_based" in printed
    assert out.read_text(encoding="utf-8").startswith("replay_date,product,size,cost,strategy")


def test_loader_names_the_bad_line(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "Order Date,Brand,Sneaker Name,Sale Price,Retail Price,Release Date,Shoe Size,Buyer Region\n"
        "2018-01-01,Nike,A,$200,100,2017-01-01,10,Oregon\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"bad.csv:2: cannot read the row"):
        load_contest_sales(path)
