"""Metabase dashboards as code: YAML specs, their check against the dbt manifest, API payloads.

One YAML file per dashboard in ``bi/metabase/dashboards/`` (format in the README, section
"Dashboards as YAML"). Every card is a native SQL question over the KPI views whose optional
clauses (``[[and {{brand}}]]``) hold Metabase field filters ("dimension" template tags) wired to
the dashboard's parameters. Nothing here talks to Metabase: :mod:`soleflipper.bi.metabase_sync`
sends the payloads built here, after :func:`check_against_manifest` has proved that every
relation and column a card names exists in the dbt project, so a typo fails before any request.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from soleflipper.settings import PROJECT_ROOT

DASHBOARD_DIR = PROJECT_ROOT / "bi" / "metabase" / "dashboards"
MANIFEST_PATH = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
GRID_COLUMNS = 24  # Metabase's dashboard grid is 24 columns wide
# Schemas the read-only BI role can read (soleflipper.bi.role): a card reading anything else
# would fail for Metabase, which connects as that role.
READABLE_SCHEMAS = ("core", "products", "transactions", "finance", "analytics")

PARAMETER_TYPES = frozenset({
    "date/all-options", "date/range", "date/relative", "date/single", "date/month-year", "date/quarter-year",
    "string/=", "string/!=", "string/contains", "string/starts-with", "string/ends-with",
    "number/=", "number/between", "number/>=", "number/<=", "category",
})
DISPLAYS = frozenset({
    "scalar", "smartscalar", "line", "area", "bar", "row", "combo", "pie", "table", "pivot", "map",
    "funnel", "scatter", "waterfall", "progress", "gauge", "object",
})
# {{name}}: a template tag; anything else between braces ({{#12}}, {{snippet: x}}) is not supported.
_TAG = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ANY_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


class DashboardSpecError(ValueError):
    """A dashboard spec is invalid; the message names the YAML file, the card and the field or column."""


@dataclass(frozen=True)
class Parameter:
    """A dashboard filter."""

    slug: str
    name: str
    type: str
    default: str | None = None


@dataclass(frozen=True)
class FieldFilter:
    """A Metabase "dimension" template tag bound to a dashboard parameter."""

    parameter: str
    schema: str
    table: str
    column: str
    widget_type: str

    @property
    def qualified_column(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}"


@dataclass(frozen=True)
class Card:
    """A native SQL question placed on a dashboard."""

    key: str
    name: str
    display: str
    sql: str
    filters: Mapping[str, FieldFilter]
    row: int
    col: int
    size_x: int
    size_y: int
    visualization_settings: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # the YAML file it comes from, relative to the repository (for messages)


@dataclass(frozen=True)
class Dashboard:
    key: str
    name: str
    description: str
    parameters: tuple[Parameter, ...]
    cards: tuple[Card, ...]
    source_file: Path


FieldIds = Callable[[str, str, str], int]


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def display_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (what error messages show)."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _fail(source: str, where: str | None, message: str) -> DashboardSpecError:
    return DashboardSpecError(f"{source}: {where}: {message}" if where else f"{source}: {message}")


def _keys(data: Any, source: str, where: str | None, required: set[str], optional: set[str]) -> dict:
    if not isinstance(data, dict):
        raise _fail(source, where, f"expected a mapping, got {type(data).__name__}")
    missing = sorted(required - data.keys())
    if missing:
        raise _fail(source, where, f"missing key(s) {', '.join(missing)}")
    unknown = sorted(str(k) for k in data.keys() - required - optional)
    if unknown:
        raise _fail(source, where, f"unknown key(s) {', '.join(unknown)} "
                                   f"(allowed: {', '.join(sorted(required | optional))})")
    return data


def _text(value: Any, source: str, where: str | None, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"{name} must be a non-empty string")
    return value


def _int(value: Any, source: str, where: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(source, where, f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def template_tags(sql: str) -> list[str]:
    """Template tag names in order of first use."""
    return list(dict.fromkeys(_TAG.findall(sql)))


def _parse_parameter(data: Any, source: str, index: int) -> Parameter:
    where = f"parameter {index + 1}"
    data = _keys(data, source, where, {"slug", "name", "type"}, {"default"})
    slug = _text(data["slug"], source, where, "slug")
    where = f"parameter {slug}"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
        raise _fail(source, where, "slug must be lower-case letters, digits and _")
    kind = _text(data["type"], source, where, "type")
    if kind not in PARAMETER_TYPES:
        raise _fail(source, where, f"unknown type {kind!r} (known: {', '.join(sorted(PARAMETER_TYPES))})")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise _fail(source, where, "default must be a string")
    return Parameter(slug=slug, name=_text(data["name"], source, where, "name"), type=kind, default=default)


def _parse_filter(tag: str, data: Any, source: str, where: str, parameters: Mapping[str, Parameter]) -> FieldFilter:
    data = _keys(data, source, f"{where}: filter {tag}", {"parameter", "column"}, set())
    slug = data["parameter"]
    if slug not in parameters:
        raise _fail(source, where, f"filter {tag} is wired to unknown parameter {slug!r} "
                                   f"(dashboard parameters: {', '.join(parameters) or 'none'})")
    column = _text(data["column"], source, where, f"filter {tag} column")
    parts = column.split(".")
    if len(parts) != 3 or not all(parts):
        raise _fail(source, where, f"filter {tag} column must be schema.table.column, got {column!r}")
    return FieldFilter(parameter=slug, schema=parts[0], table=parts[1], column=parts[2],
                       widget_type=parameters[slug].type)


def _check_sql_tags(sql: str, filters: Mapping[str, FieldFilter], source: str, where: str) -> None:
    for inner in _ANY_BRACES.findall(sql):
        if not _TAG.fullmatch("{{" + inner + "}}"):
            raise _fail(source, where, f"unsupported template tag {{{{{inner}}}}} (only field filters {{{{name}}}})")
    if "[[" in _OPTIONAL.sub("", sql) or "]]" in _OPTIONAL.sub("", sql):
        raise _fail(source, where, "unbalanced [[ ]] optional clause")
    for clause in _OPTIONAL.findall(sql):
        if not _TAG.search(clause):
            raise _fail(source, where, f"optional clause [[{clause.strip()}]] has no template tag")
    used = template_tags(sql)
    undeclared = [tag for tag in used if tag not in filters]
    if undeclared:
        raise _fail(source, where, f"template tag(s) {', '.join(undeclared)} used in sql but not declared in filters")
    unused = [tag for tag in filters if tag not in used]
    if unused:
        raise _fail(source, where, f"filter(s) {', '.join(unused)} declared but not used in sql")


def _parse_card(data: Any, source: str, index: int, dashboard_key: str,
                parameters: Mapping[str, Parameter]) -> Card:
    where = f"card {index + 1}"
    data = _keys(data, source, where, {"key", "name", "display", "layout", "sql"},
                 {"filters", "visualization_settings"})
    short = _text(data["key"], source, where, "key")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", short):
        raise _fail(source, where, f"key {short!r} must be lower-case letters, digits and _")
    key = f"{dashboard_key}.{short}"
    where = f"card {key}"
    display = _text(data["display"], source, where, "display")
    if display not in DISPLAYS:
        raise _fail(source, where, f"unknown display {display!r} (known: {', '.join(sorted(DISPLAYS))})")
    layout = _keys(data["layout"], source, f"{where}: layout", {"row", "col", "size_x", "size_y"}, set())
    row = _int(layout["row"], source, where, "layout.row", 0)
    col = _int(layout["col"], source, where, "layout.col", 0)
    size_x = _int(layout["size_x"], source, where, "layout.size_x", 1)
    size_y = _int(layout["size_y"], source, where, "layout.size_y", 1)
    if col + size_x > GRID_COLUMNS:
        raise _fail(source, where, f"layout col {col} + size_x {size_x} goes beyond the {GRID_COLUMNS}-column grid")
    raw_filters = data.get("filters") or {}
    if not isinstance(raw_filters, dict):
        raise _fail(source, where, "filters must be a mapping of template tag -> {parameter, column}")
    filters = {str(tag): _parse_filter(str(tag), spec, source, where, parameters) for tag, spec in raw_filters.items()}
    sql = _text(data["sql"], source, where, "sql").strip()
    _check_sql_tags(sql, filters, source, where)
    settings = data.get("visualization_settings") or {}
    if not isinstance(settings, dict):
        raise _fail(source, where, "visualization_settings must be a mapping")
    return Card(key=key, name=_text(data["name"], source, where, "name"), display=display, sql=sql,
                filters=filters, row=row, col=col, size_x=size_x, size_y=size_y,
                visualization_settings=settings, source=source)


def _check_overlaps(cards: Sequence[Card], source: str) -> None:
    taken: dict[tuple[int, int], str] = {}
    for card in cards:
        for r in range(card.row, card.row + card.size_y):
            for c in range(card.col, card.col + card.size_x):
                other = taken.setdefault((r, c), card.key)
                if other != card.key:
                    raise _fail(source, f"card {card.key}",
                                f"layout overlaps card {other} at row {r}, col {c}")


def parse_dashboard(data: Any, path: Path) -> Dashboard:
    """A Dashboard from the YAML document ``data`` of ``path``; DashboardSpecError if invalid."""
    source = display_path(path)
    data = _keys(data, source, None, {"key", "name", "parameters", "cards"}, {"description"})
    key = _text(data["key"], source, None, "key")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise _fail(source, None, f"key {key!r} must be lower-case letters, digits and _")
    raw_parameters = data["parameters"] or []
    if not isinstance(raw_parameters, list):
        raise _fail(source, None, "parameters must be a list")
    parameters: dict[str, Parameter] = {}
    for index, raw in enumerate(raw_parameters):
        parameter = _parse_parameter(raw, source, index)
        if parameter.slug in parameters:
            raise _fail(source, f"parameter {parameter.slug}", "duplicate parameter slug")
        parameters[parameter.slug] = parameter
    raw_cards = data["cards"]
    if not isinstance(raw_cards, list) or not raw_cards:
        raise _fail(source, None, "cards must be a non-empty list")
    cards: list[Card] = []
    for index, raw in enumerate(raw_cards):
        card = _parse_card(raw, source, index, key, parameters)
        if any(c.key == card.key for c in cards):
            raise _fail(source, f"card {card.key}", "duplicate card key")
        cards.append(card)
    _check_overlaps(cards, source)
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise _fail(source, None, "description must be a string")
    return Dashboard(key=key, name=_text(data["name"], source, None, "name"), description=description.strip(),
                     parameters=tuple(parameters.values()), cards=tuple(cards), source_file=path)


def load_dashboard(path: Path) -> Dashboard:
    source = display_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise DashboardSpecError(f"{source}: not valid YAML: {exc}") from exc
    return parse_dashboard(data, path)


def load_dashboards(directory: Path = DASHBOARD_DIR) -> list[Dashboard]:
    """Every ``*.yaml`` dashboard in ``directory``, sorted by file name, validated.

    Dashboard keys, card keys and card names must be unique across all of them (Metabase cards
    are matched by name in one collection)."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise DashboardSpecError(f"{display_path(directory)}: no *.yaml dashboard files")
    dashboards = [load_dashboard(path) for path in paths]
    seen_dashboards: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for dashboard in dashboards:
        source = display_path(dashboard.source_file)
        if dashboard.key in seen_dashboards:
            raise _fail(source, None, f"dashboard key {dashboard.key!r} is also used by {seen_dashboards[dashboard.key]}")
        seen_dashboards[dashboard.key] = source
        for card in dashboard.cards:
            if card.name in seen_names:
                raise _fail(source, f"card {card.key}", f"name {card.name!r} is also used by card {seen_names[card.name]}")
            seen_names[card.name] = card.key
    return dashboards


