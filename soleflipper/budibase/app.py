"""The Budibase app configuration, generated from the dbt manifest.

``build_app(manifest)`` returns the app as the CouchDB documents a Budibase app database holds
(what Budibase's own export writes to ``db.txt``): the app metadata, one PostgreSQL datasource
(``source: POSTGRES``, ``plus: true``) whose tables are the entry tables, the SQL queries the
screens read, and the screens (purchase entry, sale entry, sales list with totals, supplier
management). Form fields, their types and help texts come from the manifest's ``entry`` source
(dbt_project/models/staging/budibase/_budibase__sources.yml); the sales list and supplier
queries name mart columns the manifest must have. Validation rules mirror the entry tables'
constraints (soleflipper/budibase/entry_tables.py); the database enforces them either way.

The versioned file (:data:`APP_FILE`, committed) is this app as JSON with a schema version and
the SHA-256 of its content; a test regenerates it and compares, so a change to the entry tables'
documentation or to this module without regenerating is caught. ``write_export`` packs the same
documents as a Budibase export archive (``.tar.gz`` holding ``db.txt`` in the PouchDB dump format
Budibase's import loads). Connection settings are bindings to Budibase environment variables,
never values: no host, user or password is written anywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from soleflipper.budibase.entry_tables import (
    CURRENCIES,
    ENTRY_SCHEMA,
    PLATFORMS,
    STOCKX_ORDER_PATTERN,
    SUPPLIER_TYPES,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP_FILE = PROJECT_ROOT / "bi" / "budibase" / "soleflipper_app.json"
SCHEMA_VERSION = 1  # of this file's layout; bump when the layout (not the app) changes
FILE_FORMAT = "soleflipper-budibase-app"
APP_NAME = "SoleFlipper data entry"
APP_ID = "app_soleflipper_data_entry"
DATASOURCE_ID = "datasource_plus_soleflipper_warehouse"
COMPONENTS = "@budibase/standard-components/"
_NAMESPACE = uuid.UUID("6f0c1a2e-5b1d-4c55-9a57-6e7472790b0d")
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # goes into the queries' SQL unquoted


class AppSpecError(ValueError):
    """The manifest lacks what the app needs (a column, a model); the message names it."""


# --------------------------------------------------------------------------------- manifest


def _columns(node: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    columns = node.get("columns") or {}
    if not columns:
        raise AppSpecError(f"dbt manifest: {where} documents no columns")
    return columns


def entry_columns(manifest: Mapping[str, Any], table: str) -> dict[str, dict[str, Any]]:
    """Columns (name -> {data_type, description}) of source ``entry.<table>`` in the manifest."""
    for node in manifest.get("sources", {}).values():
        if node.get("source_name") == ENTRY_SCHEMA and node.get("name") == table:
            return _columns(node, f"source entry.{table}")
    raise AppSpecError(f"dbt manifest: no source entry.{table} (dbt_project/models/staging/budibase/"
                       "_budibase__sources.yml)")


def model_relation(manifest: Mapping[str, Any], name: str, columns: tuple[str, ...]) -> str:
    """``schema.name`` of model ``name``, after checking it has ``columns``."""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == name:
            missing = [c for c in columns if c not in _columns(node, f"model {name}")]
            if missing:
                raise AppSpecError(f"dbt manifest: model {name} has no column(s) {', '.join(missing)}")
            relation = (node["schema"], node.get("alias") or name)
            if not all(isinstance(part, str) and _PLAIN_NAME.fullmatch(part) for part in relation):
                raise AppSpecError(f"dbt manifest: model {name} is {'.'.join(map(str, relation))!r}: schema and "
                                   "alias must be lower-case letters, digits and _ (they go into the queries' SQL)")
            return ".".join(relation)
    raise AppSpecError(f"dbt manifest: no model {name}")


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    path = path or PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
    if not path.exists():
        from resources.dbt import ensure_manifest  # runs `dbt parse` (imports dagster-dbt: slow)

        path = ensure_manifest()
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------- helpers


def _id(*parts: str) -> str:
    """A stable id: the same app regenerates byte for byte."""
    return uuid.uuid5(_NAMESPACE, "/".join(parts)).hex


def table_id(table: str) -> str:
    """Budibase's id of an external table: datasource id, two underscores, table name."""
    return f"{DATASOURCE_ID}__{table}"


