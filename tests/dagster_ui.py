"""The Dagster webserver and headless Chromium, for the browser test (tests/e2e/test_dagster_ui_browser.py).

* ``python tests/dagster_ui.py --port N`` serves the instance the way ``soleflipper dev`` does
  (same DAGSTER_HOME, storage and demo simulators, same workspace.yaml), but runs only
  ``dagster-webserver``: no daemon, so no sensor or schedule starts a run while a test looks.
* :class:`Webserver` starts that in its own process group and stops the whole group.
* :func:`chromium_dump_dom` / :func:`chromium_screenshot` drive Debian's ``chromium``, which
  renders the Dagster UI headless only with a virtual-time budget (without one, the page is
  captured before the app has fetched anything: a blank page).
* :func:`png_colours` decodes a PNG with Pillow, to tell a real screenshot from a blank one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import nullcontext
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1600, 1000)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_process_group(command: list[str], timeout: float, **popen: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(command, capture_output=True, text=True)`` in its own process group; on a
    timeout the whole group is killed (chromium's renderers, dbt under the CLI) and the test fails."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True, **popen) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise AssertionError(f"{' '.join(command)} did not finish in {timeout} s") from None
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


# --------------------------------------------------------------------------- webserver


class Webserver:
    """``python tests/dagster_ui.py`` as a process group; its output goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_handle = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=cwd, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self, deadline_seconds: float) -> dict[str, Any]:
        """Poll /server_info until it answers; its JSON. Fails with the log if the process exits."""
        end = time.monotonic() + deadline_seconds
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the webserver exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as answer:
                    return json.loads(answer.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > end:
                    raise RuntimeError(f"no answer from {self.url}/server_info:\n{self.log_tail()}") from None
                time.sleep(1)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as answer:
            result = json.loads(answer.read())
        assert "errors" not in result, result["errors"]
        return result["data"]

    def log_tail(self, chars: int = 6000) -> str:
        self._log_handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self, grace_seconds: float = 5) -> None:
        """SIGTERM to the whole process group, SIGKILL after a short grace (dagster may ignore
        SIGTERM for 30 s), then reap."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            pass
        try:  # the leader may be gone while children (the code server) still run
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log_handle.close()


def serve(host: str, port: int) -> int:
    """What ``soleflipper dev`` does, with ``dagster-webserver`` instead of ``dagster dev``."""
    from pipelines.cli import prepare_environment
    from pipelines.demo import demo_services, remembered_demo
    from soleflipper.settings import PROJECT_ROOT, load_settings

    settings = prepare_environment(load_settings())
    webserver = shutil.which("dagster-webserver") or str(Path(sys.executable).parent / "dagster-webserver")
    command = [webserver, "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port)]
    demo = remembered_demo(settings)
    with demo_services(settings, *demo) if demo else nullcontext():
        return subprocess.call(command, cwd=PROJECT_ROOT)


# --------------------------------------------------------------------------- chromium


def _chromium(chromium: str, profile: Path, budget_ms: int, height: int, *args: str,
             timeout: float = 240) -> subprocess.CompletedProcess:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-extensions", "--hide-scrollbars", f"--window-size={WINDOW[0]},{height}",
        f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args,
    ]
    proc = run_process_group(command, timeout)
    assert proc.returncode == 0, f"{' '.join(command)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def chromium_dump_dom(chromium: str, profile: Path, url: str, height: int = WINDOW[1], budget_ms: int = 30000) -> str:
    """The DOM of ``url`` after ``budget_ms`` of virtual time, in a window ``height`` pixels tall
    (lists are virtualized: only rows in the window are in the DOM). Virtual time stands still
    while fetches are pending, so the budget is not a wall-clock wait."""
    return _chromium(chromium, profile, budget_ms, height, "--dump-dom", url).stdout


def chromium_screenshot(chromium: str, profile: Path, url: str, path: Path, budget_ms: int = 30000) -> Path:
    """A PNG of ``url`` (window size WINDOW) after ``budget_ms`` of virtual time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    _chromium(chromium, profile, budget_ms, WINDOW[1], f"--screenshot={path}", url)
    assert path.is_file(), f"chromium wrote no screenshot to {path}"
    return path


def png_colours(path: Path) -> tuple[tuple[int, int], int]:
    """((width, height), number of distinct RGB colours) of a PNG."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG", image.format
        rgb = image.convert("RGB")
        return rgb.size, len(rgb.getcolors(maxcolors=rgb.size[0] * rgb.size[1]) or [])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="serve the Dagster UI (webserver only, no daemon)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    sys.exit(serve(options.host, options.port))
