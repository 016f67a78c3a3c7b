"""Run the benchmark cases and write benchmarks/RESULTS.md.

    python -m benchmarks.run [--quick] [--cases ingest,pipeline] [--output PATH] [--server-url URL]

The server: --server-url, else SOLEFLIPPER_DATABASE_URL's, else the project-local cluster (started
if needed) -- the same resolution as the rest of SoleFlipper. Each case gets a scratch database of
its own, dropped afterwards. A case that raises is reported as failed in the file and the command
exits 1 after the other cases ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from benchmarks import cases as cases_package
from benchmarks.harness import (
    BenchContext,
    Case,
    CaseReport,
    create_database,
    drop_database,
    machine_info,
    render_markdown,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "RESULTS.md"


def discover() -> list[tuple[str, Case]]:
    """(module name, case) for every CASES entry of benchmarks/cases/*.py, modules in name order."""
    found = []
    for module in sorted(pkgutil.iter_modules(cases_package.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{cases_package.__name__}.{module.name}")
        found += [(module.name, case) for case in getattr(loaded, "CASES", [])]
    return found


def resolve_server_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    from resources.postgres import resolve_server
    from soleflipper.settings import load_settings

    return resolve_server(load_settings()).warehouse_url


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(selected: Sequence[str] | None, quick: bool, output: Path, server_url: str,
        work_root: Path | None = None) -> list[CaseReport]:
    found = discover()
    if selected:
        unknown = set(selected) - {m for m, _ in found} - {c.name for _, c in found}
        if unknown:
            raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted({m for m, _ in found}))}")
        found = [(m, c) for m, c in found if m in selected or c.name in selected]
    machine = machine_info(server_url)
    started = dt.datetime.now().astimezone()
    reports = []
    with tempfile.TemporaryDirectory(prefix="sf-bench-", dir=work_root) as tmp:
        for index, (module, case) in enumerate(found):
            dbname = f"sf_bench_{os.getpid()}_{index}"
            work_dir = Path(tmp) / f"{index}-{module}"
            work_dir.mkdir()
            _log(f"case {case.name} ({module}){' quick' if quick else ''}")
            db_url = create_database(server_url, dbname)
            ctx = BenchContext(database_url=db_url, work_dir=work_dir, quick=quick,
                               log=lambda msg, name=case.name: _log(f"  {name}: {msg}"),
                               server_url=server_url)
            start = time.perf_counter()
            try:
                results, error = case.run(ctx), ""
            except Exception as exc:  # noqa: BLE001 -- one broken case must not hide the others
                results, error = [], f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            finally:
                for url in [*ctx._extra, db_url]:
                    drop_database(url)
            reports.append(CaseReport(case, results, time.perf_counter() - start, error))
            _log(f"case {case.name} done in {reports[-1].seconds:.1f} s{' (FAILED)' if error else ''}")
    preamble = ("**Quick run** (tiny sizes, `--quick`): a smoke test of the harness, not a measurement."
                if quick else "")
    output.write_text(render_markdown(machine, started.strftime("%Y-%m-%d %H:%M %Z"), reports, preamble),
                      encoding="utf-8")
    _log(f"wrote {output}")
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--cases", default="", help="comma-separated case modules or names (default: all)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--server-url", default=None, help="default: SOLEFLIPPER_DATABASE_URL, else the local cluster")
    args = parser.parse_args(argv)
    selected = [c.strip() for c in args.cases.split(",") if c.strip()]
    reports = run(selected, args.quick, args.output, resolve_server_url(args.server_url))
    return 1 if any(r.error for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
