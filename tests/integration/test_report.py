"""`soleflipper tax-report` and `soleflipper report` against a warehouse.

* On a hand-made warehouse: the three marts the tax export reads (finance.fct_unit_economics,
  transactions.fct_sales, finance.fct_monthly_pnl) are created with exactly the columns and types
  their dbt YAML documents, filled with a few rows, and the CLI (in-process) must produce the
  hand-computed totals: UTC days decide the quarter, a sale of 2023 paid out in 2024 counts for
  DAC7 2024 only, fee kinds are converted at the sale's rate when in the payout's currency.
  The HTML report on that warehouse shows "no data yet" for the views that do not exist.
* On the session's CLI demo (`soleflipper run --sales 300`, the `cli` / `first_run` fixtures): the
  exported year's totals equal the sums of finance.fct_unit_economics and finance.fct_monthly_pnl
  for that year to the cent (the demo's HTML report is checked in tests/e2e/test_report_browser.py).

Amounts (EUR home currency):
  A stockx:1  sold 2024-03-31 20:00 UTC, paid 2024-04-01 01:30 +02 (= 2024-03-31 23:30 UTC: Q1)
              gross 100.00, payout 88.00, fees 12.00 (seller 9.00 + payment 3.00 EUR), net buy 50.00, input VAT 9.50
  B ebay:2    sold 2024-07-02, no payout day; in USD at 0.8 EUR: gross 119.00, output VAT 19.00,
              payout 100.00, fees 19.00 (seller 20.00 USD -> 16.00, shipping 1.00 USD -> 0.80,
              payment 3.75 GBP: another currency, so in other fees: 19.00 - 16.80 = 2.20), net buy 70.00,
              input VAT 13.30
  C alias:3   sold 2023-12-31 23:59:59 UTC, paid 2024-01-02: gross 200.00, payout 180.00, fees 20.00
  D stockx:4  sold and paid in 2025: in neither 2024 file
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from cli_runner import read_csv

from pipelines.cli import main
from soleflipper.settings import PROJECT_ROOT

D = Decimal
MARTS = PROJECT_ROOT / "dbt_project" / "models" / "marts"
TABLES = {
    "finance.fct_unit_economics": MARTS / "finance" / "_finance__models.yml",
    "finance.fct_monthly_pnl": MARTS / "finance" / "_finance__models.yml",
    "transactions.fct_sales": MARTS / "transactions" / "_transactions__models.yml",
}


def documented_ddl(relation: str) -> str:
    """create table for ``relation`` with the columns and data types its dbt YAML documents."""
    schema, name = relation.split(".")
    model = next(m for m in yaml.safe_load(TABLES[relation].read_text())["models"] if m["name"] == name)
    columns = ", ".join(f'{c["name"]} {c["data_type"]}' for c in model["columns"])
    return f"create schema if not exists {schema}; create table {relation} ({columns})"


def insert(conn, relation: str, **values) -> None:
    names = ", ".join(values)
    conn.execute(f"insert into {relation} ({names}) values ({', '.join(['%s'] * len(values))})",  # noqa: S608
                 list(values.values()))  # fmt: skip


def unit(conn, sale_id, platform, sold_at, sale_date, gross, vat, payout, net_buy, input_vat, currency, rate):
    payout = D(payout)
    insert(conn, "finance.fct_unit_economics", sale_unit_id=f"{sale_id}#1", sale_id=sale_id, platform=platform,
           sold_at=sold_at, sale_date=sale_date, home_currency="EUR", gross_sale_home=D(gross),
           output_vat_home=D(vat), payout_home=payout, fees_home=D(gross) - payout, net_sale_home=payout - D(vat),
           net_buy_home=D(net_buy), input_vat_home=D(input_vat), purchase_id=f"p-{sale_id}", sale_currency=currency,
           sale_home_per_unit=D(rate))  # fmt: skip


@pytest.fixture
def hand_made(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        for relation in TABLES:
            conn.execute(documented_ddl(relation))
        unit(conn, "stockx:1", "stockx", "2024-03-31 20:00+00", date(2024, 3, 31), "100.00", "0.00", "88.00",
             "50.00", "9.50", "EUR", "1")
        unit(conn, "ebay:2", "ebay", "2024-07-02 12:00+00", date(2024, 7, 2), "119.00", "19.00", "100.00", "70.00",
             "13.30", "USD", "0.8000000000")
        unit(conn, "alias:3", "alias", "2023-12-31 23:59:59+00", date(2023, 12, 31), "200.00", "0.00", "180.00",
             "100.00", "0.00", "EUR", "1")
        unit(conn, "stockx:4", "stockx", "2025-01-01 08:00+00", date(2025, 1, 1), "90.00", "0.00", "80.00",
             "40.00", "7.60", "EUR", "1")
        insert(conn, "transactions.fct_sales", sale_id="stockx:1", platform="stockx", paid_out_at="2024-04-01 01:30+02",
               seller_fee_amount=D("9.00"), seller_fee_currency="EUR", payment_fee_amount=D("3.00"),
               payment_fee_currency="EUR")
        insert(conn, "transactions.fct_sales", sale_id="ebay:2", platform="ebay", seller_fee_amount=D("20.00"),
               seller_fee_currency="USD", payment_fee_amount=D("3.75"), payment_fee_currency="GBP",
               shipping_fee_amount=D("1.00"), shipping_fee_currency="USD")
        insert(conn, "transactions.fct_sales", sale_id="alias:3", platform="alias", paid_out_at="2024-01-02 10:00+00")
        insert(conn, "transactions.fct_sales", sale_id="stockx:4", platform="stockx", paid_out_at="2025-01-05 10:00+00")
        for month, units, gross, fees, vat, net, cogs in [
            (date(2024, 3, 1), 1, "100.00", "12.00", "0.00", "88.00", "50.00"),
            (date(2024, 7, 1), 1, "119.00", "19.00", "19.00", "81.00", "70.00"),
        ]:
            insert(conn, "finance.fct_monthly_pnl", month=month, home_currency="EUR", units_sold=units,
                   revenue_home=D(gross), fees_home=D(fees), output_vat_home=D(vat), net_sales_home=D(net),
                   cost_of_goods_sold_home=D(cogs), gross_profit_home=D(net) - D(cogs))  # fmt: skip
    return database_url


def rows_by(path: Path, *keys: str) -> dict[tuple, dict[str, str]]:
    return {tuple(r[k] for k in keys): r for r in read_csv(path)}


def test_tax_report_on_hand_made_marts(hand_made, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", hand_made)
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(tmp_path / "home"))
    assert main(["tax-report", "2024", "--output-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Month totals reconcile with finance.fct_monthly_pnl to the cent." in out
    assert re.search(r"all\s+2\s+2\s+219\.00\s+31\.00\s+19\.00\s+120\.00\s+49\.00", out), out

    tax = rows_by(tmp_path / "out" / "tax_2024_by_platform_month.csv", "platform", "month")
    columns = ("sales", "revenue_gross_home", "output_vat_home", "revenue_net_home", "fees_home", "seller_fee_home",
               "payment_fee_home", "shipping_fee_home", "other_fees_home", "payout_home", "net_sales_home",
               "cost_of_goods_sold_home", "input_vat_home", "gross_profit_home")  # fmt: skip
    got = {key: tuple(row[c] for c in columns) for key, row in tax.items() if row["units_sold"] != "0"}
    assert got == {
        ("stockx", "2024-03"): ("1", "100.00", "0.00", "100.00", "12.00", "9.00", "3.00", "0.00", "0.00", "88.00",
                                "88.00", "50.00", "9.50", "38.00"),
        ("stockx", "total"): ("1", "100.00", "0.00", "100.00", "12.00", "9.00", "3.00", "0.00", "0.00", "88.00",
                              "88.00", "50.00", "9.50", "38.00"),
        ("ebay", "2024-07"): ("1", "119.00", "19.00", "100.00", "19.00", "16.00", "0.00", "0.80", "2.20", "100.00",
                              "81.00", "70.00", "13.30", "11.00"),
        ("ebay", "total"): ("1", "119.00", "19.00", "100.00", "19.00", "16.00", "0.00", "0.80", "2.20", "100.00",
                            "81.00", "70.00", "13.30", "11.00"),
        ("all", "2024-03"): ("1", "100.00", "0.00", "100.00", "12.00", "9.00", "3.00", "0.00", "0.00", "88.00",
                             "88.00", "50.00", "9.50", "38.00"),
        ("all", "2024-07"): ("1", "119.00", "19.00", "100.00", "19.00", "16.00", "0.00", "0.80", "2.20", "100.00",
                             "81.00", "70.00", "13.30", "11.00"),
        ("all", "total"): ("2", "219.00", "19.00", "200.00", "31.00", "25.00", "3.00", "0.80", "2.20", "188.00",
                           "169.00", "120.00", "22.80", "49.00"),
    }  # fmt: skip
    assert {platform for platform, _ in tax} == {"ebay", "stockx", "all"}  # alias sold in 2023

    dac7 = rows_by(tmp_path / "out" / "dac7_2024_by_platform_quarter.csv", "platform", "quarter")
    got = {key: (r["sales"], r["consideration_home"], r["fees_home"], r["sales_dated_by_sale_day"])
           for key, r in dac7.items() if r["sales"] != "0"}  # fmt: skip
    assert got == {
        ("alias", "2024-Q1"): ("1", "180.00", "20.00", "0"),  # sold 2023, paid out 2024
        ("alias", "total"): ("1", "180.00", "20.00", "0"),
        ("ebay", "2024-Q3"): ("1", "100.00", "19.00", "1"),  # no payout day: its sale day
        ("ebay", "total"): ("1", "100.00", "19.00", "1"),
        ("stockx", "2024-Q1"): ("1", "88.00", "12.00", "0"),  # paid 2024-03-31 23:30 UTC
        ("stockx", "total"): ("1", "88.00", "12.00", "0"),
    }
    assert (tmp_path / "out" / "tax_2024_notes.txt").is_file()


def test_tax_report_flags_a_pnl_that_does_not_reconcile(hand_made, tmp_path, monkeypatch, capsys):
    with psycopg.connect(hand_made) as conn:
        conn.execute("update finance.fct_monthly_pnl set fees_home = 11.99 where month = '2024-03-01'")
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", hand_made)
    assert main(["tax-report", "2024", "--output-dir", str(tmp_path)]) == 1
    assert "2024-03 fees_home: export 12.00, fct_monthly_pnl 11.99" in capsys.readouterr().err


def test_report_on_a_warehouse_without_views(hand_made, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", hand_made)
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(tmp_path / "home"))
    assert main(["report"]) == 0
    path = tmp_path / "home" / "reports" / "soleflipper_report.html"
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(path)
    page = path.read_text(encoding="utf-8")
    assert page.count('class="no-data"') == 4
    assert "analytics.pricing_recommendations does not exist yet" in page


@pytest.mark.parametrize("command", [["report"], ["tax-report", "2024"]])
def test_unreachable_warehouse_is_named_without_its_password(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", "postgresql://postgres:Secret-4711@127.0.0.1:1/nowhere")
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(tmp_path))
    assert main([*command, "--output-dir" if command[0] == "tax-report" else "--output", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to the warehouse postgresql://postgres:***@127.0.0.1:1/nowhere" in err, err
    assert "Secret-4711" not in err
    assert not (tmp_path / "x").exists()


def test_bad_year_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["tax-report", "24x"])
    assert "not a year: '24x'" in capsys.readouterr().err


# ------------------------------------------------------------------ the session's CLI demo


def test_tax_report_totals_equal_the_marts_on_the_demo(cli, first_run, tmp_path):
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    (year,) = cli.query("select extract(year from sale_date)::int from finance.fct_unit_economics"
                        " group by 1 order by count(*) desc, 1 limit 1")[0]  # fmt: skip
    proc = cli("tax-report", str(year), "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Month totals reconcile with finance.fct_monthly_pnl to the cent." in proc.stdout
    tax = rows_by(tmp_path / f"tax_{year}_by_platform_month.csv", "platform", "month")

    (expected,) = cli.query(f"""
        select count(*), coalesce(sum(gross_sale_home), 0), coalesce(sum(output_vat_home), 0),
               coalesce(sum(fees_home), 0), coalesce(sum(payout_home), 0), coalesce(sum(net_sale_home), 0),
               coalesce(sum(net_buy_home) filter (where purchase_id is not null), 0)
        from finance.fct_unit_economics where extract(year from sale_date) = {year}""")  # noqa: S608
    grand = tax[("all", "total")]
    columns = ("units_sold", "revenue_gross_home", "output_vat_home", "fees_home", "payout_home", "net_sales_home",
               "cost_of_goods_sold_home")  # fmt: skip
    assert tuple(D(grand[c]) for c in columns) == tuple(D(v) for v in expected)
    assert expected[0] > 0

    pnl = cli.query(f"""select to_char(month, 'YYYY-MM'), revenue_home, fees_home, output_vat_home,
                              cost_of_goods_sold_home, gross_profit_home
                       from finance.fct_monthly_pnl where extract(year from month) = {year}""")  # noqa: S608
    for month, *amounts in pnl:
        row = tax[("all", month)]
        assert tuple(D(row[c]) for c in ("revenue_gross_home", "fees_home", "output_vat_home",
                                         "cost_of_goods_sold_home", "gross_profit_home")) == tuple(amounts), month
    assert D(grand["gross_profit_home"]) == sum(D(a[5]) for a in pnl)

    # per platform: the platform totals add up to the grand total, and each equals its mart sum
    platforms = {p for p, m in tax if p != "all"}
    by_platform = dict(cli.query(f"""select platform, sum(gross_sale_home) from finance.fct_unit_economics
                                     where extract(year from sale_date) = {year} group by 1"""))  # noqa: S608
    assert {p: D(tax[(p, "total")]["revenue_gross_home"]) for p in platforms} == by_platform

    # DAC7: consideration = payouts by payout day (UTC), else sale day
    (consideration,) = cli.query(f"""
        select coalesce(sum(ue.payout_home), 0) from finance.fct_unit_economics as ue
        join transactions.fct_sales as s using (sale_id)
        where extract(year from coalesce((s.paid_out_at at time zone 'UTC')::date, ue.sale_date)) = {year}
          and ue.payout_home is not null""")[0]  # noqa: S608
    dac7 = rows_by(tmp_path / f"dac7_{year}_by_platform_quarter.csv", "platform", "quarter")
    assert sum(D(r["consideration_home"]) for (p, q), r in dac7.items() if q == "total") == consideration