def query_id(name: str) -> str:
    return f"query_{DATASOURCE_ID}_{_id('query', name)}"


def _binding(component: str, *path: str) -> str:
    return "{{ " + ".".join(f"[{p}]" for p in (component, *path)) + " }}"


def _component(kind: str, cid: str, name: str, children: list | None = None, **props: Any) -> dict[str, Any]:
    comp = {"_id": cid, "_component": COMPONENTS + kind, "_instanceName": name, **props}
    if children is not None:
        comp["_children"] = children
    return comp


# Budibase form field component and table column type per PostgreSQL type.
def _field_kind(data_type: str) -> tuple[str, str]:
    base = data_type.split("(")[0].strip().lower()
    if base in ("bigint", "integer", "numeric"):
        return "numberfield", "number"
    if base == "date":
        return "datetimefield", "datetime"
    if base in ("timestamptz", "timestamp with time zone"):
        return "datetimefield", "datetime"
    return "stringfield", "string"


# ------------------------------------------------------------------------------ the forms

# Which fields each form shows, with the rules of entry_tables.py. required: NOT NULL there;
# options: a fixed list (CHECK ... in (...)); min/max: numeric CHECKs; min_field: a date or price
# that may not be below another field of the same form; regex: a pattern CHECK.
FORMS: dict[str, dict[str, dict[str, Any]]] = {
    "suppliers": {
        "name": {"required": True},
        "supplier_type": {"required": True, "options": SUPPLIER_TYPES, "default": "retailer"},
        "country": {},
        "notes": {"long": True},
    },
    "purchases": {
        "supplier_id": {"required": True, "provider": "suppliers_for_forms", "label_column": "name"},
        "purchase_date": {"required": True},
        "style_code": {"required": True},
        "product_name": {},
        "brand": {},
        "size": {"required": True},
        "net_price": {"required": True, "min": 0},
        "gross_price": {"min_field": "net_price"},
        "vat_rate": {"min": 0, "max": 100, "default": 19},
        "currency": {"required": True, "options": CURRENCIES, "default": "EUR"},
        "order_number": {},
        "invoice_number": {},
        "delivery_date": {"min_field": "purchase_date"},
        "notes": {"long": True},
    },
    "sales": {
        "platform": {"required": True, "options": PLATFORMS, "default": "stockx"},
        "order_number": {"regex": f"^$|{STOCKX_ORDER_PATTERN}"},
        "sale_date": {"required": True, "min_binding": "purchase_date"},
        "sale_price": {"required": True, "min": 0},
        "fees": {"min": 0},
        "payout": {},
        "currency": {"required": True, "options": CURRENCIES, "default": "EUR"},
        "notes": {"long": True},
    },
}


def _label(name: str) -> str:
    return name.replace("_id", "").replace("_", " ").capitalize()


def _rules(name: str, spec: Mapping[str, Any], form_id: str, row_context: str | None) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if spec.get("required"):
        rules.append({"type": "string", "constraint": "required", "value": None,
                      "error": f"{_label(name)} is required"})
    if "min" in spec:
        rules.append({"type": "number", "constraint": "minValue", "value": spec["min"],
                      "error": f"{_label(name)} must be at least {spec['min']}"})
    if "max" in spec:
        rules.append({"type": "number", "constraint": "maxValue", "value": spec["max"],
                      "error": f"{_label(name)} must be at most {spec['max']}"})
    if "min_field" in spec:
        other = spec["min_field"]
        kind = "datetime" if other.endswith("_date") else "number"
        rules.append({"type": kind, "constraint": "minValue", "value": _binding(form_id, "Value", other),
                      "error": f"{_label(name)} may not be before / below {_label(other).lower()}"})
    if "min_binding" in spec and row_context:
        other = spec["min_binding"]
        rules.append({"type": "datetime", "constraint": "minValue", "value": _binding(row_context, other),
                      "error": f"{_label(name)} may not be before the {_label(other).lower()}"})
    if "regex" in spec:
        rules.append({"type": "string", "constraint": "regex", "value": spec["regex"],
                      "error": "A StockX order number looks like 12345678-87654321"})
    return rules


