"""Notion property mappings: one YAML file per workspace layout, validated at load time.

``default.yaml`` describes the reseller's Purchases and Sales databases. A user adapts it by
copying the file and pointing ``SOLEFLIPPER_NOTION_MAPPING`` at the copy; database ids come from
``SOLEFLIPPER_NOTION_<NAME>_DATABASE_ID`` (see the file). Parsing and flattening live in
:mod:`soleflipper.notion_properties` (pure); this module only reads files and the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from soleflipper.notion_properties import MappingError, NotionMapping, parse_mapping

MAPPINGS_DIR = Path(__file__).resolve().parent
DEFAULT_MAPPING = MAPPINGS_DIR / "default.yaml"
MAPPING_ENV = "SOLEFLIPPER_NOTION_MAPPING"

__all__ = ["DEFAULT_MAPPING", "MAPPING_ENV", "MappingError", "load_mapping"]


def load_mapping(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> NotionMapping:
    """The mapping at ``path`` (default: ``$SOLEFLIPPER_NOTION_MAPPING``, else ``default.yaml``)."""
    env = os.environ if env is None else env
    path = Path(path or env.get(MAPPING_ENV) or DEFAULT_MAPPING).expanduser()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the Notion mapping: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    return parse_mapping(data, str(path), env)
