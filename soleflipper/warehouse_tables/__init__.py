"""The Python-owned tables of the ``analytics`` schema: their DDL and their writers.

dbt declares these tables as sources (``analytics``) and never builds or drops them; they are
created here with explicit DDL (``create table if not exists``).

* :mod:`.relations`: whether a relation exists; create missing tables under one advisory lock.
* :mod:`.forecasts`: analytics.demand_forecasts (replaced per run), analytics.forecast_accuracy
  (appended per run).
* :mod:`.pricing`: analytics.pricing_recommendations and analytics.pricing_backtest (both replaced
  per run).
"""
