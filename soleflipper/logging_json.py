"""JSON-lines run logs: every record of every run with run id, job, step, asset and source.

Dagster's own event log already knows the run and the step; a log shipper (Loki, CloudWatch,
``jq``) also needs the asset and the data source, in one machine-readable line. Configured in
``dagster.yaml`` (``python_logs.dagster_handler_config``), so every run worker gets it:

    python_logs:
      dagster_handler_config:
        handlers:
          json_lines:
            class: soleflipper.logging_json.JsonLinesHandler
            level: INFO

One line per record::

    {"timestamp": "2026-03-01T12:00:00.123456+00:00", "level": "INFO", "run_id": "…",
     "job": "sync_stockx", "step": "raw__stockx_orders", "asset": "raw/stockx_orders",
     "source": "stockx", "event": "STEP_START", "logger": "dagster", "message": "…"}

* ``asset``: the asset key of the event (a materialization, a check), else the asset of the
  step when the step computes one asset; ``null`` for a multi-asset step's plain logs.
* ``source``: the ``soleflipper/source`` tag of the asset (or of its op) when set, else the
  asset's group (stockx, notion, ebay, sheets, …); a step over several groups lists them
  comma-separated; a run tag ``soleflipper/source`` is the last resort.
* Messages are scrubbed like alerts (:func:`soleflipper.alerts.scrub`): no secret in a log line.

Where: ``SOLEFLIPPER_JSON_LOG`` (a file path; ``-`` is stderr, the container default), else
``$SOLEFLIPPER_HOME/logs/runs.jsonl``. The asset index comes from the code location's
``pipelines.definitions`` (always imported where runs execute), or from
:func:`register_definitions` for other ``Definitions``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from soleflipper.alerts import scrub

SOURCE_TAG = "soleflipper/source"
LOG_PATH_ENV = "SOLEFLIPPER_JSON_LOG"
FIELDS = ("timestamp", "level", "run_id", "job", "step", "asset", "source", "event", "logger", "message")


@dataclass(frozen=True)
class StepAssets:
    """What one op (step) computes: its asset keys, each key's source, the step's own source."""

    keys: tuple[str, ...]
    source_by_key: Mapping[str, str | None]

    @property
    def asset(self) -> str | None:
        return self.keys[0] if len(self.keys) == 1 else None

    @property
    def source(self) -> str | None:
        sources = sorted({s for s in self.source_by_key.values() if s})
        return ",".join(sources) or None


def index_assets(assets_defs: Iterable[Any]) -> dict[str, StepAssets]:
    """Op name -> :class:`StepAssets` for every executable AssetsDefinition."""
    import dagster as dg

    index: dict[str, StepAssets] = {}
    for assets_def in assets_defs:
        if not isinstance(assets_def, dg.AssetsDefinition) or not assets_def.is_executable:
            continue
        op_tags = dict(getattr(assets_def.node_def, "tags", None) or {})
        keys, sources = [], {}
        for key in assets_def.keys:
            name = key.to_user_string()
            tags = assets_def.tags_by_key.get(key) or {}
            keys.append(name)
            sources[name] = tags.get(SOURCE_TAG) or op_tags.get(SOURCE_TAG) or assets_def.group_names_by_key.get(key)
        index[assets_def.node_def.name] = StepAssets(tuple(keys), sources)
    return index


_registered: dict[str, StepAssets] | None = None
_from_module: dict[str, StepAssets] | None = None
_lock = threading.Lock()


def register_definitions(defs: Any) -> None:
    """Use the assets of ``defs`` (a dg.Definitions) to name the asset and source of each step."""
    global _registered
    with _lock:
        _registered = index_assets(defs.assets or ())


def _index() -> dict[str, StepAssets]:
    global _from_module
    if _registered is not None:
        return _registered
    if _from_module is None:
        module = sys.modules.get("pipelines.definitions")
        defs = getattr(module, "defs", None)
        if defs is None:
            return {}
        with _lock:
            _from_module = index_assets(defs.assets or ())
    return _from_module


def record_fields(record: logging.LogRecord, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON object for one log record (Dagster's ``dagster_meta`` when present)."""
    meta = getattr(record, "dagster_meta", None) or {}
    event = meta.get("dagster_event")
    step = meta.get("step_key")
    op = (step or "").split("[", 1)[0].split(".", 1)[0] or meta.get("op_name")
    step_assets = _index().get(op) if op else None
    asset = None
    if event is not None:
        event_key = getattr(event, "asset_key", None)
        if event_key is None:
            check_key = getattr(event, "asset_check_key", None)
            event_key = getattr(check_key, "asset_key", None)
        asset = event_key.to_user_string() if event_key is not None else None
    source = None
    if step_assets is not None:
        if asset is not None and asset in step_assets.source_by_key:
            source = step_assets.source_by_key[asset]
        else:
            source = step_assets.source
        asset = asset or step_assets.asset
    source = source or (meta.get("job_tags") or {}).get(SOURCE_TAG)
    message = meta.get("orig_message") if meta else None
    if message is None:
        message = record.getMessage()
    return {
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": record.levelname,
        "run_id": meta.get("run_id"),
        "job": meta.get("job_name"),
        "step": step,
        "asset": asset,
        "source": source,
        "event": getattr(event, "event_type_value", None),
        "logger": record.name,
        "message": scrub(str(message), os.environ if environ is None else environ),
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see :func:`record_fields`)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), ensure_ascii=False, default=str)


def default_log_path(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    configured = (env.get(LOG_PATH_ENV) or "").strip()
    if configured:
        return configured
    from soleflipper.settings import load_settings

    return str(load_settings().home / "logs" / "runs.jsonl")


class JsonLinesHandler(logging.Handler):
    """Appends one JSON line per record to ``filename`` (default :func:`default_log_path`;
    ``-`` writes to stderr). The file is opened on the first record, in append mode."""

    def __init__(self, filename: str | None = None, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self.filename = filename
        self.setFormatter(JsonFormatter())
        self._stream: TextIO | None = None

    def _open(self) -> TextIO:
        if self._stream is None:
            target = self.filename or default_log_path()
            if target == "-":
                self._stream = sys.stderr
            else:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                self._stream = open(target, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        return self._stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with self.lock:
                stream = self._open()
                stream.write(line + "\n")
                stream.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        with self.lock:
            if self._stream is not None and self._stream is not sys.stderr:
                self._stream.close()
            self._stream = None
        super().close()
