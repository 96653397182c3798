"""Shared fixtures: a real database (SQLite file or a PostgreSQL the tests start), the app, clients."""
from __future__ import annotations

import glob
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from ppas.settings import Settings

BACKEND = os.environ.get("PPAS_TEST_DATABASE", "sqlite")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root, so use Debian's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """A throw-away PostgreSQL cluster in a temporary folder, on a free loopback port."""

    def __init__(self) -> None:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not candidates:
            raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it.")
        self.bin = Path(candidates[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="ppas-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def start(self) -> str:
        run = lambda *cmd: subprocess.run(_as_postgres_user(list(cmd)), check=True,  # noqa: E731
                                          capture_output=True, text=True)
        run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "ppas", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8")
        run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "ppas", "ppas")
        self.version = run(str(self.bin / "postgres"), "--version").stdout.strip()
        return f"postgres://ppas@127.0.0.1:{self.port}/ppas"

    def stop(self) -> None:
        subprocess.run(_as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(self.data),
                                          "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


_POSTGRES: PostgresServer | None = None
_TMP = Path(tempfile.mkdtemp(prefix="ppas-test-"))


def _database_url() -> str:
    global _POSTGRES
    if BACKEND == "postgres":
        if _POSTGRES is None:
            _POSTGRES = PostgresServer()
            os.environ["PPAS_TEST_POSTGRES_URL"] = _POSTGRES.start()
        return os.environ["PPAS_TEST_POSTGRES_URL"]
    return f"sqlite://{_TMP / 'ppas.sqlite3'}"


def pytest_report_header(config) -> str:
    if BACKEND == "postgres":
        return "database backend: PostgreSQL (a server started by the tests)"
    return "database backend: SQLite (a file in a temporary folder)"


def pytest_sessionfinish(session, exitstatus) -> None:
    if _POSTGRES is not None:
        _POSTGRES.stop()
        print(f"\nPostgreSQL used by this run: {_POSTGRES.version}")
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url() -> str:
    return _database_url()


# The suite signs in (and resets, and registers) hundreds of times from one address: its own
# traffic must not meet the per-address limits. tests/web/test_rate_limits.py uses low ones.
UNTHROTTLED = "100000/minute"
UNTHROTTLED_ENV = {"PPAS_RATE_LIMIT_SIGN_IN": UNTHROTTLED,
                   "PPAS_RATE_LIMIT_PASSWORD_RESET": UNTHROTTLED,
                   "PPAS_RATE_LIMIT_REGISTRATION": UNTHROTTLED}


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return replace(Settings(), database_url=database_url, secret_key="test-secret",
                   development=True, rate_limit_sign_in=UNTHROTTLED,
                   rate_limit_password_reset=UNTHROTTLED, rate_limit_registration=UNTHROTTLED)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[None]:
    """A migrated database with the demo loaded, open for the whole session."""
    from ppas.db import close_database, migrate, open_database
    from ppas.services.demo import load_demo

    await migrate(database_url)
    await open_database(database_url)
    await load_demo()
    yield
    await close_database()


@pytest.fixture(scope="session")
def app(settings: Settings, db):
    from ppas.app import create_app

    return create_app(settings, manage_database=False)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in_as(http: httpx.AsyncClient, login: str, password: str) -> str:
    """Sign in through the form like a browser; returns the session's CSRF token."""
    page = await http.get("/connexion")
    token = CSRF_IN_PAGE.search(page.text).group(1)
    response = await http.post("/connexion", data={"csrf_token": token, "login": login,
                                                   "password": password, "next": "/espace"})
    assert response.status_code == 303, response.text
    home = await http.get("/espace")
    return CSRF_IN_PAGE.search(home.text).group(1)


@pytest.fixture
def sign_in():
    return sign_in_as


@pytest.fixture(scope="session")
def live_server(database_url: str, db) -> Iterator[str]:
    """The real server (uvicorn, subprocess) on the test database; no job worker inside it
    (PPAS_JOBS=off): tests run jobs themselves, at the clock they choose."""
    port = free_port()
    # Development: the server speaks plain http, where Secure cookies would never come back.
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_SECRET_KEY": "test-secret",
           "PPAS_DEVELOPMENT": "1", "PPAS_JOBS": "off", **UNTHROTTLED_ENV}
    # Its output goes to a file: the server logs a line per request, and a pipe nobody reads
    # fills up (64 KiB) and then blocks the server in the middle of the browser tests.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "ppas", "serve", "--port", str(port)],
                               env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        log.seek(0)
        raise RuntimeError("the server did not start: " + log.read().decode())
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    log.close()


_numbers = itertools.count(1)


@pytest.fixture
async def make_user(db):
    """Throw-away accounts of provider 21231300 that a test may lock or change."""
    from ppas.domain.password_hashing import hash_password
    from ppas.models import Caisse, Partner, User

    async def create(password: str = "Secret2026", role: str = "partner_user") -> User:
        caisse = await Caisse.get(code="03")
        partner = await Partner.get(structure_id="21231300")
        return await User.create(login=f"essai{next(_numbers)}",
                                 password_hash=hash_password(password), role=role,
                                 caisse=caisse, partner=partner)

    return create


class MailBox:
    """Messages received by the test SMTP server."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def to(self, recipient: str) -> list:
        """Messages addressed to `recipient`, oldest first."""
        return [m for m in self.messages if m["To"] == recipient]


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port; yields (mailbox, port)."""
    from aiosmtpd.controller import Controller

    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
async def fresh_convention(db):
    """A new active convention of caisse 03 for a new partner (no demo data touched)."""
    import uuid
    from datetime import date
    from decimal import Decimal

    from ppas.models import Caisse, Convention, Partner

    caisse = await Caisse.get(code="03")
    structure_id = f"{uuid.uuid4().int % 10**8:08d}"
    partner = await Partner.create(caisse=caisse, structure_id=structure_id,
                                   name=f"Aide à domicile essai {structure_id}")
    return await Convention.create(partner=partner, number=f"T03-{uuid.uuid4().hex[:8].upper()}",
                                   prestation_code="001", hourly_rate=Decimal("21.30"),
                                   valid_from=date(2025, 1, 1))
