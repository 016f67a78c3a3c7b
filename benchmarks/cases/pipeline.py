"""The whole pipeline on the demo generator's data at 10k, 100k and 1M sales: time per stage.

Each size runs in a child process (benchmarks/cases/pipeline_worker.py) on a fresh warehouse
database and an ephemeral Dagster instance: job ``refresh_everything`` (as ``soleflipper run``),
then the job the import sensor launches for a new StockX report holding 1 % more sales (the
incremental run). Stage times come from the Dagster run's step stats; the KPI views' share of the
dbt step from the dbt models' execution durations. A size that has not finished after
20 minutes is killed and reported as such. Quick mode (the smoke test) times the loader alone on
300 sales, without Dagster: importing the code location takes 10-30 s here and the dbt build
(760 nodes with tests) minutes at any size.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from benchmarks.harness import BenchContext, Case, Result
from soleflipper.settings import PROJECT_ROOT

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (300,)
TIMEOUT_S = 20 * 60  # per size, as the issue allows on this 2-core machine
QUICK_TIMEOUT_S = 120
INCREMENTAL_TARGET = 0.10
STAGES = ("ingest", "dbt build", "KPI views", "forecasts", "pricing", "other")
STAGE_NOTES = {
    "other": "raw source freshness, asset checks",
    "ingest": "every file import asset (demo sales, purchases, expenses, FX, market sales)",
}


def _label(sales: int) -> str:
    if sales >= 1_000_000 and sales % 1_000_000 == 0:
        return f"{sales // 1_000_000}M"
    return f"{sales // 1000}k" if sales >= 10_000 and sales % 1000 == 0 else f"{sales:,}"


def _child_env(database_url: str) -> dict[str, str]:
    """The benchmark's own warehouse and nothing of the user's setup (no API source, no instance)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEFLIPPER_", "DAGSTER_"))}
    env.update({"SOLEFLIPPER_DATABASE_URL": database_url, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "PYTHONPATH": str(PROJECT_ROOT)})
    return env


def run_size(ctx: BenchContext, sales: int, timeout_s: float) -> dict | None:
    """The worker's JSON report for one size, or None if it ran out of time (it is then killed)."""
    url = ctx.new_database(f"p{sales}")
    work = ctx.work_dir / f"sales_{sales}"
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    args = [sys.executable, "-m", "benchmarks.cases.pipeline_worker", "--sales", str(sales), "--home",
            str(work / "home"), "--output", str(report), *(["--ingest-only"] if ctx.quick else [])]
    with open(work / "worker.log", "wb") as log:
        # Its own process group: a timeout kills dbt and every other child with it.
        proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=_child_env(url), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
    if returncode != 0 or not report.exists():
        tail = (work / "worker.log").read_text(errors="replace")[-1500:]
        raise RuntimeError(f"pipeline worker for {sales} sales exited {returncode}: {tail}")
    return json.loads(report.read_text())


def size_results(sales: int, data: dict | None, previous: dict | None, timeout_s: float,
                 quick: bool) -> list[Result]:
    label = _label(sales)
    if data is None:
        return [Result(f"pipeline {label} sales", None,
                       note=f"skipped: did not finish within {timeout_s / 60:.0f} min on this machine (killed)")]
    full, incremental = data["full"], data["incremental"]
    rows = []
    for stage in STAGES:
        if quick and stage != "ingest":
            continue
        seconds = full["stages"][stage]
        before = previous["full"]["stages"][stage] if previous else None
        growth = f"{seconds / before:.1f}x the time for {sales // previous['sales']}x the sales" \
            if before else ""
        what = "the loader on the demo sales report and purchases sheet (quick mode)" if quick \
            else STAGE_NOTES.get(stage, "")
        note = "; ".join(n for n in (what, growth) if n)
        rows.append(Result(f"{label} sales: {stage}", seconds, note=note))
    total = sum(full["stages"].values())
    rows.append(Result(f"{label} sales: full run (sum of stages)", total,
                       note=f"wall {full['wall_s']:.1f} s; {data['rows']:,} rows in {data['rows_table']}"
                       + (f"; {total / previous['full_total']:.1f}x the time for "
                          f"{sales // previous['sales']}x the sales" if previous else "")))
    incr = sum(incremental["stages"].values())
    ratio = incr / total if total else 0.0
    rows.append(Result(f"{label} sales: incremental run (+1 % sales)", incr, ratio=ratio,
                       target=f"≤ {INCREMENTAL_TARGET:.2f}x the full run", met=ratio <= INCREMENTAL_TARGET,
                       note="the new report loaded (quick mode)" if quick else
                       "the import sensor's job: load the new report, rebuild the models downstream"))
    return rows


def run(ctx: BenchContext) -> list[Result]:
    sizes, timeout_s = (QUICK_SIZES, QUICK_TIMEOUT_S) if ctx.quick else (FULL_SIZES, TIMEOUT_S)
    results: list[Result] = []
    previous = None
    for sales in sizes:
        ctx.log(f"{_label(sales)} sales (timeout {timeout_s / 60:.0f} min)")
        started = time.perf_counter()
        data = run_size(ctx, sales, timeout_s)
        ctx.log(f"{_label(sales)} sales done in {time.perf_counter() - started:.0f} s"
                + ("" if data else " (timed out)"))
        if data is not None:
            data["full_total"] = sum(data["full"]["stages"].values())
        results += size_results(sales, data, previous, timeout_s, ctx.quick)
        if data is None:
            # A larger size would take longer still.
            results += [Result(f"pipeline {_label(s)} sales", None, note="skipped: a smaller size timed out")
                        for s in sizes[sizes.index(sales) + 1:]]
            break
        previous = data
    return results


CASES = [Case(name="pipeline", run=run, description=__doc__.split("\n\n")[0].strip() + "\n\n"
              + " ".join(__doc__.split("\n\n")[1].split()))]
