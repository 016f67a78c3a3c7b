"""Demo services for ``make run`` and ``make dev``: a local StockX when the user has no StockX account,
and a local Notion when no Notion integration is configured.

When ``SOLEFLIPPER_STOCKX_API_KEY`` is not set, :func:`demo_services`

* starts the StockX simulator in a background thread on 127.0.0.1, port
  ``SOLEFLIPPER_STOCKX_SIMULATOR_PORT`` (default 8787; a free port if that one is taken), seeded
  with the same seed and number of sales as the demo CSV reports, so API orders and report rows
  reconcile one to one;
* paces the demo at ``SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND`` (default **20** here) and sets the
  simulator's rate limiter to the same rate, so the limiter is on but a run of ~250 calls takes
  seconds, not minutes. The real StockX allows 1 request/s: without the demo the client keeps
  its default of 1;
* exports the simulator's URLs and demo credentials (:func:`simulators.stockx.demo_environment`)
  into ``os.environ`` for Dagster, dbt and subprocesses (``dagster dev``), and restores the
  previous values on exit;
* uses ``SOLEFLIPPER_FERNET_KEY``, or creates a key once in ``$SOLEFLIPPER_HOME/secrets/fernet.key``
  (mode 0600) and exports it;
* signs in once (exchanges an authorization code the simulator issues) when no token is stored.
  Tokens stored by an earlier demo run are reused: each run's simulator is a new process, so it
  is told about them (a real StockX remembers the tokens it issued).

With an API key set, nothing is started: the real StockX is used as configured. Stored tokens
that were not issued by a local simulator are never overwritten.

Notion: when ``SOLEFLIPPER_NOTION_TOKEN`` is not set, :func:`demo_services` also starts the Notion
simulator on 127.0.0.1, port ``SOLEFLIPPER_NOTION_SIMULATOR_PORT`` (default 8788; a free port if
that one is taken), seeded from the same sales and seed: its Purchases database holds the Notion
share of the demo purchases (the demo purchases sheet holds the rest, no unit in both; see
:func:`soleflipper.demo_data.iter_purchases`) and its Sales database those purchases' StockX sales
with their order numbers as ``Sale ID``. It exports the simulated integration token,
``SOLEFLIPPER_NOTION_BASE_URL`` (``<simulator>/v1``) and the four database / data source id
variables of the default mapping for the duration (so the Notion assets join the code location),
and restores them on exit. With a token set, the configured Notion is used and nothing is started.

Metabase: when ``SOLEFLIPPER_METABASE_URL`` is not set, :func:`demo_services` also starts the
Metabase simulator (port ``SOLEFLIPPER_METABASE_SIMULATOR_PORT``, default 8789; a free port if
taken) and exports its URL and demo admin (``SOLEFLIPPER_METABASE_USER``/``_PASSWORD``), so the
``bi/metabase_dashboards`` asset joins the code location and the demo run provisions the four
dashboards on it (the simulator reads the warehouse's tables for its schema sync).

eBay: when ``SOLEFLIPPER_EBAY_CLIENT_ID`` is not set, :func:`demo_services` also starts the eBay
simulator (port ``SOLEFLIPPER_EBAY_SIMULATOR_PORT``, default 8790; a free port if taken) and exports
the demo application's id, secret and refresh token and its Fulfillment, Finances and OAuth hosts,
so the eBay API assets join the code location and the demo run syncs its orders and fees.

The simulators invent orders, so they must only run next to demo data: ``soleflipper run`` records
its demo arguments with :func:`remember_demo` (``--no-demo`` calls :func:`forget_demo`), and
``soleflipper dev`` starts the simulator only when :func:`remembered_demo` finds them, with the
same sales and seed.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from soleflipper.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

ENV_API_KEY = "SOLEFLIPPER_STOCKX_API_KEY"
ENV_SIMULATOR_PORT = "SOLEFLIPPER_STOCKX_SIMULATOR_PORT"
ENV_REQUESTS_PER_SECOND = "SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND"
DEFAULT_SIMULATOR_PORT = 8787
DEMO_REQUESTS_PER_SECOND = 20.0
ENV_NOTION_TOKEN = "SOLEFLIPPER_NOTION_TOKEN"  # == resources.notion.TOKEN_ENV
ENV_NOTION_BASE_URL = "SOLEFLIPPER_NOTION_BASE_URL"  # == assets.notion.BASE_URL_ENV
ENV_NOTION_SIMULATOR_PORT = "SOLEFLIPPER_NOTION_SIMULATOR_PORT"
DEFAULT_NOTION_SIMULATOR_PORT = 8788
ENV_EBAY_SIMULATOR_PORT = "SOLEFLIPPER_EBAY_SIMULATOR_PORT"  # default simulators.ebay.DEMO_PORT (8790)
ENV_METABASE_URL = "SOLEFLIPPER_METABASE_URL"  # == resources.metabase.URL_ENV
ENV_METABASE_SIMULATOR_PORT = "SOLEFLIPPER_METABASE_SIMULATOR_PORT"
DEFAULT_METABASE_SIMULATOR_PORT = 8789
# The default mapping's id variables (soleflipper/notion_mappings/default.yaml), pointed at the simulator.
ENV_NOTION_IDS = (
    ("SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID", "purchases", "database_id"),
    ("SOLEFLIPPER_NOTION_PURCHASES_DATA_SOURCE_ID", "purchases", "data_source_id"),
    ("SOLEFLIPPER_NOTION_SALES_DATABASE_ID", "sales", "database_id"),
    ("SOLEFLIPPER_NOTION_SALES_DATA_SOURCE_ID", "sales", "data_source_id"),
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class DemoError(RuntimeError):
    """The demo cannot set StockX up; the message says why and what to do (never a secret)."""


@dataclass(frozen=True)
class DemoServices:
    """What :func:`demo_services` started (nothing for a service configured for real).

    ``active`` / ``note`` / ``simulator`` describe StockX (as before); ``notion_active`` /
    ``notion_note`` / ``notion_simulator`` describe Notion.
    """

    stockx_api_url: str | None = None
    stockx_auth_url: str | None = None
    simulator: Any = None  # the running StockXSimulator, for tests and the CLI banner
    signed_in: bool = False  # a code was exchanged now (False: stored tokens were reused)
    key_file: Path | None = None  # the Fernet key file, when the demo created or read one
    note: str = ""  # why no StockX simulator was started, if none was
    notion_api_url: str | None = None  # the Notion simulator's API root (<url>/v1), when started
    notion_simulator: Any = None  # the running NotionSimulator
    notion_note: str = ""  # why no Notion simulator was started, if none was
    metabase_url: str | None = None  # the Metabase simulator's address, when started
    metabase_simulator: Any = None  # the running MetabaseSimulator
    metabase_note: str = ""  # why no Metabase simulator was started, if none was
    ebay_api_url: str | None = None  # the eBay simulator's Fulfillment/OAuth host, when started
    ebay_simulator: Any = None  # the running EbaySimulator
    ebay_note: str = ""  # why no eBay simulator was started, if none was
    alias_api_url: str | None = None  # the Alias simulator's API root (<url>/api/v1), when started
    alias_simulator: Any = None  # the running AliasSimulator
    alias_note: str = ""  # why no Alias simulator was started, if none was

    @property
    def active(self) -> bool:
        return self.simulator is not None

    @property
    def notion_active(self) -> bool:
        return self.notion_simulator is not None


def demo_marker(settings: Settings) -> Path:
    return settings.home / "demo.json"


def remember_demo(settings: Settings, n_sales: int, seed: int) -> None:
    """Note that the warehouse holds demo data (``soleflipper run`` without ``--no-demo``), so that
    ``soleflipper dev`` serves a StockX with the same sales and never invents orders next to real data."""
    path = demo_marker(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"n_sales": n_sales, "seed": seed}) + "\n", encoding="utf-8")


def remembered_demo(settings: Settings) -> tuple[int, int] | None:
    """(n_sales, seed) of the last demo run, or None if the warehouse is not in demo mode."""
    try:
        data = json.loads(demo_marker(settings).read_text(encoding="utf-8"))
        return int(data["n_sales"]), int(data["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_demo(settings: Settings) -> None:
    demo_marker(settings).unlink(missing_ok=True)


def key_file(settings: Settings) -> Path:
    return settings.home / "secrets" / "fernet.key"


def ensure_key_file(path: Path) -> str:
    """The Fernet key in ``path``, created (mode 0600, directory 0700) if missing; reused otherwise."""
    from resources.token_store import TokenStoreError, make_fernet, new_key

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier run (or a concurrent one): use it
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_key() + "\n")
    os.chmod(path, 0o600)
    key = path.read_text(encoding="ascii").strip()
    try:
        make_fernet(key)
    except TokenStoreError:
        raise DemoError(
            f"{path} does not hold a valid Fernet key: delete it and run again "
            "(stored demo StockX tokens are then replaced by a new sign-in)"
        ) from None
    return key


def _issuer(access_token: Any) -> str | None:
    """The ``iss`` claim of a JWT access token (no signature check: only to tell whose it is)."""
    parts = access_token.split(".") if isinstance(access_token, str) else []
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def issued_by_a_simulator(tokens: Mapping[str, Any]) -> bool:
    """Whether stored tokens come from a local simulator (their issuer is a loopback address)."""
    issuer = _issuer(tokens.get("access_token"))
    return issuer is not None and (urlsplit(issuer).hostname or "") in _LOOPBACK


def _remember_tokens(sim: Any, tokens: Mapping[str, Any]) -> None:
    """Make a freshly started simulator accept the tokens an earlier demo simulator issued.

    Uses the simulator's token tables (``_access``: token -> expiry, ``_refresh``) under its
    lock: there is no public call for "the server remembers its tokens" yet.
    """
    access, refresh, expires = (
        tokens.get("access_token"),
        tokens.get("refresh_token"),
        tokens.get("expires_at"),
    )
    with sim.lock:
        if isinstance(access, str) and isinstance(expires, int | float):
            sim._access[access] = float(expires)  # an expired one stays expired: the client refreshes
        if isinstance(refresh, str) and refresh:
            sim._refresh.add(refresh)


def _start(sim: Any) -> None:
    try:
        sim.start()
    except OSError as exc:
        log.info("port %s is taken (%s): the %s simulator uses a free port", sim.port, exc.strerror, sim.name)
        sim.port = 0
        sim.start()


@contextmanager
def _exported(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` in ``os.environ`` for the duration; the previous values (or absence) restored."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _port(variable: str, default: int) -> int:
    return int((os.environ.get(variable) or "").strip() or default)


# The demo business's data ends on 2024-12-29 (demo sales, purchases and market history): its pairs in
# stock are priced as of the next day, so recent market sales and stock ages look like a live shop's
# (unless SOLEFLIPPER_PRICING_AS_OF is set). == soleflipper.analytics_rows.pricing.AS_OF_ENV
ENV_PRICING_AS_OF = "SOLEFLIPPER_PRICING_AS_OF"
DEMO_PRICING_DAY = "2024-12-30"
# ... and priced on StockX and Alias (unless SOLEFLIPPER_PRICING_RULES is set).
ENV_PRICING_RULES = "SOLEFLIPPER_PRICING_RULES"
DEMO_PRICING_RULES = PROJECT_ROOT / "soleflipper" / "pricing" / "demo_rules.yaml"


@contextmanager
def demo_services(settings: Settings, n_sales: int = 2000, seed: int = 7) -> Iterator[DemoServices]:
    """Run the demo's StockX and Notion (see module doc) for the duration of the ``with`` block, and price
    the demo's stock as of the day after its data ends (``SOLEFLIPPER_PRICING_AS_OF``, unless set)."""
    with ExitStack() as stack:
        if not (os.environ.get(ENV_PRICING_AS_OF) or "").strip():
            stack.enter_context(_exported({ENV_PRICING_AS_OF: DEMO_PRICING_DAY}))
        if not (os.environ.get(ENV_PRICING_RULES) or "").strip():
            stack.enter_context(_exported({ENV_PRICING_RULES: str(DEMO_PRICING_RULES)}))
        notion = stack.enter_context(_notion_service(n_sales, seed))
        metabase = stack.enter_context(_metabase_service())
        alias = stack.enter_context(_alias_service(seed))
        stockx = stack.enter_context(_stockx_service(settings, n_sales, seed))
        ebay = stack.enter_context(_ebay_service())  # after StockX: its Fernet key is exported by then
        yield replace(stockx, **notion, **metabase, **ebay, **alias)


