"""StockX orders sync against the StockX simulator at StockX's documented rate limit (1 request/s).

The simulator (simulators/stockx.py) holds the demo's orders and enforces 1 request/s with its
token bucket on real time; the client is the one the Dagster assets use (StockXResource, paced at
1 request/s, token store and daily budget in the scratch database). Measured: ``sync_orders``
(assets/stockx_sync.py) from an empty warehouse (whole order history, then the active orders),
then again with the cursor it returned (the daily run with nothing new). API calls count every
request sent, retries and token refreshes included. Quick mode: 300 sales instead of 5,000, at
5 requests/s.
"""

from __future__ import annotations

import time
from datetime import date

import psycopg

from benchmarks.harness import BenchContext, Case, Result

FULL_SALES = 5_000  # ~55 calls: about a minute at 1 request/s
QUICK_SALES = 300
SEED = 7
REQUESTS_PER_SECOND = 1.0
QUICK_REQUESTS_PER_SECOND = 5.0  # the smoke test's budget is seconds
TODAY = date(2025, 1, 10)  # shortly after the simulator's order book ends (2024-12-29)


def run(ctx: BenchContext) -> list[Result]:
    from assets.stockx_sync import sync_orders
    from resources.stockx import StockXResource
    from resources.token_store import new_key
    from simulators.stockx import (
        DEMO_API_KEY,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_REDIRECT_URI,
        StockXSimulator,
    )

    sales, rate = (QUICK_SALES, QUICK_REQUESTS_PER_SECOND) if ctx.quick else (FULL_SALES, REQUESTS_PER_SECOND)
    with StockXSimulator(seed=SEED, n_sales=sales, rate_limit=True, requests_per_second=rate) as sim:
        expected = len(sim.world.orders) + len(sim.world.active_orders)
        resource = StockXResource(
            base_url=sim.api_base_url, auth_url=sim.auth_url, api_key=DEMO_API_KEY, client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET, redirect_uri=DEMO_REDIRECT_URI, database_url=ctx.database_url,
            fernet_key=new_key(), requests_per_second=rate,
        )
        with resource.get_client() as client:
            client.exchange_code(sim.issue_code(DEMO_REDIRECT_URI))
        ctx.log(f"{expected:,} orders on the simulator; syncing at {rate:g} request/s")
        with resource.get_client() as client, psycopg.connect(ctx.database_url) as conn:
            started = time.perf_counter()
            first = sync_orders(client, conn, since=None, today=TODAY)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = sync_orders(client, conn, since=first.max_created_date, today=TODAY)
            again_s = time.perf_counter() - started
    loaded = first.totals()["rows_loaded"]
    if loaded != expected:  # a fast sync that loses orders measures nothing
        raise RuntimeError(f"the sync loaded {loaded} orders, the simulator holds {expected}")
    per_thousand = first.api_calls / (loaded / 1000)
    return [
        Result(f"full orders sync, {loaded:,} orders", first_s,
               note=f"{first.api_calls} API calls, {first.retries} retries; window "
                    f"{first.window[0]} to {first.window[1]}"),
        Result("API calls per 1,000 orders (full sync)", per_thousand, unit="calls",
               note="order history and active orders, 100 per page"),
        Result("time per 1,000 orders (full sync)", first_s / (loaded / 1000),
               note=f"at {rate:g} request/s (the simulator enforces the same rate)"),
        Result("next sync with the cursor (nothing new)", again_s,
               note=f"{again.api_calls} API calls, {again.retries} retries, "
                    f"{again.totals()['rows_loaded']} orders loaded"),
    ]


CASES = [Case(name="stockx_sync", run=run, description=" ".join(__doc__.split()))]