def _form_fields(table: str, columns: Mapping[str, Mapping[str, Any]], form_id: str,
                 providers: Mapping[str, str], row_context: str | None = None) -> list[dict[str, Any]]:
    fields = []
    for name, spec in FORMS[table].items():
        if name not in columns:
            raise AppSpecError(f"dbt manifest: source entry.{table} has no column {name} (a field of the "
                               f"{table} form)")
        column = columns[name]
        kind, _ = _field_kind(column.get("data_type") or "text")
        props: dict[str, Any] = {"field": name, "label": _label(name), "helpText": column.get("description") or "",
                                 "validation": _rules(name, spec, form_id, row_context)}
        if "options" in spec:
            kind = "optionsfield"
            props.update(optionsSource="custom", optionsType="select",
                         customOptions=[{"label": o, "value": o} for o in spec["options"]])
        elif "provider" in spec:
            kind = "optionsfield"
            props.update(optionsSource="provider", optionsType="select", autocomplete=True,
                         dataProvider="{{ literal " + f"[{providers[spec['provider']]}]" + " }}",
                         labelColumn=spec["label_column"], valueColumn=name)
        elif spec.get("long"):
            kind = "longformfield"
        if kind == "datetimefield":
            props.update(dateOnly=True, enableTime=False)
        if "default" in spec:
            props["defaultValue"] = spec["default"]
        fields.append(_component(kind, f"{form_id}-{name}", _label(name), **props))
    return fields


def _save_button(form_id: str, table: str, then_url: str) -> dict[str, Any]:
    return _component("button", f"{form_id}-save", "Save", text="Save", type="cta", onClick=[
        {"##eventHandlerType": "Validate Form", "parameters": {"componentId": form_id}},
        {"##eventHandlerType": "Save Row", "parameters": {"providerId": form_id, "tableId": table_id(table),
                                                          "notificationOverride": False}},
        {"##eventHandlerType": "Navigate To", "parameters": {"url": then_url, "type": "url"}},
    ])


def _form(form_id: str, table: str, fields: list[dict[str, Any]], then_url: str, title: str,
          **extra: Any) -> dict[str, Any]:
    source = {"label": table, "tableId": table_id(table), "type": "table"}
    group = _component("fieldgroup", f"{form_id}-fields", "Fields", fields, labelPosition="above")
    return _component("form", form_id, title, [group, _save_button(form_id, table, then_url)],
                      dataSource=source, actionType="Create", size="spectrum--medium", **extra)


def _provider(pid: str, query: str, name: str, children: list, parameters: Mapping[str, str] | None = None
              ) -> dict[str, Any]:
    return _component("dataprovider", pid, name, children,
                      dataSource={"label": query, "name": query, "_id": query_id(query), "type": "query",
                                  "queryParams": dict(parameters or {})},
                      paginate=False, limit=1000)


def _table(tid: str, provider: str, columns: list[str], name: str, **props: Any) -> dict[str, Any]:
    return _component("table", tid, name, dataProvider="{{ literal " + f"[{provider}]" + " }}",
                      columns=[{"name": c, "displayName": _label(c)} for c in columns], rowCount=25,
                      quiet=True, **props)