@contextmanager
def _ebay_service() -> Iterator[dict[str, Any]]:
    """The eBay simulator, unless an eBay application is configured (SOLEFLIPPER_EBAY_CLIENT_ID):
    DemoServices fields. Exports the demo app's credentials and refresh token, both hosts (Finances
    answers on ``localhost``, Fulfillment on ``127.0.0.1``), a Finances signing key the simulator
    verifies, and the RuName and consent URL (``soleflipper ebay login --auto-approve`` works), so
    the eBay assets join."""
    from resources.ebay import resource as ebay_env
    from simulators.ebay import (
        AUTHORIZE_PATH,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_PORT,
        DEMO_REFRESH_TOKEN,
        DEMO_RUNAME,
        EbaySimulator,
    )

    if (os.environ.get(ebay_env.ENV_CLIENT_ID) or "").strip():
        yield {"ebay_note": f"{ebay_env.ENV_CLIENT_ID} is set: using the configured eBay, no simulator"}
        return
    sim = EbaySimulator(_port(ENV_EBAY_SIMULATOR_PORT, DEMO_PORT))
    _start(sim)
    try:
        # The demo seller is German: eBay wants Finances requests signed (EU/UK sellers). The
        # simulator verifies every signature with the public half of a key made for this run.
        signing_key, signature_key_jwe = sim.enroll_signing_key()
        sim.configure(require_signature=True)
        exported = {ebay_env.ENV_CLIENT_ID: DEMO_CLIENT_ID, ebay_env.ENV_CLIENT_SECRET: DEMO_CLIENT_SECRET,
                    ebay_env.ENV_REFRESH_TOKEN: DEMO_REFRESH_TOKEN, ebay_env.ENV_API_URL: sim.api_url,
                    ebay_env.ENV_AUTH_URL: sim.auth_url, ebay_env.ENV_FINANCES_URL: sim.finances_url,
                    ebay_env.ENV_SIGNING_KEY: signing_key, ebay_env.ENV_SIGNATURE_KEY_JWE: signature_key_jwe,
                    ebay_env.ENV_RUNAME: DEMO_RUNAME, ebay_env.ENV_CONSENT_URL: sim.api_url + AUTHORIZE_PATH}
        with _exported(exported):
            log.info("eBay simulator on %s (Finances on %s)", sim.api_url, sim.finances_url)
            yield {"ebay_api_url": sim.api_url, "ebay_simulator": sim}
    finally:
        sim.stop()


