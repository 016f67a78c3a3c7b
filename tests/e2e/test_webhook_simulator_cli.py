"""`python -m simulators.webhook`: the alert receiver for the demo prints its URL and every alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from soleflipper.settings import PROJECT_ROOT


def test_webhook_simulator_prints_its_url_and_each_posted_alert():
    process = subprocess.Popen([sys.executable, "-m", "simulators.webhook"], cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("webhook simulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1]
        process.stdout.readline()  # the admin help line
        response = httpx.post(url + "/webhook/alerts", json={"text": "job x failed", "job": "x"}, timeout=10)
        assert (response.status_code, response.text) == (200, "ok")
        printed = "".join(process.stdout.readline() for _ in range(4))
        assert json.loads(printed) == {"text": "job x failed", "job": "x"}
        listed = httpx.get(url + "/__admin/requests", timeout=10).json()
        assert [(r["method"], r["path"]) for r in listed] == [("POST", "/webhook/alerts")]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        process.stdout.close()
