"""Real server processes (`python -m ppas serve`) for tests that need several of them."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT, UNTHROTTLED_ENV, free_port


def start_server(database_url: str, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """`ppas serve` in a subprocess on a free port; returns it once /healthz answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_SECRET_KEY": "test-secret",
           "PPAS_DEVELOPMENT": "1", **UNTHROTTLED_ENV, **(extra_env or {})}
    process = subprocess.Popen([sys.executable, "-m", "ppas", "serve", "--port", str(port), *args],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the server on {url} did not start")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
