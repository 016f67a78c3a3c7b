"""Helpers of the reliability tests (issue 9): a demo sales file with known bad and repeated rows,
a snapshot of what a load left in the warehouse, and a loader entry point to kill.

Run as a script, ``python tests/reliability_support.py load URL FILE`` loads FILE into URL with
the loader the CLI and the sensor use (resources.warehouse.load_file) and prints ``ready``, then
``rows N`` at every progress report (every 10,000 rows and once the COPY is done), then ``done``:
a test kills it at a chosen line.
"""

from __future__ import annotations

import csv
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SALES_TABLE = "stockx_sales_report"
BAD_EVERY = 997  # a copy of this row with an order number the format rejects: quarantined
REPEAT_EVERY = 1499  # this row again, byte for byte: a duplicate the loader must not load twice


@dataclass(frozen=True)
class SalesFile:
    path: Path
    sales: int
    bad: int
    repeated: int

    @property
    def lines(self) -> int:
        return self.sales + self.bad + self.repeated


def write_sales_file(path: Path, n_sales: int, seed: int) -> SalesFile:
    """The demo generator's sales (44-column export), with bad and repeated rows mixed in."""
    from soleflipper.demo_data import LAYOUTS, iter_sales

    header = LAYOUTS["current"]
    bad = repeated = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for i, row in enumerate(iter_sales(n_sales, seed=seed), start=1):
            values = [row[h] for h in header]
            writer.writerow(values)
            if i % BAD_EVERY == 0:
                writer.writerow([("not an order" if h == "Order Number" else v) for h, v in zip(header, values, strict=True)])
                bad += 1
            if i % REPEAT_EVERY == 0:
                writer.writerow(values)
                repeated += 1
    return SalesFile(path, n_sales, bad, repeated)


def snapshot(url: str, table: str = SALES_TABLE) -> dict[str, Any]:
    """What loads left in raw.<table>, its batches and the quarantine: equal for equal content.

    Row hashes (not row ids) make it independent of batch ids and load times; the orphan counts
    are rows whose batch is not recorded as succeeded (a partial batch would show there)."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        if conn.execute("select to_regclass(%s) is null", (f"raw.{table}",)).fetchone()[0]:
            return {"table": "missing"}

        raw = sql.Identifier("raw", table)

        def one(query: str, *params: Any) -> Any:  # {t}: the raw table, quoted
            return conn.execute(sql.SQL(query).format(t=raw), params).fetchone()[0]

        return {
            "rows": one("select count(*) from {t}"),
            "distinct_row_hashes": one("select count(distinct _row_hash) from {t}"),
            "distinct_orders": one("select count(distinct order_number) from {t}"),
            "row_hashes_md5": one("select md5(coalesce(string_agg(_row_hash::text, ',' order by _row_hash), ''))"
                                  " from {t}"),
            "payout_by_currency": dict(conn.execute(sql.SQL(
                "select total_payout_currency, sum(total_payout) from {t} group by 1 order by 1").format(t=raw))),
            "orphan_rows": one(
                "select count(*) from {t} t where not exists (select 1 from raw.load_batches b"
                " where b.batch_id = t._batch_id and b.status = 'succeeded')"),
            "batches": conn.execute(
                "select status, rows_read, rows_loaded, rows_changed, rows_duplicate, rows_quarantined"
                " from raw.load_batches where raw_table = %s order by finished_at", (table,)).fetchall(),
            "quarantined": one("select count(*) from raw.quarantine where raw_table = %s", table),
            "quarantine_md5": one(
                "select md5(coalesce(string_agg(record_hash::text, ',' order by record_hash), ''))"
                " from raw.quarantine where raw_table = %s", table),
            "orphan_quarantine": one(
                "select count(*) from raw.quarantine q where raw_table = %s and not exists (select 1 from"
                " raw.load_batches b where b.batch_id = q.batch_id and b.status = 'succeeded')", table),
        }


def is_empty(state: dict[str, Any]) -> bool:
    """No trace of a load: no rows, no batch, nothing quarantined."""
    return state.get("table") == "missing" or (
        state["rows"] == 0 and state["batches"] == [] and state["quarantined"] == 0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_main(url: str, file: str) -> int:
    from resources.warehouse import load_file
    from soleflipper.formats import load_format

    fmt = load_format(SALES_TABLE)
    with psycopg.connect(url) as conn:
        print("ready", flush=True)
        result = load_file(conn, fmt, Path(file), progress=lambda n: print(f"rows {n}", flush=True))
    print(f"done {result.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "load":
        sys.exit("usage: reliability_support.py load URL FILE")
    sys.exit(_load_main(sys.argv[2], sys.argv[3]))
