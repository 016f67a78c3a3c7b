"""The Notion simulator's workspace: the reseller's Purchases and Sales databases, seeded.

Everything is invented with a seeded ``random.Random`` (same seed → same pages) except public
facts: product names and style codes come from :data:`soleflipper.demo_data.CATALOG`. Property
names and types follow ``soleflipper/notion_mappings/default.yaml`` (the original system's names:
SKU, Gross Buy, Net Buy, VAT?, Buy Date, Sale ID, Sale Platform, ROI, Shelf Life, PAS, ...).

The catalogue covers every property type of api-contracts.md §2.5: empty values, date ranges with
and without times and time zones (offset form and local-time + ``time_zone`` form), a relation
with more than 25 pages (``has_more``) and its ``incomplete`` rollup, rollups of type number /
date / array, formulas of each result type, Notion-hosted (expiring) and external files, full and
partial users, ``unique_id`` with and without prefix, a button; plus pages in the trash.

:func:`build_demo_workspace` seeds the same databases with the demo's purchases instead (the
Notion share of :func:`soleflipper.demo_data.iter_purchases`) and their StockX sales.

Formulas and rollups are computed when a page is rendered (they follow edits and the clock, as in
Notion, without changing ``last_edited_time``).
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from soleflipper.demo_data import (
    CATALOG,
    DEMO_SUPPLIERS,
    NA,
    PRODUCTS_BY_ITEM,
    SIZES,
    SUPPLIERS_BY_NAME,
    Product,
    Purchase,
    generate_sales,
    iter_purchases,
    split_purchases,
)

BERLIN = ZoneInfo("Europe/Berlin")

PURCHASES_DATABASE_ID = "1f3c2a4e-8b7d-4c21-9e5a-3d6f7a8b9c01"
PURCHASES_DATA_SOURCE_ID = "2a4d3b5f-9c8e-4d32-8f6b-4e7a8b9cad02"
SALES_DATABASE_ID = "3b5e4c6a-ad9f-4e43-9a7c-5f8b9cadbe03"
SALES_DATA_SOURCE_ID = "4c6f5d7b-beaa-4f54-8b8d-6a9cadbecf04"
WORKSPACE_PAGE_ID = "5d7a6e8c-cfbb-4a65-9c9e-7badcfe0d105"

# Seeded data spans the original system's period; nothing was edited after SEED_NOW.
SEED_START = date(2024, 3, 1)
SEED_END = date(2025, 6, 30)
SEED_NOW = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
# A bulk edit (payouts ticked in one go): many sales share this last_edited_time minute.
BULK_EDIT_AT = datetime(2025, 6, 30, 20, 15, tzinfo=UTC)

LENA = "7a1b2c3d-0000-4000-8000-000000000001"
MO = "7a1b2c3d-0000-4000-8000-000000000002"
SYNC_BOT = "7a1b2c3d-0000-4000-8000-0000000000b0"
GUEST = "7a1b2c3d-0000-4000-8000-00000000dead"  # left the workspace: served as a partial user
USERS: dict[str, dict[str, Any]] = {
    LENA: {"object": "user", "id": LENA, "name": "Lena Hoffmann", "avatar_url": None, "type": "person",
           "person": {"email": "lena@demo-sneakers.example"}},
    MO: {"object": "user", "id": MO, "name": "Mo Yilmaz", "avatar_url": None, "type": "person",
         "person": {"email": "mo@demo-sneakers.example"}},
    SYNC_BOT: {"object": "user", "id": SYNC_BOT, "name": "SoleFlipper Sync", "avatar_url": None, "type": "bot",
               "bot": {}},
}  # fmt: skip

COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
STATUSES = (
    "Incoming",
    "Available",
    "Consigned",
    "Need Shipping",
    "Packed",
    "Outgoing",
    "Sale completed",
    "Cancelled",
)
STATUS_GROUPS = (
    ("To-do", "gray", ("Incoming",)),
    ("In progress", "blue", ("Available", "Consigned", "Need Shipping", "Packed", "Outgoing")),
    ("Complete", "green", ("Sale completed", "Cancelled")),
)
PLATFORMS = ("StockX", "Alias", "eBay", "Laced", "WTN", "Kleinanzeigen", "Return")
SUPPLIERS: tuple[tuple[str, float, int], ...] = (  # name, weight, return window (days)
    ("Solebox", 10, 14), ("BSTN", 8, 14), ("Snipes", 9, 30), ("Afew", 5, 14), ("43einhalb", 4, 14),
    ("Overkill", 5, 14), ("Asphaltgold", 6, 14), ("Allike", 3, 14), ("Kickz", 3, 30), ("Zalando", 8, 100),
    ("About You", 4, 30), ("Footlocker", 6, 30), ("END.", 3, 14), ("SNS", 4, 14), ("Nike", 10, 30),
    ("Adidas", 6, 30), ("New Balance", 3, 30), ("Privat", 3, 0),
)  # fmt: skip
BRAND_SHOPS = {"Nike": ("Nike", "Jordan"), "Adidas": ("adidas",), "New Balance": ("New Balance",)}
PURCHASE_TAGS = ("Raffle W", "Restock", "Sale -20%", "Bundle", "Box damaged", "Retail")
SALE_TAGS = ("Flex", "Express", "Consignment", "Price matched")
INVOICE_STATES = ("Need Request", "In Account", "Done", "False")
SIZE_SYSTEMS = {
    "M": "US",
    "W": "US W",
    "GS": "US Y",
    "PS": "US C",
    "TD": "US C",
    "EU": "EU",
    "APP": "Clothing",
}
FILE_HOST = "https://files.notion-sim.example/secure"
EXTERNAL_HOST = "https://drive.demo-sneakers.example"
RELATION_INLINE_MAX = 25


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _prop_id(database: str, name: str) -> str:
    """A short, URL-encoded property id like Notion's (``%3AUPp``), stable per database and name."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:;<=>?@[]^_`{|}~"
    digest = hashlib.sha256(f"{database}/{name}".encode()).digest()
    return quote("".join(alphabet[b % len(alphabet)] for b in digest[:4]), safe="")


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rich_text(content: str, *, bold: bool = False, link: str | None = None) -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": {"bold": bold, "italic": False, "strikethrough": False, "underline": False,
                        "code": False, "color": "default"},
        "plain_text": content,
        "href": link,
    }  # fmt: skip


def user_mention(user_id: str) -> dict[str, Any]:
    name = USERS[user_id]["name"]
    return {
        "type": "mention",
        "mention": {"type": "user", "user": {"object": "user", "id": user_id}},
        "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                        "code": False, "color": "default"},
        "plain_text": f"@{name}",
        "href": None,
    }  # fmt: skip


# -- schema -----------------------------------------------------------------------------------

