"""The one Definitions object (`defs`) for SoleFlipper: assets, checks, jobs, sensors, resources."""

from __future__ import annotations

import dagster as dg

from assets.dbt import warehouse_dbt_models
from assets.file_imports import build_file_import_asset
from pipelines.jobs import everything_job, file_import_job
from resources.dbt import dbt_resource
from resources.imports import ImportFolderResource
from resources.warehouse import WarehouseResource
from sensors.import_folder import build_import_folder_sensor
from soleflipper.settings import load_settings

settings = load_settings()

stockx_sales_report = build_file_import_asset("stockx_sales_report", group_name="stockx")
import_stockx_sales_report = file_import_job("stockx_sales_report")

defs = dg.Definitions(
    assets=[stockx_sales_report, warehouse_dbt_models],
    jobs=[everything_job, import_stockx_sales_report],
    sensors=[build_import_folder_sensor("stockx_sales_report", import_stockx_sales_report)],
    resources={
        "warehouse": WarehouseResource(database_url=settings.warehouse_url),
        "dbt": dbt_resource(),
        "imports": ImportFolderResource(root=str(settings.import_dir)),
    },
)