# --------------------------------------------------------------------------- SQL rendering


def render_sql(card: Card, conditions: Mapping[str, str] | None = None) -> str:
    """The card's SQL as Metabase would run it: an optional clause stays (brackets removed) when
    every tag in it has a condition, else it is dropped; a tag outside optional clauses becomes
    its condition or ``1 = 1`` (Metabase's rendering of a field filter without a value)."""
    conditions = conditions or {}

    def substitute(text: str) -> str:
        return _TAG.sub(lambda m: f"({conditions[m.group(1)]})" if m.group(1) in conditions else "1 = 1", text)

    def optional(match: re.Match[str]) -> str:
        clause = match.group(1)
        return substitute(clause) if all(tag in conditions for tag in _TAG.findall(clause)) else ""

    return substitute(_OPTIONAL.sub(optional, card.sql))


# --------------------------------------------------------------------------- manifest check


def load_manifest(path: Path | None = None) -> dict:
    """dbt's manifest.json (default dbt_project/target/manifest.json, written by `dbt parse` if missing)."""
    if path is None:
        path = MANIFEST_PATH
        if not path.exists():
            from resources.dbt import ensure_manifest

            path = ensure_manifest()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DashboardSpecError(f"{path}: no dbt manifest (run `dbt parse` in dbt_project)") from exc
    except (subprocess.CalledProcessError, json.JSONDecodeError) as exc:
        raise DashboardSpecError(f"{path}: cannot read the dbt manifest: {exc}") from exc


