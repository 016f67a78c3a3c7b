"""The ECB reference-rate format (soleflipper/formats/ecb_fx_rates.yaml) and the synthetic demo FX file.

The fixtures in tests/fixtures/ecb_fx_rates/ are hand-written in the ECB's exact layouts with
invented values: eurofxref-hist-sample.csv (Easter 2024: Thursday 28 March to Tuesday 2 April
without rates, ISK N/A on 27 March, RUB only on 25 and 26 March, withdrawn currencies N/A) and
eurofxref-daily-sample.csv (the daily file: ", " between fields, "04 April 2024").
"""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soleflipper import demo_fx
from soleflipper.csv_parsing import FileFormatError, ParsedRow, RowError, parse_csv
from soleflipper.formats import load_format
from soleflipper.settings import PROJECT_ROOT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ecb_fx_rates"
HIST = FIXTURES / "eurofxref-hist-sample.csv"
DAILY = FIXTURES / "eurofxref-daily-sample.csv"
STAGING_SQL = PROJECT_ROOT / "dbt_project" / "models" / "staging" / "ecb" / "stg_ecb__fx_rates.sql"
ECB_HEADER = ("Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,RUB,"
              "TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,")
WITHDRAWN = {"cyp", "eek", "ltl", "lvl", "mtl", "rol", "sit", "skk", "hrk", "trl"}


@pytest.fixture(scope="module")
def fmt():
    return load_format("ecb_fx_rates")


def _parse(fmt, path: Path) -> list[ParsedRow | RowError]:
    return list(parse_csv(fmt, path)[1])


def _by_date(fmt, path: Path) -> dict[str, dict[str, str | None]]:
    rows = _parse(fmt, path)
    assert all(isinstance(r, ParsedRow) for r in rows), [r for r in rows if isinstance(r, RowError)]
    return {r.values[0]: dict(zip(fmt.column_names, r.values, strict=True)) for r in rows}


def test_fx_format_is_the_ecb_layout(fmt):
    assert fmt.table == "ecb_fx_rates"
    assert ",".join(["Date", *(c.header for c in fmt.columns[1:])]) + "," == ECB_HEADER
    assert fmt.columns[0].name == "rate_date" and fmt.columns[0].type == "date"
    assert all(c.type == "numeric" and c.name == c.header.lower() for c in fmt.columns[1:])
    # The daily file lists only today's currencies: every currency but USD is optional.
    assert [c.header for c in fmt.columns if not c.optional] == ["Date", "USD"]


def test_fx_format_parses_the_history_layout(fmt):
    header, _ = parse_csv(fmt, HIST)
    assert ",".join(header.header) == ECB_HEADER
    rows = _parse(fmt, HIST)
    # newest first, as the ECB writes the file; line 2 is the newest day
    assert [(r.line, r.values[0]) for r in rows] == [
        (2, "2024-04-03"), (3, "2024-04-02"), (4, "2024-03-28"), (5, "2024-03-27"), (6, "2024-03-26"),
        (7, "2024-03-25")]
    # the trailing delimiter is an unnamed empty column, kept verbatim in _extra
    assert {r.extra == {"": ""} for r in rows} == {True}
    days = _by_date(fmt, HIST)
    assert days["2024-03-28"]["usd"] == "1.0811" and days["2024-03-28"]["gbp"] == "0.85480"
    assert days["2024-03-28"]["jpy"] == "163.45" and days["2024-03-28"]["idr"] == "17150.00"
    assert days["2024-03-27"]["isk"] is None and days["2024-03-26"]["isk"] == "149.90"  # N/A is NULL
    assert [days[d]["rub"] for d in sorted(days)] == ["99.7500", "100.1200", None, None, None, None]
    assert {days[d][c] for d in days for c in WITHDRAWN} == {None}


def test_fx_format_parses_the_daily_layout(fmt):
    header, _ = parse_csv(fmt, DAILY)
    assert header.header[0] == "Date" and header.header[1] == " USD" and header.header[-1] == " "
    days = _by_date(fmt, DAILY)
    assert list(days) == ["2024-04-04"]
    day = days["2024-04-04"]
    assert (day["usd"], day["gbp"], day["chf"], day["krw"]) == ("1.0835", "0.85678", "0.9802", "1461.42")
    assert {day[c] for c in WITHDRAWN | {"rub"}} == {None}  # columns the daily file does not have


