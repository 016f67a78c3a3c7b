"""What the sign-in commands of every API share (``soleflipper stockx login``, ``soleflipper ebay
login``): console output, the warehouse to store tokens in, the code from a pasted redirect
address, and the simulator-only auto-approval. Nothing here prints a token."""

from __future__ import annotations

import sys
from urllib.parse import parse_qs, urlsplit

from soleflipper.settings import Settings


def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def database_url(settings: Settings) -> str:
    """The warehouse, started and created if it is the project-local cluster."""
    from resources.postgres import provision

    return provision(settings).warehouse_url


def code_from(value: str) -> str:
    """The code itself, or the ``code`` parameter of the pasted redirect address."""
    value = value.strip()
    if "://" in value or value.startswith("?") or "code=" in value:
        codes = parse_qs(urlsplit(value).query or value.lstrip("?")).get("code")
        if not codes:
            raise ValueError("the pasted address has no code=… parameter")
        return codes[0]
    return value


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


def duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(abs(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m"


def auto_approve(authorize_url: str) -> str:
    """Simulator only: request the sign-in page and take the code from its redirect."""
    import httpx

    try:
        response = httpx.get(authorize_url, follow_redirects=False, timeout=10)
    except httpx.HTTPError as exc:
        raise ValueError(f"cannot reach the sign-in page ({type(exc).__name__}): is the simulator running?") from None
    location = response.headers.get("location")
    if response.status_code != 302 or not location:
        raise ValueError(f"the sign-in page did not redirect (HTTP {response.status_code})")
    return code_from(location)
