"""The benchmark harness: cases, results, timing, child-process peak memory, machine info, Markdown.

A case module in benchmarks/cases/ exposes ``CASES: list[Case]``. ``Case.run(ctx)`` gets a
``BenchContext`` (a scratch database of its own on the benchmark's server, a work directory,
``quick`` for the tiny sizes the smoke test uses, a progress logger) and returns ``Result`` rows,
each a median over several runs with, when it has one, its ratio to the reference measured in the
same run and the target that ratio must meet. benchmarks/run.py runs the cases and writes
benchmarks/RESULTS.md with ``render_markdown``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import sql

from resources.postgres import (
    _connect_maintenance,
    _libpq_url,
    _with_dbname,
    disable_jit,
    ensure_database,
    libpq_params,
)

GNU_TIME = "/usr/bin/time"  # starts measured children from a small process (see run_child)


@dataclass
class BenchContext:
    """What a case runs against. ``database_url`` is a fresh database dropped after the case."""

    database_url: str
    work_dir: Path
    quick: bool
    log: Callable[[str], None]
    # The server's maintenance database (`postgres`), for cases that need more databases.
    server_url: str = ""
    _extra: list[str] = field(default_factory=list, repr=False)

    def new_database(self, suffix: str) -> str:
        """Another fresh database on the same server (dropped with the case's own)."""
        base = str(libpq_params(self.database_url)["dbname"])
        url = create_database(self.server_url or self.database_url, f"{base}_{suffix}")
        self._extra.append(url)
        return url


@dataclass
class Result:
    """One row of a case's table. ``value`` is the median of ``runs`` measurements in ``unit``.

    ``ratio`` is the measured ratio to the reference (what ``target`` is about, e.g. "≥ 0.7x
    \\copy"); ``met`` is None when the row has no target. ``value`` None means the row was
    skipped, and ``note`` says why.
    """

    what: str
    value: float | None
    unit: str = "s"
    runs: int = 1
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


@dataclass
class Case:
    name: str
    run: Callable[[BenchContext], list[Result]]
    description: str = ""


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def run_child(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
              check: bool = True) -> ChildRun:
    """Run a fresh process; its wall time and peak resident memory (that process and its waited children).

    ``os.wait4`` gives that one child's rusage, so other work on the machine does not count. A
    child forked from this (large) process starts with this process's pages counted in its peak,
    so when GNU time is there the command is started by it (a small process) and its ``%M`` is
    the peak; else the wait4 figure, an upper bound.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak_kib"
        wrapped = [GNU_TIME, "-f", "%M", "-o", str(peak_file), *args] if Path(GNU_TIME).exists() else list(args)
        result = _run_waited(wrapped, env, cwd, start)
        if peak_file.exists():  # last line: %M (a failing command adds "Command exited with ..." before it)
            lines = peak_file.read_text().split()
            if lines and lines[-1].isdigit():
                result = ChildRun(result.seconds, int(lines[-1]) * 1024, result.returncode, result.stdout,
                                  result.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(f"{args[0]} exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def _run_waited(args: Sequence[str], env: dict[str, str] | None, cwd: Path | None, start: float) -> ChildRun:
    with subprocess.Popen(list(args), env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        # Drain the pipes in threads (communicate would reap the child before wait4 sees its rusage).
        chunks: dict[str, str] = {}

        def _drain(name: str, stream: Any) -> None:
            chunks[name] = stream.read()

        readers = [threading.Thread(target=_drain, args=(n, s)) for n, s in
                   (("out", proc.stdout), ("err", proc.stderr))]
        for reader in readers:
            reader.start()
        _, status, rusage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        for reader in readers:
            reader.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(seconds, rusage.ru_maxrss * 1024, proc.returncode, chunks.get("out", ""),
                    chunks.get("err", ""))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- databases -----------------------------------------------------------------------------------


def create_database(server_url: str, dbname: str) -> str:
    """(Re)create ``dbname`` (JIT off, as `soleflipper setup` does) on the server of ``server_url``; its URL."""
    url = _with_dbname(_libpq_url(server_url), dbname)
    drop_database(url)  # a leftover of a killed run
    ensure_database(url)
    disable_jit(url)
    return url


def drop_database(url: str) -> None:
    dbname = str(libpq_params(url)["dbname"])
    with _connect_maintenance(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


# -- machine info --------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def machine_info(server_url: str) -> dict[str, str]:
    """CPU, cores, RAM, load, OS, Python and the PostgreSQL server's version, as label -> text."""
    with _connect_maintenance(server_url) as conn:
        pg_version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    ram = _ram_gib()
    load1, load5, _ = os.getloadavg()
    return {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count()),
        "RAM": f"{ram:.1f} GiB" if ram else "unknown",
        "Load average at start (1 / 5 min)": f"{load1:.2f} / {load5:.2f}",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": pg_version,
    }


# -- Markdown ------------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "skipped"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if float(value).is_integer():
        return f"{int(value):,} {unit}".rstrip()
    return f"{value:,.2f} {unit}".rstrip()


def _met(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass
class CaseReport:
    case: Case
    results: list[Result]
    seconds: float
    error: str = ""


def render_markdown(machine: dict[str, str], date: str, reports: Sequence[CaseReport],
                    preamble: str = "") -> str:
    lines = ["# Benchmark results", "", f"Run on {date} by `make bench` (`python -m benchmarks.run`).", ""]
    if preamble:
        lines += [preamble, ""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in machine.items()]
    for report in reports:
        lines += ["", f"## {report.case.name}", ""]
        if report.case.description:
            lines += [report.case.description, ""]
        if report.error:
            lines += [f"**Failed**: {_cell(report.error)}", ""]
        if report.results:
            lines += ["| What | Median | Runs | Ratio | Target | Met | Note |",
                      "|---|---:|---:|---:|---|---|---|"]
            for r in report.results:
                ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
                lines.append(f"| {_cell(r.what)} | {format_value(r.value, r.unit)} | {r.runs} | {ratio} | "
                             f"{_cell(r.target) or '—'} | {_met(r.met)} | {_cell(r.note)} |")
        lines += ["", f"Case time: {report.seconds:.1f} s."]
    return "\n".join(lines) + "\n"
