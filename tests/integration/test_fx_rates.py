"""ECB reference rates on real PostgreSQL: the loader, stg_ecb__fx_rates and core.fx_rates_daily.

The hand-written fixture tests/fixtures/ecb_fx_rates/eurofxref-hist-sample.csv has rates for
25-28 March and 2-3 April 2024 (Good Friday 29 March to Easter Monday 1 April without rates),
ISK N/A on 27 March, RUB only on 25 and 26 March (then N/A: "withdrawn"), and CYP, EEK, ... N/A
throughout. Expected values are worked out here with Decimal from the numbers in the file.

One module-scoped database: the EUR build is snapshotted, then the same database is rebuilt
with `--vars {home_currency: USD}` (stable_replace swaps the rows) and snapshotted again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, getcontext
from pathlib import Path

import psycopg
import pytest
from conftest import _create_database, _drop_database
from dbt_runner import run_dbt

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.demo_fx import write_demo_fx_rates
from soleflipper.formats import load_format

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ecb_fx_rates"
HIST = FIXTURES / "eurofxref-hist-sample.csv"
DAILY = FIXTURES / "eurofxref-daily-sample.csv"
SELECT = ("--select", "+fx_rates_daily", "currencies", "--indirect-selection", "cautious")
D = date.fromisoformat

# Rates from the fixture (units per EUR).
USD = {D("2024-03-25"): "1.0830", D("2024-03-26"): "1.0841", D("2024-03-27"): "1.0823", D("2024-03-28"): "1.0811",
       D("2024-04-02"): "1.0766", D("2024-04-03"): "1.0784"}
GBP = {D("2024-03-25"): "0.85773", D("2024-03-26"): "0.85770", D("2024-03-27"): "0.85655",
       D("2024-03-28"): "0.85480", D("2024-04-02"): "0.85630", D("2024-04-03"): "0.85700"}
ISK = {D("2024-03-25"): "149.70", D("2024-03-26"): "149.90", D("2024-03-28"): "150.10",
       D("2024-04-02"): "150.30", D("2024-04-03"): "150.50"}
# The ECB's publication days in the fixture; every other day carries the previous one forward.
PUBLISHED = sorted(USD)


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def cross(per_eur: str, home_per_eur: str) -> tuple[Decimal, Decimal]:
    """(units_per_home, home_per_unit) as the model rounds them (PostgreSQL round: half away from 0)."""
    getcontext().prec = 40
    x, h = Decimal(per_eur), Decimal(home_per_eur)
    return _q(x / h, 8), _q(h / x, 10)


def published_on(day: date) -> date:
    return max(d for d in PUBLISHED if d <= day)


Rows = dict[tuple[date, str], tuple]


@dataclass
class Built:
    url: str
    today: date
    eur: Rows
    usd: Rows
    eur_build: subprocess.CompletedProcess
    usd_build: subprocess.CompletedProcess


def _snapshot(url: str) -> Rows:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select rate_date, currency, home_currency, units_per_home, home_per_unit, per_eur, published_date,"
            " is_carried_forward from core.fx_rates_daily").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


@pytest.fixture(scope="module")
def built(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    name, url = _create_database(pg_server)
    target = tmp_path_factory.mktemp("dbt_fx")
    try:
        with psycopg.connect(url) as conn:
            ensure_all_raw_tables(conn)
            result = load_file(conn, load_format("ecb_fx_rates"), HIST)
            assert (result.rows_loaded, result.rows_quarantined) == (6, 0)
            today = conn.execute("select (current_timestamp at time zone 'UTC')::date").fetchone()[0]
        eur_build = run_dbt(url, target / "eur", "build", *SELECT)
        eur = _snapshot(url) if eur_build.returncode == 0 else {}
        usd_build = run_dbt(url, target / "usd", "build", *SELECT, "--vars", "{home_currency: USD}")
        usd = _snapshot(url) if usd_build.returncode == 0 else {}
        yield Built(url, today, eur, usd, eur_build, usd_build)
    finally:
        _drop_database(pg_server, name)


# --- loader -------------------------------------------------------------------------------------

def test_fx_loader_loads_the_fixture_once_and_a_daily_file_adds_its_day(conn, tmp_path):
    fmt = load_format("ecb_fx_rates")
    first = load_file(conn, fmt, HIST)
    assert (first.rows_read, first.rows_loaded, first.rows_duplicate, first.rows_quarantined) == (6, 6, 0, 0)
    again = load_file(conn, fmt, HIST)
    assert again.skipped_file and again.rows_loaded == 0
    daily = load_file(conn, fmt, DAILY)
    assert (daily.rows_read, daily.rows_loaded, daily.rows_changed, daily.rows_quarantined) == (1, 1, 0, 0)
    rows = conn.execute("select rate_date, usd, gbp, isk, rub, cyp from raw.ecb_fx_rates order by rate_date").fetchall()
    assert rows == [
        (D("2024-03-25"), Decimal("1.0830"), Decimal("0.85773"), Decimal("149.70"), Decimal("99.7500"), None),
        (D("2024-03-26"), Decimal("1.0841"), Decimal("0.85770"), Decimal("149.90"), Decimal("100.1200"), None),
        (D("2024-03-27"), Decimal("1.0823"), Decimal("0.85655"), None, None, None),
        (D("2024-03-28"), Decimal("1.0811"), Decimal("0.85480"), Decimal("150.10"), None, None),
        (D("2024-04-02"), Decimal("1.0766"), Decimal("0.85630"), Decimal("150.30"), None, None),
        (D("2024-04-03"), Decimal("1.0784"), Decimal("0.85700"), Decimal("150.50"), None, None),
        (D("2024-04-04"), Decimal("1.0835"), Decimal("0.85678"), Decimal("150.70"), None, None),
    ]
    # A copy of the history file with one more (newer) day: only that day is new.
    newer = tmp_path / "eurofxref-hist.csv"
    lines = HIST.read_text(encoding="utf-8").splitlines()
    newer.write_text("\n".join([lines[0], lines[1].replace("2024-04-03", "2024-04-05"), *lines[1:]]) + "\n",
                     encoding="utf-8")
    grown = load_file(conn, fmt, newer)
    assert (grown.rows_read, grown.rows_loaded, grown.rows_duplicate) == (7, 1, 6)


def test_fx_loader_quarantines_a_bad_rate_and_a_bad_date_naming_file_line_and_field(conn, tmp_path):
    lines = HIST.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    bad_rate = lines[2].split(",")
    bad_rate[header.index("CHF")] = "0.97x1"
    bad_date = lines[4].split(",")
    bad_date[0] = "2024-03-32"
    path = tmp_path / "eurofxref-hist-broken.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(bad_rate), lines[3], ",".join(bad_date), *lines[5:]])
                    + "\n", encoding="utf-8")
    result = load_file(conn, load_format("ecb_fx_rates"), path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    quarantined = conn.execute(
        "select source, line_number, field, reason, record ->> 'Date', record ->> 'CHF' from raw.quarantine"
        " where format = 'ecb_fx_rates' order by line_number").fetchall()
    assert quarantined == [
        (str(path.resolve()), 3, "CHF", "'0.97x1' is not a number", "2024-04-02", "0.97x1"),
        (str(path.resolve()), 5, "Date", "'2024-03-32' is not a date in %Y-%m-%d, %d %B %Y", "2024-03-32", "0.9818"),
    ]
    assert conn.execute("select count(*) from raw.ecb_fx_rates").fetchone()[0] == 4


def test_fx_demo_file_loads_without_errors(conn, tmp_path):
    path = write_demo_fx_rates(tmp_path, end=date(2024, 4, 3), seed=7)
    result = load_file(conn, load_format("ecb_fx_rates"), path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (320, 320, 0)
    assert conn.execute("select min(rate_date), max(rate_date), count(usd), count(chf), count(cyp)"
                        " from raw.ecb_fx_rates").fetchone() == (D("2023-01-02"), D("2024-04-03"), 320, 320, 0)


# --- dbt: core.fx_rates_daily -------------------------------------------------------------------

def test_fx_rates_daily_builds_and_its_tests_pass(built):
    for build in (built.eur_build, built.usd_build):
        assert build.returncode == 0, build.stdout[-4000:]
        assert "ERROR=0" in build.stdout and "WARN=0" in build.stdout
    assert "assert_fx_rates_cover_today_in_home_currency" in built.eur_build.stdout


def test_fx_rates_daily_carries_the_last_published_rate_over_easter_and_weekends(built):
    rows = built.eur
    for day in (D("2024-03-25") + timedelta(days=i) for i in range(10)):  # 25 March .. 3 April
        source = published_on(day)
        units, home = cross(USD[source], "1")
        assert rows[(day, "USD")] == ("EUR", units, home, Decimal(USD[source]), source, source != day), day
    # Good Friday to Easter Monday: Thursday's rate, flagged as carried forward
    assert rows[(D("2024-04-01"), "USD")] == ("EUR", Decimal("1.08110000"), Decimal("0.9249838128"),
                                              Decimal("1.08110000"), D("2024-03-28"), True)
    assert rows[(D("2024-04-01"), "GBP")][1:] == (Decimal("0.85480000"), Decimal("1.1698642957"),
                                                  Decimal("0.85480000"), D("2024-03-28"), True)
    # ISK was N/A on 27 March: 26 March's rate, the next rate follows within 7 days
    assert rows[(D("2024-03-27"), "ISK")][1:] == (Decimal("149.90000000"), Decimal("0.0066711141"),
                                                  Decimal("149.90000000"), D("2024-03-26"), True)


def test_fx_rates_daily_runs_from_the_first_rate_to_today_and_invents_nothing(built):
    rows, today = built.eur, built.today
    days = (today - D("2024-03-25")).days + 1
    per_currency: dict[str, list[date]] = {}
    for day, currency in rows:
        per_currency.setdefault(currency, []).append(day)
    # Currencies the ECB still publishes (and EUR) run from 25 March 2024 to today, every day.
    for currency in ("EUR", "USD", "GBP", "JPY", "CHF", "ISK", "IDR"):
        assert sorted(per_currency[currency]) == [D("2024-03-25") + timedelta(days=i) for i in range(days)]
    # The days after the newest file (3 April) carry 3 April's rate up to today.
    assert rows[(today, "USD")][3:] == (Decimal("1.07840000"), D("2024-04-03"), True)
    # RUB's last rate (26 March) is more than 7 days older than the newest publication (3 April)
    # and it is not published again: it stops there, no carried-forward rows.
    assert sorted(per_currency["RUB"]) == [D("2024-03-25"), D("2024-03-26")]
    # Currencies without any rate in the file have no rows at all; nothing before the first rate.
    assert not {"CYP", "EEK", "HRK", "TRL"} & set(per_currency)
    assert min(day for day, _ in rows) == D("2024-03-25")
    assert len(rows) == 31 * days + 2  # 30 ECB currencies + EUR, plus RUB's two days


def test_fx_rates_daily_euro_is_one_in_a_euro_home(built):
    euro = {day: values for (day, currency), values in built.eur.items() if currency == "EUR"}
    assert {values[:4] for values in euro.values()} == {("EUR", Decimal("1.00000000"), Decimal("1.0000000000"),
                                                         Decimal("1.00000000"))}
    assert euro[D("2024-03-30")][4:] == (D("2024-03-28"), True)
    assert euro[D("2024-04-02")][4:] == (D("2024-04-02"), False)


def test_fx_rates_daily_crosses_rates_into_a_usd_home(built):
    rows = built.usd
    assert {values[0] for values in rows.values()} == {"USD"}
    assert set(rows) == set(built.eur)  # same days and currencies, other home
    for day in (D("2024-03-25") + timedelta(days=i) for i in range(10)):
        source = published_on(day)
        usd = USD[source]
        assert rows[(day, "USD")][:3] == ("USD", Decimal("1.00000000"), Decimal("1.0000000000"))
        assert rows[(day, "EUR")][1:3] == cross("1", usd)  # 1 EUR = per_eur(USD) USD
        assert rows[(day, "GBP")][1:3] == cross(GBP[source], usd)
        assert rows[(day, "GBP")][4:] == (source, source != day)
    # worked by hand: 28 March, 1 USD = 0.85480 / 1.0811 GBP; 1 GBP = 1.0811 / 0.85480 USD
    assert rows[(D("2024-03-28"), "GBP")][1:3] == (Decimal("0.79067616"), Decimal("1.2647402901"))
    assert rows[(D("2024-03-28"), "EUR")][1:3] == (Decimal("0.92498381"), Decimal("1.0811000000"))
    # JPY into USD on Easter Monday: Thursday's cross rate
    assert rows[(D("2024-04-01"), "JPY")][1:3] == cross("163.45", "1.0811") == (
        Decimal("151.18860420"), Decimal("0.0066142551"))
    # ISK on 27 March: the home currency was published that day, ISK was not: the older date
    assert rows[(D("2024-03-27"), "ISK")][1:] == (*cross("149.90", "1.0823"), Decimal("149.90000000"),
                                                  D("2024-03-26"), True)


def test_fx_rates_daily_rejects_a_home_currency_that_is_not_an_iso_code(built, tmp_path):
    proc = run_dbt(built.url, tmp_path / "bad", "build", *SELECT, "--vars", "{home_currency: EURO}")
    assert proc.returncode != 0
    assert "var home_currency must be a three-letter ISO code such as EUR or USD, not 'EURO'" in proc.stdout


def test_fx_rates_daily_fails_its_test_for_a_home_currency_the_ecb_does_not_publish(built, tmp_path):
    """RUB stopped on 26 March: as home currency it leaves 2 days x 32 currencies and a failing test."""
    proc = run_dbt(built.url, tmp_path / "rub", "build", *SELECT, "--vars", "{home_currency: RUB}")
    assert proc.returncode == 1
    # two failing rows: no rate today for RUB itself, nor for EUR
    assert "FAIL 2 assert_fx_rates_cover_today_in_home_currency" in proc.stdout
    with psycopg.connect(built.url) as conn:
        assert conn.execute("select count(*), min(rate_date), max(rate_date) from core.fx_rates_daily").fetchone() \
            == (64, D("2024-03-25"), D("2024-03-26"))
