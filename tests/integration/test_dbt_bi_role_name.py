"""dbt takes the BI role's name from SOLEFLIPPER_BI_ROLE and puts it into SQL (`create role`, GRANT):
a name that is not a plain role name stops dbt with a clear error before any statement runs.
(adapter.quote does not escape a double quote inside a name: `x"; drop table ...` once ran.)"""

from __future__ import annotations

import psycopg
from dbt_runner import run_dbt

HOSTILE = 'x"; drop table public.victim; --'


def test_a_hostile_bi_role_name_stops_dbt_before_any_sql(database_url, tmp_path, monkeypatch):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create table public.victim (id int)")
    monkeypatch.setenv("SOLEFLIPPER_BI_ROLE", HOSTILE)
    proc = run_dbt(database_url, tmp_path / "target", "seed", "--select", "currencies")
    assert proc.returncode != 0
    assert ('SOLEFLIPPER_BI_ROLE="x\\"; drop table public.victim; --" refused: not a plain role name'
            in proc.stdout), proc.stdout[-3000:]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select to_regclass('public.victim') is not null").fetchone() == (True,)
        assert conn.execute("select count(*) from pg_roles where rolname like 'x%%'").fetchone() == (0,)
        assert conn.execute("select to_regclass('core.currencies')").fetchone() == (None,)  # nothing built