Compute = Callable[["Workspace", "SimPage", datetime], dict[str, Any]]


@dataclass
class Prop:
    name: str
    type: str
    id: str
    config: dict[str, Any] = field(default_factory=dict)
    compute: Compute | None = None  # formula / rollup: the value under the type key

    @property
    def editable(self) -> bool:
        return self.type not in COMPUTED_TYPES


COMPUTED_TYPES = frozenset(
    {
        "formula",
        "rollup",
        "created_time",
        "last_edited_time",
        "created_by",
        "last_edited_by",
        "unique_id",
        "button",
    }
)


@dataclass
class SimDatabase:
    key: str
    title: str
    database_id: str
    data_source_id: str
    props: dict[str, Prop]
    created_time: datetime
    icon: str

    @property
    def title_prop(self) -> str:
        return next(name for name, p in self.props.items() if p.type == "title")


@dataclass
class SimPage:
    id: str
    db: str
    created_time: datetime
    last_edited_time: datetime
    created_by: str
    last_edited_by: str
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    in_trash: bool = False
    icon: str | None = None


# -- formulas and rollups -----------------------------------------------------------------------


def _num(ws: Workspace, page: SimPage, name: str) -> float | None:
    value = ws.value(page, name)
    return None if value is None else float(value)


def _date_start(value: dict[str, Any] | None) -> date | None:
    if not value or not value.get("start"):
        return None
    start = value["start"]
    if "T" not in start:
        return date.fromisoformat(start)
    moment = datetime.fromisoformat(start)
    zone = ZoneInfo(value["time_zone"]) if value.get("time_zone") else None
    if moment.tzinfo is None:
        return moment.date()
    return (moment.astimezone(zone) if zone else moment).date()


def _today(now: datetime) -> date:
    return now.astimezone(BERLIN).date()


def _date_obj(day: date | None) -> dict[str, Any] | None:
    return None if day is None else {"start": day.isoformat(), "end": None, "time_zone": None}


def _formula(kind: str, value: Any) -> dict[str, Any]:
    return {"type": kind, kind: value}


def _supplier_window(name: str | None) -> int:
    if name in SUPPLIERS_BY_NAME:  # the demo's suppliers
        return SUPPLIERS_BY_NAME[name].return_days
    return next((days for supplier, _, days in SUPPLIERS if supplier == name), 14)