def _write(tmp_path: Path, rows: list[str], name: str = "eurofxref-hist.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([ECB_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _row(day: str, **cells: str) -> str:
    values = {c: "N/A" for c in ECB_HEADER.split(",")[1:-1]} | {"USD": "1.0800"} | cells
    return day + "," + ",".join(values[c] for c in ECB_HEADER.split(",")[1:-1]) + ","


def test_fx_format_reports_a_bad_rate_and_a_bad_date_by_line_and_field(fmt, tmp_path):
    path = _write(tmp_path, [
        _row("2024-04-03", GBP="0.8570"),
        _row("2024-04-02", GBP="\"0,8563\""),  # a (quoted) decimal comma: not a number here
        _row("2024-02-30", GBP="0.8548"),  # no such day
        _row("2024-03-27", CHF="abc"),
        _row("2024-03-26", JPY="0"),  # a rate of zero cannot be divided by
    ])
    rows = _parse(fmt, path)
    assert [r.line for r in rows if isinstance(r, ParsedRow)] == [2]
    errors = [(r.line, r.field, r.reason) for r in rows if isinstance(r, RowError)]
    assert errors == [
        (3, "GBP", "'0,8563' is not a number"),
        (4, "Date", "'2024-02-30' is not a date in %Y-%m-%d, %d %B %Y"),
        (5, "CHF", "'abc' is not a number"),
        (6, "JPY", "'0' is below the minimum 0.0001"),
    ]
    assert rows[1].record["GBP"] == "0,8563" and rows[1].record["Date"] == "2024-04-02"


def test_fx_format_rejects_a_file_without_the_usd_column_naming_the_file(fmt, tmp_path):
    path = tmp_path / "not_ecb.csv"
    path.write_text("Date,Amount\n2024-04-02,12.50\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"not_ecb\.csv: not a ecb_fx_rates file: missing required column"
                                              r"\(s\) 'USD'"):
        parse_csv(fmt, path)


def test_fx_staging_unpivots_every_currency_column_of_the_format(fmt):
    """stg_ecb__fx_rates lists the currencies in Jinja: it must list exactly the format's columns."""
    text = STAGING_SQL.read_text(encoding="utf-8")
    listed = re.search(r"set currencies = \[(.*?)\]", text, re.DOTALL).group(1)
    assert re.findall(r"'([A-Z]{3})'", listed) == [c.header for c in fmt.columns[1:]]


# --- the synthetic demo file --------------------------------------------------------------------

def test_fx_demo_business_days_skip_weekends_and_target_holidays():
    days = list(demo_fx.ecb_business_days(date(2024, 3, 25), date(2024, 4, 3)))
    assert days == [date(2024, 3, 25), date(2024, 3, 26), date(2024, 3, 27), date(2024, 3, 28),
                    date(2024, 4, 2), date(2024, 4, 3)]  # Good Friday, Easter Monday, the weekend
    december = list(demo_fx.ecb_business_days(date(2023, 12, 22), date(2024, 1, 3)))
    assert december == [date(2023, 12, 22), date(2023, 12, 27), date(2023, 12, 28), date(2023, 12, 29),
                        date(2024, 1, 2), date(2024, 1, 3)]
    assert date(2025, 5, 1) not in set(demo_fx.ecb_business_days(date(2025, 4, 28), date(2025, 5, 2)))
    assert list(demo_fx.ecb_business_days(date(2025, 4, 17), date(2025, 4, 22))) == [
        date(2025, 4, 17), date(2025, 4, 22)]  # Easter 2025: 18 and 21 April closed


def test_fx_demo_file_is_deterministic_and_in_the_ecb_layout(fmt, tmp_path):
    end = date(2024, 4, 3)
    first = demo_fx.write_demo_fx_rates(tmp_path / "a", end=end, seed=7)
    again = demo_fx.write_demo_fx_rates(tmp_path / "b", end=end, seed=7)
    other = demo_fx.write_demo_fx_rates(tmp_path / "c", end=end, seed=8)
    assert first.name == "demo-eurofxref-hist.csv"
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    # written again with the same rates: the file is left alone (the import sensor sees no change)
    mtime = first.stat().st_mtime_ns
    demo_fx.write_demo_fx_rates(tmp_path / "a", end=end, seed=7)
    assert first.stat().st_mtime_ns == mtime
    lines = first.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ECB_HEADER
    assert lines[1].startswith("2024-04-03,") and lines[-1].startswith("2023-01-02,")
    expected_days = list(demo_fx.ecb_business_days(date(2023, 1, 2), end))
    assert len(lines) == 1 + len(expected_days) == 1 + 320  # 2023: 260 weekdays - 5 holidays; 2024 to 3 April: 68 - 3
    # The first day is the documented start level; simulated currencies have a rate every day,
    # every other currency is N/A.
    with open(first, newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    header, oldest = records[0], records[-1]
    assert dict(zip(header, oldest, strict=True)) | {"": ""} == (
        {"Date": "2023-01-02", "": ""}
        | {c: "N/A" for c in header[1:-1]}
        | {c: str(v) for c, (v, _) in demo_fx.SIMULATED.items()})
    for record in records[1:]:
        for code, value in zip(header[1:-1], record[1:-1], strict=True):
            if code in demo_fx.SIMULATED:
                decimals = demo_fx.SIMULATED[code][1]
                assert Decimal(value).as_tuple().exponent == -decimals and Decimal(value) > 0
            else:
                assert value == "N/A"
    # It parses without a single error.
    rows = _parse(fmt, first)
    assert len(rows) == 320 and all(isinstance(r, ParsedRow) for r in rows)


def test_fx_demo_rates_of_a_day_do_not_depend_on_the_end_date():
    short = demo_fx.generate_fx_rates(end=date(2023, 6, 30), seed=7)
    long = demo_fx.generate_fx_rates(end=date(2024, 6, 28), seed=7)
    assert long[:len(short)] == short and len(long) > len(short)
    assert short[0] == (date(2023, 1, 2), {c: v for c, (v, _) in demo_fx.SIMULATED.items()})
    # a plausible walk: within 25 % of the start level for the whole demo period
    for _, rates in long:
        for code, (base, _) in demo_fx.SIMULATED.items():
            assert abs(rates[code] / base - 1) < Decimal("0.25"), (code, rates[code])


def test_fx_demo_file_covers_today_by_default(tmp_path):
    from datetime import UTC, datetime

    before = datetime.now(UTC).date()
    path = demo_fx.write_demo_fx_rates(tmp_path)
    after = datetime.now(UTC).date()  # the same day unless the test runs across midnight UTC
    newest = path.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    expected = {list(demo_fx.ecb_business_days(date(2023, 1, 2), day))[-1].isoformat() for day in (before, after)}
    assert newest in expected
