"""Building small hand-made datasets for integration tests: CSV files in the real export
layouts, loaded through the real loader (so a test exercises the same path as a user's file)."""

from __future__ import annotations

import csv
from pathlib import Path

from resources.warehouse import load_file
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
