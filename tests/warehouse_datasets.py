"""Building small hand-made datasets for integration tests: CSV files in the real export
layouts, loaded through the real loader (so a test exercises the same path as a user's file)."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
from dbt_runner import dbt_ok

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.demo_data import write_demo_purchases_sheet, write_demo_reports
from soleflipper.formats import load_format

# The StockX historical seller sales report, 37-column layout (soleflipper/formats/stockx_sales_report.yaml).
STOCKX_REPORT_HEADER = [
    "Seller Name", "Seller Address (Billing)", "Seller VAT Number", "Sold To Name", "Sold To address",
    "Sold to VAT Number", "Fiscal Representative Name", "Fiscal Representative Address",
    "StockX Destination Address", "Sale Date", "Payout date", "Invoice Date", "Invoice Number", "Item", "Sku Name",
    "Sku Size", "Style", "Order Number", "Quantity", "Ship From Address", "Ship To Address", "Seller Fee",
    "Seller Fee Currency", "Payment Processing", "Payment Processing Currency", "Shipping Fee",
    "Shipping Fee Currency", "VAT Rate", "Total Net Amount (Payout Excluding VAT)",
    "Total Net Amount (Payout Excluding VAT) Currency", "Listing Price", "Listing Price Currency",
    "Total Gross Amount (Total Payout)", "Total Gross Amount (Total Payout) Currency", "Total VAT Amount",
    "Total VAT Amount Currency", "Special references",
]  # fmt: skip


def stockx_report_rows(sales: dict[str, tuple[str, str, str, str, str, str]]) -> list[list[str]]:
    """Report rows in EUR for {order number: (sale time, item, size, style, listing price, payout)}."""
    rows = []
    for number, (sold, item, size, style, price, payout) in sales.items():
        row = dict.fromkeys(STOCKX_REPORT_HEADER, "")
        row.update({"Sale Date": sold, "Item": item, "Sku Size": size, "Style": style, "Order Number": number,
                    "Quantity": "1", "Listing Price": price, "Listing Price Currency": "EUR",
                    "Total Gross Amount (Total Payout)": payout,
                    "Total Gross Amount (Total Payout) Currency": "EUR"})
        rows.append([row[h] for h in STOCKX_REPORT_HEADER])
    return rows


def stockx_api_order(number: str, created: str, style: str, size: str, payout: dict | None, status: str) -> dict:
    """A StockX API order (GET /selling/orders/{orderNumber} shape) of 120 EUR."""
    return {"orderNumber": number, "listingId": None, "askId": "1", "amount": "120", "currencyCode": "EUR",
            "status": status, "createdAt": created, "updatedAt": created,
            "product": {"productId": f"p-{style}", "productName": None, "styleId": style},
            "variant": {"variantId": f"v-{style}-{size}", "variantName": f"{style}:{size}", "variantValue": size},
            "authenticationDetails": None, "inventoryType": "STANDARD", "payout": payout, "initiatedShipments": None}


def notion_relation(*ids: str) -> dict:
    """A Notion relation property value as the loader stores it."""
    return {"ids": list(ids), "has_more": False}


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load_clean(conn, format_name: str, path: Path) -> None:
    """Load a file that must load completely (a hand-made dataset has no bad rows)."""
    result = load_file(conn, load_format(format_name), path)
    assert result.rows_quarantined == 0, result.sample_errors


# ------------------------------------------------- built demo warehouses (templates to copy)
# The demo's data for 300 sales (seed 11, as `soleflipper demo --sales 300`): two StockX seller
# reports (older legacy layout, newer current layout, overlapping) and the purchases sheet.
# Built once per session by the `database_copy` fixture; each test gets its own copy.

# The seven KPI views and everything they read; tests only where every model they read is built.
KPI_VIEWS_LINEAGE = ("--select", "+path:models/marts/analytics", "--indirect-selection", "cautious")


def load_demo_files(url: str, *files: tuple[Path, str]) -> None:
    """(path, format) files loaded in order, every row loaded, after every raw table exists (as
    `soleflipper setup` and the Dagster dbt asset make sure before any build)."""
    with psycopg.connect(url) as conn:
        ensure_all_raw_tables(conn)
        for path, format_name in files:
            load_clean(conn, format_name, path)


def demo_files(work: Path) -> tuple[Path, Path, Path]:
    """(older report, newer report, purchases sheet) of the demo's 300 sales, written under `work`."""
    older, newer = write_demo_reports(work / "imports" / "stockx_sales_report", n_sales=300, seed=11)
    purchases = write_demo_purchases_sheet(work / "imports" / "purchases_sheet", n_sales=300, seed=11)
    return older, newer, purchases


def build_demo_warehouse(url: str, work: Path) -> None:
    """Both demo reports and the purchases sheet loaded, the whole project built (every test green)."""
    older, newer, purchases = demo_files(work)
    load_demo_files(url, (older, "stockx_sales_report"), (newer, "stockx_sales_report"),
                    (purchases, "purchases_sheet"))
    dbt_ok(url, work / "target", "build")


def build_demo_views_on_older_report(url: str, work: Path) -> str:
    """The older demo report and the purchases sheet loaded, then the KPI views' lineage built
    from nothing; returns dbt's output of that first build."""
    older, _, purchases = demo_files(work)
    load_demo_files(url, (older, "stockx_sales_report"), (purchases, "purchases_sheet"))
    return dbt_ok(url, work / "target", "build", *KPI_VIEWS_LINEAGE)
