"""`make bench` cannot rot: every discovered case runs at toy sizes (`--quick`) into a RESULTS
file, which must hold each case's table with a number in every row that was not skipped.

Plus the harness's own measuring: a child's peak RSS is that child's, and the Markdown is exact.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from soleflipper.settings import PROJECT_ROOT

# benchmarks/ is not an installed package (`make bench` runs it from the checkout): import it from there.
sys.path.insert(0, str(PROJECT_ROOT))
from benchmarks import run as bench_run  # noqa: E402
from benchmarks.harness import Case, CaseReport, Result, format_value, render_markdown, run_child  # noqa: E402

NUMBER = r"-?[\d,]+(\.\d+)?"


def _section(text: str, name: str) -> str:
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section for case {name}"
    return match.group(1)


def test_every_case_runs_quick_and_reports_numbers(pg_server: str, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    reports = bench_run.run(None, quick=True, output=output, server_url=pg_server, work_root=tmp_path)

    discovered = [case.name for _, case in bench_run.discover()]
    assert "ingest" in discovered
    assert [r.case.name for r in reports] == discovered
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n")
    assert "**Quick run**" in text
    for label in ("CPU", "Cores", "RAM", "Python", "PostgreSQL"):
        assert re.search(rf"^\| {label} \| \S.* \|$", text, re.MULTILINE), label
    for report in reports:
        assert report.error == "", f"{report.case.name}: {report.error}"
        assert report.results, f"{report.case.name} returned no results"
        section = _section(text, report.case.name)
        rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| What")]
        assert len(rows) == len(report.results)
        for result, row in zip(report.results, rows, strict=True):
            cells = [c.strip() for c in row.strip("|").split(" | ")]
            if result.value is None:  # skipped: the row says why
                assert cells[1] == "skipped" and result.note.startswith("skipped: "), row
                continue
            assert result.value >= 0, row
            assert re.fullmatch(rf"{NUMBER}( \S+)?", cells[1]), row
            assert re.fullmatch(r"\d+", cells[2]) and int(cells[2]) == result.runs >= 1, row
            if result.target:
                assert result.ratio is not None and result.met is not None, row
                assert re.fullmatch(rf"{NUMBER}x", cells[3]) and cells[5] in ("yes", "**no**"), row

    ingest = next(r for r in reports if r.case.name == "ingest")
    whats = [r.what for r in ingest.results]
    assert whats[:4] == ["psql \\copy, 2,000 rows (reference)", "SoleFlipper loader, 2,000 rows",
                         "pandas to_sql(method='multi'), 2,000 rows", "dlt PostgreSQL destination, 2,000 rows"]
    assert whats[4:] == ["loader peak RSS, 2,000 rows", "loader peak RSS, 6,000 rows"]
    loader, rss = ingest.results[1], ingest.results[4]
    copy = ingest.results[0]
    assert loader.ratio == copy.value / loader.value
    assert 20 < rss.value < 2_000  # MiB: a Python process with psycopg and the loader imported

    # quick mode: the loader alone on 300 demo sales, then the held-back 1 % (3 sales)
    pipeline = next(r for r in reports if r.case.name == "pipeline")
    assert [r.what for r in pipeline.results] == ["300 sales: ingest", "300 sales: full run (sum of stages)",
                                                  "300 sales: incremental run (+1 % sales)"]
    assert "; 303 rows in raw.stockx_sales_report" in pipeline.results[1].note


def test_pipeline_case_dagster_wiring() -> None:
    """What the pipeline case's quick mode skips (Dagster): its jobs exist, their steps fall into
    every timed stage, and the KPI views it separates from the dbt step are the seven views."""
    from benchmarks.cases.pipeline_worker import kpi_view_keys, stage_of
    from benchmarks.cases.refresh import KPI_VIEWS
    from pipelines.definitions import defs

    full = defs.resolve_job_def("refresh_everything")
    stages = {stage_of(node.name) for node in full.graph.nodes}
    assert stages == {"ingest", "dbt build", "forecasts", "pricing", "other"}
    incremental = defs.resolve_job_def("import_stockx_sales_report")
    assert "raw__stockx_sales_report" in {node.name for node in incremental.graph.nodes}
    assert {key.path[-1] for key in kpi_view_keys()} == set(KPI_VIEWS)


def test_child_peak_rss_is_the_childs_own() -> None:
    child = run_child([sys.executable, "-c", "b = bytearray(300 * 1024 * 1024); print(len(b))"])
    assert child.stdout == f"{300 * 1024 * 1024}\n"
    assert child.returncode == 0
    assert 300 * 1024 * 1024 <= child.peak_rss_bytes < 400 * 1024 * 1024


def test_markdown_table() -> None:
    case = Case(name="demo", run=lambda ctx: [], description="A case.")
    results = [
        Result("reference", 2.0, runs=3),
        Result("ours", 2.5, runs=3, ratio=0.8, target="≥ 0.7x", met=True, note="a | b"),
        Result("memory", 123.44, unit="MiB", ratio=1.25, target="within 20%", met=False),
        Result("other tool", None, note="skipped: not installed"),
    ]
    text = render_markdown({"CPU": "x86"}, "2026-01-02 03:04 UTC", [CaseReport(case, results, 12.34)])
    assert text == (
        "# Benchmark results\n\nRun on 2026-01-02 03:04 UTC by `make bench` (`python -m benchmarks.run`).\n\n"
        "## Machine\n\n| | |\n|---|---|\n| CPU | x86 |\n\n## demo\n\nA case.\n\n"
        "| What | Median | Runs | Ratio | Target | Met | Note |\n|---|---:|---:|---:|---|---|---|\n"
        "| reference | 2.000 s | 3 | — | — | — |  |\n"
        "| ours | 2.500 s | 3 | 0.80x | ≥ 0.7x | yes | a \\| b |\n"
        "| memory | 123.4 MiB | 1 | 1.25x | within 20% | **no** |  |\n"
        "| other tool | skipped | 1 | — | — | — | skipped: not installed |\n\n"
        "Case time: 12.3 s.\n"
    )
    assert format_value(1234.0, "calls") == "1,234 calls"
    assert format_value(12.345, "s") == "12.3 s"
