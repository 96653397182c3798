"""The offline mode's browser tests: a live server that can be stopped and started again on the
same port and database (the browser then really loses the portal, not only `set_offline`),
and a Chromium with a persistent profile (service workers and IndexedDB survive a restart).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.conftest import ROOT, UNTHROTTLED_ENV, free_port


class RestartableServer:
    """`ppas serve` in a subprocess on a fixed port; `stop()` ends the process, `start()` runs
    a new one on the same port and database, with other environment variables if given."""

    def __init__(self, database_url: str, **env: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, **env: str) -> None:
        assert self.process is None, "already running"
        self.env.update(env)
        full_env = {**os.environ, "DATABASE_URL": self.database_url, "PPAS_SECRET_KEY": "test-secret",
                    "PPAS_DEVELOPMENT": "1", **UNTHROTTLED_ENV, **self.env}
        # A file, not a pipe: a pipe nobody reads fills up with the request log and blocks
        # the server.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ppas", "serve", "--port", str(self.port)], env=full_env, cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.process.kill()
        self.log.seek(0)
        output = self.log.read().decode()
        self.process = None
        raise RuntimeError("the server did not start: " + output)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        # Nothing answers on the port any more: the browser meets a refused connection.
        try:
            httpx.get(self.url + "/", timeout=1)
        except httpx.HTTPError:
            return
        raise AssertionError("the server still answers after stop()")


class Profile:
    """A Chromium user-data folder that outlives its browser: close and open it again."""

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.dir = Path(tempfile.mkdtemp(prefix="ppas-profile-"))
        self.downloads = Path(tempfile.mkdtemp(prefix="ppas-downloads-"))

    @asynccontextmanager
    async def open(self):
        context: BrowserContext = await self.playwright.chromium.launch_persistent_context(
            str(self.dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT, locale="fr-FR", service_workers="allow", accept_downloads=True,
            downloads_path=str(self.downloads))
        try:
            yield context
        finally:
            await context.close()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.downloads, ignore_errors=True)