def manifest_relations(manifest: Mapping) -> dict[tuple[str, str], frozenset[str]]:
    """(schema, relation name) -> documented column names, for every model, seed, snapshot and source."""
    relations: dict[tuple[str, str], frozenset[str]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") in ("model", "seed", "snapshot"):
            name = node.get("alias") or node["name"]
            relations[(node["schema"].lower(), name.lower())] = frozenset(c.lower() for c in node.get("columns", {}))
    for node in manifest.get("sources", {}).values():
        name = node.get("identifier") or node["name"]
        relations[(node["schema"].lower(), name.lower())] = frozenset(c.lower() for c in node.get("columns", {}))
    return relations


def check_against_manifest(dashboards: Iterable[Dashboard], manifest: Mapping) -> None:
    """Every relation and column each card's SQL and field filters name exists in the dbt project.

    Raises DashboardSpecError naming the YAML file, the card and the missing table or column.
    The SQL is parsed (sqlglot, postgres dialect) with every field filter rendered as Metabase
    renders it (``schema.table.column`` condition), so a filter whose table the query aliases,
    which PostgreSQL would reject, fails here too."""
    relations = manifest_relations(manifest)
    for dashboard in dashboards:
        for card in dashboard.cards:
            _check_card(card, relations)


def _known(columns: Iterable[str]) -> str:
    return ", ".join(sorted(columns)) or "no documented columns"


def _check_card(card: Card, relations: Mapping[tuple[str, str], frozenset[str]]) -> None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.scope import Scope, traverse_scope

    source = card.source or "<dashboard>"
    where = f"card {card.key}"

    def fail(message: str) -> DashboardSpecError:
        return _fail(source, where, message)

    def relation_columns(schema: str, table: str) -> frozenset[str]:
        if schema not in READABLE_SCHEMAS:
            raise fail(f"table {schema}.{table} is in schema {schema}, which the BI role cannot read "
                       f"(readable: {', '.join(READABLE_SCHEMAS)})")
        if (schema, table) not in relations:
            raise fail(f"table {schema}.{table} is not a dbt model, seed or source")
        return relations[(schema, table)]

    for tag, flt in card.filters.items():
        schema, table, column = flt.schema.lower(), flt.table.lower(), flt.column.lower()
        try:
            columns = relation_columns(schema, table)
        except DashboardSpecError as exc:
            raise fail(f"filter {tag}: {str(exc).split(': ', 2)[-1]}") from None
        if column not in columns:
            raise fail(f"filter {tag}: column {schema}.{table}.{column} does not exist (known: {_known(columns)})")

    sql = render_sql(card, {tag: f"{f.qualified_column} is not null" for tag, f in card.filters.items()})
    try:  # SqlglotError: ParseError, and TokenError for an unclosed quote
        statements = [s for s in sqlglot.parse(sql, dialect="postgres") if s is not None and not isinstance(s, exp.Semicolon)]
    except SqlglotError as exc:
        raise fail(f"SQL does not parse: {exc}") from None
    # A second statement would escape the relation check below (it only walks one query).
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kinds = ", ".join(type(s).__name__.upper() for s in statements) or "nothing"
        raise fail(f"SQL must be exactly one SELECT statement, found: {kinds}")
    tree = statements[0]

    def output_names(scope: Scope) -> frozenset[str] | None:
        """Column names a CTE or subquery exposes; None when it selects * (anything goes)."""
        query = scope.expression
        if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
               for s in query.selects):
            return None
        return frozenset(name.lower() for name in query.named_selects)

    def columns_of(src: Any) -> frozenset[str] | None:
        if isinstance(src, exp.Table):
            if not isinstance(src.this, exp.Identifier):
                return None  # a table function (generate_series, unnest): not a relation
            if not src.db:
                raise fail(f"table {src.name} must be schema-qualified (e.g. analytics.{src.name})")
            return relation_columns(src.db.lower(), src.name.lower())
        if isinstance(src, Scope):
            return output_names(src)
        return None

    for scope in traverse_scope(tree):
        for src in scope.sources.values():
            columns_of(src)  # every table must exist, even when no column of it is named
        aliases = frozenset(
            s.alias.lower() for s in getattr(scope.expression, "selects", []) if isinstance(s, exp.Alias))

        def in_order_or_group(column: exp.Column, query: exp.Expression = scope.expression) -> bool:
            node: exp.Expression = column
            while node.parent is not None and node.parent is not query:
                node = node.parent
            return node.parent is query and node.arg_key in ("order", "group")
        for col in scope.columns:
            name = col.name.lower()
            if isinstance(col.this, exp.Star) or not name:
                continue
            if col.table:
                table = col.table.lower()
                current: Scope | None = scope
                src = None
                while current is not None and src is None:
                    src = {n.lower(): s for n, s in current.sources.items()}.get(table)
                    current = current.parent
                if src is None:
                    qualified = ".".join(p for p in (col.db, col.table) if p)
                    raise fail(f"column {qualified}.{col.name}: no table {qualified} in FROM (a field filter's "
                               "table must appear unaliased; an aliased table is referenced by its alias)")
                if isinstance(src, exp.Table) and col.db and src.db.lower() != col.db.lower():
                    raise fail(f"column {col.db}.{col.table}.{col.name}: FROM has {src.db}.{src.name}")
                known = columns_of(src)
                if known is not None and name not in known:
                    label = f"{src.db}.{src.name}" if isinstance(src, exp.Table) else table
                    raise fail(f"column {label.lower()}.{name} does not exist (known: {_known(known)})")
                continue
            # unqualified: any source of this scope or an enclosing one, or (in ORDER BY / GROUP BY,
            # which PostgreSQL resolves against the select list too) an output alias
            if name in aliases and in_order_or_group(col):
                continue
            candidates: list[tuple[str, frozenset[str] | None]] = []
            current = scope
            while current is not None:
                for src_name, src in current.sources.items():
                    label = f"{src.db}.{src.name}".lower() if isinstance(src, exp.Table) else src_name.lower()
                    candidates.append((label, columns_of(src)))
                current = current.parent
            if any(known is None or name in known for _, known in candidates):
                continue
            if len(candidates) == 1:
                label, known = candidates[0]
                raise fail(f"column {label}.{name} does not exist (known: {_known(known or ())})")
            raise fail(f"column {name} does not exist in any of {', '.join(label for label, _ in candidates) or 'no table'}")


