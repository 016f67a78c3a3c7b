"""``soleflipper budibase generate``: write the Budibase app configuration from the dbt manifest.

Wired into the main parser by :func:`register`. Writes the versioned JSON (default
``bi/budibase/soleflipper_app.json``, committed; CI compares it with a fresh generation) and, with
``--export``, a Budibase import archive (``.tar.gz`` with ``db.txt``). Needs no database: the
manifest is dbt_project/target/manifest.json (``dbt parse`` runs when it is missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from soleflipper.settings import Settings


def cmd_budibase_generate(args: argparse.Namespace, settings: Settings) -> int:
    from soleflipper.budibase.app import (
        APP_FILE,
        AppSpecError,
        build_app,
        check_app,
        load_manifest,
        write_app,
        write_export,
    )

    try:
        app = build_app(load_manifest(Path(args.manifest) if args.manifest else None))
    except AppSpecError as exc:
        print(f"budibase generate: {exc}", file=sys.stderr, flush=True)
        return 1
    problems = check_app(app)
    if problems:
        print("budibase generate: " + "; ".join(problems), file=sys.stderr, flush=True)
        return 1
    path = write_app(app, Path(args.output) if args.output else APP_FILE)
    print(f"wrote {path} ({len(app['docs'])} documents, sha256 {app['content_sha256'][:12]})", flush=True)
    if args.export:
        print(f"wrote {write_export(app, Path(args.export))} (Budibase import archive)", flush=True)
    return 0


def register(subparsers: Any) -> None:
    """Add ``budibase generate`` to the main parser's subparsers."""
    budibase = subparsers.add_parser("budibase", help="Budibase data entry app: generate its configuration")
    actions = budibase.add_subparsers(dest="budibase_command", required=True)
    generate = actions.add_parser("generate", help="write the app configuration from the dbt manifest")
    generate.add_argument("--output", help="JSON file to write (default bi/budibase/soleflipper_app.json)")
    generate.add_argument("--export", help="also write a Budibase import archive (.tar.gz) here")
    generate.add_argument("--manifest", help="dbt manifest.json (default dbt_project/target/manifest.json)")
    generate.set_defaults(func=cmd_budibase_generate)
