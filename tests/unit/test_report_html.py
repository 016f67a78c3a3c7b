"""The static HTML report's rendering (soleflipper/reporting/html_report.py) on hand-made data:
self-contained, every warehouse text escaped, "no data yet" shown for empty sections."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from soleflipper.reporting.html_report import best_models, render_report
from soleflipper.reporting.report_data import ReportData, Section, months_back

D = Decimal
NOW = datetime(2025, 1, 5, 9, 30, tzinfo=UTC)
EVIL = '<script>alert("x")</script> & "Dunk"'


def empty(reason: str = "no data yet in x") -> Section:
    return Section(missing=reason)


def full_data() -> ReportData:
    months = [date(2024, m, 1) for m in range(1, 13)]
    monthly = [
        {"month": m, "units_sold": i, "revenue_home": D(100 * i), "fees_home": D(10 * i), "net_sales_home": D(90 * i),
         "cost_of_goods_sold_home": D(60 * i), "gross_profit_home": D(30 * i), "expenses_home": D("5.00"),
         "net_profit_home": D(30 * i - 5)}
        for i, m in enumerate(months, 1)
    ]  # fmt: skip
    return ReportData(
        generated_at=NOW, database="warehouse", home_currency="EUR", window=(months[0], months[-1]),
        kpis=Section(rows=[{"platforms": 2, "orders": 70, "units_sold": 78, "revenue_home": D("1234567.89"),
                            "fees_home": D("1000.00"), "net_sales_home": D("2000.00"), "net_buy_home": D("1500.00"),
                            "profit_home": D("500.00"), "units_with_profit": 75, "roi_pct": D("33.33")}]),
        by_platform=Section(rows=[
            {"platform": "stockx", "platform_name": "StockX", "orders": 60, "units_sold": 60,
             "revenue_home": D("1000.00"), "fees_home": D("100.00"), "profit_home": D("200.00"), "roi_pct": D("25.00")},
            {"platform": "ebay", "platform_name": EVIL, "orders": 10, "units_sold": 18, "revenue_home": D("500.00"),
             "fees_home": D("50.00"), "profit_home": D("-20.00"), "roi_pct": None}]),
        monthly=Section(rows=monthly),
        aging=Section(rows=[
            {"age_bucket": "Fast", "pairs": 4, "net_cost_home": D("400.00"), "pairs_without_cost": 0,
             "min_age_days": 1, "max_age_days": 20, "as_of": NOW},
            {"age_bucket": "Dead", "pairs": 1, "net_cost_home": D("99.99"), "pairs_without_cost": 0,
             "min_age_days": 200, "max_age_days": 200, "as_of": NOW}]),
        oldest=Section(rows=[{"product_name": EVIL, "size_label": "10", "supplier": "Solebox",
                              "purchase_date": date(2024, 6, 1), "current_status": "listed", "age_days": 200,
                              "net_cost_home": D("99.99")}]),
        stock_value=Section(rows=[{"month_end": date(2024, 12, 31), "units_in_stock": 5,
                                   "stock_value_net_home": D("499.99")}]),
        recommendations=empty("no data yet in analytics.pricing_recommendations"),
        accuracy=empty("analytics.forecast_accuracy does not exist yet (the analytics/forecast_accuracy asset has not run)"),
    )  # fmt: skip


def test_report_is_self_contained_and_escapes_warehouse_text():
    page = render_report(full_data())
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no script, no link, no external URL; images are inline PNGs
    assert not re.search(r"<script|<link|<iframe|@import|url\(|https?://", page.replace(EVIL, ""), re.I)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Dunk&quot;" in page
    sources = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert len(sources) == 3  # monthly, platforms, aging (no accuracy data)
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_shows_amounts_with_currency_and_no_data_sections():
    page = render_report(full_data())
    assert "1,234,567.89 EUR" in page  # revenue tile
    assert "33.33 %" in page
    assert "499.99 EUR" in page  # stock value note (and the total cost in stock: 400.00 + 99.99)
    assert "Sales of the 12 months 2024-01 to 2024-12" in page
    for section in ("kpis", "stock-aging", "recommendations", "forecast-accuracy"):
        assert f'<section id="{section}">' in page
    recommendations = page.split('<section id="recommendations">')[1].split("</section>")[0]
    assert "No data yet: no pricing recommendations." in recommendations
    assert "analytics.pricing_recommendations" in recommendations
    accuracy = page.split('<section id="forecast-accuracy">')[1].split("</section>")[0]
    assert "No data yet: no forecast backtest." in accuracy and "<img" not in accuracy


def test_empty_warehouse_renders_every_section_as_no_data():
    missing = "analytics.mv_executive_metrics does not exist yet (run `soleflipper run` or `make run`)"
    data = ReportData(generated_at=NOW, database="empty", home_currency="EUR", window=None,
                      kpis=empty(missing), by_platform=empty(missing), monthly=empty(missing),
                      aging=empty("no pairs in stock"), oldest=empty(), stock_value=empty(),
                      recommendations=empty(), accuracy=empty())  # fmt: skip
    page = render_report(data)
    assert page.count('class="no-data"') == 4
    assert "<img" not in page and "<table" not in page
    assert "soleflipper run" in page


def test_months_back():
    assert months_back(date(2024, 12, 1), 11) == date(2024, 1, 1)
    assert months_back(date(2024, 3, 1), 11) == date(2023, 4, 1)
    assert months_back(date(2024, 1, 1), 0) == date(2024, 1, 1)


def test_forecast_accuracy_section_keeps_the_three_best_and_the_chosen_model():
    def row(model, horizon, mase):
        return {"run_id": "r1", "computed_at": NOW, "dataset": "warehouse", "level": "product", "target": "units",
                "model": model, "horizon": horizon, "mase": mase, "smape": 0.5, "bias": 0.1, "coverage_80": 0.8,
                "n_series": 12, "n_forecasts": 100}  # fmt: skip

    models = {"a": 0.9, "b": 0.8, "c": 1.1, "d": 1.2, "chosen": 1.3, "nan": float("nan")}
    rows = [row(m, h, v + h / 100) for h in (4, 8) for m, v in models.items()]
    assert [(r["horizon"], r["model"]) for r in best_models(rows)] == [
        (4, "b"), (4, "a"), (4, "c"), (4, "chosen"), (8, "b"), (8, "a"), (8, "c"), (8, "chosen")]
    data = full_data()
    data.accuracy, data.accuracy_run = Section(rows=rows), {"run_id": "r1", "computed_at": NOW, "dataset": "warehouse"}
    accuracy = render_report(data).split('<section id="forecast-accuracy">')[1].split("</section>")[0]
    assert "run r1 on warehouse, 2025-01-05 09:30 UTC" in accuracy
    assert accuracy.count('src="data:image/png;base64,') == 1
    assert accuracy.count("<tr>") == 1 + 8  # header and the kept rows
    assert "<td class=num>0.840</td>" in accuracy  # b at horizon 4: 0.8 + 0.04


def test_recommendations_section_with_chart_and_row_currency():
    data = full_data()
    data.recommendations = Section(rows=[
        {"product_name": EVIL, "size_label": "10", "platform": "stockx", "days_in_stock": 12,
         "list_price": D("199.99"), "floor": D("150.00"), "currency": "USD", "expected_days_to_sell": 9,
         "expected_payout": D("170.50"), "expected_profit": D("40.25"), "clearance": False,
         "computed_at": NOW},
        {"product_name": "Samba OG", "size_label": "8.5", "platform": "stockx", "days_in_stock": 200,
         "list_price": D("89.00"), "floor": D("70.00"), "currency": "USD", "expected_days_to_sell": 30,
         "expected_payout": D("75.00"), "expected_profit": D("-5.00"), "clearance": True, "computed_at": NOW},
    ])  # fmt: skip
    section = render_report(data).split('<section id="recommendations">')[1].split("</section>")[0]
    assert "computed 2025-01-05 09:30 UTC" in section
    assert section.count('src="data:image/png;base64,') == 1
    assert "<td class=num>199.99 USD</td>" in section and "<td class=num>-5.00 USD</td>" in section
    assert "&lt;script&gt;" in section and "<script>" not in section
    assert section.count("<td>yes</td>") == 1  # the clearance pair


def test_timestamps_are_shown_in_utc():
    from datetime import timedelta, timezone

    from soleflipper.reporting.html_report import day

    berlin = timezone(timedelta(hours=1))
    assert day(datetime(2025, 1, 5, 10, 30, tzinfo=berlin)) == "2025-01-05 09:30 UTC"
    assert day(date(2025, 1, 5)) == "2025-01-05" and day(None) == "–"
