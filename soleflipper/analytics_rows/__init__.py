"""Rows of the Python-owned ``analytics`` tables, built by running the forecasting and pricing
libraries on the warehouse's inputs (plain functions: no database, no Dagster).

* :mod:`.forecasts`: forecasts per level (analytics.demand_forecasts) and the backtest per level
  (analytics.forecast_accuracy).
* :mod:`.pricing`: recommendations per pair in stock × platform (analytics.pricing_recommendations)
  and the pricing replay (analytics.pricing_backtest).
"""