@contextmanager
def _alias_service(seed: int) -> Iterator[dict[str, Any]]:
    """The Alias simulator (its seeded orders and listings), unless an Alias token is configured
    (DemoServices fields): exports its token and API root, so the Alias assets join the code location and the demo run
    syncs them. Port SOLEFLIPPER_ALIAS_SIMULATOR_PORT (default 8791; a free one if taken)."""
    from resources.alias import BASE_URL_ENV, TOKEN_ENV
    from simulators.alias import DEFAULT_TOKEN, AliasSimulator

    if (os.environ.get(TOKEN_ENV) or "").strip():
        yield {"alias_note": f"{TOKEN_ENV} is set: using the configured Alias, no simulator"}
        return
    sim = AliasSimulator(_port("SOLEFLIPPER_ALIAS_SIMULATOR_PORT", 8791), seed=seed)
    _start(sim)
    try:
        with _exported({TOKEN_ENV: DEFAULT_TOKEN, BASE_URL_ENV: sim.url("/api/v1")}):
            log.info("Alias simulator on %s (%s orders; seed %s)", sim.url("/api/v1"), len(sim.world.orders), seed)
            yield {"alias_api_url": sim.url("/api/v1"), "alias_simulator": sim}
    finally:
        sim.stop()


@contextmanager
def _metabase_service() -> Iterator[dict[str, Any]]:
    """The Metabase simulator, unless a Metabase is configured: DemoServices fields."""
    from resources.metabase import API_KEY_ENV, PASSWORD_ENV, USER_ENV
    from simulators.metabase import DEMO_ADMIN, MetabaseSimulator

    if (os.environ.get(ENV_METABASE_URL) or "").strip():
        yield {"metabase_note": f"{ENV_METABASE_URL} is set: using the configured Metabase, no simulator"}
        return
    sim = MetabaseSimulator(_port(ENV_METABASE_SIMULATOR_PORT, DEFAULT_METABASE_SIMULATOR_PORT), sync_delay=0.5)
    _start(sim)
    try:
        exported = {ENV_METABASE_URL: sim.base_url, USER_ENV: DEMO_ADMIN[0], PASSWORD_ENV: DEMO_ADMIN[1]}
        with _exported(exported):
            previous_key = os.environ.pop(API_KEY_ENV, None)  # the demo admin signs in, not a stray key
            try:
                log.info("Metabase simulator on %s", sim.base_url)
                yield {"metabase_url": sim.base_url, "metabase_simulator": sim}
            finally:
                if previous_key is not None:
                    os.environ[API_KEY_ENV] = previous_key
    finally:
        sim.stop()


