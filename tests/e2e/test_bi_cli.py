"""The read-only BI role after the session's `soleflipper run` (the `first_run` fixture): its
password stays in its 0600 file, `db-url --bi` gives a working read-only URL, no other command
prints the password."""

from __future__ import annotations

import stat

import psycopg
import pytest

from resources.postgres import libpq_params


def test_run_sets_up_the_bi_role_and_db_url_bi_connects_read_only(cli, first_run):
    assert first_run.returncode == 0, first_run.stdout[-3000:]
    secret = cli.home / "secrets" / "bi_password"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = secret.read_text().strip()
    assert len(password) == 32
    for args, proc in cli.calls:
        if args[0] != "db-url":
            assert password not in proc.stdout and password not in proc.stderr, args

    proc = cli("db-url", "--bi")
    owner = libpq_params(cli.warehouse_url)
    assert proc.returncode == 0
    assert proc.stdout == f"postgresql://soleflipper_bi:{password}@{owner['host']}:{owner['port']}/{owner['dbname']}\n"
    with psycopg.connect(cli.warehouse_url) as admin, psycopg.connect(proc.stdout.strip()) as reader:
        assert reader.execute("select current_user").fetchone() == ("soleflipper_bi",)
        query = "select count(*), sum(revenue_home) from analytics.mv_executive_metrics"
        assert reader.execute(query).fetchone() == admin.execute(query).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("select count(*) from raw.stockx_sales_report")
