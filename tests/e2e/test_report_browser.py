"""The static HTML report (`soleflipper report`) in headless Chromium, on the session's CLI demo.

`soleflipper report` writes the report of the demo warehouse (`soleflipper run --sales 300`, the
`cli` / `first_run` fixtures of tests/conftest.py) into $PYTEST_ARTIFACTS/report/ (default
test-artifacts/report/ in the checkout, git-ignored):
* the file has every section with data and the 12 months' revenue of mv_executive_metrics;
* Chromium opens it (file:// URL): its DOM, as the browser parsed it, has the four sections and
  their base64 PNG charts;
* a screenshot (report/report.png beside it) is not blank.
Chromium is launched by the helpers of tests/dagster_ui.py (the Dagster UI browser test's);
without a chromium binary those two tests are skipped, saying so.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from dagster_ui import WINDOW, chromium_dump_dom, chromium_screenshot, find_chromium, png_colours

from soleflipper.settings import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

SECTIONS = ("kpis", "stock-aging", "recommendations", "forecast-accuracy")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no chromium binary on PATH (`make test` installs Debian's chromium when run as root with apt-get)")
    return path


@pytest.fixture(scope="module")
def report(cli, first_run) -> Path:
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or PROJECT_ROOT / "test-artifacts") / "report"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    proc = cli("report", "--output", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(path)
    return path


def test_report_file_has_every_section_with_data(cli, report):
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|https?://", page, re.I)
    (revenue,) = cli.query("""select coalesce(sum(revenue_home), 0) from analytics.mv_executive_metrics
        where sale_month > (select max(sale_month) from analytics.mv_executive_metrics) - interval '12 months'""")[0]
    assert revenue > 0 and f"{revenue:,.2f} EUR" in page
    # the demo has every section: charts of the months, platforms, stock aging, recommendations and accuracy
    assert 'class="no-data"' not in page
    assert page.count('src="data:image/png;base64,') == 5


def test_report_dom_in_chromium(chromium, report, tmp_path):
    dom = chromium_dump_dom(chromium, tmp_path / "profile", report.as_uri(), budget_ms=2000)
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom, section
    assert "Executive KPIs" in dom and "Stock aging" in dom
    assert len(re.findall(r'<img class="chart" alt="[^"]+" src="data:image/png;base64,', dom)) >= 3
    assert not re.search(r"<script|<link", dom)


def test_report_screenshot_is_not_blank(chromium, report, tmp_path):
    target = report.with_suffix(".png")
    chromium_screenshot(chromium, tmp_path / "profile", report.as_uri(), target, budget_ms=2000)
    size, colours = png_colours(target)
    print(f"screenshot of the report: {target}")
    assert size == WINDOW
    # a blank page is one colour; the tiles, text and the anti-aliased chart have hundreds
    assert colours >= 100, f"{target} looks blank: {colours} colour(s)"
