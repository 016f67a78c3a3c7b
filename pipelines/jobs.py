"""Jobs: what a sensor, a schedule or a user in the UI can launch.

Every job that runs dbt carries the WAREHOUSE_BUILD tag; dagster.yaml lets one such run at a
time, because two concurrent `dbt build`s of the same models collide.
"""

from __future__ import annotations

import dagster as dg

from soleflipper.formats import load_format

WAREHOUSE_BUILD = {"soleflipper/warehouse-build": "true"}
# Assets that call an external API: a dropped file must not trigger API syncs downstream of it.
API_ASSETS = dg.AssetSelection.tag("soleflipper/api", "stockx")
# Forecasts, backtests and pricing (assets/forecasting.py, assets/pricing.py) read whole marts and
# take longer than a dbt build: an import rebuilds the models, refresh_everything and
# forecast_and_price refresh these.
FORECAST_AND_PRICING_ASSETS = dg.AssetSelection.groups("forecasting", "pricing")
# The Metabase dashboards (assets/bi_metabase.py) change with their YAML, not with imported data.
METABASE_ASSETS = dg.AssetSelection.tag("soleflipper/bi", "metabase")


def downstream_of(key: dg.AssetKey) -> dg.AssetSelection:
    """The asset and the warehouse models built from it, without API syncs, forecasts and pricing."""
    return dg.AssetSelection.assets(key).downstream() - API_ASSETS - FORECAST_AND_PRICING_ASSETS - METABASE_ASSETS


def file_import_job(format_name: str):
    """Load files of one format and rebuild everything downstream of them."""
    key = dg.AssetKey(["raw", load_format(format_name).table])
    return dg.define_asset_job(
        name=f"import_{format_name}",
        selection=downstream_of(key),
        description=f"Import {format_name} files and rebuild the warehouse models that depend on them.",
        tags=WAREHOUSE_BUILD,
    )


forecast_and_price_job = dg.define_asset_job(
    name="forecast_and_price",
    selection=FORECAST_AND_PRICING_ASSETS,
    description="Demand forecasts, their backtest, pricing recommendations for the pairs in stock and the pricing "
                "backtest, from the marts as they are (no ingest, no dbt build).",
)

everything_job = dg.define_asset_job(
    name="refresh_everything",
    selection=dg.AssetSelection.all(),
    description="Materialize every asset: ingest all sources, build dbt models and KPI views.",
    tags=WAREHOUSE_BUILD,
)
