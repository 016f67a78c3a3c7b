"""Readers of the warehouse inputs of the forecasting and pricing assets (plain functions on a
psycopg connection; a missing relation reads as empty).

* :mod:`.sales_history`: the forecasts' sales history (market sales and own sales) and the sizes in stock.
* :mod:`.fx`: the newest ECB rates on or before a day.
* :mod:`.pricing`: pairs in stock, market snapshots, recent market sales, demand from the forecasts,
  fee schedules, and the market sales the pricing replay runs on.
"""