@contextmanager
def _notion_service(n_sales: int, seed: int) -> Iterator[dict[str, Any]]:
    """The Notion simulator in demo mode, unless a Notion token is configured: DemoServices fields."""
    from simulators.notion import DEFAULT_TOKEN, NotionSimulator

    if (os.environ.get(ENV_NOTION_TOKEN) or "").strip():
        yield {"notion_note": f"{ENV_NOTION_TOKEN} is set: using the configured Notion, no simulator"}
        return
    sim = NotionSimulator.from_demo(
        n_sales, seed, _port(ENV_NOTION_SIMULATOR_PORT, DEFAULT_NOTION_SIMULATOR_PORT)
    )
    _start(sim)
    try:
        api_url = sim.url("/v1")
        exported = {ENV_NOTION_TOKEN: DEFAULT_TOKEN, ENV_NOTION_BASE_URL: api_url}
        for variable, database, field in ENV_NOTION_IDS:
            exported[variable] = getattr(sim.workspace.databases[database], field)
        with _exported(exported):
            pages = sim.page_ids("purchases"), sim.page_ids("sales")
            log.info(
                "Notion simulator on %s (%s purchases, %s sales; seed %s)",
                api_url,
                len(pages[0]),
                len(pages[1]),
                seed,
            )
            yield {"notion_api_url": api_url, "notion_simulator": sim}
    finally:
        sim.stop()


