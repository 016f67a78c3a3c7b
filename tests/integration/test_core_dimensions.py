"""core.dim_brands, core.brand_spellings, core.dim_suppliers and the core seeds on real PostgreSQL.

The dimensions read products.dim_products (brand per product) and transactions.fct_purchases
(brand, supplier, dates per purchased unit). To check exact values on a handful of rows, those
two upstream relations are created here as plain tables holding only the columns the core
models read, and only the core models and seeds are built (the full chain from raw files runs
in tests/e2e). Expected values are worked out by hand below.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from dbt_runner import run_dbt

from resources.dbt import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"
D = date.fromisoformat
SELECT = ("--select", "platforms", "currencies", "brand_hierarchy", "platform_fee_schedules", "brand_spellings",
          "dim_brands", "dim_suppliers", "--indirect-selection", "cautious")

PRODUCTS = [  # products.dim_products: (product_key, brand)
    ("P1", "Jordan"),
    ("P2", "adidas"),
    ("P3", "Nike"),
    ("P4", None),  # no catalog brand: its purchases decide
    ("P5", "Acme Kicks"),  # a brand the seed does not know
]
PURCHASES = [  # transactions.fct_purchases: (purchase_id, product_key, brand, supplier, purchase_date, excluded_reason)
    ("u1", "P2", "Adidas", "Solebox Demo", "2024-01-10", None),
    ("u2", "P4", "Air Jordan", "Solebox Demo", "2024-02-01", None),
    ("u3", "P6", "ADIDAS", "solebox demo", "2024-03-05", None),
    ("u4", "P7", "Yeezy", " SOLEBOX-Demo ", "2024-03-20", "purchase cancelled"),
    ("u5", None, "acme kicks", "Kleinanzeigen privat", "2024-02-15", None),
    ("u6", "P8", "Converse", None, "2024-02-20", None),
    ("u7", "P1", "Nike", "", "2024-02-21", None),  # dim_products says Jordan: P1 stays Jordan
    ("u8", "P9", "Acme-Kicks", "Kleinanzeigen privat", "2024-04-01", "returned to supplier"),
    ("u9", "P9", "Acme Kicks", "kleinanzeigen Privat", "2024-04-02", None),
    ("u10", "P10", "  ", "BSTN Demo", "2024-01-02", None),  # a blank brand is no brand
]


def _seed_rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def built(conn, database_url, tmp_path):
    conn.execute("create schema products; create schema transactions")
    conn.execute("create table products.dim_products (product_key text primary key, brand text)")
    conn.execute("create table transactions.fct_purchases (purchase_id text primary key, product_key text,"
                 " brand text, supplier text, purchase_date date, excluded_reason text)")
    with conn.cursor() as cur:
        cur.executemany("insert into products.dim_products values (%s, %s)", PRODUCTS)
        cur.executemany("insert into transactions.fct_purchases values (%s, %s, %s, %s, %s, %s)", PURCHASES)
    conn.commit()
    proc = run_dbt(database_url, tmp_path / "core", "build", *SELECT)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "ERROR=0" in proc.stdout and "WARN=0" in proc.stdout
    return conn


def test_core_dim_brands_maps_spellings_and_parents(built):
    rows = {r[0]: r[1:] for r in built.execute(
        "select brand_key, brand, parent_brand_key, parent_brand, segment, product_count, in_brand_hierarchy"
        " from core.dim_brands").fetchall()}
    # P1 (Jordan; its purchase says Nike) and P4 (no catalog brand, bought as 'Air Jordan')
    assert rows["jordan"] == ("Jordan", "nike", "Nike", "sportswear", 2, True)
    # P2 (adidas; bought as 'Adidas') and P6 (bought as 'ADIDAS'): one brand in the seed's spelling
    assert rows["adidas"] == ("adidas", None, None, "sportswear", 2, True)
    assert rows["nike"] == ("Nike", None, None, "sportswear", 1, True)  # P3 only: P1 is Jordan's
    assert rows["yeezy"] == ("Yeezy", "adidas", "adidas", "streetwear", 1, True)  # P7
    assert rows["converse"] == ("Converse", "nike", "Nike", "sportswear", 1, True)  # P8
    assert rows["nike-sb"] == ("Nike SB", "nike", "Nike", "sportswear", 0, True)
    # Not in the seed: dim_products' spelling, top level, no segment; P5 and P9 (Acme-Kicks / Acme Kicks)
    assert rows["acme-kicks"] == ("Acme Kicks", None, None, None, 2, False)
    seed = _seed_rows("brand_hierarchy")
    assert len(rows) == len(seed) + 1
    assert sum(r[4] for r in rows.values()) == 9  # P1..P9 once each (P10 has a blank brand)
    # Every parent of the seed, as keys
    parents = {r["brand"]: r["parent_brand"] for r in seed if r["parent_brand"]}
    assert parents == {"Jordan": "Nike", "Nike SB": "Nike", "Converse": "Nike", "Yeezy": "adidas",
                       "Onitsuka Tiger": "ASICS", "Fear of God Essentials": "Fear of God",
                       "Bearbrick": "Medicom Toy"}
    by_name = {r[0]: r[2] for r in rows.values()}
    assert {b: by_name[b] for b in parents} == parents


def test_core_brand_spellings_resolve_case_punctuation_and_aliases(built):
    spellings = dict(built.execute("select spelling_key, brand_key from core.brand_spellings").fetchall())
    assert spellings["air-jordan"] == "jordan" and spellings["jordan-brand"] == "jordan"
    assert spellings["adidas"] == "adidas" and spellings["adidas-yeezy"] == "yeezy"
    assert spellings["be-rbrick"] == "bearbrick"  # Be@rbrick
    assert spellings["st-ssy"] == "stussy"  # Stüssy: non-ASCII letters are separators
    assert spellings["acme-kicks"] == "acme-kicks"
    # how downstream models map a brand as written: the slug_key macro's expression
    mapped = built.execute(
        "select b.brand, s.brand_key from (values ('ADIDAS'), (' Air  Jordan '), ('Acme-Kicks'), ('Unknown Co'))"
        " as b (brand) left join core.brand_spellings as s"
        " on s.spelling_key = nullif(btrim(regexp_replace(lower(btrim(b.brand)), '[^a-z0-9]+', '-', 'g'), '-'), '')"
    ).fetchall()
    assert dict(mapped) == {"ADIDAS": "adidas", " Air  Jordan ": "jordan", "Acme-Kicks": "acme-kicks",
                            "Unknown Co": None}


def test_core_dim_suppliers_groups_spellings_of_a_supplier(built):
    rows = built.execute("select supplier_key, supplier, first_purchase_date, last_purchase_date, units_purchased,"
                         " units_excluded from core.dim_suppliers order by supplier_key").fetchall()
    assert rows == [
        ("bstn-demo", "BSTN Demo", D("2024-01-02"), D("2024-01-02"), 1, 0),
        # 'Kleinanzeigen privat' twice (u5, u8), 'kleinanzeigen Privat' once: the most used spelling
        ("kleinanzeigen-privat", "Kleinanzeigen privat", D("2024-02-15"), D("2024-04-02"), 2, 1),
        # 'Solebox Demo' twice; the cancelled unit u4 counts in the dates and as excluded
        ("solebox-demo", "Solebox Demo", D("2024-01-10"), D("2024-03-20"), 3, 1),
    ]


def test_core_seeds_load_with_their_declared_types(built):
    types = dict(built.execute(
        "select table_name || '.' || column_name, data_type || coalesce('(' || numeric_precision || ','"
        " || numeric_scale || ')', '') from information_schema.columns where table_schema = 'core'"
        " and table_name in ('platform_fee_schedules', 'currencies')").fetchall())
    assert types["platform_fee_schedules.rate"] == "numeric(6,4)"
    assert types["platform_fee_schedules.fixed_amount"] == "numeric(14,2)"
    assert types["platform_fee_schedules.valid_from"] == types["platform_fee_schedules.valid_to"] == "date"
    assert types["currencies.minor_unit"].startswith("integer")
    platforms = dict(built.execute("select platform, sales_vat_treatment from core.platforms").fetchall())
    assert platforms == {
        "stockx": "self_billed_intra_eu", "alias": "self_billed_intra_eu", "goat": "self_billed_intra_eu",
        "klekt": "self_billed_intra_eu", "restocks": "self_billed_intra_eu", "laced": "self_billed_intra_eu",
        "wtn": "self_billed_intra_eu", "ebay": "domestic_standard", "kleinanzeigen": "domestic_standard",
        "in_person": "domestic_standard", "other": "domestic_standard"}


def test_core_fee_schedules_follow_the_fee_reference(built):
    fees = {r[0]: r[1:] for r in built.execute(
        "select fee_schedule_id, rate, fixed_amount, fixed_currency, valid_from, valid_to, region, seller_level"
        " from core.platform_fee_schedules").fetchall()}
    # StockX transaction fee by level, since 2023-07-01 and one point higher before
    for level, rate in {"1": "0.09", "2": "0.085", "3": "0.08", "4": "0.075", "5": "0.07"}.items():
        assert fees[f"stockx-transaction-level-{level}"][:6:3] == (Decimal(rate), D("2023-07-01"))
        assert fees[f"stockx-transaction-level-{level}"][4:] == (None, None, level)
        before = fees[f"stockx-transaction-level-{level}-before-2023-07"]
        assert (before[0], before[3], before[4]) == (Decimal(rate) + Decimal("0.01"), None, D("2023-07-01"))
    assert fees["stockx-payment-processing"][0] == Decimal("0.0300")
    assert {k: v[1:3] for k, v in fees.items() if k.startswith("stockx-minimum-seller-fee")} == {
        "stockx-minimum-seller-fee-us": (Decimal("10.00"), "USD"), "stockx-minimum-seller-fee-ch": (Decimal("4.50"), "CHF"),
        "stockx-minimum-seller-fee-ca": (Decimal("7.00"), "CAD"), "stockx-minimum-seller-fee-au": (Decimal("7.50"), "AUD"),
        # the EU minimum is not in the help page: by date as seen in a real EU seller report
        "stockx-minimum-seller-fee-eu-until-2023-03-27": (Decimal("8.00"), "EUR"),
        "stockx-minimum-seller-fee-eu-2023-03-27": (Decimal("9.00"), "EUR"),
        "stockx-minimum-seller-fee-eu-2023-08-03": (Decimal("5.00"), "EUR")}
    assert {v[6]: v[0] for k, v in fees.items() if k.startswith("alias-commission")} == {
        "rating-90-plus": Decimal("0.0950"), "rating-70-89": Decimal("0.1500"), "rating-50-69": Decimal("0.2000"),
        "rating-below-50": Decimal("0.2500")}
    alias_seller = {v[5]: v[1] for k, v in fees.items() if k.startswith("alias-seller-fee")}
    assert alias_seller == {"US": Decimal("5.00"), **dict.fromkeys(["GB", "IE", "LU", "NL", "BE", "FR", "DE"],
                                                                  Decimal("12.00")),
                            "HK": Decimal("15.00"),
                            **dict.fromkeys(["CA", "AT", "SE", "IT", "FI", "PT", "ES", "DK"], Decimal("20.00")),
                            "CN": Decimal("25.00"), "other": Decimal("30.00")}
    assert fees["alias-cash-out"][0] == Decimal("0.0290")
    assert fees["ebay-final-value"][0] is None and fees["ebay-final-value-below-standard"][0] == Decimal("0.0400")
    assert (fees["ebay-fixed-per-order-low"][1], fees["ebay-fixed-per-order-high"][1]) == (Decimal("0.30"),
                                                                                           Decimal("0.40"))
