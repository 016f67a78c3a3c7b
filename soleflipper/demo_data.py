"""Synthetic StockX "historical seller sales report" exports for the demo and benchmarks.

Everything here is invented (seeded ``random.Random``, never the global generator): the seller,
the sales, the order numbers, the tracking numbers. Only public facts are used as-is: product
names and style codes, StockX's company names and addresses, country and city names.

The files reproduce the real export byte-for-byte in shape (see
``soleflipper/formats/stockx_sales_report.yaml``):

* UTF-8 without BOM, CRLF record endings with a bare LF inside ``Special references`` (as the
  real export), RFC-4180 quoting (``csv.writer``);
* ``Special references`` holds an embedded newline, so a record spans two physical lines;
* the seller's address fields are wrapped in literal double quotes (``\"\"\"...\"\"\"`` in the file);
* timestamps look like ``2024-03-05 14:07:09 +00`` (hour-only UTC offset);
* ``N/A`` for the size/style of non-sneaker items and for the currency of a blank fee;
* amounts are plain decimals without trailing zeros (``45``, ``30.65``, ``101.5``);
* about 15 % of rows have a blank ``Seller Fee``; for about two thirds of those a fee was
  deducted anyway, so ``Total Gross Amount (Total Payout)`` (authoritative) is lower than
  ``Listing Price - fees``. Otherwise the payout equals the formula exactly;
* ``Payout ID`` is ``0`` for older sales; newer sales paid out together share an id, and their
  ``Total Invoice Amount`` is the total of that payout (so it differs from the row's payout).

The purchases behind those sales (:func:`iter_purchases`, see the section "purchases" below) are
invented the same way: the suppliers are made up ("... Demo"), and the sheet's share is written in
the purchases_sheet format (``soleflipper/formats/purchases_sheet.yaml``); the Notion simulator
serves the rest (``NotionSimulator.from_demo``).

The same arguments always give the same rows and the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

__all__ = [
    "HEADER",
    "LEGACY_HEADER",
    "OPTIONAL_HEADERS",
    "PURCHASES_SHEET_HEADER",
    "Purchase",
    "generate_purchases",
    "generate_sales",
    "iter_purchases",
    "iter_sales",
    "sheet_csv_bytes",
    "split_purchases",
    "write_demo_purchases_sheet",
    "write_demo_reports",
    "write_if_changed",
    "write_purchases_sheet",
    "write_sales_report",
]

# The 44 columns of the current export, in file order (== the YAML's `header` values).
HEADER: tuple[str, ...] = (
    "Seller Name",
    "Seller Address (Billing)",
    "Seller VAT Number",
    "Sold To Name",
    "Sold To address",
    "Sold to VAT Number",
    "Fiscal Representative Name",
    "Fiscal Representative Address",
    "StockX Destination Address",
    "Payout date",
    "Invoice Date",
    "Invoice Number",
    "Item",
    "Sku Name",
    "Sku Size",
    "Style",
    "Order Number",
    "Sale Date",
    "Seller Tracking Number",
    "Buyer Destination Country",
    "Buyer Destination City",
    "Buyer Tracking Number",
    "Quantity",
    "Ship From Address",
    "Ship To Address",
    "Seller Fee",
    "Seller Fee Currency",
    "Payment Processing",
    "Payment Processing Currency",
    "Shipping Fee",
    "Shipping Fee Currency",
    "VAT Rate",
    "Total Net Amount (Payout Excluding VAT)",
    "Total Net Amount (Payout Excluding VAT) Currency",
    "Listing Price",
    "Listing Price Currency",
    "Total Gross Amount (Total Payout)",
    "Total Gross Amount (Total Payout) Currency",
    "Total VAT Amount",
    "Total VAT Amount Currency",
    "Payout ID",
    "Special references",
    "Provider Transaction ID",
    "Total Invoice Amount",
)
# Columns missing from the older 37-column export.
OPTIONAL_HEADERS: tuple[str, ...] = (
    "Seller Tracking Number",
    "Buyer Destination Country",
    "Buyer Destination City",
    "Buyer Tracking Number",
    "Payout ID",
    "Provider Transaction ID",
    "Total Invoice Amount",
)


def _legacy_header() -> tuple[str, ...]:
    cols = [h for h in HEADER if h not in OPTIONAL_HEADERS]
    cols.remove("Sale Date")
    cols.insert(cols.index("Payout date"), "Sale Date")
    return tuple(cols)


# The older export: optional columns absent, `Sale Date` before `Payout date`.
LEGACY_HEADER: tuple[str, ...] = _legacy_header()
LAYOUTS: dict[str, tuple[str, ...]] = {"current": HEADER, "legacy": LEGACY_HEADER}

# --- constant parties ------------------------------------------------------------------------
SELLER_NAME = "Demo Sneakers GmbH"
SELLER_ADDRESS = f'"{SELLER_NAME} Lindenallee 42 Berlin Berlin 10967 DE"'  # literal quotes, as exported
SELLER_VAT = "DE999999999"
SOLD_TO_NAME = "StockX LLC"
SOLD_TO_ADDRESS = "1046 Woodward Ave Detroit MI 48226"
SOLD_TO_VAT = "NL999999999B01"
FISCAL_REP_NAME = "StockX Marketplace NL BV"
FISCAL_REP_ADDRESS = "De Run 4312, 5503LN, Veldhoven, Netherlands"
# Authentication centres the seller ships to (the leading number is the StockX site id).
DESTINATIONS: tuple[tuple[str, float], ...] = (
    ("31 STOCKX LLC C/O StockX MP NL B.V. Veldhoven Veldhoven 5503 LS NL", 86.0),
    ("34 STOCKX LLC C/O StockX MP NL B.V. Veldhoven Veldhoven 5503 LS NL", 13.0),
    ("52 StockX LLC West Caldwell West Caldwell 07006 US", 1.0),
)
SPECIAL_REFERENCES = (
    "1) Intra-EU supply of goods in accordance with article 138 Council Directive 2006/112/EC\n"
    "2) Invoice issued by the customer (self-billing)"
)
INVOICE_PREFIX = "25151586"
CURRENCY = "EUR"
NA = "N/A"
TS_FORMAT = "%Y-%m-%d %H:%M:%S +00"

CENT = Decimal("0.01")
MIN_SELLER_FEE = Decimal("5")
PROCESSING_RATE = Decimal("0.03")
SHIPPING_PER_BOX = Decimal("5")

# --- product catalogue -------------------------------------------------------------------------
# kind: M men's US sizes, W women's, GS grade school (Y), PS/TD kids (C), EU European sizes,
# APP apparel (S..XXL), NA no size and no style (books, plush, collectibles).


@dataclass(frozen=True)
class Product:
    item: str  # full product name as StockX shows it
    sku_name: str  # the colourway / variant part of the name
    style: str
    brand: str
    kind: str
    retail: int  # EUR
    premium: float  # typical resale price / retail
    popularity: float
    trend: float  # relative popularity change from the first to the last day


def _p(model: str, variant: str, style: str, brand: str, kind: str, retail: int, premium: float,
       popularity: float = 1.0, trend: float = 0.0) -> Product:
    return Product(f"{model} {variant}", variant, style, brand, kind, retail, premium, popularity, trend)


CATALOG: tuple[Product, ...] = (
    # Nike Dunk
    _p("Nike Dunk Low", "Retro White Black", "DD1391-100", "Nike", "M", 110, 1.0, 6.0, -0.5),
    _p("Nike Dunk Low", "Retro White Black (GS)", "CW1590-100", "Nike", "GS", 90, 1.05, 3.0, -0.5),
    _p("Nike Dunk Low", "Grey Fog", "DD1391-103", "Nike", "M", 110, 1.0, 2.5, -0.3),
    _p("Nike Dunk Low", "University Blue", "DD1391-102", "Nike", "M", 110, 1.2, 1.5, -0.4),
    _p("Nike Dunk Low", "Rose Whisper (W)", "DD1503-118", "Nike", "W", 110, 1.0, 1.5),
    _p("Nike Dunk Low", "Next Nature Pale Coral (W)", "DD1873-100", "Nike", "W", 110, 0.95, 1.2),
    _p("Nike Dunk Low", "Retro White Black (TD)", "CW1589-100", "Nike", "TD", 55, 1.1, 0.6),
    _p("Nike SB Dunk Low", "Travis Scott", "CT5053-001", "Nike", "M", 150, 8.0, 0.2),
    # Nike other
    _p("Nike Air Force 1 Low", "'07 White", "CW2288-111", "Nike", "M", 120, 0.9, 2.0),
    _p("Nike Air Force 1 Low", "'07 Black", "CW2288-001", "Nike", "M", 120, 0.9, 0.8),
    _p("Nike Air Max 1", "'86 OG Big Bubble Red", "DQ3989-100", "Nike", "M", 160, 1.1, 0.5),
    _p("Nike Air Max 90", "Infrared (2020)", "CT1685-100", "Nike", "M", 140, 1.0, 0.4),
    _p("Nike Zoom Vomero 5", "Photon Dust Metallic Silver", "FB9149-001", "Nike", "M", 160, 1.2, 1.0, 2.0),
    _p("Nike P-6000", "Metallic Silver", "CN0149-001", "Nike", "M", 110, 1.0, 0.8, 1.0),
    _p("Nike Kobe 6", "Protro Grinch", "CW2190-300", "Nike", "M", 180, 2.5, 0.4),
    _p("Nike Cortez", "White Varsity Red (W)", "DN1791-103", "Nike", "W", 90, 0.9, 0.5, 1.0),
    # Jordan
    _p("Jordan 1 Retro High OG", "Chicago Lost and Found", "DZ5485-612", "Jordan", "M", 180, 1.6, 2.0, -0.4),
    _p("Jordan 1 Retro High OG", "University Blue", "555088-134", "Jordan", "M", 170, 1.5, 1.2, -0.5),
    _p("Jordan 1 Retro High OG", "Dark Mocha", "555088-105", "Jordan", "M", 170, 1.8, 0.8, -0.3),
    _p("Jordan 1 Retro High OG", "Patent Bred", "555088-063", "Jordan", "M", 180, 1.3, 0.8, -0.5),
    _p("Jordan 1 Retro High OG", "Lucky Green", "DZ5485-031", "Jordan", "M", 180, 1.1, 0.8),
    _p("Jordan 1 Mid", "Light Smoke Grey Anthracite", "554724-078", "Jordan", "M", 130, 1.0, 1.2),
    _p("Jordan 1 Low", "Travis Scott Reverse Mocha", "DM7866-162", "Jordan", "M", 150, 6.0, 0.3),
    _p("Jordan 1 Low OG", "Travis Scott Olive (W)", "DZ4137-106", "Jordan", "W", 150, 4.5, 0.3),
    _p("Jordan 1 Low", "Wolf Grey Aluminum (W)", "DC0774-105", "Jordan", "W", 110, 1.0, 0.8),
    _p("Jordan 3 Retro", "White Cement Reimagined", "DN3707-100", "Jordan", "M", 210, 1.2, 1.0),
    _p("Jordan 4 Retro", "Military Black", "DH6927-111", "Jordan", "M", 210, 1.4, 2.0, -0.4),
    _p("Jordan 4 Retro", "Red Cement", "DH6927-161", "Jordan", "M", 210, 1.1, 1.2),
    _p("Jordan 4 Retro", "Black Canvas", "DH7138-006", "Jordan", "M", 210, 1.2, 0.8),
    _p("Jordan 4 Retro", "Thunder (2023)", "DH6927-017", "Jordan", "M", 210, 1.3, 1.0),
    _p("Jordan 4 Retro", "Military Black (GS)", "408452-111", "Jordan", "GS", 150, 1.3, 0.8, -0.4),
    _p("Jordan 4 Retro SB", "Pine Green", "DR5415-103", "Jordan", "M", 230, 2.0, 0.5),
    _p("Jordan 5 Retro", "Aqua", "DD0587-047", "Jordan", "M", 210, 1.0, 0.4),
    _p("Jordan 11 Retro", "Cool Grey (2021)", "CT8012-005", "Jordan", "M", 230, 1.1, 0.7),
    _p("Jordan 11 Retro", "Cherry (2022)", "CT8012-116", "Jordan", "M", 230, 1.0, 0.7),
    _p("Jordan 11 Retro", "Gratitude", "CT8012-170", "Jordan", "M", 230, 1.1, 0.6, 0.5),
    _p("Jordan 11 Retro", "Cherry (PS)", "378039-116", "Jordan", "PS", 90, 1.0, 0.3),
    # adidas
    _p("adidas Yeezy Boost 350 V2", "Zebra", "CP9654", "adidas", "M", 230, 1.1, 1.5, -0.5),
    _p("adidas Yeezy Boost 350 V2", "Bone", "HQ6316", "adidas", "M", 230, 0.95, 1.5, -0.4),
    _p("adidas Yeezy Boost 350 V2", "Onyx", "HQ4540", "adidas", "M", 230, 0.95, 1.2, -0.4),
    _p("adidas Yeezy Boost 350 V2", "Beluga Reflective", "GW1229", "adidas", "M", 250, 1.0, 0.6, -0.4),
    _p("adidas Yeezy Boost 350 V2", "Carbon Beluga", "HQ7045", "adidas", "M", 230, 0.9, 0.6, -0.4),
    _p("adidas Yeezy Boost 350 V2", "Zebra (Kids)", "CP9654K", "adidas", "PS", 150, 0.9, 0.3),
    _p("adidas Yeezy Slide", "Onyx", "HQ6448", "adidas", "M", 70, 1.3, 2.0, -0.3),
    _p("adidas Yeezy Slide", "Bone", "FZ5897", "adidas", "M", 70, 1.3, 1.2, -0.3),
    _p("adidas Yeezy Foam RNR", "Onyx", "HP8739", "adidas", "M", 90, 1.1, 1.0, -0.3),
    _p("adidas Yeezy Boost 700", "Wave Runner", "B75571", "adidas", "M", 260, 1.1, 0.5),
    _p("adidas Samba OG", "Cloud White Core Black", "B75806", "adidas", "M", 120, 1.0, 2.0, 2.0),
    _p("adidas Samba OG", "Core Black Gum (W)", "B75807", "adidas", "W", 120, 1.0, 1.0, 2.0),
    _p("adidas Campus 00s", "Core Black", "HQ8708", "adidas", "M", 110, 0.9, 1.2, 2.0),
    _p("adidas Gazelle Indoor", "Collegiate Navy", "IG4999", "adidas", "M", 120, 1.0, 0.8, 3.0),
    _p("adidas Handball Spezial", "Navy Gum", "BD7633", "adidas", "M", 100, 1.0, 0.8, 3.0),
    # New Balance
    _p("New Balance 550", "White Green", "BB550WT1", "New Balance", "M", 120, 0.9, 1.5, -0.2),
    _p("New Balance 550", "White Grey", "BB550PB1", "New Balance", "M", 120, 0.9, 1.0, -0.2),
    _p("New Balance 530", "White Silver Navy", "MR530SG", "New Balance", "M", 110, 0.95, 1.5, 1.0),
    _p("New Balance 2002R", "Protection Pack Rain Cloud", "M2002RDA", "New Balance", "M", 160, 1.2, 1.0),
    _p("New Balance 2002R", "Protection Pack Phantom", "M2002RDB", "New Balance", "M", 160, 1.1, 0.6),
    _p("New Balance 990v6", "Made in USA Grey", "M990GL6", "New Balance", "M", 220, 1.0, 0.5),
    _p("New Balance 9060", "Rain Cloud Grey", "U9060GRY", "New Balance", "M", 150, 1.1, 1.2, 1.5),
    _p("New Balance 1906R", "Silver Metallic Sea Salt", "M1906REE", "New Balance", "M", 150, 1.1, 0.6, 2.0),
    # ASICS / others
    _p("ASICS Gel-Kayano 14", "White Pure Silver", "1201A019-108", "ASICS", "M", 150, 1.2, 1.0, 2.0),
    _p("ASICS Gel-1130", "White Clay Canyon", "1201A256-110", "ASICS", "M", 110, 1.0, 0.8, 2.0),
    _p("ASICS Gel-NYC", "Graphite Grey Black", "1201A789-020", "ASICS", "M", 140, 1.0, 0.7, 2.0),
    _p("ASICS Gel-Lyte III OG", "Cream Grey", "1201A296-100", "ASICS", "M", 120, 0.9, 0.4),
    _p("Salomon XT-6", "Black Phantom", "L41086600", "Salomon", "EU", 180, 1.0, 0.5, 1.5),
    _p("Converse Chuck Taylor All-Star 70 Hi", "Comme des Garcons PLAY Black", "150204C", "Converse",
       "M", 150, 0.9, 0.7),
    _p("Birkenstock Boston", "Soft Footbed Suede Taupe", "560771", "Birkenstock", "EU", 150, 1.1, 0.6, 1.5),
    _p("UGG Tasman Slipper", "Chestnut (W)", "5955-CHE", "UGG", "W", 120, 1.1, 0.6, 1.0),
    # apparel
    _p("Fear of God Essentials Hoodie", "Light Oatmeal", "192HO234260F", "Fear of God", "APP", 100, 1.0, 0.8),
    _p("Fear of God Essentials Sweatpants", "Jet Black", "130BT234281F", "Fear of God", "APP", 90, 1.0, 0.5),
    _p("Supreme Box Logo Hooded Sweatshirt (FW23)", "Ash Grey", "FW23SW54", "Supreme", "APP", 170, 1.8, 0.4),
    _p("Supreme Box Logo Tee (FW23)", "White", "FW23T12", "Supreme", "APP", 45, 1.5, 0.5),
    _p("Nike x Stussy Fleece Hoodie", "Black", "DO5295-010", "Nike", "APP", 120, 1.2, 0.3),
    _p("Corteiz Alcatraz Cargos", "Triple Black", "CRTZ-ALC-TB", "Corteiz", "APP", 110, 1.3, 0.3, 1.0),
    # no size, no style
    _p("Thames & Hudson", "Sneakers: The Complete Limited Editions Guide", NA, "Thames & Hudson", "NA",
       50, 1.0, 0.6),
    _p("Pokemon Center", "Pikachu Sitting Cuties Plush", NA, "Pokemon", "NA", 20, 1.8, 1.0),
    _p("Pokemon Center x Van Gogh Museum", "Pikachu Inspired by Self-Portrait Plush", NA, "Pokemon",
       "NA", 40, 2.2, 0.6),
    _p("Jellycat Bashful", "Bunny Medium Plush Beige", NA, "Jellycat", "NA", 35, 1.1, 0.6, 1.0),
    _p("Medicom Toy Be@rbrick", "Mickey Mouse 100% & 400% Set", NA, "Medicom Toy", "NA", 110, 1.3, 0.4),
    _p("KAWS Holiday", "Japan Vinyl Figure Brown", NA, "KAWS", "NA", 90, 2.5, 0.3),
    _p("LEGO Technic", "Porsche 911 GT3 RS Set 42056", NA, "LEGO", "NA", 300, 1.5, 0.2),
)

_M_SIZES = (
    ("4", 0.2), ("5", 0.4), ("5.5", 0.4), ("6", 1.5), ("6.5", 1.2), ("7", 2.3), ("7.5", 1.5), ("8", 2.5),
    ("8.5", 3.0), ("9", 5.0), ("9.5", 4.5), ("10", 8.0), ("10.5", 8.0), ("11", 5.0), ("11.5", 2.3),
    ("12", 3.0), ("12.5", 0.8), ("13", 3.5), ("13.5", 0.3), ("14", 1.4), ("15", 0.4), ("16", 0.1),
)
_W_SIZES = tuple((f"{s}W", w) for s, w in (
    ("5", 0.3), ("5.5", 0.8), ("6", 1.0), ("6.5", 1.1), ("7", 1.2), ("7.5", 1.3), ("8", 1.3), ("8.5", 1.3),
    ("9", 0.6), ("9.5", 0.5), ("10", 0.6), ("10.5", 0.5), ("11", 0.8), ("11.5", 0.8), ("12", 1.3),
))
_GS_SIZES = tuple((f"{s}Y", w) for s, w in (
    ("3.5", 0.5), ("4", 1.0), ("4.5", 0.8), ("5", 1.0), ("5.5", 1.0), ("6", 0.9), ("6.5", 0.8), ("7", 0.8),
))
_C_SIZES = tuple((f"{s}C", w) for s, w in (
    ("2", 0.3), ("3", 0.6), ("4", 0.5), ("5", 0.5), ("6", 0.6), ("7", 0.5), ("8", 0.6), ("9", 0.4),
    ("10", 0.8), ("11", 0.4), ("12", 0.3), ("13", 0.3),
))
_EU_SIZES = tuple((str(s), w) for s, w in (
    (36, 0.4), (37, 0.6), (38, 0.8), (39, 1.0), (40, 1.0), (41, 1.2), (42, 1.5), (43, 1.5), (44, 1.3),
    (45, 1.0), (46, 0.5),
))
_APP_SIZES = (("XS", 0.5), ("S", 2.5), ("M", 3.5), ("L", 2.5), ("XL", 1.5), ("XXL", 0.5))
SIZES: dict[str, tuple[tuple[str, float], ...]] = {
    "M": _M_SIZES, "W": _W_SIZES, "GS": _GS_SIZES, "PS": _C_SIZES, "TD": _C_SIZES[:6],
    "EU": _EU_SIZES, "APP": _APP_SIZES, "NA": ((NA, 1.0),),
}

# Buyer destination (StockX's country spellings) with a weight and some cities.
COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("United States", 44.0, ("New York", "Brooklyn", "Los Angeles", "Chicago", "Houston", "Miami",
                             "Atlanta", "San Francisco", "Seattle", "Philadelphia", "Dallas", "Phoenix",
                             "Boston", "Denver", "Portland", "Las Vegas", "Austin", "San Diego")),
    ("Germany", 6.0, ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt am Main", "Stuttgart",
                      "Leipzig", "Dusseldorf")),
    ("France", 5.0, ("Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes")),
    ("Italy", 4.0, ("Milano", "Roma", "Napoli", "Torino", "Bologna", "Firenze")),
    ("Netherlands", 3.0, ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag")),
    ("Spain", 3.0, ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao")),
    ("United Kingdom", 5.0, ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol")),
    ("Switzerland", 3.0, ("Zurich", "Geneve", "Basel", "Bern", "Lausanne")),
    ("Austria", 1.5, ("Wien", "Graz", "Linz", "Salzburg")),
    ("Belgium", 1.5, ("Brussels", "Antwerpen", "Gent", "Liege")),
    ("Poland", 1.5, ("Warszawa", "Krakow", "Wroclaw", "Gdansk")),
    ("Sweden", 1.0, ("Stockholm", "Goteborg", "Malmo")),
    ("Denmark", 0.8, ("Kobenhavn", "Aarhus")),
    ("Ireland, Republic of", 0.8, ("Dublin", "Cork")),
    ("Portugal", 0.6, ("Lisboa", "Porto")),
    ("Luxembourg", 0.5, ("Luxembourg",)),
    ("Czech Republic", 0.5, ("Praha", "Brno")),
    ("Canada", 3.0, ("Toronto", "Vancouver", "Montreal", "Calgary")),
    ("Mexico", 3.0, ("Ciudad de Mexico", "Guadalajara", "Monterrey")),
    ("Australia", 2.0, ("Sydney", "Melbourne", "Brisbane", "Perth")),
    ("Japan", 2.0, ("Tokyo", "Osaka", "Yokohama")),
    ("Hong Kong SAR", 2.0, ("Hong Kong", "Kowloon")),
    ("South Korea", 1.0, ("Seoul", "Busan")),
    ("Singapore", 0.6, ("Singapore",)),
    ("United Arab Emirates", 0.6, ("Dubai", "Abu Dhabi")),
    ("Israel", 0.5, ("Tel Aviv", "Jerusalem")),
    ("China, Mainland", 0.3, ("Shanghai", "Beijing")),
    ("New Zealand", 0.3, ("Auckland",)),
)

# Share of sales by hour of day (UTC): quiet at night, busy around midday and in the evening.
_HOUR_WEIGHTS = (
    3.0, 2.0, 3.0, 3.0, 3.5, 3.5, 4.5, 3.5, 4.0, 3.0, 3.0, 6.0,
    8.5, 4.5, 5.0, 4.5, 5.5, 5.0, 5.0, 4.0, 4.0, 3.5, 3.0, 2.5,
)
_PAYOUT0_DELAY_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
_PAYOUT0_DELAY_WEIGHTS = (1.5, 16, 14, 17, 15, 13, 11, 6, 2.5, 1.5, 0.5, 0.3, 0.3)
_BOX_SIZES = (1, 2, 3, 4, 5, 6)
_BOX_WEIGHTS = (45, 20, 13, 9, 7, 6)

_ORDER_SPAN = 55_000_000  # order-number room: 8 digits for the whole range, however many sales


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_amount(value: Decimal) -> str:
    """``45``, ``30.65``, ``101.5``: two places at most, no trailing zeros, never exponent form."""
    text = f"{_cents(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _ts(moment: datetime) -> str:
    return moment.strftime(TS_FORMAT)


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _daily_counts(rng: random.Random, n_sales: int, start: date, n_days: int) -> list[int]:
    """Sales per day: growth over the period, seasonality (spring and Nov/Dec peaks), more sales
    on weekends, day-to-day noise; exactly ``n_sales`` in total (largest remainder)."""
    weights = []
    for i in range(n_days):
        day = start + timedelta(days=i)
        t = i / max(n_days - 1, 1)
        doy = day.timetuple().tm_yday
        season = 1.0 + 0.18 * math.cos(2 * math.pi * (doy - 80) / 365.25)
        if day.month == 11 and day.day >= 20 or day.month == 12 and day.day <= 20:
            season *= 1.35  # Black Friday to Christmas
        elif day.month == 12:
            season *= 0.8  # holidays: fewer sales
        weekday = 1.12 if day.weekday() >= 5 else 1.0
        noise = rng.lognormvariate(0.0, 0.25)
        weights.append((1.0 + 1.2 * t) * season * weekday * noise)
    total = sum(weights)
    quotas = [n_sales * w / total for w in weights]
    counts = [int(q) for q in quotas]
    missing = n_sales - sum(counts)
    by_fraction = sorted(range(n_days), key=lambda i: (counts[i] - quotas[i], i))
    for i in by_fraction[:missing]:
        counts[i] += 1
    return counts


_SIZE_CHOICES: dict[str, tuple[list[str], list[float]]] = {
    kind: ([s for s, _ in options], _cumulative(w for _, w in options)) for kind, options in SIZES.items()
}


def iter_sales(n_sales: int, seed: int = 7, start: date = date(2023, 1, 2),
               end: date = date(2024, 12, 29)) -> Iterator[dict[str, str]]:
    """Stream ``n_sales`` invented sales, sorted by Sale Date, keyed by the 44 header names.

    Memory stays small however large ``n_sales`` is (one day of timestamps and one payout
    batch are held at a time). Deterministic for the same arguments.
    """
    if n_sales < 0:
        raise ValueError("n_sales must be >= 0")
    if end < start:
        raise ValueError("end must not be before start")
    rng = random.Random(seed)
    n_days = (end - start).days + 1
    counts = _daily_counts(rng, n_sales, start, n_days)
    origin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    # Sales before the cutover were paid one by one (Payout ID 0); later ones in batches.
    cutover = origin + timedelta(days=round(n_days * 0.6))
    # Seller level: the fee rate drops from 10 % to 7 % as the business grows.
    fee_steps = [(origin + timedelta(days=round(n_days * f)), Decimal(r))
                 for f, r in ((0.0, "0.10"), (0.12, "0.09"), (0.3, "0.08"), (0.5, "0.07"))]
    shipping_blank_until = origin + timedelta(days=round(n_days * 0.25))

    order_step_max = max(2, min(60_000, _ORDER_SPAN // max(n_sales, 1)))
    order_seq = rng.randrange(20_000_000, 30_000_000)
    order_offset = rng.randrange(90_000, 140_000)
    payout_id = rng.randrange(10_000, 60_000)

    cum_products = _cumulative(p.popularity for p in CATALOG)
    trend_products = [p.popularity * (1 + p.trend) for p in CATALOG]
    cum_products_late = _cumulative(max(w, 0.02) for w in trend_products)
    price_level = [rng.uniform(0.85, 1.15) * p.premium for p in CATALOG]
    cum_countries = _cumulative(w for _, w, _ in COUNTRIES)
    cum_destinations = _cumulative(w for _, w in DESTINATIONS)
    cum_hours = _cumulative(_HOUR_WEIGHTS)

    box_left = 0
    box_tracking = ""
    box_shipping = Decimal(0)
    box_destination = DESTINATIONS[0][0]

    batch: list[dict[str, str]] = []
    batch_payouts: list[Decimal] = []
    window_end = cutover + timedelta(days=rng.randint(3, 7))
    last_batch_payout = cutover

    def flush_batch() -> Iterator[dict[str, str]]:
        nonlocal payout_id, last_batch_payout
        payout_id += rng.randint(5_000, 45_000)
        base = window_end + timedelta(days=rng.randint(2, 5), hours=rng.randint(3, 12),
                                      minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
        base = max(base, last_batch_payout + timedelta(hours=20))
        total = fmt_amount(sum(batch_payouts, Decimal(0)))
        moment = base
        for row in batch:
            moment += timedelta(seconds=rng.randint(1, 40))
            row["Payout date"] = row["Invoice Date"] = _ts(moment)
            row["Payout ID"] = str(payout_id)
            row["Total Invoice Amount"] = total
            yield row
        last_batch_payout = moment
        batch.clear()
        batch_payouts.clear()

    for day_index, count in enumerate(counts):
        if not count:
            continue
        day_start = origin + timedelta(days=day_index)
        t = day_index / max(n_days - 1, 1)
        seconds = sorted(
            3600 * rng.choices(range(24), cum_weights=cum_hours)[0] + rng.randrange(3600)
            for _ in range(count)
        )
        cum = cum_products if rng.random() > t else cum_products_late  # popularity drifts over time
        for second in seconds:
            sale = day_start + timedelta(seconds=second)
            idx = rng.choices(range(len(CATALOG)), cum_weights=cum)[0]
            product = CATALOG[idx]
            sizes, size_weights = _SIZE_CHOICES[product.kind]

            # price: integer euros mostly, the odd price with cents
            raw = product.retail * price_level[idx] * rng.uniform(0.7, 1.15) * (1 - 0.1 * t)
            listing = Decimal(max(19, round(raw)))
            if rng.random() < 0.05:
                listing += Decimal(rng.choice((10, 20, 40, 50, 60, 90))) / 100
            rate = next(r for since, r in reversed(fee_steps) if sale >= since)
            seller_fee = max(MIN_SELLER_FEE, _cents(listing * rate))
            processing = _cents(listing * PROCESSING_RATE)

            if box_left == 0:
                box_left = rng.choices(_BOX_SIZES, weights=_BOX_WEIGHTS)[0]
                box_tracking = "00340434" + f"{rng.randrange(10**12):012d}"
                box_shipping = _cents(SHIPPING_PER_BOX / box_left)
                if rng.random() < 0.04:
                    box_shipping = Decimal(0)  # free-shipping promotion
                box_destination = rng.choices(
                    [d for d, _ in DESTINATIONS], cum_weights=cum_destinations)[0]
            box_left -= 1
            shipping = box_shipping

            fee_roll = rng.random()
            # a blank processing fee (nothing charged) only where the seller fee is shown
            processing_blank = fee_roll >= 0.15 and rng.random() < 0.025
            shipping_blank = sale < shipping_blank_until and rng.random() < 0.5
            deducted = listing - (Decimal(0) if processing_blank else processing) \
                - (Decimal(0) if shipping_blank else shipping)
            if fee_roll < 0.10:  # fee blank in the export but deducted: payout below the formula
                fee_text, fee_currency = "", NA
                payout = deducted - seller_fee
            elif fee_roll < 0.15:  # fee waived (promotion): blank, nothing deducted
                fee_text, fee_currency = "", NA
                payout = deducted
            else:
                fee_text, fee_currency = fmt_amount(seller_fee), CURRENCY
                payout = deducted - seller_fee

            country, _, cities = COUNTRIES[rng.choices(range(len(COUNTRIES)), cum_weights=cum_countries)[0]]
            order_seq += rng.randint(1, order_step_max)
            second_group = f"{order_seq:08d}"
            payout_text = fmt_amount(payout)

            row = {
                "Seller Name": SELLER_NAME,
                "Seller Address (Billing)": SELLER_ADDRESS,
                "Seller VAT Number": SELLER_VAT,
                "Sold To Name": SOLD_TO_NAME,
                "Sold To address": SOLD_TO_ADDRESS,
                "Sold to VAT Number": SOLD_TO_VAT,
                "Fiscal Representative Name": FISCAL_REP_NAME,
                "Fiscal Representative Address": FISCAL_REP_ADDRESS,
                "StockX Destination Address": box_destination,
                "Payout date": "",
                "Invoice Date": "",
                "Invoice Number": f"{INVOICE_PREFIX}-{second_group}",
                "Item": product.item,
                "Sku Name": product.sku_name,
                "Sku Size": rng.choices(sizes, cum_weights=size_weights)[0],
                "Style": product.style,
                "Order Number": f"{order_seq + order_offset:08d}-{second_group}",
                "Sale Date": _ts(sale),
                "Seller Tracking Number": box_tracking,
                "Buyer Destination Country": country,
                "Buyer Destination City": rng.choice(cities),
                "Buyer Tracking Number": f"1Z{rng.getrandbits(64):016X}",
                "Quantity": "1",
                "Ship From Address": SELLER_ADDRESS,
                "Ship To Address": box_destination,
                "Seller Fee": fee_text,
                "Seller Fee Currency": fee_currency,
                "Payment Processing": "" if processing_blank else fmt_amount(processing),
                "Payment Processing Currency": NA if processing_blank else CURRENCY,
                "Shipping Fee": "" if shipping_blank else fmt_amount(shipping),
                "Shipping Fee Currency": CURRENCY,
                "VAT Rate": "",
                "Total Net Amount (Payout Excluding VAT)": payout_text,
                "Total Net Amount (Payout Excluding VAT) Currency": CURRENCY,
                "Listing Price": fmt_amount(listing),
                "Listing Price Currency": CURRENCY,
                "Total Gross Amount (Total Payout)": payout_text,
                "Total Gross Amount (Total Payout) Currency": CURRENCY,
                "Total VAT Amount": "",
                "Total VAT Amount Currency": "",
                "Payout ID": "0",
                "Special references": SPECIAL_REFERENCES,
                "Provider Transaction ID": _uuid4(rng),
                "Total Invoice Amount": payout_text,
            }

            if sale < cutover:
                delay = rng.choices(_PAYOUT0_DELAY_DAYS, weights=_PAYOUT0_DELAY_WEIGHTS)[0]
                paid = datetime(sale.year, sale.month, sale.day, tzinfo=UTC) + timedelta(
                    days=delay, hours=rng.randint(3, 15), minutes=rng.randint(0, 59),
                    seconds=rng.randint(0, 59))
                if paid <= sale:
                    paid = sale + timedelta(hours=rng.randint(2, 20), minutes=rng.randint(0, 59))
                row["Payout date"] = row["Invoice Date"] = _ts(paid)
                yield row
                continue

            while sale >= window_end:
                if batch:
                    yield from flush_batch()
                window_end += timedelta(days=rng.randint(3, 7))
            batch.append(row)
            batch_payouts.append(payout)
    if batch:
        yield from flush_batch()


def generate_sales(n_sales: int, seed: int = 7, start: date = date(2023, 1, 2),
                   end: date = date(2024, 12, 29)) -> list[dict[str, str]]:
    """``n_sales`` invented sales as a list (see :func:`iter_sales`), sorted by Sale Date."""
    return list(iter_sales(n_sales, seed=seed, start=start, end=end))


def write_sales_report(path: Path, rows: Iterable[dict[str, str]], layout: str = "current") -> int:
    """Write rows as a StockX sales report CSV; returns the number of rows written.

    ``layout="current"`` writes the 44-column export, ``"legacy"`` the older 37-column one.
    Rows are streamed, so an :func:`iter_sales` generator of any size can be passed.
    """
    try:
        header = LAYOUTS[layout]
    except KeyError:
        raise ValueError(f"unknown layout {layout!r}; expected one of {sorted(LAYOUTS)}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[h] for h in header])
            written += 1
    return written


def _export_name(rng: random.Random, exported_at: datetime) -> str:
    epoch_ms = int(exported_at.timestamp()) * 1000 + rng.randrange(1000)
    return f"stockx_historical_seller_sales_report_{_uuid4(rng)}_{epoch_ms}.csv"


def _latest_payout(rows: list[dict[str, str]]) -> datetime:
    latest = max(r["Payout date"] for r in rows)  # same fixed-width format: sorts as text
    return datetime.strptime(latest[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def write_demo_reports(folder: Path, n_sales: int = 2000, seed: int = 7) -> list[Path]:
    """Write the demo's StockX exports into ``folder`` and return their paths (oldest first).

    * an older export in the legacy 37-column layout with the first ~40 % of the sales;
    * a current 44-column export with the sales from ~35 % to 100 %.

    About 5 % of the sales appear in both files (the loader must deduplicate them). File names
    look like StockX's (``stockx_historical_seller_sales_report_<uuid>_<epoch-ms>.csv``) and are
    derived from the seed; the same arguments always give the same names and bytes.
    """
    if n_sales < 2:
        raise ValueError("n_sales must be at least 2")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = generate_sales(n_sales, seed=seed)
    old_end = max(1, round(n_sales * 0.40))
    new_start = min(old_end - 1, round(n_sales * 0.35))
    parts = ((rows[:old_end], "legacy"), (rows[new_start:], "current"))
    name_rng = random.Random(f"soleflipper-demo-exports-{seed}")
    paths = []
    for part, layout in parts:
        exported_at = _latest_payout(part) + timedelta(days=name_rng.randint(1, 20),
                                                       seconds=name_rng.randrange(86_400))
        path = folder / _export_name(name_rng, exported_at)
        write_sales_report(path, part, layout=layout)
        paths.append(path)
    return paths


# --- purchases: the cost side of the demo sales ------------------------------------------------
#
# Every demo sale was bought first: one purchase per sale (same style code and size as the sales
# report writes them), 3-120 days before the sale, from an invented German/EU retailer (prices
# include 19 % VAT: net = gross / 1.19, to the cent) or a private seller (no VAT: net = gross).
# The cost follows the sale: mostly bought well below the payout, some pairs at a loss; a shop
# never charges more than retail, so hyped pairs bought from a shop are raffle wins at retail.
# On top of that, unsold stock: about 8 % extra purchases with no sale, bought in the last four
# months of the range. About 30 % of the sold purchases note the StockX order number they were
# sold in (items without a style code always do: nothing else could link them); the others are
# for the warehouse to link first-in-first-out by style code, size and date.
#
# Where each unit is recorded ("book"): the reseller kept a purchases spreadsheet and moved to
# Notion. A unit whose sale falls in the first ~70 % of the date range is in the sheet, a later
# one in Notion; an unsold unit goes with the sale it was restocked from. No unit is in both.

VAT_RATE = Decimal("19")
VAT_FACTOR = Decimal("1.19")
SHEET_SHARE = 0.70  # sales before start + 70 % of the range: their purchases are in the sheet
UNSOLD_SHARE = 0.08  # extra purchases with no sale, as a share of the sales
UNSOLD_WINDOW_DAYS = 120  # unsold stock was bought in the last four months of the range
ORDER_NUMBER_SHARE = 0.30  # sold purchases noting their StockX order number
LOSS_SHARE = 0.14  # sales meant to lose money (a shop's retail cap can still save some)
MIN_DAYS_IN_STOCK, MAX_DAYS_IN_STOCK = 3, 120
BOOK_SHEET, BOOK_NOTION = "sheet", "notion"
STOCKX_NOTE_PREFIX = "StockX order "  # the sheet's Notes: "StockX order 12345678-12345678"
PURCHASES_SHEET_NAME = f"{SELLER_NAME} - Purchases.csv"  # a Google Sheets CSV download
# The purchases_sheet format's columns in file order (soleflipper/formats/purchases_sheet.yaml).
PURCHASES_SHEET_HEADER: tuple[str, ...] = (
    "Purchase Date", "Supplier", "Style Code", "Product", "Brand", "Size", "Quantity", "Net Price",
    "Gross Price", "VAT Rate", "Currency", "Order Number", "Invoice Number", "Delivery Date", "Notes",
    # Not a column of the format: kept in _extra by the loader, read by stg_sheets__purchases.
    "Sale ID",
)


@dataclass(frozen=True)
class Supplier:
    name: str
    weight: float
    vat: bool  # a VAT-registered shop (prices include 19 %) or a private seller (no VAT)
    sells: str  # "sized": sneakers and apparel, "goods": unsized items, "any"
    brands: tuple[str, ...] = ()  # a brand's own store sells only these
    order_prefix: str = ""  # supplier order numbers: prefix + order_digits digits (none if 0)
    order_digits: int = 0
    return_days: int = 14


DEMO_SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("Solebox Demo", 12, True, "sized", (), "SB-", 7, 14),
    Supplier("Snipes Demo", 12, True, "sized", (), "SN", 9, 30),
    Supplier("BSTN Demo", 8, True, "sized", (), "BSTN-", 6, 14),
    Supplier("Asphaltgold Demo", 7, True, "sized", (), "AG", 8, 14),
    Supplier("Zalando Demo", 10, True, "sized", (), "1010", 10, 100),
    Supplier("Nike Store Demo", 14, True, "sized", ("Nike", "Jordan"), "C0", 10, 30),
    Supplier("adidas Store Demo", 10, True, "sized", ("adidas",), "ADE", 8, 30),
    Supplier("Galeria Demo", 10, True, "goods", (), "GAL-", 8, 14),
    Supplier("Privat Kleinanzeigen Demo", 6, False, "any", (), "", 0, 0),
    Supplier("Privat Vinted Demo", 3, False, "any", (), "", 0, 0),
)
SUPPLIERS_BY_NAME: dict[str, Supplier] = {s.name: s for s in DEMO_SUPPLIERS}
PRODUCTS_BY_ITEM: dict[str, Product] = {p.item: p for p in CATALOG}


@dataclass(frozen=True)
class Purchase:
    """One purchased unit (quantity 1). ``sale_*`` is the truth about its sale (None: unsold);
    ``order_number_recorded`` says whether the purchase notes that StockX order number."""

    unit: int  # position in iter_purchases: a stable id for the unit
    book: str  # where it is recorded: "sheet" or "notion"
    purchase_date: date
    delivery_date: date | None  # None: still on its way at the end of the range
    supplier: str
    vat: bool
    style_code: str  # as the sales report writes it ("N/A" for unsized items)
    product_name: str
    brand: str
    size: str  # as the sales report writes it ("10.5", "8W", "5Y", "42", "M", "N/A")
    gross_price: Decimal  # EUR per unit, VAT included for shops
    net_price: Decimal  # gross / 1.19 to the cent for shops, = gross for private sellers
    supplier_order_number: str  # "" for private sellers
    invoice_number: str  # "" when none was issued (or not filed)
    sale_order_number: str | None
    sale_date: date | None
    order_number_recorded: bool

    @property
    def vat_rate(self) -> Decimal:
        return VAT_RATE if self.vat else Decimal(0)

    @property
    def vat_amount(self) -> Decimal:
        return self.gross_price - self.net_price

    @property
    def sold(self) -> bool:
        return self.sale_order_number is not None

    @property
    def notes(self) -> str:
        return f"{STOCKX_NOTE_PREFIX}{self.sale_order_number}" if self.order_number_recorded else ""


def net_of_vat(gross: Decimal) -> Decimal:
    """The net price of a VAT-inclusive German gross price (19 %), rounded half up to the cent."""
    return _cents(gross / VAT_FACTOR)


def sheet_cutover(start: date = date(2023, 1, 2), end: date = date(2024, 12, 29),
                  sheet_share: float = SHEET_SHARE) -> date:
    """First sale date whose purchase is recorded in Notion rather than the sheet."""
    n_days = (end - start).days + 1
    return start + timedelta(days=round(n_days * sheet_share))


def _suppliers_for(product: Product) -> tuple[list[Supplier], list[float]]:
    if product.kind == "NA":
        options = [s for s in DEMO_SUPPLIERS if s.sells in ("goods", "any")]
    else:
        options = [s for s in DEMO_SUPPLIERS
                   if s.sells in ("sized", "any") and (not s.brands or product.brand in s.brands)]
    return options, [s.weight for s in options]


def _purchase_prices(rng: random.Random, product: Product, supplier: Supplier,
                     payout: float) -> tuple[Decimal, Decimal]:
    """(gross, net) per unit for a pair expected to pay out ``payout``."""
    loss = rng.random() < LOSS_SHARE
    factor = rng.uniform(1.03, 1.30) if loss else rng.uniform(0.55, 0.93)
    target_net = payout * factor
    if supplier.vat:
        target_gross = min(target_net * 1.19, float(product.retail))  # never above retail
        whole = Decimal(max(5, round(target_gross))).quantize(CENT)
        ending = rng.random()  # shop prices end in .99, .00 or .95
        gross = whole - Decimal("0.01") if ending < 0.5 else whole if ending < 0.85 else whole - Decimal("0.05")
        return gross, net_of_vat(gross)
    step = 5 if target_net >= 60 else 1  # private sellers ask round amounts
    gross = Decimal(max(step, round(target_net / step) * step)).quantize(CENT)
    return gross, gross


def _supplier_documents(rng: random.Random, supplier: Supplier, bought: date) -> tuple[str, str]:
    if not supplier.order_digits:
        return "", ""
    order = f"{supplier.order_prefix}{rng.randrange(10 ** supplier.order_digits):0{supplier.order_digits}d}"
    invoice = f"RE-{bought.year}-{rng.randrange(100_000):05d}" if rng.random() < 0.75 else ""
    return order, invoice


def iter_purchases(n_sales: int, seed: int = 7, start: date = date(2023, 1, 2),
                   end: date = date(2024, 12, 29), sheet_share: float = SHEET_SHARE) -> Iterator[Purchase]:
    """The purchases behind ``iter_sales(n_sales, seed, start, end)`` plus unsold stock.

    One purchase per sale, in sale order; an unsold unit follows the sale it was restocked from
    (same product, a size of its own, bought in the last :data:`UNSOLD_WINDOW_DAYS` days of the
    range). ``round(n_sales * UNSOLD_SHARE)`` unsold units in all. The sales are unchanged (the
    purchases draw from their own seeded generator). Deterministic for the same arguments.
    """
    rng = random.Random(f"soleflipper-demo-purchases-{seed}")
    n_unsold = min(n_sales, round(n_sales * UNSOLD_SHARE))
    restocked_from = set(rng.sample(range(n_sales), n_unsold))
    cutover = sheet_cutover(start, end, sheet_share)
    unit = 0
    for index, sale in enumerate(iter_sales(n_sales, seed=seed, start=start, end=end)):
        product = PRODUCTS_BY_ITEM[sale["Item"]]
        sold = date.fromisoformat(sale["Sale Date"][:10])
        book = BOOK_SHEET if sold < cutover else BOOK_NOTION
        options, weights = _suppliers_for(product)
        supplier = rng.choices(options, weights=weights)[0]
        days = MIN_DAYS_IN_STOCK + round(rng.triangular(0, MAX_DAYS_IN_STOCK - MIN_DAYS_IN_STOCK, 10))
        bought = sold - timedelta(days=days)
        transit = rng.randint(0, 2) if not supplier.vat else rng.randint(1, 5)
        delivered = bought + timedelta(days=min(transit, days - 1))  # in hand before the sale
        gross, net = _purchase_prices(rng, product, supplier, float(sale["Total Gross Amount (Total Payout)"]))
        order, invoice = _supplier_documents(rng, supplier, bought)
        recorded = rng.random() < ORDER_NUMBER_SHARE or sale["Style"] == NA
        yield Purchase(unit, book, bought, delivered, supplier.name, supplier.vat, sale["Style"],
                       product.item, product.brand, sale["Sku Size"], gross, net, order, invoice,
                       sale["Order Number"], sold, recorded)
        unit += 1
        if index not in restocked_from:
            continue
        sizes, size_weights = _SIZE_CHOICES[product.kind]
        supplier = rng.choices(options, weights=weights)[0]
        bought = end - timedelta(days=rng.randrange(UNSOLD_WINDOW_DAYS))
        arrives = bought + timedelta(days=rng.randint(0, 2) if not supplier.vat else rng.randint(1, 5))
        expected_payout = product.retail * product.premium * 0.85
        gross, net = _purchase_prices(rng, product, supplier, expected_payout)
        order, invoice = _supplier_documents(rng, supplier, bought)
        yield Purchase(unit, book, bought, arrives if arrives <= end else None, supplier.name, supplier.vat,
                       sale["Style"], product.item, product.brand,
                       rng.choices(sizes, cum_weights=size_weights)[0], gross, net, order, invoice,
                       None, None, False)
        unit += 1


def generate_purchases(n_sales: int, seed: int = 7, start: date = date(2023, 1, 2),
                       end: date = date(2024, 12, 29)) -> list[Purchase]:
    """:func:`iter_purchases` as a list."""
    return list(iter_purchases(n_sales, seed=seed, start=start, end=end))


def split_purchases(purchases: Iterable[Purchase]) -> tuple[list[Purchase], list[Purchase]]:
    """(sheet, notion): the units each book records, each in purchase-date order."""
    books: dict[str, list[Purchase]] = {BOOK_SHEET: [], BOOK_NOTION: []}
    for purchase in purchases:
        books[purchase.book].append(purchase)
    return sorted(books[BOOK_SHEET], key=_by_date), sorted(books[BOOK_NOTION], key=_by_date)


def _by_date(p: Purchase) -> tuple[date, int]:
    return p.purchase_date, p.unit


def _sheet_row(p: Purchase) -> list[str]:
    return [
        p.purchase_date.isoformat(), p.supplier, p.style_code, p.product_name, p.brand, p.size, "1",
        f"{p.net_price:.2f}", f"{p.gross_price:.2f}", f"{p.vat_rate:f}", CURRENCY,
        p.supplier_order_number, p.invoice_number,
        p.delivery_date.isoformat() if p.delivery_date else "", p.notes,
        p.sale_order_number if p.order_number_recorded else "",
    ]


def sheet_csv_bytes(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """A spreadsheet's CSV as Google Sheets downloads it: UTF-8, CRLF, RFC-4180 quoting."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` unless the file already holds exactly these bytes: an unchanged
    file keeps its modification time, so the import folder sensor sees nothing new."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)


def purchases_sheet_bytes(purchases: Iterable[Purchase]) -> bytes:
    """The purchases sheet CSV (UTF-8, CRLF, as Google Sheets downloads it) for ``purchases``."""
    return sheet_csv_bytes(PURCHASES_SHEET_HEADER, (_sheet_row(p) for p in purchases))


def write_purchases_sheet(path: Path, purchases: Iterable[Purchase]) -> int:
    """Write ``purchases`` (in the given order) as a purchases_sheet CSV; returns the rows written.

    The file is left untouched (same bytes, same modification time) when it already holds them.
    """
    rows = list(purchases)
    write_if_changed(path, purchases_sheet_bytes(rows))
    return len(rows)


def write_demo_purchases_sheet(folder: Path, n_sales: int = 2000, seed: int = 7) -> Path:
    """Write the sheet's share of the demo purchases (:func:`split_purchases`) into ``folder`` as
    ``Demo Sneakers GmbH - Purchases.csv``; the same arguments give the same bytes."""
    sheet, _ = split_purchases(iter_purchases(n_sales, seed=seed))
    path = Path(folder) / PURCHASES_SHEET_NAME
    write_purchases_sheet(path, sheet)
    return path