# --------------------------------------------------------------------------- Metabase payloads


def _tag_id(card: Card, tag: str) -> str:
    # Deterministic, so re-syncing an unchanged card sends an identical payload.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"soleflipper:{card.key}:{tag}"))


def _display_name(tag: str) -> str:
    return tag.replace("_", " ").capitalize()


def managed_description(card: Card) -> str:
    origin = f"{card.source}: {card.key}" if card.source else card.key
    return f"Managed by SoleFlipper ({origin}). Edits are overwritten by `soleflipper metabase sync`."


def card_payload(card: Card, database_id: int, field_id: FieldIds, collection_id: int | None) -> dict:
    """Body of POST/PUT /api/card: a native question whose field filters point at Metabase field ids."""
    tags: dict[str, dict] = {}
    parameters: list[dict] = []
    for tag, flt in card.filters.items():
        tag_id = _tag_id(card, tag)
        tags[tag] = {
            "id": tag_id,
            "name": tag,
            "display-name": _display_name(tag),
            "type": "dimension",
            "dimension": ["field", field_id(flt.schema, flt.table, flt.column), None],
            "widget-type": flt.widget_type,
            "required": False,
        }
        parameters.append({
            "id": tag_id,
            "type": flt.widget_type,
            "target": ["dimension", ["template-tag", tag]],
            "name": _display_name(tag),
            "slug": tag,
        })
    return {
        "name": card.name,
        "type": "question",
        "description": managed_description(card),
        "display": card.display,
        "collection_id": collection_id,
        "visualization_settings": dict(card.visualization_settings),
        "parameters": parameters,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": card.sql, "template-tags": tags},
        },
    }


