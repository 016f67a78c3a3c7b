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
    # A: three sales at 200 in the 14 days before D0; later sales at 190 (day 3) and 210 (day 16)
    sale(date(2018, 1, 5), "A", 200),
    sale(date(2018, 1, 8), "A", 200),
    sale(date(2018, 1, 10), "A", 200),
    sale(date(2018, 1, 17), "A", 190),
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

    # A, original: 195.00; the 190 on day 3 is too low, sells at 210 on 01-30 (day 16);
    # payout 195 - 19.50 - 5.85 = 169.65, holding 100 × 1 % × 16/30 = 0.53
    a_orig = rows[("A", "original_market_based")]
    assert (a_orig.list_price, a_orig.days_to_sell, a_orig.sale_price) == (D("195.00"), 16, D(210))
    assert (a_orig.payout, a_orig.profit) == (D("169.65"), D("69.12"))
    assert not a_orig.sold_within_7 and a_orig.sold_within_30
    # A, recommended: level 200, spread 0.04·√(13/3) = 0.0833, 0.7/week. 188.00 (level - 6 %):
    # share 0.5·(200/188)^12.01 > 0.95 -> 0.95, 20 days, P 77.7 %, payout 188 - 18.80 - 5.64 =
    # 163.56, profit 62.89, score 48.86; beats 192.00 (23 days, 72.9 % × 66.27 = 48.29).
    # Sells to the 190 on day 3: holding 0.10, profit 63.46
    a_rec = rows[("A", "recommended")]
    assert (a_rec.list_price, a_rec.floor, a_rec.expected_days) == (D("188.00"), D("126.43"), 20)
    assert (a_rec.days_to_sell, a_rec.payout, a_rec.profit) == (3, D("163.56"), D("63.46"))
    assert a_rec.sold_within_7 and a_rec.sold_within_30

    # B, original: 145.00 sells on 01-20 at 146 (day 6); payout 145 - 14.50 - 4.35 = 126.15, holding 0.20
    b_orig = rows[("B", "original_market_based")]
    assert (b_orig.list_price, b_orig.days_to_sell, b_orig.profit) == (D("145.00"), 6, D("25.95"))
    # B, recommended: one sale at 150, spread 0.04·√11 = 0.1327, 0.233/week. 141.00 (level - 6 %):
    # share 0.797, 41 days, P 51.9 %, payout 122.67, profit 21.30, score 11.05; beats 144.00
    # (48 days, 46.5 % × 23.68 = 11.00) and 150.00 (65 days, 37.0 % × 28.33 = 10.47).
    # Sells to the 146 on day 6: holding 0.20, profit 22.47
    b_rec = rows[("B", "recommended")]
    assert (b_rec.list_price, b_rec.expected_days, b_rec.days_to_sell, b_rec.profit) == (
        D("141.00"),
        41,
        6,
        D("22.47"),
    )

    summary = summarize(frame).set_index("strategy")
    orig, rec = summary.loc["original_market_based"], summary.loc["recommended"]
    assert (orig.pairs, orig.sold_within_7_rate, orig.sold_within_30_rate) == (2, 0.5, 1.0)
    assert (rec.pairs, rec.sold_within_7_rate, rec.sold_within_30_rate) == (2, 1.0, 1.0)
    assert orig.realised_margin == round(95.07 / 340, 4)  # (69.12 + 25.95) / (195 + 145)
    assert rec.realised_margin == round(85.93 / 329, 4)  # (63.46 + 22.47) / (188 + 141)
    assert (orig.median_days_to_sell, rec.median_days_to_sell) == (11.0, 4.5)
    assert (orig.profit_per_pair_offered, rec.profit_per_pair_offered) == (D("47.54"), D("42.97"))
    assert (rec.below_min_margin, orig.below_cost, rec.below_own_floor) == (0, 0, 0)


def test_replay_is_deterministic_and_ignores_input_order():
    first = replay(HISTORY, CONFIG)
    second = replay(list(reversed(HISTORY)), CONFIG)
    assert first.equals(second)


def test_outcome_window_is_the_horizon():
    frame = replay(HISTORY, ReplayConfig(start=D0, end=D0, horizon_days=10))
    a_orig = frame[(frame["product"] == "A") & (frame["strategy"] == "original_market_based")].iloc[0]
    assert pd.isna(a_orig["days_to_sell"]) and not a_orig["sold_within_30"]  # the 01-30 sale is day 16


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