def f_vat_amount(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    gross, net = _num(ws, page, "Gross Buy"), _num(ws, page, "Net Buy")
    if gross is None or net is None:
        return _formula("number", None)
    return _formula("number", round(gross - net, 2) if ws.value(page, "VAT?") else 0)


def f_sold(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    return _formula("boolean", bool(ws.value(page, "Sale")))


def _return_deadline(ws: Workspace, page: SimPage) -> date | None:
    bought = _date_start(ws.value(page, "Buy Date"))
    window = _supplier_window(ws.value(page, "Supplier"))
    return bought + timedelta(days=window) if bought and window else None


def f_return(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    if ws.value(page, "Sale") or not ws.value(page, "Buy Date"):
        return _formula("string", None)
    deadline = _return_deadline(ws, page)
    if deadline is None or _today(now) > deadline:
        return _formula("string", "🔴 Return not possible")
    return _formula("string", f"🟢 Return possible until {deadline:%d.%m.%Y}")


def f_return_deadline(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    return _formula("date", _date_obj(_return_deadline(ws, page)))


def _rollup(kind: str, value: Any, function: str) -> dict[str, Any]:
    return {"type": kind, kind: value, "function": function}


def r_package_total(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    related = ws.value(page, "Bulk Package") or []
    if len(related) > RELATION_INLINE_MAX:  # not computed inline past the 25 references a page holds
        return {"type": "incomplete", "incomplete": {}, "function": "sum"}
    amounts = [_num(ws, ws.pages[pid], "Gross Buy") for pid in related if pid in ws.pages]
    amounts = [a for a in amounts if a is not None]
    return _rollup("number", round(sum(amounts), 2) if amounts else None, "sum")


def _purchases(ws: Workspace, sale: SimPage) -> list[SimPage]:
    return [ws.pages[pid] for pid in ws.value(sale, "Purchase") or [] if pid in ws.pages]


def r_net_buy(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    amounts = [a for a in (_num(ws, p, "Net Buy") for p in _purchases(ws, page)) if a is not None]
    return _rollup("number", round(sum(amounts), 2) if amounts else None, "sum")


def r_buy_date(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    days = [d for d in (ws.value(p, "Buy Date") for p in _purchases(ws, page)) if d]
    earliest = min(days, key=lambda d: _date_start(d) or date.max) if days else None
    return _rollup("date", dict(earliest) if earliest else None, "earliest_date")


def r_supplier(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    items = [
        {"type": "select", "select": ws.option("purchases", "Supplier", ws.value(p, "Supplier"))}
        for p in _purchases(ws, page)
    ]
    return _rollup("array", items, "show_original")


def _sale_numbers(ws: Workspace, page: SimPage) -> tuple[float | None, float | None, int | None]:
    net_sale = _num(ws, page, "Net Sale")
    net_buy = r_net_buy(ws, page, SEED_NOW)["number"]
    profit = round(net_sale - net_buy, 2) if net_sale is not None and net_buy is not None else None
    sold = _date_start(ws.value(page, "Sale Date"))
    bought = _date_start(r_buy_date(ws, page, SEED_NOW)["date"])
    shelf = (sold - bought).days if sold and bought else None
    return profit, net_buy, shelf


def f_profit(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    return _formula("number", _sale_numbers(ws, page)[0])


def f_roi(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    profit, net_buy, _ = _sale_numbers(ws, page)
    return _formula("number", round(profit / net_buy, 4) if profit is not None and net_buy else None)


def f_shelf_life(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    return _formula("number", _sale_numbers(ws, page)[2])


def f_pas(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    profit, _, shelf = _sale_numbers(ws, page)
    return _formula("number", round(profit / shelf, 2) if profit is not None and shelf else None)


def f_sale_overview(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    sold = _date_start(ws.value(page, "Sale Date"))
    if sold is None:
        return _formula("string", None)
    size = ws.value(page, "Size") or "?"
    sale_id = ws.plain_text(page, "Sale ID") or "no ID"
    return _formula("string", f"Size {size} - {sale_id} - Sold {(_today(now) - sold).days} Days ago")


def f_payout_due(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    sold = _date_start(ws.value(page, "Sale Date"))
    return _formula("date", _date_obj(sold + timedelta(days=14) if sold else None))


def f_payout_overdue(ws: Workspace, page: SimPage, now: datetime) -> dict[str, Any]:
    sold = _date_start(ws.value(page, "Sale Date"))
    if sold is None:
        return _formula("boolean", None)
    return _formula(
        "boolean", not ws.value(page, "Payout Received?") and _today(now) > sold + timedelta(days=14)
    )


def _options(names: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"id": _prop_id("option", name), "name": name, "color": COLORS[i % len(COLORS)], "description": None}
        for i, name in enumerate(names)
    ]


def _schema(db: str, spec: list[tuple[str, str, dict[str, Any], Compute | None]]) -> dict[str, Prop]:
    props = {}
    for name, kind, config, compute in spec:
        props[name] = Prop(name, kind, "title" if kind == "title" else _prop_id(db, name), config, compute)
    return props


def purchases_schema() -> dict[str, Prop]:
    sizes = sorted(
        {_size_label(kind, s) for kind, values in SIZES.items() if kind != "NA" for s, _ in values}
    )
    brands = sorted({p.brand for p in CATALOG})
    return _schema("purchases", [
        ("SKU", "title", {}, None),
        ("Product", "rich_text", {}, None),
        ("Brand", "select", {"options": _options(brands)}, None),
        ("Size", "select", {"options": _options(sizes)}, None),
        ("Type", "select", {"options": _options(sorted(set(SIZE_SYSTEMS.values())))}, None),
        ("Supplier", "select", {"options": _options(s for s, _, _ in SUPPLIERS)}, None),
        ("Order No.", "rich_text", {}, None),
        ("Invoice Nr.", "rich_text", {}, None),
        ("Email", "email", {}, None),
        ("Gross Buy", "number", {"format": "euro"}, None),
        ("Net Buy", "number", {"format": "euro"}, None),
        ("VAT?", "checkbox", {}, None),
        ("VAT Amount", "formula", {"expression": 'if(prop("VAT?"), prop("Gross Buy") - prop("Net Buy"), 0)'},
         f_vat_amount),
        ("Buy Date", "date", {}, None),
        ("Delivery Date", "date", {}, None),
        ("Invoice", "select", {"options": _options(INVOICE_STATES)}, None),
        ("Status", "status", {}, None),
        ("Location", "select", {"options": _options(("Alias", "Reshipper"))}, None),
        ("Listed on StockX?", "checkbox", {}, None),
        ("Listed on Alias?", "checkbox", {}, None),
        ("Listed Local?", "checkbox", {}, None),
        ("Tags", "multi_select", {"options": _options(PURCHASE_TAGS)}, None),
        ("StockX Link", "url", {}, None),
        ("Bulk Package", "relation", {"database": "purchases", "type": "single_property"}, None),
        ("Package Total", "rollup", {"relation": "Bulk Package", "rollup": "Gross Buy", "function": "sum"},
         r_package_total),
        ("Sale", "relation", {"database": "sales", "type": "dual_property", "synced": "Purchase"}, None),
        ("Sold?", "formula", {"expression": 'not(empty(prop("Sale")))'}, f_sold),
        ("Return", "formula", {"expression": 'if(now() > prop("Return Deadline"), "🔴 Return not possible", …)'},
         f_return),
        ("Return Deadline", "formula", {"expression": 'dateAdd(prop("Buy Date"), returnWindow, "days")'},
         f_return_deadline),
        ("Runner", "rich_text", {}, None),
        ("Owner", "people", {}, None),
        ("Receipt", "files", {}, None),
        ("Purchase ID", "unique_id", {"prefix": "BUY"}, None),
        ("Created", "created_time", {}, None),
        ("Created By", "created_by", {}, None),
        ("Last Edited", "last_edited_time", {}, None),
        ("Last Edited By", "last_edited_by", {}, None),
        ("Mark as sold", "button", {}, None),
    ])  # fmt: skip


def sales_schema() -> dict[str, Prop]:
    sizes = sorted(
        {_size_label(kind, s) for kind, values in SIZES.items() if kind != "NA" for s, _ in values}
    )
    return _schema("sales", [
        ("SKU", "title", {}, None),
        ("Size", "select", {"options": _options(sizes)}, None),
        ("Sale ID", "rich_text", {}, None),
        ("No.", "unique_id", {"prefix": None}, None),
        ("Sale Platform", "select", {"options": _options(PLATFORMS)}, None),
        ("Sale Date", "date", {}, None),
        ("Gross Sale", "number", {"format": "euro"}, None),
        ("Net Sale", "number", {"format": "euro"}, None),
        ("Purchase", "relation", {"database": "purchases", "type": "dual_property", "synced": "Sale"}, None),
        ("Net Buy", "rollup", {"relation": "Purchase", "rollup": "Net Buy", "function": "sum"}, r_net_buy),
        ("Buy Date", "rollup", {"relation": "Purchase", "rollup": "Buy Date", "function": "earliest_date"},
         r_buy_date),
        ("Supplier", "rollup", {"relation": "Purchase", "rollup": "Supplier", "function": "show_original"},
         r_supplier),
        ("Profit", "formula", {"expression": 'prop("Net Sale") - prop("Net Buy")'}, f_profit),
        ("ROI", "formula", {"expression": 'prop("Profit") / prop("Net Buy")'}, f_roi),
        ("Shelf Life", "formula", {"expression": 'dateBetween(prop("Sale Date"), prop("Buy Date"), "days")'},
         f_shelf_life),
        ("PAS", "formula", {"expression": 'prop("Profit") / prop("Shelf Life")'}, f_pas),
        ("Sale Overview", "formula",
         {"expression": '"Size " + prop("Size") + " - " + prop("Sale ID") + " - Sold " + … + " Days ago"'},
         f_sale_overview),
        ("Payout Received?", "checkbox", {}, None),
        ("Payout Due", "formula", {"expression": 'dateAdd(prop("Sale Date"), 14, "days")'}, f_payout_due),
        ("Payout Overdue?", "formula",
         {"expression": 'and(not(prop("Payout Received?")), now() > prop("Payout Due"))'}, f_payout_overdue),
        ("Status", "status", {}, None),
        ("Tags", "multi_select", {"options": _options(SALE_TAGS)}, None),
        ("Buyer Phone", "phone_number", {}, None),
        ("Listing", "url", {}, None),
        ("Documents", "files", {}, None),
        ("Owner", "people", {}, None),
        ("Created", "created_time", {}, None),
        ("Created By", "created_by", {}, None),
        ("Last Edited", "last_edited_time", {}, None),
        ("Last Edited By", "last_edited_by", {}, None),
    ])  # fmt: skip


# -- the workspace ----------------------------------------------------------------------------


class Workspace:
    """Databases, pages and users; renders pages as the API sends them and applies edits."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.databases = {
            "purchases": SimDatabase(
                "purchases", "Purchases", PURCHASES_DATABASE_ID, PURCHASES_DATA_SOURCE_ID, purchases_schema(),
                datetime(2024, 2, 26, 18, 4, tzinfo=UTC), "🛒",
            ),
            "sales": SimDatabase(
                "sales", "Sales", SALES_DATABASE_ID, SALES_DATA_SOURCE_ID, sales_schema(),
                datetime(2024, 2, 26, 18, 9, tzinfo=UTC), "💶",
            ),
        }  # fmt: skip
        self.pages: dict[str, SimPage] = {}
        self._numbers = {"purchases": 0, "sales": 0}

    # -- lookups ---------------------------------------------------------------------------

    def database(self, key: str) -> SimDatabase:
        return self.databases[key]

    def value(self, page: SimPage, name: str) -> Any:
        return page.values.get(name)

    def plain_text(self, page: SimPage, name: str) -> str | None:
        items = page.values.get(name) or []
        return "".join(item["plain_text"] for item in items) or None

    def option(self, db: str, prop: str, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        schema = self.databases[db].props[prop]
        options = schema.config.setdefault("options", [])
        for option in options:
            if option["name"] == name:
                return {"id": option["id"], "name": name, "color": option["color"]}
        option = {"id": _prop_id("option", name), "name": name, "color": COLORS[len(options) % len(COLORS)],
                  "description": None}  # fmt: skip
        options.append(option)  # Notion adds unknown select values as new options
        return {"id": option["id"], "name": name, "color": option["color"]}

    def status_option(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        return {"id": _prop_id("status", name), "name": name, "color": _status_color(name)}

    # -- rendering -------------------------------------------------------------------------

    def render_value(self, page: SimPage, prop: Prop, now: datetime) -> dict[str, Any]:
        """One property value object: ``{"id", "type", <type>: value}`` (+ ``has_more`` for relations)."""
        kind, raw = prop.type, page.values.get(prop.name)
        out: dict[str, Any] = {"id": prop.id, "type": kind}
        if prop.compute is not None:
            out[kind] = prop.compute(self, page, now)
        elif kind in ("title", "rich_text"):
            out[kind] = [dict(item) for item in raw or []]
        elif kind == "select":
            out[kind] = self.option(page.db, prop.name, raw)
        elif kind == "status":
            out[kind] = self.status_option(raw)
        elif kind == "multi_select":
            out[kind] = [self.option(page.db, prop.name, name) for name in raw or []]
        elif kind == "date":
            out[kind] = dict(raw) if raw else None
        elif kind == "checkbox":
            out[kind] = bool(raw)
        elif kind in ("number", "url", "email", "phone_number"):
            out[kind] = raw
        elif kind == "relation":
            ids = list(raw or [])
            out[kind] = [{"id": pid} for pid in ids[:RELATION_INLINE_MAX]]
            out["has_more"] = len(ids) > RELATION_INLINE_MAX
        elif kind == "people":
            out[kind] = [dict(USERS.get(uid, {"object": "user", "id": uid})) for uid in raw or []]
        elif kind == "files":
            out[kind] = [self._file(item, now) for item in raw or []]
        elif kind == "unique_id":
            out[kind] = {"prefix": prop.config.get("prefix"), "number": page.number}
        elif kind == "created_time":
            out[kind] = iso(page.created_time)
        elif kind == "last_edited_time":
            out[kind] = iso(page.last_edited_time)
        elif kind == "created_by":
            out[kind] = {"object": "user", "id": page.created_by}
        elif kind == "last_edited_by":
            out[kind] = {"object": "user", "id": page.last_edited_by}
        elif kind == "button":
            out[kind] = {}
        else:  # pragma: no cover - every schema type is handled above
            out[kind] = raw
        return out

    def _file(self, item: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not item.get("hosted"):
            return {"name": item["name"], "type": "external", "external": {"url": item["url"]}}
        signature = hashlib.sha256(f"{item['key']}/{int(now.timestamp()) // 3600}".encode()).hexdigest()[:32]
        return {
            "name": item["name"],
            "type": "file",
            "file": {
                "url": f"{FILE_HOST}/{item['key']}/{quote(item['name'])}?X-Amz-Expires=3600&X-Amz-Signature={signature}",
                "expiry_time": iso(now + timedelta(hours=1)),
            },
        }

    def render_page(
        self, page: SimPage, version: str, now: datetime, only: set[str] | None = None
    ) -> dict[str, Any]:
        """The page object as ``version`` shapes it (parent, ``archived`` until 2026-03-11)."""
        db = self.databases[page.db]
        if version >= "2025-09-03":
            parent = {
                "type": "data_source_id",
                "data_source_id": db.data_source_id,
                "database_id": db.database_id,
            }
        else:
            parent = {"type": "database_id", "database_id": db.database_id}
        properties = {
            name: self.render_value(page, prop, now)
            for name, prop in db.props.items()
            if only is None or prop.id in only or name in only
        }
        title = self.plain_text(page, db.title_prop) or ""
        slug = "-".join(filter(None, [_slug(title), page.id.replace("-", "")]))
        out: dict[str, Any] = {
            "object": "page",
            "id": page.id,
            "created_time": iso(page.created_time),
            "last_edited_time": iso(page.last_edited_time),
            "created_by": {"object": "user", "id": page.created_by},
            "last_edited_by": {"object": "user", "id": page.last_edited_by},
            "cover": None,
            "icon": {"type": "emoji", "emoji": page.icon} if page.icon else None,
            "parent": parent,
            "in_trash": page.in_trash,
            "archived": page.in_trash,
            "is_locked": False,
            "properties": properties,
            "url": f"https://www.notion.so/{slug}",
            "public_url": None,
        }
        if version >= "2026-03-11":
            del out["archived"]
        return out

    # -- writing ---------------------------------------------------------------------------

    def resolve(self, db: str, key: str) -> Prop:
        """A property by exact name, or by a Python-ish name (``gross_buy`` → ``Gross Buy``)."""
        props = self.databases[db].props
        if key in props:
            return props[key]
        wanted = _normalise(key)
        for name, prop in props.items():
            if _normalise(name) == wanted:
                return prop
        raise KeyError(f"{db} has no property {key!r}; properties: {', '.join(props)}")

    def set_value(self, page: SimPage, prop: Prop, value: Any) -> None:
        if not prop.editable:
            raise ValueError(f"{prop.name!r} is a {prop.type} property: Notion computes it")
        page.values[prop.name] = to_stored(prop.type, value)

    def new_page(
        self, db: str, created: datetime, by: str, values: dict[str, Any], *, icon: str | None = None
    ) -> SimPage:
        self._numbers[db] += 1
        moment = floor_minute(created)
        page = SimPage(_uuid(self.rng), db, moment, moment, by, by, self._numbers[db], icon=icon)
        for name, value in values.items():
            self.set_value(page, self.databases[db].props[name], value)
        self.pages[page.id] = page
        return page

    def link(self, purchase: SimPage, sale: SimPage) -> None:
        """The dual relation Purchases.Sale ↔ Sales.Purchase."""
        purchase.values.setdefault("Sale", [])
        sale.values.setdefault("Purchase", [])
        if sale.id not in purchase.values["Sale"]:
            purchase.values["Sale"].append(sale.id)
        if purchase.id not in sale.values["Purchase"]:
            sale.values["Purchase"].append(purchase.id)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _status_color(name: str) -> str:
    for _, color, members in STATUS_GROUPS:
        if name in members:
            return color
    return "default"


def status_config() -> dict[str, Any]:
    return {
        "options": [
            {"id": _prop_id("status", n), "name": n, "color": _status_color(n), "description": None}
            for n in STATUSES
        ],
        "groups": [
            {
                "id": _prop_id("group", g),
                "name": g,
                "color": c,
                "option_ids": [_prop_id("status", n) for n in members],
            }
            for g, c, members in STATUS_GROUPS
        ],
    }


def _date_text(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S.000")
        return value.isoformat(timespec="milliseconds")
    return value.isoformat()


def to_stored(kind: str, value: Any) -> Any:
    """A convenient Python value → what a page stores for a property of ``kind``."""
    if kind in ("title", "rich_text"):
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [rich_text(value)]
        return [dict(item) for item in value]
    if kind == "number":
        return None if value is None else (int(value) if float(value).is_integer() else float(value))
    if kind == "date":
        if value is None or isinstance(value, dict):
            return dict(value) if value else None
        if isinstance(value, tuple):
            start, end, *zone = value
            return {"start": _date_text(start), "end": _date_text(end) if end else None,
                    "time_zone": zone[0] if zone else None}  # fmt: skip
        return {"start": _date_text(value), "end": None, "time_zone": None}
    if kind == "checkbox":
        return bool(value)
    if kind in ("multi_select", "relation", "people", "files"):
        return list(value or [])
    return value


def _size_label(kind: str, size: str) -> str:
    if kind == "W":
        return f"{size[:-1]} US W"
    if kind == "EU":
        return f"{size} EU"
    if kind == "APP":
        return size
    return f"{size} US"


# -- seeding ----------------------------------------------------------------------------------


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _order_number(rng: random.Random, supplier: str) -> str:
    if supplier == "Nike":
        return f"C0{rng.randrange(10**9, 10**10)}"
    if supplier == "Adidas":
        return f"ADE{rng.randrange(10**7, 10**8)}"
    if supplier == "Zalando":
        return f"1010{rng.randrange(10**9, 10**10)}"
    if supplier == "Privat":
        return ""
    return f"{supplier[:3].upper().replace('.', '')}-{rng.randrange(10**6, 10**7)}"


def _gross_buy(rng: random.Random, product: Product) -> float:
    if product.premium >= 1.5:
        factor = 1.0  # hyped pairs are bought at retail (raffles)
    else:
        factor = rng.choice((1.0, 1.0, 0.9, 0.8, 0.75, 0.7))
    price = product.retail * factor
    return round(price - 0.01, 2) if rng.random() < 0.5 and factor < 1 else round(price, 2)


def _net_sale(rng: random.Random, platform: str, gross: float, gross_buy: float) -> float:
    if platform == "StockX":
        return round(gross - max(5.0, gross * 0.08) - gross * 0.03, 2)
    if platform == "Alias":
        return round((gross * (1 - 0.095) - 11.0) * (1 - 0.029), 2)
    if platform == "eBay":
        return round(gross * 0.89 - 0.35, 2)
    if platform == "Laced":
        return round(gross * 0.88 - 4.5, 2)
    if platform == "WTN":
        return round(gross * 0.9, 2)
    if platform == "Return":
        return gross_buy
    return gross  # Kleinanzeigen: cash


def _sale_id(rng: random.Random, platform: str, used: set[str]) -> str | None:
    while True:
        if platform == "StockX":
            first = rng.randrange(60_000_000, 90_000_000)
            sale_id = f"{first}-{first - rng.randrange(50_000, 200_000)}"
        elif platform == "Alias":
            sale_id = str(rng.randrange(400_000_000, 600_000_000))
        elif platform == "eBay":
            sale_id = (
                f"{rng.randrange(10, 28)}-{rng.randrange(10_000, 99_999)}-{rng.randrange(10_000, 99_999)}"
            )
        elif platform in ("Laced", "WTN"):
            sale_id = f"#{rng.randrange(100_000, 999_999)}"
        else:
            return None
        if sale_id not in used:
            used.add(sale_id)
            return sale_id


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def _listing_url(rng: random.Random, platform: str, product: Product) -> str | None:
    if platform == "StockX":
        return f"https://stockx.com/{_slug(product.item)}"
    if platform == "Alias":
        return f"https://www.goat.com/sneakers/{_slug(product.item)}"
    if platform == "eBay":
        return f"https://www.ebay.de/itm/{rng.randrange(10**11, 10**12)}"
    return None


def seed_workspace(ws: Workspace, n_purchases: int = 120) -> dict[str, str]:
    """Fill ``ws``: the catalogue pages first (returned by name), then ``n_purchases`` ordinary items."""
    rng = ws.rng
    special = _seed_catalogue(ws)
    products = [p for p in CATALOG]
    weights = [p.popularity for p in products]
    suppliers = [s for s, _, _ in SUPPLIERS]
    supplier_weights = [w for _, w, _ in SUPPLIERS]
    used_ids: set[str] = set()
    span = (SEED_END - SEED_START).days
    bulk_candidates: list[SimPage] = []
    for _ in range(n_purchases):
        product: Product = _weighted(rng, products, weights)
        supplier = _weighted(rng, suppliers, supplier_weights)
        if supplier in BRAND_SHOPS and product.brand not in BRAND_SHOPS[supplier]:
            supplier = "Solebox"
        bought = SEED_START + timedelta(days=rng.randrange(span))
        bought_at = _local(bought, rng.randrange(8, 23), rng.randrange(60))
        size_values = SIZES[product.kind]
        size_raw = _weighted(rng, [s for s, _ in size_values], [w for _, w in size_values])
        size = None if product.kind == "NA" else _size_label(product.kind, size_raw)
        gross = _gross_buy(rng, product)
        vat = supplier != "Privat"
        net = round(gross / 1.19, 2) if vat else gross
        delivered = bought + timedelta(days=rng.randrange(1, 7))
        arrived = delivered <= SEED_END - timedelta(days=1)
        order_no = _order_number(rng, supplier)
        owner = [LENA] if rng.random() < 0.8 else ([LENA, MO] if rng.random() < 0.7 else [])
        runner = rng.random() < 0.1
        receipt: list[dict[str, Any]] = []
        if rng.random() < 0.7:
            receipt.append(
                {"name": f"Rechnung_{order_no or 'privat'}.pdf", "hosted": True, "key": _uuid(rng)}
            )
        elif rng.random() < 0.3:
            receipt.append({"name": "Bestellbestätigung", "hosted": False,
                            "url": f"{EXTERNAL_HOST}/receipts/{_slug(order_no or 'privat')}.pdf"})  # fmt: skip
        values: dict[str, Any] = {
            "SKU": None if product.style == "N/A" else product.style,
            "Product": product.item,
            "Brand": product.brand,
            "Size": size,
            "Type": SIZE_SYSTEMS.get(product.kind),
            "Supplier": supplier,
            "Order No.": order_no,
            "Invoice Nr.": f"RE-{bought.year}-{rng.randrange(10**4, 10**5)}"
            if vat and rng.random() < 0.6
            else None,
            "Email": f"lena.hoffmann+{_slug(supplier)}@demo-sneakers.example"
            if supplier != "Privat"
            else None,
            "Gross Buy": gross,
            "Net Buy": net,
            "VAT?": vat,
            "Buy Date": bought,
            "Delivery Date": delivered if arrived else None,
            "Invoice": "False" if not vat else rng.choice(("Done", "Done", "In Account", "Need Request")),
            "Tags": rng.sample(PURCHASE_TAGS, rng.choice((0, 0, 1, 1, 2))),
            "StockX Link": f"https://stockx.com/{_slug(product.item)}" if rng.random() < 0.8 else None,
            "Runner": "Mo (10 %)" if runner else None,
            "Owner": owner,
            "Receipt": receipt,
        }
        purchase = ws.new_page("purchases", bought_at, rng.choice((LENA, LENA, MO)), values, icon="👟")
        edited = _local(delivered, rng.randrange(9, 21), rng.randrange(60)) if arrived else bought_at
        outcome = rng.random()
        if not arrived:
            status = "Incoming"
        elif outcome < 0.03:
            status = "Cancelled"
        elif outcome < 0.65:
            status = _seed_sale(ws, rng, purchase, product, size, gross, delivered, used_ids, bulk_candidates)
        else:
            status = "Consigned" if rng.random() < 0.25 else "Available"
        purchase.values["Status"] = status
        if status == "Consigned":
            purchase.values["Location"] = "Alias"
            purchase.values["Listed on Alias?"] = True
        elif status == "Available":
            purchase.values["Listed on StockX?"] = rng.random() < 0.7
            purchase.values["Listed on Alias?"] = rng.random() < 0.4
            purchase.values["Listed Local?"] = rng.random() < 0.15
            purchase.values["Location"] = "Reshipper" if rng.random() < 0.1 else None
        sale_pages = [ws.pages[sid] for sid in purchase.values.get("Sale", [])]
        latest = max([edited, *(s.created_time for s in sale_pages)])
        purchase.last_edited_time = min(floor_minute(latest), floor_minute(SEED_NOW - timedelta(hours=12)))
        purchase.last_edited_by = rng.choice((LENA, LENA, MO))
    for sale in bulk_candidates[:8]:  # payouts ticked in one go: one shared last_edited_time minute
        sale.values["Payout Received?"] = True
        sale.last_edited_time = BULK_EDIT_AT
        sale.last_edited_by = LENA
    return special


def _seed_sale(
    ws: Workspace,
    rng: random.Random,
    purchase: SimPage,
    product: Product,
    size: str | None,
    gross_buy: float,
    delivered: date,
    used_ids: set[str],
    bulk_candidates: list[SimPage],
) -> str:
    sold = delivered + timedelta(days=rng.randrange(1, 120))
    if sold > SEED_END:
        return "Available"
    platform = rng.choices(PLATFORMS, weights=(60, 20, 8, 3, 4, 4, 1), k=1)[0]
    market = product.retail * product.premium * rng.uniform(0.92, 1.15)
    gross = gross_buy if platform == "Return" else float(round(market))
    age = (SEED_END - sold).days
    paid = age > 14 or (age > 5 and rng.random() < 0.5)
    files: list[dict[str, Any]] = []
    sale_id = _sale_id(rng, platform, used_ids)
    if platform in ("StockX", "Alias") and rng.random() < 0.6:
        files.append({"name": f"Label_{sale_id}.pdf", "hosted": True, "key": _uuid(rng)})
    if rng.random() < 0.1:
        files.append(
            {"name": "Zustand Fotos", "hosted": False, "url": f"{EXTERNAL_HOST}/photos/{_uuid(rng)}"}
        )
    sold_at = _local(sold, rng.randrange(7, 24), rng.randrange(60))
    values = {
        "SKU": ws.plain_text(purchase, "SKU"),
        "Size": size,
        "Sale ID": sale_id,
        "Sale Platform": platform,
        "Sale Date": sold,
        "Gross Sale": gross,
        "Net Sale": _net_sale(rng, platform, gross, gross_buy),
        "Payout Received?": paid,
        "Status": "Sale completed" if age > 5 else rng.choice(("Need Shipping", "Packed", "Outgoing")),
        "Tags": rng.sample(SALE_TAGS, rng.choice((0, 0, 0, 1))),
        "Buyer Phone": f"+49 15{rng.randrange(1, 8)} {rng.randrange(10**6, 10**7)}" if platform == "Kleinanzeigen" else None,
        "Listing": _listing_url(rng, platform, product),
        "Documents": files,
        "Owner": [LENA],
    }  # fmt: skip
    sale = ws.new_page("sales", sold_at, LENA, values, icon="💶")
    ws.link(purchase, sale)
    edited = sold_at + timedelta(days=rng.randrange(0, 3), minutes=rng.randrange(1, 600))
    if paid:
        edited = max(edited, _local(min(sold + timedelta(days=rng.randrange(5, 15)), SEED_END), 18, 30))
    sale.last_edited_time = min(floor_minute(edited), floor_minute(SEED_NOW - timedelta(hours=12)))
    if platform == "StockX" and paid:
        bulk_candidates.append(sale)
    return sale.values["Status"]


def _seed_catalogue(ws: Workspace) -> dict[str, str]:
    """Hand-made pages: every property type, every empty value, ranges, time zones, trash."""
    dunk = next(p for p in CATALOG if p.style == "DD1391-100")
    samba = next(p for p in CATALOG if p.style == "B75806")
    # A bulk buy: 31 pairs of Samba in one Adidas order; the head page relates to the other 30.
    bulk_order = "ADE40417731"
    bulk_day = date(2025, 3, 14)
    members = []
    for i in range(30):
        member = ws.new_page("purchases", _local(bulk_day, 19, 45), LENA, {
            "SKU": samba.style, "Product": samba.item, "Brand": samba.brand,
            "Size": _size_label("M", ("8", "8.5", "9", "9.5", "10", "10.5", "11")[i % 7]), "Type": "US",
            "Supplier": "Adidas", "Order No.": bulk_order, "Email": "lena.hoffmann+adidas@demo-sneakers.example",
            "Gross Buy": 84.0, "Net Buy": 70.59, "VAT?": True, "Buy Date": bulk_day,
            "Delivery Date": date(2025, 3, 19), "Invoice": "Done", "Status": "Available", "Tags": ["Bundle"],
            "Owner": [LENA],
        }, icon="👟")  # fmt: skip
        # delivered and unpacked in groups of five: five pages share each last_edited_time minute
        member.last_edited_time = datetime(2025, 3, 19, 16, 2 + i // 5, tzinfo=UTC)
        members.append(member.id)
    full = ws.new_page("purchases", _local(bulk_day, 19, 45), LENA, {
        "SKU": [rich_text(dunk.style)],
        "Product": [rich_text("Nike Dunk Low "), rich_text("Retro White Black", bold=True)],
        "Brand": "Nike", "Size": "10.5 US", "Type": "US", "Supplier": "Solebox",
        "Order No.": "SOL-4417731", "Invoice Nr.": "RE-2025-00412", "Email": "lena.hoffmann+solebox@demo-sneakers.example",
        "Gross Buy": 119.99, "Net Buy": 100.83, "VAT?": True,
        # a moment with a time zone, sent with its offset
        "Buy Date": {"start": "2025-03-14T19:45:00.000+01:00", "end": None, "time_zone": "Europe/Berlin"},
        # an expected-delivery window: a range of days
        "Delivery Date": (date(2025, 3, 17), date(2025, 3, 19)),
        "Invoice": "Done", "Status": "Sale completed", "Location": "Reshipper",
        "Listed on StockX?": True, "Listed on Alias?": False, "Listed Local?": True,
        "Tags": ["Restock", "Bundle"], "StockX Link": "https://stockx.com/nike-dunk-low-retro-white-black-2021",
        "Bulk Package": members,
        "Runner": [user_mention(MO), rich_text(" (10 %)")],
        "Owner": [LENA, GUEST],
        "Receipt": [
            {"name": "Rechnung_SOL-4417731.pdf", "hosted": True, "key": "9f1c0e2a-receipt-sol-4417731"},
            {"name": "Bestellbestätigung Solebox", "hosted": False,
             "url": f"{EXTERNAL_HOST}/receipts/sol-4417731.pdf"},
        ],
    }, icon="👟")  # fmt: skip
    sale = ws.new_page("sales", datetime(2025, 4, 2, 19, 15, tzinfo=UTC), LENA, {
        "SKU": dunk.style, "Size": "10.5 US", "Sale ID": "76551909-76451668", "Sale Platform": "StockX",
        # local wall time plus time_zone (the request form; Notion also answers in it)
        "Sale Date": {"start": "2025-04-02T21:15:00.000", "end": None, "time_zone": "Europe/Berlin"},
        "Gross Sale": 148.5, "Net Sale": 127.71, "Payout Received?": True, "Status": "Sale completed",
        "Tags": ["Express"], "Listing": "https://stockx.com/nike-dunk-low-retro-white-black-2021",
        "Documents": [
            {"name": "Label_76551909-76451668.pdf", "hosted": True, "key": "5be0d1f3-label-76551909"},
            {"name": "Zustand Fotos", "hosted": False, "url": f"{EXTERNAL_HOST}/photos/76551909"},
        ],
        "Owner": [LENA, MO],
    }, icon="💶")  # fmt: skip
    ws.link(full, sale)
    full.last_edited_time = datetime(2025, 4, 2, 19, 16, tzinfo=UTC)
    full.last_edited_by = MO
    sale.last_edited_time = datetime(2025, 4, 9, 7, 30, tzinfo=UTC)
    # A delivery window with times and a time zone (a datetime range).
    window = ws.new_page("purchases", _local(date(2025, 4, 8), 10, 3), MO, {
        "SKU": "DZ5485-612", "Product": "Jordan 1 Retro High OG Chicago Lost and Found", "Brand": "Jordan",
        "Size": "9 US", "Type": "US", "Supplier": "Nike", "Order No.": "C01290384756",
        "Email": "mo.yilmaz+nike@demo-sneakers.example", "Gross Buy": 180.0, "Net Buy": 151.26, "VAT?": True,
        "Buy Date": date(2025, 4, 8),
        "Delivery Date": {"start": "2025-04-10T10:00:00.000+02:00", "end": "2025-04-10T14:00:00.000+02:00",
                          "time_zone": "Europe/Berlin"},
        "Invoice": "Need Request", "Status": "Available", "Listed on StockX?": True, "Owner": [MO],
    }, icon="👟")  # fmt: skip
    window.last_edited_time = datetime(2025, 4, 10, 12, 41, tzinfo=UTC)
    # Freshly created, nothing filled in yet: every empty value.
    empty_purchase = ws.new_page("purchases", datetime(2025, 6, 29, 9, 12, tzinfo=UTC), LENA, {})
    empty_sale = ws.new_page("sales", datetime(2025, 6, 29, 9, 13, tzinfo=UTC), LENA, {})
    # In the trash: a duplicate entry and a sale that fell through.
    trashed_purchase = ws.new_page("purchases", _local(date(2025, 5, 2), 12, 0), LENA, {
        "SKU": "CW2288-111", "Product": "Nike Air Force 1 Low '07 White", "Brand": "Nike", "Size": "10 US",
        "Type": "US", "Supplier": "Footlocker", "Gross Buy": 119.99, "Net Buy": 100.83, "VAT?": True,
        "Buy Date": date(2025, 5, 2), "Status": "Cancelled", "Tags": ["Retail"],
    })  # fmt: skip
    trashed_purchase.in_trash = True
    trashed_purchase.last_edited_time = datetime(2025, 5, 3, 8, 20, tzinfo=UTC)
    trashed_sale = ws.new_page("sales", _local(date(2025, 5, 20), 14, 30), LENA, {
        "SKU": "HQ6316", "Size": "11 US", "Sale ID": "81233456-81101234", "Sale Platform": "StockX",
        "Sale Date": date(2025, 5, 20), "Gross Sale": 212.0, "Net Sale": 183.08, "Status": "Cancelled",
    })  # fmt: skip
    trashed_sale.in_trash = True
    trashed_sale.last_edited_time = datetime(2025, 5, 21, 9, 5, tzinfo=UTC)
    return {
        "purchase_full": full.id,
        "purchase_delivery_window": window.id,
        "purchase_empty": empty_purchase.id,
        "purchase_trashed": trashed_purchase.id,
        "purchase_bulk_member": members[0],
        "sale_full": sale.id,
        "sale_empty": empty_sale.id,
        "sale_trashed": trashed_sale.id,
    }


def build_workspace(seed: int = 7, n_purchases: int = 120) -> tuple[Workspace, dict[str, str]]:
    """A seeded workspace and the ids of its hand-made catalogue pages."""
    ws = Workspace(seed)
    ws.databases["purchases"].props["Status"].config = status_config()
    ws.databases["sales"].props["Status"].config = status_config()
    special = seed_workspace(ws, n_purchases)
    return ws, special


# -- demo seeding: the Notion share of the demo purchases -------------------------------------


def _demo_moment(rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 22) -> datetime:
    return _local(day, rng.randrange(first_hour, last_hour + 1), rng.randrange(60))


def _report_moment(text: str) -> datetime:
    """A sales report timestamp (``2024-03-05 14:07:09 +00``) as a UTC datetime."""
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _demo_purchase_values(rng: random.Random, p: Purchase) -> dict[str, Any]:
    product = PRODUCTS_BY_ITEM[p.product_name]
    sized = p.style_code != NA
    receipt: list[dict[str, Any]] = []
    if p.invoice_number:
        receipt.append({"name": f"Rechnung_{p.invoice_number}.pdf", "hosted": True, "key": _uuid(rng)})
    if p.vat and p.invoice_number:
        invoice = "Done" if rng.random() < 0.85 else "In Account"
    else:
        invoice = "Need Request" if p.vat else "False"
    return {
        "SKU": p.style_code if sized else None,
        "Product": p.product_name,
        "Brand": p.brand,
        "Size": p.size if sized else None,  # as the StockX report writes it
        "Type": SIZE_SYSTEMS.get(product.kind),
        "Supplier": p.supplier,
        "Order No.": p.supplier_order_number or None,
        "Invoice Nr.": p.invoice_number or None,
        "Email": f"lena.hoffmann+{_slug(p.supplier)}@demo-sneakers.example" if p.vat else None,
        "Gross Buy": float(p.gross_price),
        "Net Buy": float(p.net_price),
        "VAT?": p.vat,
        "Buy Date": p.purchase_date,
        "Delivery Date": p.delivery_date,
        "Invoice": invoice,
        "Tags": ["Retail"] if p.vat and p.gross_price >= product.retail - 1 else [],
        "StockX Link": f"https://stockx.com/{_slug(p.product_name)}",
        "Runner": "Mo (10 %)" if rng.random() < 0.05 else None,
        "Owner": [LENA],
        "Receipt": receipt,
    }


def seed_demo_workspace(ws: Workspace, n_sales: int, seed: int = 7) -> dict[str, str]:
    """Fill ``ws`` with the Notion share of the demo purchases and their StockX sales.

    Purchases: exactly the units :func:`soleflipper.demo_data.split_purchases` gives Notion, in
    purchase-date order. Sales: one page per sold unit, ``Sale ID`` = the StockX order number,
    ``Gross Sale`` = listing price and ``Net Sale`` = payout of the sales report row, related to
    its purchase (``Purchase`` <-> ``Sale``). Unsold units are ``Available`` (``Incoming`` if not
    delivered yet). Returns the page ids by StockX order number (``sale:<order>``) and by unit
    (``purchase:<unit>``).
    """
    rng = random.Random(f"soleflipper-demo-notion-{seed}")
    _, notion = split_purchases(iter_purchases(n_sales, seed=seed))
    sold = {p.sale_order_number for p in notion if p.sold}
    sales = {r["Order Number"]: r for r in generate_sales(n_sales, seed=seed) if r["Order Number"] in sold}
    sizes = sorted({p.size for p in notion if p.style_code != NA})
    for db in ("purchases", "sales"):
        ws.databases[db].props["Size"].config["options"] = _options(sizes)
    ws.databases["purchases"].props["Supplier"].config["options"] = _options(s.name for s in DEMO_SUPPLIERS)
    ids: dict[str, str] = {}
    purchase_pages: dict[int, SimPage] = {}
    for p in notion:
        created = _demo_moment(rng, p.purchase_date)
        page = ws.new_page("purchases", created, LENA, _demo_purchase_values(rng, p), icon="👟")
        if p.sold:
            page.values["Status"] = "Sale completed"
        elif p.delivery_date is None:
            page.values["Status"] = "Incoming"
        else:
            page.values["Status"] = "Available"
            page.values["Listed on StockX?"] = rng.random() < 0.8
            page.values["Listed on Alias?"] = rng.random() < 0.3
        if p.delivery_date is not None:  # ticked off on arrival
            page.last_edited_time = max(page.created_time, floor_minute(_demo_moment(rng, p.delivery_date, 9, 20)))
        purchase_pages[p.unit] = page
        ids[f"purchase:{p.unit}"] = page.id
    for p in sorted((p for p in notion if p.sold), key=lambda p: (p.sale_date, p.unit)):
        row = sales[p.sale_order_number]
        sold_at = _report_moment(row["Sale Date"])
        paid_at = _report_moment(row["Payout date"])
        order = row["Order Number"]
        values = {
            "SKU": p.style_code if p.style_code != NA else None,
            "Size": p.size if p.style_code != NA else None,
            "Sale ID": order,
            "Sale Platform": "StockX",
            "Sale Date": sold_at.date(),
            "Gross Sale": float(row["Listing Price"]),
            "Net Sale": float(row["Total Gross Amount (Total Payout)"]),
            "Payout Received?": True,
            "Status": "Sale completed",
            "Tags": ["Express"] if rng.random() < 0.1 else [],
            "Listing": f"https://stockx.com/{_slug(p.product_name)}",
            "Documents": [{"name": f"Label_{order}.pdf", "hosted": True, "key": _uuid(rng)}]
            if rng.random() < 0.6
            else [],
            "Owner": [LENA],
        }
        sale = ws.new_page("sales", sold_at + timedelta(minutes=rng.randrange(5, 240)), LENA, values, icon="💶")
        purchase = purchase_pages[p.unit]
        ws.link(purchase, sale)
        sale.last_edited_time = max(sale.created_time, floor_minute(paid_at))  # payout ticked
        purchase.last_edited_time = max(purchase.last_edited_time, sale.created_time)
        ids[f"sale:{order}"] = sale.id
    return ids


def build_demo_workspace(n_sales: int, seed: int = 7) -> tuple[Workspace, dict[str, str]]:
    """A workspace holding the Notion share of ``soleflipper demo --sales n_sales --seed seed``."""
    ws = Workspace(seed)
    ws.databases["purchases"].props["Status"].config = status_config()
    ws.databases["sales"].props["Status"].config = status_config()
    ids = seed_demo_workspace(ws, n_sales, seed)
    if ws.pages:  # the databases were set up the day before the first page
        first = min(page.created_time for page in ws.pages.values())
        for db in ws.databases.values():
            db.created_time = first - timedelta(days=1)
    return ws, ids
