"""A webhook receiver (Slack incoming webhook / n8n webhook node) that records what is posted.

Accepts ``POST`` on any path and answers like Slack: ``200 ok`` (text/plain) to a JSON object
with a ``text`` field, ``400 invalid_payload`` to anything else. ``posted`` is every accepted
JSON body in arrival order; ``GET /__admin/requests`` lists every request; faults
(``inject("status:500")``, ``slow:<seconds>``, ``reset``) come from :mod:`simulators.base`.

    with WebhookSimulator() as hook:
        os.environ["SOLEFLIPPER_ALERT_WEBHOOK_URL"] = hook.url("/services/T000/B000/XXXX")
        ...
        assert hook.posted[0]["text"].startswith(":red_circle:")

Run one for the demo with ``python -m simulators.webhook --port 8789`` and point
``SOLEFLIPPER_ALERT_WEBHOOK_URL`` at the URL it prints; each alert is also printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, TextIO

from simulators.base import Request, Response, Simulator, run_forever


class WebhookSimulator(Simulator):
    name = "webhook"

    def __init__(self, port: int = 0, *, echo: TextIO | None = None) -> None:
        super().__init__(port)
        self.echo = echo
        # Any path: one route whose pattern matches everything (the base matches routes by regex).
        self._routes[("POST", "*")] = (re.compile(r"^/.*$"), self._receive)

    def error_body(self, status: int, message: str) -> Response:
        return Response(status, body=message, content_type="text/plain; charset=utf-8")

    def _receive(self, request: Request) -> Response:
        try:
            payload = request.json()
        except ValueError:
            return self.error(400, "invalid_payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return self.error(400, "invalid_payload")
        if self.echo is not None:
            print(json.dumps(payload, indent=2), file=self.echo, flush=True)
        return Response(200, body="ok")

    @property
    def posted(self) -> list[dict[str, Any]]:
        """Bodies of the posts answered 200, in arrival order."""
        bodies = []
        for request in self.requests:
            if request.fault is not None or request.method != "POST":
                continue
            try:
                payload = request.json()
            except ValueError:
                continue
            if isinstance(payload, dict) and isinstance(payload.get("text"), str):
                bodies.append(payload)
        return bodies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Receive alert webhooks on 127.0.0.1 and print them.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    run_forever(WebhookSimulator(args.port, echo=sys.stdout))


if __name__ == "__main__":
    main()