@contextmanager
def _stockx_service(settings: Settings, n_sales: int, seed: int) -> Iterator[DemoServices]:
    """The StockX part of :func:`demo_services` (unchanged behaviour)."""
    from resources.stockx.client import PROVIDER
    from resources.token_store import FERNET_KEY_ENV, DecryptError, TokenStore
    from simulators.stockx import StockXSimulator, demo_environment

    if (os.environ.get(ENV_API_KEY) or "").strip():
        yield DemoServices(note=f"{ENV_API_KEY} is set: using the configured StockX, no simulator")
        return

    created_key: Path | None = None
    fernet_key = (os.environ.get(FERNET_KEY_ENV) or "").strip()
    if not fernet_key:
        created_key = key_file(settings)
        fernet_key = ensure_key_file(created_key)

    store = TokenStore(settings.warehouse_url, fernet_key)
    try:
        stored = store.load(PROVIDER)
    except DecryptError:
        raise DemoError(
            "StockX tokens are stored in the warehouse but cannot be decrypted with the demo's key "
            f"({created_key or FERNET_KEY_ENV}); restore the key that stored them, or run "
            "`soleflipper stockx login` with the StockX variables set"
        ) from None
    if stored and not issued_by_a_simulator(stored):
        note = (
            f"tokens for the real StockX are stored but {ENV_API_KEY} is not set: the demo does not "
            "replace them, so StockX is left out (set the StockX variables to use your account)"
        )
        log.warning(note)
        yield DemoServices(key_file=created_key, note=note)
        return

    rate = float((os.environ.get(ENV_REQUESTS_PER_SECOND) or "").strip() or DEMO_REQUESTS_PER_SECOND)
    port = _port(ENV_SIMULATOR_PORT, DEFAULT_SIMULATOR_PORT)
    sim = StockXSimulator(port, seed=seed, n_sales=n_sales, rate_limit=True, requests_per_second=rate)
    _start(sim)
    exported = {**demo_environment(sim), ENV_REQUESTS_PER_SECOND: f"{rate:g}", FERNET_KEY_ENV: fernet_key}
    try:
        with _exported(exported):
            yield _signed_in(settings, sim, stored, created_key, n_sales, seed, rate)
    finally:
        sim.stop()


def _signed_in(
    settings: Settings,
    sim: Any,
    stored: Mapping[str, Any] | None,
    created_key: Path | None,
    n_sales: int,
    seed: int,
    rate: float,
) -> DemoServices:
    """Sign the exported StockX client in (or tell the simulator about stored tokens)."""
    from resources.stockx.resource import StockXSettings
    from simulators.stockx import DEMO_REDIRECT_URI

    signed_in = False
    if stored:
        _remember_tokens(sim, stored)
    else:
        with StockXSettings.from_env().client(settings.warehouse_url, login=True) as client:
            client.exchange_code(sim.issue_code(DEMO_REDIRECT_URI))
        signed_in = True
    log.info("StockX simulator on %s (%s sales, seed %s, %g requests/s)", sim.base_url, n_sales, seed, rate)
    return DemoServices(
        stockx_api_url=sim.api_base_url,
        stockx_auth_url=sim.auth_url,
        simulator=sim,
        signed_in=signed_in,
        key_file=created_key,
    )
