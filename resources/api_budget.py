"""A daily request quota shared by every process, persisted in PostgreSQL.

Why: StockX allows 25,000 requests per day (reset 00:00 UTC) per account, and a Dagster
deployment runs several processes (schedules, backfills, the CLI) that all spend it. Counting in
the warehouse makes the budget one number they all see: a run stops with a clear
:class:`BudgetExhausted` before the API starts answering 429 for the rest of the day.

    budget = DailyBudget(database_url, "stockx", limit=25_000)
    budget.consume()       # before every request; raises BudgetExhausted at the limit
    budget.remaining()

``consume`` is one atomic statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING), so
concurrent consumers can never overspend. Days are UTC dates from the injectable ``clock``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import psycopg

from resources.token_store import ensure_ops_schema

BUDGET_DDL = """
create schema if not exists ops;
create table if not exists ops.api_budget (
    provider text not null,
    day date not null,
    used integer not null,
    primary key (provider, day)
);
"""

Clock = Callable[[], "float | datetime"]


class BudgetExhausted(RuntimeError):
    """The provider's daily request budget is spent; the message says the limit and the reset time."""

    def __init__(self, provider: str, limit: int, used: int, resets_at: datetime) -> None:
        super().__init__(
            f"{provider} daily API budget exhausted: {used} of {limit} requests used today (UTC); "
            f"it resets at {resets_at:%Y-%m-%d %H:%M} UTC"
        )
        self.provider = provider
        self.limit = limit
        self.used = used
        self.resets_at = resets_at


def _utc(moment: float | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment, UTC)


class DailyBudget:
    """``limit`` requests per UTC day for ``provider``, counted in ``ops.api_budget``.

    ``clock`` returns epoch seconds or a datetime (naive = UTC); tests pass a fake one. One
    connection is kept open (autocommit) and reopened if it breaks; call ``close()`` when done.
    """

    def __init__(self, database_url: str, provider: str, limit: int, clock: Clock = time.time) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        self.database_url = database_url
        self.provider = provider
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None

    # -- time ---------------------------------------------------------------------------------

    def today(self) -> date:
        """The current budget day (a UTC date)."""
        return _utc(self._clock()).date()

    def resets_at(self) -> datetime:
        """The next 00:00 UTC."""
        return datetime.combine(self.today() + timedelta(days=1), dt_time(0), UTC)

    # -- database -----------------------------------------------------------------------------

    def _execute(self, query: str, params: tuple) -> tuple | None:
        with self._lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.database_url, autocommit=True)
                    ensure_ops_schema(self._conn, BUDGET_DDL)
                try:
                    return self._conn.execute(query, params).fetchone()
                except psycopg.OperationalError:
                    self._drop()
                    if attempt == 2:
                        raise
        return None  # unreachable

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- budget -------------------------------------------------------------------------------

    def consume(self, n: int = 1) -> int:
        """Spend ``n`` requests of today's budget and return what remains; BudgetExhausted if it cannot.

        Nothing is spent when the budget would be exceeded (all or nothing).
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        day = self.today()
        row = None
        if n <= self.limit:
            row = self._execute(
                "insert into ops.api_budget as b (provider, day, used) values (%s, %s, %s)"
                " on conflict (provider, day) do update set used = b.used + excluded.used"
                " where b.used + excluded.used <= %s"
                " returning b.used",
                (self.provider, day, n, self.limit),
            )
        if row is None:
            raise BudgetExhausted(self.provider, self.limit, self._used_on(day), self.resets_at())
        return self.limit - row[0]

    def used(self) -> int:
        """Requests spent today."""
        return self._used_on(self.today())

    def remaining(self) -> int:
        """Requests left today (never negative, even if the limit was lowered after spending)."""
        return max(0, self.limit - self.used())

    def _used_on(self, day: date) -> int:
        row = self._execute(
            "select used from ops.api_budget where provider = %s and day = %s", (self.provider, day)
        )
        return row[0] if row else 0

    def __enter__(self) -> DailyBudget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
