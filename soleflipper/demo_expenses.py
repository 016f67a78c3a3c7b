"""Synthetic business expenses for the demo: the reseller's expenses sheet (``expenses_sheet``).

Everything is invented (seeded ``random.Random``, never the global generator): payees end in
"Demo" like the demo suppliers. The sheet covers the demo's sales range (2023-01-02 to
2024-12-29 by default) with what a sneaker reseller pays besides the pairs:

* Storage: a storage unit, rent on the 1st of every month (EUR, 19 % VAT);
* Software: a listing tool (EUR, 19 %) every month, and a US inventory app billed in USD
  without VAT (reverse charge: no deductible VAT, so the VAT Rate cell is blank);
* Shipping supplies: boxes, tape, labels and filler a few times a month, more when more pairs
  are sold (EUR, 19 %), and now and then a credit note for a damaged delivery (negative amount);
* Fees: the monthly bank account fee (EUR, no VAT: a financial service), an annual accountant
  invoice (19 %) and a few UK return labels paid in GBP without VAT.

The file is written in the expenses_sheet format (``soleflipper/formats/expenses_sheet.yaml``),
UTF-8 with CRLF line ends as a Google Sheets CSV download; the same arguments always give the
same rows and the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from soleflipper.demo_data import SELLER_NAME, _cents, sheet_csv_bytes, write_if_changed

EXPENSES_SHEET_NAME = f"{SELLER_NAME} - Expenses.csv"
# The expenses_sheet format's columns in file order.
EXPENSES_SHEET_HEADER: tuple[str, ...] = (
    "Date", "Category", "Description", "Amount", "Currency", "VAT Rate", "Payee", "Invoice Number", "Notes",
)
DEFAULT_START, DEFAULT_END = date(2023, 1, 2), date(2024, 12, 29)
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")  # not %B: that follows the process locale

# (description, low, high) gross EUR per order of shipping supplies
_SUPPLIES = (
    ("Double-wall shipping boxes, 25 pcs", Decimal("24.90"), Decimal("64.90")),
    ("Shoe boxes protective outer cartons, 20 pcs", Decimal("19.90"), Decimal("49.90")),
    ("Packing tape, 6 rolls", Decimal("8.99"), Decimal("17.99")),
    ("Thermal shipping labels, 500 pcs", Decimal("11.90"), Decimal("24.90")),
    ("Bubble wrap roll", Decimal("9.99"), Decimal("29.99")),
    ("Tissue paper and filler", Decimal("6.49"), Decimal("19.90")),
)


@dataclass(frozen=True)
class Expense:
    expense_date: date
    category: str
    description: str
    amount: Decimal  # gross, VAT included; negative for a credit note
    currency: str
    vat_rate: Decimal | None  # percent as written in the sheet (19); None: no deductible VAT
    payee: str
    invoice_number: str
    notes: str

    def row(self) -> list[str]:
        return [
            self.expense_date.isoformat(), self.category, self.description, f"{self.amount:.2f}", self.currency,
            "" if self.vat_rate is None else f"{self.vat_rate:f}", self.payee, self.invoice_number, self.notes,
        ]


def _price(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A shop price between low and high ending in .90, .95 or .99."""
    whole = rng.randint(int(low), int(high))
    return Decimal(whole) + Decimal(rng.choice(("0.90", "0.95", "0.99")))


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def generate_expenses(n_sales: int = 2000, seed: int = 7, start: date = DEFAULT_START,
                      end: date = DEFAULT_END) -> list[Expense]:
    """The demo's expenses between ``start`` and ``end``, sorted by date (stable within a day).

    ``n_sales`` (the demo's sales over the range) scales how often shipping supplies are bought.
    """
    if n_sales < 0:
        raise ValueError("n_sales must be >= 0")
    if end < start:
        raise ValueError("end must not be before start")
    rng = random.Random(f"expenses:{seed}")
    months = _months(start, end)
    sales_per_month = n_sales / max(len(months), 1)
    expenses: list[Expense] = []

    def add(day: date, *args) -> None:
        if start <= day <= end:
            expenses.append(Expense(day, *args))

    invoice = 0
    for month in months:
        invoice += 1
        tag = f"{month:%Y%m}"
        add(month, "Storage", f"Storage unit {_MONTH_NAMES[month.month - 1]} {month.year}", Decimal("119.00"), "EUR", Decimal(19),
            "LagerPlus Self Storage Demo", f"LP-{tag}", "")
        add(month + timedelta(days=2), "Software", "Listing tool, monthly plan", Decimal("29.00"), "EUR",
            Decimal(19), "Listify Demo GmbH", f"LI-{invoice:05d}", "")
        add(month + timedelta(days=4), "Software", "Inventory app (US), monthly", Decimal("12.99"), "USD", None,
            "Stocky Demo Inc.", "", "reverse charge")
        last_day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        add(last_day, "Fees", "Business account fee", Decimal("9.90"), "EUR", None, "Sparkasse Demo", "",
            "financial service, no VAT")
        # shipping supplies: about one order per 40 pairs sold, at least one a month
        orders = max(1, round(sales_per_month / 40 * rng.uniform(0.6, 1.4)))
        for _ in range(orders):
            day = month + timedelta(days=rng.randrange(0, 28))
            description, low, high = rng.choice(_SUPPLIES)
            amount = _price(rng, low, high)
            add(day, "Shipping supplies", description, amount, "EUR", Decimal(19), "Kartonfabrik Demo",
                f"KF-{tag}-{rng.randrange(100, 1000)}", "")
            if rng.random() < 0.05:  # a damaged delivery: part of it credited a week later
                add(day + timedelta(days=7), "Shipping supplies", f"Credit note: {description}",
                    -_cents(amount * Decimal(rng.choice((25, 50))) / 100), "EUR", Decimal(19),
                    "Kartonfabrik Demo", f"KF-{tag}-G", "damaged in transit")
        if rng.random() < 0.25:  # a UK buyer's return label, paid in pounds
            add(month + timedelta(days=rng.randrange(5, 25)), "Fees", "Return label (UK)",
                _price(rng, Decimal(4), Decimal(9)), "GBP", None, "Royal Mail Demo", "", "")
        if month.month == 3:  # the accountant's invoice for the previous year
            add(month + timedelta(days=14), "Fees", f"Annual accounts {month.year - 1}", Decimal("773.50"), "EUR",
                Decimal(19), "Steuerbüro Demo", f"STB-{month.year - 1}", "")
    expenses.sort(key=lambda e: e.expense_date)  # stable: same-day rows keep their order
    return expenses


def expenses_sheet_bytes(expenses: Iterable[Expense]) -> bytes:
    """The expenses sheet CSV (UTF-8, CRLF, as Google Sheets downloads it)."""
    return sheet_csv_bytes(EXPENSES_SHEET_HEADER, (e.row() for e in expenses))


def write_demo_expenses_sheet(folder: Path, n_sales: int = 2000, seed: int = 7) -> Path:
    """Write the demo's expenses into ``folder`` as ``Demo Sneakers GmbH - Expenses.csv``.

    The file is left untouched (same bytes, same modification time) when it already holds them.
    """
    path = Path(folder) / EXPENSES_SHEET_NAME
    write_if_changed(path, expenses_sheet_bytes(generate_expenses(n_sales, seed=seed)))
    return path
