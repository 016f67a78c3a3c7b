"""Property-based tests: every CSV format against random valid rows mixed with malformed ones.

Valid rows are built from each format's column definitions (soleflipper/formats/*.yaml), with
the canonical value each cell must parse to worked out here, independently of the parser
(numbers re-grouped with the format's separators, dates written with its strptime patterns,
...). Bad rows are valid rows with one known defect, so the field the parser must name is known.
Properties: nothing raises except the documented whole-file error (FileFormatError), every good
row comes out with exactly its values and its physical line, every bad row comes out as a
RowError with its line and the field at fault, blank filler is skipped, and the counts add up.

tests/integration/test_loader_properties.py drives the same generator through the real loader.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from soleflipper.csv_parsing import FileFormatError, ParsedRow, RowError, parse_csv
from soleflipper.formats import Column, CsvFormat, available_formats, load_format, normalise_header

CSV_FORMATS = [name for name in available_formats() if load_format(name).file_patterns]
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
_WS = " \t\r\n\u00a0\u202f"  # what the parser strips around strip_chars (csv_parsing._WHITESPACE)
_TRUE, _FALSE = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")
EXTRA_HEADER = "Zz Unknown Column"

# What a good cell can hold: any character a UTF-8 file can hold (no lone surrogates) but NUL,
# which PostgreSQL cannot store: a cell with NUL is a bad cell (bad_cell), named like any other.
TEXT_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
DB_TEXT_CHARS = TEXT_CHARS  # the loader test's name for the same alphabet


# --------------------------------------------------------------------------- valid cells


@dataclass(frozen=True)
class Field:
    """One file column: the format columns it feeds (several only with `extract`)."""

    columns: tuple[Column, ...]

    @property
    def main(self) -> Column:
        return next(c for c in self.columns if c.extract is None) if any(
            c.extract is None for c in self.columns) else self.columns[0]

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.main.header, *self.main.aliases)

    @property
    def required(self) -> bool:
        return any(not c.optional for c in self.columns)


def fields_of(fmt: CsvFormat) -> list[Field]:
    groups: dict[str, list[Column]] = {}
    for col in fmt.file_columns:
        groups.setdefault(col.header_keys()[0], []).append(col)
    return [Field(tuple(cols)) for cols in groups.values()]


def _null_for(fmt: CsvFormat, col: Column) -> str | None:
    """What a NULL cell of ``col`` is stored as: its default, or None."""
    return col.default


def _number_text(draw, fmt: CsvFormat, col: Column) -> tuple[str, str]:
    low = 0 if col.min is not None else None
    high = int(col.max) - 1 if col.max is not None else 10**9
    whole = draw(st.integers(min_value=1 if (col.min or 0) > 0 else 0, max_value=high))
    frac = draw(st.sampled_from(["", "0", "5", "25", "999", "0001"])) if col.type == "numeric" else ""
    negative = low is None and draw(st.booleans())
    sign = "-" if negative else ""
    canonical = f"{sign}{whole}" + (f".{frac}" if frac else "")
    digits = str(whole)
    if fmt.thousands_separator and col.type == "numeric" and whole >= 1000 and draw(st.booleans()):
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = fmt.thousands_separator.join(groups)
    decimal = fmt.decimal_separator if col.type == "numeric" else "."
    text = f"{sign}{digits}" + (f"{decimal}{frac}" if frac else "")
    if col.strip_chars:
        text = draw(st.sampled_from(["", *col.strip_chars])) + text + draw(st.sampled_from(["", *col.strip_chars]))
    return draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", " "])), canonical


def _date_text(draw, fmt: CsvFormat) -> tuple[str, str]:
    day = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
    pattern = draw(st.sampled_from(fmt.date_formats)) if fmt.date_formats else None
    return (day.strftime(pattern) if pattern else day.isoformat()), day.isoformat()


def _timestamp_text(draw, fmt: CsvFormat) -> tuple[str, str]:
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)))
    moment = moment.replace(microsecond=0)
    offset = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330]))))
    if fmt.timestamp_formats:
        pattern = draw(st.sampled_from(fmt.timestamp_formats))
        if "%z" in pattern:
            aware = moment.replace(tzinfo=offset)
            return aware.strftime(pattern), aware.astimezone(UTC).isoformat()
        zone = UTC if fmt.default_timezone == "UTC" else ZoneInfo(fmt.default_timezone)
        return moment.strftime(pattern), moment.replace(tzinfo=zone).astimezone(UTC).isoformat()
    style = draw(st.sampled_from(["naive", "offset", "hour"]))
    sep = draw(st.sampled_from([" ", "T"]))
    if style == "naive":
        return moment.isoformat(sep=sep), moment.replace(tzinfo=UTC).isoformat()
    if style == "hour":  # StockX writes "2022-07-08 00:46:09 +00"
        return moment.isoformat(sep=sep) + " +00", moment.replace(tzinfo=UTC).isoformat()
    aware = moment.replace(tzinfo=offset)
    return aware.isoformat(sep=sep), aware.astimezone(UTC).isoformat()


def _plain_text(draw, fmt: CsvFormat, not_null: bool, chars) -> str:
    text = draw(st.one_of(st.text(chars, max_size=12), st.sampled_from(["Dunk Low \"Panda\", GS", "a\nb", "x;y,z"]),
                          st.integers(1, 60_000).map(lambda n: "L" * n)))  # very long fields
    if not_null:
        assume(text.strip() not in fmt.null_values)
    return text


@st.composite
def valid_cell(draw, fmt: CsvFormat, fld: Field, chars=TEXT_CHARS) -> tuple[str, dict[str, str | None]]:
    """(cell text, {column name: canonical value}) for a valid cell of ``fld``."""
    col = fld.main
    nullable = not any(c.not_null for c in fld.columns)
    if nullable and draw(st.integers(0, 5)) == 0:
        token = draw(st.sampled_from(sorted(fmt.null_values)))
        return f" {token} " if token else token, {c.name: _null_for(fmt, c) for c in fld.columns}
    if any(c.extract for c in fld.columns):
        extracts = {c.extract for c in fld.columns if c.extract}
        assert extracts == {r"/itm/(\d+)"}, f"{fmt.name}: teach this test how to write {extracts}"
        number = str(draw(st.integers(10**9, 10**12)))
        text = f"https://www.ebay.com/itm/{number}?hash=item{draw(st.integers(0, 99))}"
        return text, {c.name: (number if c.extract else text) for c in fld.columns}
    if col.type in ("numeric", "integer"):
        text, value = _number_text(draw, fmt, col)
    elif col.type == "date":
        text, value = _date_text(draw, fmt)
    elif col.type == "timestamptz":
        text, value = _timestamp_text(draw, fmt)
    elif col.type == "currency":
        value = draw(st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY"]))
        text = draw(st.sampled_from([value, value.lower(), f" {value} "]))
    elif col.type == "boolean":
        truth = draw(st.booleans())
        text, value = draw(st.sampled_from(_TRUE if truth else _FALSE)).upper(), "true" if truth else "false"
    elif col.pattern:
        value = draw(st.from_regex(col.pattern, fullmatch=True).filter(
            lambda s: s == s.strip() and s not in fmt.null_values))
        text = value
    elif col.strip_chars:
        core = _plain_text(draw, fmt, False, chars).strip(col.strip_chars + _WS)
        text = draw(st.sampled_from(["", *col.strip_chars])) + core + draw(st.sampled_from(["", *col.strip_chars]))
        if not nullable:
            assume(core.strip() not in fmt.null_values)
        value = core if core.strip() not in fmt.null_values else _null_for(fmt, col)
        assume(text.strip() not in fmt.null_values or value is None)
    else:
        text = _plain_text(draw, fmt, not nullable, chars)
        value = text if text.strip() not in fmt.null_values else _null_for(fmt, col)
    return text, {col.name: value}


# --------------------------------------------------------------------------- bad cells


def _letters(chars) -> st.SearchStrategy[str]:
    """Junk that no type reads: random text around a '?' (no number, date, code or pattern has one)."""
    return st.tuples(st.text(chars, max_size=6), st.text(chars, max_size=6)).map(lambda p: f"{p[0]}x?{p[1]}")


BAD_VALUES = {
    "numeric": ["1.2.3", "--5", "1e5", "12abc", "∞", "NaN", "0x1F"],
    "integer": ["1.5", "1e3", "seven", "NaN", "12 000"],
    "date": ["2024-02-30", "31/02/2024", "2024-13-01", "00.00.0000", "Feb 30, 2024", "Feb-30-24", "tomorrow"],
    "timestamptz": ["2024-02-30 10:00:00", "2024-01-01 25:00:00", "2024-01-01T10:61:00", "yesterday"],
    "currency": ["EURO", "€", "US", "U5D", "12"],
    "boolean": ["maybe", "2", "oui", "truth"],
}


@st.composite
def bad_cell(draw, fmt: CsvFormat, fld: Field, chars=TEXT_CHARS) -> str:
    """A cell text the parser must reject for this field."""
    col = fld.main
    if any(c.extract for c in fld.columns):
        return draw(st.sampled_from(["https://www.ebay.com/sch/123", "itm/abc", "no link"]))
    # NUL in any cell: text cannot hold it, no other type reads it
    options = [st.tuples(st.text(chars, max_size=4), st.text(chars, max_size=4)).map(lambda p: f"{p[0]}\x00{p[1]}")]
    if any(c.not_null and c.default is None for c in fld.columns):
        options.append(st.sampled_from(sorted(fmt.null_values)))
    if col.type in BAD_VALUES:
        options += [st.sampled_from(BAD_VALUES[col.type]), _letters(chars)]
    if col.type == "text" and col.pattern:
        options.append(_letters(chars).filter(lambda s: not re.match(col.pattern, s.strip())))
    if col.min is not None and col.type in ("numeric", "integer"):
        options.append(st.just(f"{col.min - 1:g}" if col.min >= 1 else "-1"))
    if col.max is not None:
        options.append(st.just(f"{col.max + 1:g}"))
    text = draw(st.one_of(*options))
    if not (col.not_null and col.default is None):
        assume(text.strip() not in fmt.null_values)
    return text


# --------------------------------------------------------------------------- whole files


@dataclass
class Expect:
    """What parsing the generated file must give."""

    good: dict[int, list[str | None]] = field(default_factory=dict)  # line -> values
    good_extra: dict[int, dict[str, str] | None] = field(default_factory=dict)
    good_cells: dict[int, list[str]] = field(default_factory=dict)  # line -> cell texts as written
    bad: dict[int, str | None] = field(default_factory=dict)  # line -> field header (None: whole record)
    skipped_lines: int = 0  # blank / bare-delimiter lines


@dataclass
class CsvCase:
    fmt: CsvFormat
    data: bytes
    expect: Expect


def _render(record: list[str], delimiter: str, terminator: str) -> str:
    # "\r\n" makes the writer quote a cell holding either character; then the chosen ending
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(record)
    return out.getvalue()[:-2] + terminator


def _skippable(fmt: CsvFormat, record: list[str]) -> bool:
    """The documented skip_records rule: an erroneous record matching one is report furniture."""
    text = fmt.delimiter.join(record)
    return any(re.search(p, text) for p in fmt.skip_records)


@st.composite
def csv_case(draw, fmt: CsvFormat, chars=TEXT_CHARS, max_rows: int = 6, bad_rows: bool = True) -> CsvCase:
    fields = fields_of(fmt)
    present = [f for f in fields if f.required or draw(st.booleans())]
    present = draw(st.permutations(present))
    header = [draw(st.sampled_from(f.headers)) for f in present]
    header = [draw(st.sampled_from([h, h.upper(), h.lower(), f" {h} "])) for h in header]
    extra = draw(st.booleans())
    if extra:
        assert all(normalise_header(EXTRA_HEADER) not in f.main.header_keys() for f in fields)
        header.append(EXTRA_HEADER)
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    delim = fmt.delimiter
    text = ("\ufeff" if draw(st.booleans()) else "") + _render(header, delim, terminator)
    expect = Expect()
    absent = {c.name: _null_for(fmt, c) for f in fields if f not in present for c in f.columns}
    for _ in range(draw(st.integers(0, max_rows))):
        filler = draw(st.sampled_from(["", "blank", "delims"])) if draw(st.integers(0, 3)) == 0 else ""
        if filler:
            text += ("" if filler == "blank" else delim * draw(st.integers(1, 3))) + terminator
            expect.skipped_lines += 1
        cells, values = [], dict(absent)
        for fld in present:
            cell, parsed = draw(valid_cell(fmt, fld, chars))
            cells.append(cell)
            values.update(parsed)
        extra_value = draw(st.text(chars, max_size=8)) if extra else None
        if extra:
            cells.append(extra_value)
        line = text.count("\n") + 1
        kind = draw(st.sampled_from(["good", "good", "bad_value", "fields"])) if bad_rows else "good"
        if kind == "bad_value":
            candidates = [(i, f) for i, f in enumerate(present)]
            i, fld = draw(st.sampled_from(candidates))
            cells[i] = draw(bad_cell(fmt, fld, chars))
            if not any(cells):
                expect.skipped_lines += 1
            elif not _skippable(fmt, cells):
                expect.bad[line] = fld.main.header
            else:
                expect.skipped_lines += 1
        elif kind == "fields":
            cells = cells + [draw(st.text(chars, max_size=4))] if draw(st.booleans()) else cells[:-1]
            if not any(cells):
                expect.skipped_lines += 1
            elif not _skippable(fmt, cells):
                expect.bad[line] = None
            else:
                expect.skipped_lines += 1
        if kind == "good":
            expect.good[line] = [values[c.name] if c.constant is None else c.constant for c in fmt.columns]
            expect.good_extra[line] = {EXTRA_HEADER: extra_value} if extra else None
            expect.good_cells[line] = list(cells)
        text += _render(cells, delim, terminator)
    if draw(st.booleans()):
        text = text[: -len(terminator)]  # no newline at the end of the file
    return CsvCase(fmt, text.encode(fmt.encoding), expect)


def parse_bytes(fmt: CsvFormat, data: bytes, path: Path) -> list[ParsedRow | RowError]:
    path.write_bytes(data)
    _, rows = parse_csv(fmt, path)
    return list(rows)


def check_parsed(case: CsvCase, rows: list[ParsedRow | RowError]) -> None:
    exp = case.expect
    good = {r.line: r for r in rows if isinstance(r, ParsedRow)}
    bad = {r.line: r for r in rows if isinstance(r, RowError)}
    assert len(good) + len(bad) == len(rows), "two outputs for one line"
    assert {line: r.values for line, r in good.items()} == exp.good
    assert {line: r.extra for line, r in good.items()} == exp.good_extra
    assert {line: r.field for line, r in bad.items()} == exp.bad
    for r in bad.values():
        assert r.reason and r.record, r  # a reason, and the record as read (nothing lost)
    # counts: every data record is loaded or quarantined; only blank filler is skipped
    assert len(rows) == len(exp.good) + len(exp.bad)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("csv_properties")


@pytest.mark.parametrize("name", CSV_FORMATS)
@settings(max_examples=18, **SETTINGS)
@given(data=st.data())
def test_good_rows_parse_exactly_and_bad_rows_are_named(name, data, work_dir):
    case = data.draw(csv_case(load_format(name)))
    check_parsed(case, parse_bytes(case.fmt, case.data, work_dir / f"{name}.csv"))


def test_every_csv_format_is_covered():
    # a new CSV format is picked up by the properties above; this pins the list so a rename is seen
    assert CSV_FORMATS == ["alias_consignment", "alias_invoice", "ebay_orders", "ebay_sold_listings",
                           "ecb_fx_rates", "expenses_sheet", "purchases_sheet", "purchases_sheet_de",
                           "sales_sheet", "stockx_activity_sales", "stockx_contest_sales", "stockx_sales_report"]


@settings(max_examples=20, **SETTINGS)
@given(data=st.data(), name=st.sampled_from(CSV_FORMATS))
def test_an_unbalanced_quote_never_raises_nor_touches_earlier_rows(name, data, work_dir):
    """A stray quote opens a field that runs to the next quote (a legal multi-line field looks the
    same), so what follows it may be read differently; but the parser never raises, the rows
    before it parse exactly, and every record read comes out (as a row or with its text)."""
    fmt = load_format(name)
    case = data.draw(csv_case(fmt, max_rows=5))
    text = case.data.decode(fmt.encoding)
    lines = text.split("\n")
    assume(len(lines) > 2)
    at = data.draw(st.integers(1, len(lines) - 1))  # 0-based index of a data line: physical line at + 1
    cut = data.draw(st.integers(0, len(lines[at])))
    lines[at] = lines[at][:cut] + '"' + lines[at][cut:]
    path = work_dir / f"quote_{name}.csv"
    try:
        rows = parse_bytes(fmt, "\n".join(lines).encode(fmt.encoding), path)
    except FileFormatError as exc:  # csv's own error (a quote next to a bare CR): the file, named
        assert re.match(rf"{re.escape(str(path))}: line \d+: ", str(exc)), exc
        return
    parsed = {r.line: r.values for r in rows if isinstance(r, ParsedRow)}
    for line, values in case.expect.good.items():
        end = line + sum(cell.count("\n") for cell in case.expect.good_cells[line])
        if end < at + 1:
            assert parsed.get(line) == values, line
    for r in rows:
        assert isinstance(r, ParsedRow) or (r.reason and r.record), r


@settings(max_examples=40, **SETTINGS)
@given(data=st.data(), name=st.sampled_from(CSV_FORMATS))
def test_bytes_that_are_not_utf8_fail_the_file_naming_the_line(name, data, work_dir):
    """A file that is not valid UTF-8 fails as a whole (documented) with the file and line."""
    fmt = load_format(name)
    case = data.draw(csv_case(fmt, bad_rows=False, max_rows=4))
    lines = case.data.split(b"\n")
    at = data.draw(st.integers(1, len(lines)))
    junk = data.draw(st.sampled_from([b"\xff", b"\xc3(", b"\x80abc", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
    target = lines[at - 1]
    cut = data.draw(st.integers(0, len(target)))
    lines[at - 1] = target[:cut] + junk + target[cut:]
    path = work_dir / f"bytes_{name}.csv"
    with pytest.raises(FileFormatError) as caught:
        parse_bytes(fmt, b"\n".join(lines), path)
    assert str(path) in str(caught.value)
    assert f"line {at} is not valid utf-8" in str(caught.value)


def test_a_missing_required_column_is_a_clear_file_error(tmp_path):
    fmt = load_format("sales_sheet")
    path = tmp_path / "sales.csv"
    path.write_text("Sale Date,Order Number\n2024-01-01,1\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"missing required column\(s\) 'Platform', 'Style Code'"):
        parse_csv(fmt, path)


# --------------------------------------------------------------------------- bugs found


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_a_timestamp_at_the_edge_of_the_calendar_is_quarantined(stamp, tmp_path):
    fmt = load_format("stockx_activity_sales")
    path = tmp_path / "activity.csv"
    path.write_text(f"product,createdAt,amount,shoeSize\nDunk,{stamp.replace('T', ' ')},100,9\n", encoding="utf-8")
    (row,) = list(parse_csv(fmt, path)[1])
    assert isinstance(row, RowError) and (row.line, row.field) == (2, "createdAt")


def test_a_truncated_utf8_sequence_at_the_end_of_the_file_fails(tmp_path):
    fmt = load_format("sales_sheet")
    path = tmp_path / "sales.csv"
    path.write_bytes(b"Sale Date,Platform,Order Number,Style Code,Size,Sale Price,Fees,Payout,Notes\n"
                     b"2024-01-01,StockX,1-2,A,9,100,1,99,caf\xc3")
    with pytest.raises(FileFormatError, match="line 2 is not valid utf-8"):
        list(parse_csv(fmt, path)[1])


def test_a_nul_in_an_unknown_column_is_quarantined_naming_it(tmp_path):
    # unknown columns are kept in the row's _extra jsonb, which cannot hold NUL either
    fmt = load_format("sales_sheet")
    path = tmp_path / "sales.csv"
    path.write_text("Sale Date,Platform,Order Number,Style Code,Size,Sale Price,Fees,Payout,Zz Unknown Column\n"
                    "2024-01-01,StockX,1-2,A,9,100,1,99,a\x00b\n2024-01-02,StockX,1-3,A,9,100,1,99,ok\n",
                    encoding="utf-8")
    bad, good = list(parse_csv(fmt, path)[1])
    assert isinstance(bad, RowError) and (bad.line, bad.field) == (2, "Zz Unknown Column")
    assert bad.record["Zz Unknown Column"] == "a\x00b"
    assert isinstance(good, ParsedRow) and (good.line, good.extra) == (3, {"Zz Unknown Column": "ok"})


def test_digits_other_than_ascii_and_integers_beyond_bigint_are_field_errors(tmp_path):
    fmt = load_format("purchases_sheet")
    path = tmp_path / "purchases.csv"
    path.write_text("Purchase Date,Supplier,Style Code,Size,Quantity,Net Price,Gross Price\n"
                    "2024-01-01,X,A,9,1,\u0661\u0662,1\n"
                    "2024-01-01,X,A,9,9223372036854775808,1,1\n"
                    "2024-01-01,X,A,9,9223372036854775807,1,1\n", encoding="utf-8")
    digits, overflow, largest = list(parse_csv(fmt, path)[1])
    assert (digits.line, digits.field, digits.reason) == (2, "Net Price", "'\u0661\u0662' is not a number")
    assert (overflow.line, overflow.field) == (3, "Quantity")
    assert overflow.reason == "'9223372036854775808' is out of range for a whole number (bigint)"
    assert isinstance(largest, ParsedRow) and largest.values[fmt.column_names.index("quantity")] == "9223372036854775807"


def test_a_number_with_more_digits_than_postgresql_numeric_holds_is_a_field_error(tmp_path):
    # numeric holds 131072 digits before the point and 16383 after; more fails the COPY
    fmt = load_format("purchases_sheet")
    path = tmp_path / "purchases.csv"
    whole, fraction, largest = "9" * 131073, "0." + "1" * 16384, "0" * 20 + "9" * 131072 + "." + "1" * 16383
    path.write_text("Purchase Date,Supplier,Style Code,Size,Quantity,Net Price,Gross Price\n"
                    f"2024-01-01,X,A,9,1,{whole},1\n2024-01-01,X,A,9,1,{fraction},1\n"
                    f"2024-01-01,X,A,9,1,{largest},1\n", encoding="utf-8")
    too_long, too_fine, ok = list(parse_csv(fmt, path)[1])
    assert (too_long.line, too_long.field) == (2, "Net Price")
    assert too_long.reason == f"{whole[:40]!r}... has more digits than PostgreSQL numeric holds"
    assert (too_fine.line, too_fine.field) == (3, "Net Price")
    assert too_fine.reason == f"{fraction[:40]!r}... has more digits than PostgreSQL numeric holds"
    assert isinstance(ok, ParsedRow) and ok.values[fmt.column_names.index("net_price")] == largest


def test_a_nul_in_an_unknown_header_column_fails_the_file(tmp_path):
    # the header names the keys of every row's _extra jsonb: no row could be stored
    fmt = load_format("sales_sheet")
    path = tmp_path / "sales.csv"
    path.write_text("Sale Date,Platform,Order Number,Style Code,Size,Sale Price,Fees,Payout,Z\x00z\n"
                    "2024-01-01,StockX,1-2,A,9,100,1,99,x\n", encoding="utf-8")
    with pytest.raises(FileFormatError) as caught:
        parse_csv(fmt, path)
    assert str(caught.value) == f"{path}: header column 9 ('Z\\x00z') contains a NUL character"