def _screen(route: str, title: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    sid = _id("screen", route)
    return {
        "_id": f"screen_{sid}",
        "name": title,
        "showNavigation": True,
        "width": "Large",
        "routing": {"route": route, "roleId": "BASIC", "homeScreen": route == "/purchases/new"},
        "props": _component("container", f"screen-{sid}", title,
                            [_component("heading", f"screen-{sid}-title", "Title", text=title, size="M"),
                             *children],
                            layout="flex", direction="column", hAlign="stretch", vAlign="top", gap="M"),
    }


# ---------------------------------------------------------------------------------- queries


def _query(name: str, sql: str, parameters: Mapping[str, str], schema: Mapping[str, str]) -> dict[str, Any]:
    return {
        "_id": query_id(name),
        "name": name,
        "datasourceId": DATASOURCE_ID,
        "queryVerb": "read",
        "readable": True,
        "fields": {"sql": sql},
        "parameters": [{"name": k, "default": v} for k, v in parameters.items()],
        "transformer": "return data",
        "schema": {c: {"name": c, "type": t} for c, t in schema.items()},
    }


def build_queries(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Read-only SQL the screens show. Budibase fills {{ name }} from the query's parameters."""
    economics = model_relation(manifest, "fct_unit_economics", (
        "sale_id", "sale_date", "platform", "product_key", "supplier_key", "payout_amount", "sale_currency",
        "net_buy_home", "profit_home", "roi", "shelf_life_days", "home_currency"))
    suppliers_mart = model_relation(manifest, "mv_supplier_performance", (
        "supplier_key", "units_purchased", "units_sold", "profit_home", "roi_pct", "home_currency"))
    # finance.fct_unit_economics.supplier_key is core.dim_suppliers' slug of the name (macro slug_key).
    slug = "nullif(btrim(regexp_replace(lower(btrim(s.name)), '[^a-z0-9]+', '-', 'g'), '-'), '')"
    sales_filter = ("where e.sale_date >= current_date - {{ days }}::integer"
                    " and (nullif({{ supplier }}, '') is null or e.supplier_key = {{ supplier }})")
    return [
        _query("suppliers_for_forms", f"select supplier_id, name from {ENTRY_SCHEMA}.suppliers order by name",  # noqa: S608
               {}, {"supplier_id": "number", "name": "string"}),
        _query("purchase_for_sale",
               f"select p.purchase_id, p.purchase_date, p.style_code, p.size, p.net_price, p.currency"  # noqa: S608
               f" from {ENTRY_SCHEMA}.purchases p"
               f" where p.purchase_id = {{{{ purchase_id }}}}::bigint",
               {"purchase_id": "0"},
               {"purchase_id": "number", "purchase_date": "datetime", "style_code": "string", "size": "string",
                "net_price": "number", "currency": "string"}),
        _query("pairs_in_stock",
               f"select p.purchase_id, p.purchase_date, p.style_code, p.size, p.net_price, p.currency"  # noqa: S608
               f" from {ENTRY_SCHEMA}.purchases p where not exists"
               f" (select 1 from {ENTRY_SCHEMA}.sales s where s.purchase_id = p.purchase_id)"
               " order by p.purchase_date desc, p.purchase_id desc",
               {}, {"purchase_id": "number", "purchase_date": "datetime", "style_code": "string", "size": "string",
                    "net_price": "number", "currency": "string"}),
        _query("sales_list",
               "select e.sale_id, e.sale_date, e.platform, e.product_key, e.supplier_key, e.payout_amount,"  # noqa: S608
               " e.sale_currency, e.net_buy_home, e.profit_home, round(e.roi * 100, 2) as roi_pct,"
               f" e.shelf_life_days, e.home_currency from {economics} e {sales_filter}"
               " order by e.sale_date desc, e.sale_id",
               {"days": "30", "supplier": ""},
               {"sale_id": "string", "sale_date": "datetime", "platform": "string", "product_key": "string",
                "supplier_key": "string", "payout_amount": "number", "sale_currency": "string",
                "net_buy_home": "number", "profit_home": "number", "roi_pct": "number",
                "shelf_life_days": "number", "home_currency": "string"}),
        _query("sales_totals",
               "select count(*) as sales_count, coalesce(sum(e.profit_home), 0) as total_profit_home,"  # noqa: S608
               " round(avg(e.roi) * 100, 2) as avg_roi_pct, min(e.home_currency) as home_currency"
               f" from {economics} e {sales_filter}",
               {"days": "30", "supplier": ""},
               {"sales_count": "number", "total_profit_home": "number", "avg_roi_pct": "number",
                "home_currency": "string"}),
        _query("supplier_overview",
               "select s.supplier_id, s.name, s.supplier_type, s.country,"  # noqa: S608
               " coalesce(p.units_purchased, 0) as orders, coalesce(p.units_sold, 0) as units_sold,"
               " p.profit_home, p.roi_pct as avg_roi_pct, p.home_currency"
               f" from {ENTRY_SCHEMA}.suppliers s left join {suppliers_mart} p on p.supplier_key = {slug}"
               " order by s.name",
               {}, {"supplier_id": "number", "name": "string", "supplier_type": "string", "country": "string",
                    "orders": "number", "units_sold": "number", "profit_home": "number",
                    "avg_roi_pct": "number", "home_currency": "string"}),
    ]


# ----------------------------------------------------------------------------------- screens


def build_screens(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    cols = {t: entry_columns(manifest, t) for t in ("suppliers", "purchases", "sales")}

    # 1. Purchase entry, with the pairs still in stock below (each row opens its sale form).
    suppliers_provider = "purchase-suppliers"
    purchase_form = _form("purchase-form", "purchases",
                          _form_fields("purchases", cols["purchases"], "purchase-form",
                                       {"suppliers_for_forms": suppliers_provider}),
                          "/purchases/new", "Purchase entry")
    stock = _provider("stock-provider", "pairs_in_stock", "Pairs in stock", [
        _table("stock-table", "stock-provider", ["purchase_id", "purchase_date", "style_code", "size",
                                                 "net_price", "currency"], "Pairs in stock",
               onClick=[{"##eventHandlerType": "Navigate To", "parameters": {
                   "url": "/sales/new/{{ [eventContext].[row].[purchase_id] }}", "type": "url"}}]),
    ])
    purchase_screen = _screen("/purchases/new", "Purchase entry", [
        _provider(suppliers_provider, "suppliers_for_forms", "Suppliers", [purchase_form]), stock])

    # 2. Sale entry for one pair (/sales/new/:purchase_id): the pair's purchase date bounds the sale date.
    repeater = "sale-purchase"
    sale_fields = _form_fields("sales", cols["sales"], "sale-form", {}, row_context=repeater)
    sale_form = _form("sale-form", "sales", sale_fields, "/sales", "Sale entry",
                      initialValues={"purchase_id": _binding(repeater, "purchase_id")})
    sale_screen = _screen("/sales/new/:purchase_id", "Sale entry", [
        _provider("sale-provider", "purchase_for_sale", "Pair sold", [
            _component("repeater", repeater, "Pair", [
                _component("paragraph", "sale-pair", "Pair",
                           text="Pair {{ [sale-purchase].[purchase_id] }}: {{ [sale-purchase].[style_code] }}"
                                " size {{ [sale-purchase].[size] }}, bought {{ [sale-purchase].[purchase_date] }}"),
                sale_form,
            ], noRowsMessage="No such purchase"),
        ], parameters={"purchase_id": "{{ url.purchase_id }}"}),
    ])

    # 3. Sales list with totals (last N days, optional supplier), from the marts.
    filters = _component("form", "sales-filter", "Filters", [
        _component("numberfield", "sales-filter-days", "Days", field="days", label="Last days", defaultValue=30,
                   validation=[{"type": "number", "constraint": "minValue", "value": 1, "error": "At least 1 day"}]),
        _component("stringfield", "sales-filter-supplier", "Supplier", field="supplier",
                   label="Supplier key (blank: all)"),
    ], actionType="Create", size="spectrum--medium")
    params = {"days": _binding("sales-filter", "Value", "days"), "supplier": _binding("sales-filter", "Value", "supplier")}
    totals = _provider("totals-provider", "sales_totals", "Totals", [
        _component("repeater", "totals-row", "Totals row", [
            _component("cardstat", "totals-count", "Sales", title="Sales", value="{{ [totals-row].[sales_count] }}"),
            _component("cardstat", "totals-profit", "Total profit", title="Total profit",
                       value="{{ [totals-row].[total_profit_home] }} {{ [totals-row].[home_currency] }}"),
            _component("cardstat", "totals-roi", "Average ROI", title="Average ROI",
                       value="{{ [totals-row].[avg_roi_pct] }} %"),
        ], direction="row"),
    ], parameters=params)
    sales_list = _provider("sales-provider", "sales_list", "Sales", [
        _table("sales-table", "sales-provider", ["sale_date", "platform", "product_key", "supplier_key",
                                                 "payout_amount", "sale_currency", "net_buy_home", "profit_home",
                                                 "roi_pct", "shelf_life_days"], "Sales", allowExportRows=True),
    ], parameters=params)
    list_screen = _screen("/sales", "Sales", [filters, totals, sales_list])

    # 4. Supplier management: add a supplier, see every supplier's orders and average ROI.
    supplier_form = _form("supplier-form", "suppliers",
                          _form_fields("suppliers", cols["suppliers"], "supplier-form", {}),
                          "/suppliers", "New supplier")
    overview = _provider("supplier-provider", "supplier_overview", "Suppliers", [
        _table("supplier-table", "supplier-provider", ["name", "supplier_type", "country", "orders",
                                                       "units_sold", "profit_home", "avg_roi_pct"], "Suppliers"),
    ])
    supplier_screen = _screen("/suppliers", "Suppliers", [supplier_form, overview])
    return [purchase_screen, sale_screen, list_screen, supplier_screen]


# --------------------------------------------------------------------------------- datasource


def build_datasource(manifest: Mapping[str, Any]) -> dict[str, Any]:
    entities = {}
    for table, pk in (("suppliers", "supplier_id"), ("purchases", "purchase_id"), ("sales", "sale_id")):
        schema = {}
        for name, column in entry_columns(manifest, table).items():
            data_type = column.get("data_type") or "text"
            _, budibase_type = _field_kind(data_type)
            spec = FORMS[table].get(name, {})
            constraints: dict[str, Any] = {"type": budibase_type, "presence": bool(spec.get("required"))}
            if "options" in spec:
                constraints = {"type": "string", "presence": bool(spec.get("required")),
                               "inclusion": list(spec["options"])}
                budibase_type = "options"
            auto = name == pk or name in ("entered_at", "updated_at")  # the database sets them
            schema[name] = {"name": name, "type": budibase_type, "externalType": data_type,
                            "autocolumn": auto, "constraints": constraints}
        entities[table] = {"_id": table_id(table), "name": table, "type": "table", "sourceId": DATASOURCE_ID,
                           "sourceType": "external", "primary": [pk],
                           "primaryDisplay": "name" if table == "suppliers" else pk, "schema": schema}
    return {
        "_id": DATASOURCE_ID,
        "type": "datasource",
        "name": "SoleFlipper warehouse",
        "source": "POSTGRES",
        "plus": True,
        # Budibase environment variables: set them in Budibase (Settings > Environment); the
        # password is never in this file. The user should own nothing but INSERT/UPDATE on entry.*
        # and SELECT on the marts (README: Data entry with Budibase).
        "config": {
            "host": "{{ env.SOLEFLIPPER_PG_HOST }}",
            "port": "{{ env.SOLEFLIPPER_PG_PORT }}",
            "database": "{{ env.SOLEFLIPPER_PG_DATABASE }}",
            "user": "{{ env.SOLEFLIPPER_PG_USER }}",
            "password": "{{ env.SOLEFLIPPER_PG_PASSWORD }}",
            "schema": ENTRY_SCHEMA,
            "ssl": False,
            "rejectUnauthorized": True,
        },
        "entities": entities,
    }


# -------------------------------------------------------------------------------------- app


def build_app(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The app: every document, plus the file's schema version and content hash."""
    screens = build_screens(manifest)
    docs = [
        {
            "_id": "app_metadata",
            "appId": APP_ID,
            "name": APP_NAME,
            "url": "/soleflipper",
            "instance": {"_id": APP_ID},
            "tenantId": "default",
            "theme": "spectrum--light",
            "navigation": {"navigation": "Top", "title": APP_NAME, "links": [
                {"text": "Purchase entry", "url": "/purchases/new"},
                {"text": "Sales", "url": "/sales"},
                {"text": "Suppliers", "url": "/suppliers"},
            ]},
        },
        build_datasource(manifest),
        *build_queries(manifest),
        *screens,
    ]
    body = {"format": FILE_FORMAT, "schema_version": SCHEMA_VERSION, "app": {"name": APP_NAME, "id": APP_ID},
            "docs": docs}
    return {**body, "content_sha256": content_hash(body)}


def content_hash(body: Mapping[str, Any]) -> str:
    data = {k: v for k, v in body.items() if k != "content_sha256"}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def render(app: Mapping[str, Any]) -> str:
    return json.dumps(app, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_app(app: Mapping[str, Any], path: Path = APP_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(app), encoding="utf-8")
    return path


def read_app(path: Path = APP_FILE) -> dict[str, Any]:
    """The committed app, its hash checked (a hand edit without regenerating is an error)."""
    app = json.loads(path.read_text(encoding="utf-8"))
    if app.get("format") != FILE_FORMAT or app.get("schema_version") != SCHEMA_VERSION:
        raise AppSpecError(f"{path}: not a {FILE_FORMAT} file of schema version {SCHEMA_VERSION}")
    if app.get("content_sha256") != content_hash(app):
        raise AppSpecError(f"{path}: content_sha256 does not match the content (edited by hand? "
                           "run `soleflipper budibase generate`)")
    return app


# ------------------------------------------------------------------------------------ export


def _rev(doc: Mapping[str, Any]) -> str:
    return "1-" + hashlib.md5(json.dumps(doc, sort_keys=True).encode(), usedforsecurity=False).hexdigest()


def dump_text(app: Mapping[str, Any]) -> str:
    """The documents as a PouchDB dump (pouchdb-replication-stream): a header line, a docs line,
    a seq line. Budibase's export writes its ``db.txt`` in this format and its import loads it."""
    docs = [{**doc, "_rev": _rev(doc)} for doc in app["docs"]]
    header = {"version": "1.2.6", "db_type": "http", "start_time": "1970-01-01T00:00:00.000Z",
              "db_info": {"doc_count": len(docs), "update_seq": len(docs), "db_name": APP_ID}}
    lines = [header, {"docs": docs}, {"seq": len(docs)}]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def write_export(app: Mapping[str, Any], path: Path) -> Path:
    """A Budibase app export archive (``.tar.gz`` with ``db.txt``), byte-identical on every run."""
    data = dump_text(app).encode("utf-8")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("db.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", filename="", mtime=0) as gz:
        gz.write(raw.getvalue())
    return path


def check_app(app: Mapping[str, Any]) -> list[str]:
    """Structural checks of the documents an import needs; returns problems (empty: fine)."""
    problems: list[str] = []
    docs = {d.get("_id"): d for d in app.get("docs", [])}
    if len(docs) != len(app.get("docs", [])):
        problems.append("duplicate document _id")
    if "app_metadata" not in docs:
        problems.append("no app_metadata document")
    datasource = docs.get(DATASOURCE_ID)
    if not datasource or datasource.get("source") != "POSTGRES" or not datasource.get("plus"):
        problems.append(f"no PostgreSQL plus datasource {DATASOURCE_ID}")
    elif any("{{ env." not in str(datasource["config"][k]) for k in ("host", "user", "password")):
        problems.append("datasource connection settings must be environment bindings")
    tables = set(datasource.get("entities", {})) if datasource else set()
    for doc_id, doc in docs.items():
        if doc_id.startswith("query_") and doc.get("datasourceId") != DATASOURCE_ID:
            problems.append(f"{doc_id}: datasourceId is not {DATASOURCE_ID}")
        if doc_id.startswith("screen_"):
            for comp in _walk(doc["props"]):
                source = comp.get("dataSource") or {}
                if source.get("type") == "table" and source.get("tableId") not in {table_id(t) for t in tables}:
                    problems.append(f"{doc_id}: {comp['_id']} writes unknown table {source.get('tableId')}")
                if source.get("type") == "query" and source.get("_id") not in docs:
                    problems.append(f"{doc_id}: {comp['_id']} reads unknown query {source.get('_id')}")
    return problems


def _walk(component: Mapping[str, Any]):
    yield component
    for child in component.get("_children", []):
        yield from _walk(child)