def dashboard_parameters(dashboard: Dashboard) -> list[dict]:
    """The dashboard's "parameters" (id = slug, so dashcard mappings stay valid across syncs)."""
    result = []
    for parameter in dashboard.parameters:
        item: dict[str, Any] = {
            "id": parameter.slug,
            "name": parameter.name,
            "slug": parameter.slug,
            "type": parameter.type,
            "sectionId": parameter.type.split("/")[0] if parameter.type != "category" else "string",
        }
        if parameter.default is not None:
            item["default"] = parameter.default
        result.append(item)
    return result


def dashcard_payload(card: Card, card_id: int, dashcard_id: int, dashboard: Dashboard) -> dict:
    """One element of PUT /api/dashboard/:id "dashcards" (a negative dashcard_id creates it)."""
    slugs = {p.slug for p in dashboard.parameters}
    mappings = []
    for tag, flt in card.filters.items():
        if flt.parameter not in slugs:
            raise _fail(card.source or display_path(dashboard.source_file), f"card {card.key}",
                        f"filter {tag} is wired to unknown parameter {flt.parameter!r}")
        mappings.append({"parameter_id": flt.parameter, "card_id": card_id,
                         "target": ["dimension", ["template-tag", tag]]})
    return {
        "id": dashcard_id,
        "card_id": card_id,
        "row": card.row,
        "col": card.col,
        "size_x": card.size_x,
        "size_y": card.size_y,
        "series": [],
        "visualization_settings": {},
        "parameter_mappings": mappings,
    }


__all__ = [
    "DASHBOARD_DIR",
    "GRID_COLUMNS",
    "MANIFEST_PATH",
    "READABLE_SCHEMAS",
    "Card",
    "Dashboard",
    "DashboardSpecError",
    "FieldFilter",
    "FieldIds",
    "Parameter",
    "card_payload",
    "check_against_manifest",
    "dashboard_parameters",
    "dashcard_payload",
    "display_path",
    "load_dashboard",
    "load_dashboards",
    "load_manifest",
    "managed_description",
    "manifest_relations",
    "parse_dashboard",
    "render_sql",
    "template_tags",
]
