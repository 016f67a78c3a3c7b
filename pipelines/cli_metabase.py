"""``soleflipper metabase sync|plan|simulate``: provision Metabase from bi/metabase/dashboards/*.yaml.

``sync`` makes Metabase match the YAML (:func:`soleflipper.bi.metabase_sync.sync_metabase`) and
prints what it created, updated, left unchanged and archived; a second run prints only
"unchanged". ``plan`` reads Metabase and prints what ``sync`` would do, writing nothing.
``simulate`` serves the local Metabase simulator (for trying ``sync`` without a Metabase).
Exit status 1 on any error (bad YAML, a card naming a missing column, Metabase refusing a
call), with the reason on stderr. Nothing here prints a password or an API key.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from soleflipper.settings import Settings


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cmd_metabase_sync(args: argparse.Namespace, settings: Settings) -> int:
    from resources.http_client import ApiClientError
    from resources.metabase import URL_ENV, MetabaseResource, metabase_enabled
    from soleflipper.bi.dashboards import DashboardSpecError, load_dashboards, load_manifest
    from soleflipper.bi.metabase_sync import MetabaseSyncError, metabase_connection, sync_metabase

    dry_run = args.metabase_command == "plan" or args.dry_run
    try:
        # The YAML and its manifest check come first: they need no Metabase.
        dashboards = load_dashboards()
        manifest = load_manifest()
        if not metabase_enabled():
            _err(
                f"Metabase is not configured: set {URL_ENV} and SOLEFLIPPER_METABASE_API_KEY, or "
                "SOLEFLIPPER_METABASE_USER and SOLEFLIPPER_METABASE_PASSWORD "
                "(`soleflipper metabase simulate` serves a local one to try this)"
            )
            return 1
        resource = MetabaseResource.from_env(os.environ)
        connection = metabase_connection(settings, os.environ)
        with resource.get_client() as client:
            report = sync_metabase(
                client, dashboards, manifest, connection, dry_run=dry_run, wait_timeout=args.wait_timeout
            )
    except (DashboardSpecError, MetabaseSyncError, ApiClientError, ValueError) as exc:
        _err(f"metabase {args.metabase_command} failed: {exc}")
        return 1
    title = "Metabase plan (nothing written)" if dry_run else f"Metabase sync of {resource.url}"
    _out(f"{title}: {len(dashboards)} dashboards, {sum(len(d.cards) for d in dashboards)} cards")
    _out(report.table())
    if report.dashboard_urls:
        _out()
        for name, url in report.dashboard_urls.items():
            _out(f"  {name}: {url}")
    _out()
    if dry_run:
        _out(
            "Would change something: run `soleflipper metabase sync`."
            if report.changed
            else "Nothing to change."
        )
    else:
        _out("Changed Metabase." if report.changed else "Nothing changed: Metabase already matched the YAML.")
    return 0


def cmd_metabase_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.metabase import main

    main(["--port", str(args.port)])
    return 0


def register(subparsers: Any) -> None:
    """Add ``metabase`` (sync, plan, simulate) to the main parser's subparsers."""
    metabase = subparsers.add_parser("metabase", help="Metabase dashboards as code (bi/metabase/dashboards)")
    actions = metabase.add_subparsers(dest="metabase_command", required=True)
    for name, text in (
        ("sync", "create or update the database connection, collection, cards and dashboards"),
        ("plan", "show what sync would change, without writing"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--wait-timeout", type=float, default=120.0,
                            help="seconds to wait for Metabase's schema sync (default 120)")  # fmt: skip
        action.set_defaults(func=cmd_metabase_sync, dry_run=False)
        if name == "sync":
            action.add_argument("--dry-run", action="store_true", help="same as `plan`")
    simulate = actions.add_parser("simulate", help="serve the local Metabase simulator until Ctrl-C")
    simulate.add_argument("--port", type=int, default=0)
    simulate.set_defaults(func=cmd_metabase_simulate)
