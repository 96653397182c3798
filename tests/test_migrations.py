"""Migrations: the models and ppas/migrations/ agree; the CLI migrates a fresh SQLite file in WAL."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

BACKEND = os.environ.get("PPAS_TEST_DATABASE", "sqlite")

# In its own process: initialising Tortoise on another database here would rebind the
# models of the running test session to that database's dialect.
DETECT_CHANGES = """
import asyncio, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from ppas.db import tortoise_config

async def main():
    config = tortoise_config("sqlite://" + sys.argv[1])
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    print(len(writers))

asyncio.run(main())
"""


def test_models_have_no_change_missing_from_the_migrations(tmp_path):
    done = subprocess.run([sys.executable, "-c", DETECT_CHANGES, str(tmp_path / "d.sqlite3")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "models changed without a migration: run makemigrations"


@pytest.mark.skipif(BACKEND != "sqlite", reason="the CLI check runs on the embedded default")
def test_cli_migrates_and_loads_the_demo_twice(tmp_path):
    database = tmp_path / "cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite://{database}", "PPAS_DEVELOPMENT": "1"}
    for command in (["migrate"], ["migrate"], ["demo"], ["demo"]):
        done = subprocess.run([sys.executable, "-m", "ppas", *command], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "demoadmin" in done.stdout and "caisseadmin" in done.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM care_plan").fetchone()[0] == 48


CAPTCHA_CARRY_OVER = """
import asyncio, sqlite3, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from ppas.db import migrate as migrate_all, tortoise_config

async def main():
    path = sys.argv[1]
    await migrate(config=tortoise_config("sqlite://" + path), target="ppas.0002_lookup_indexes")
    await Tortoise.close_connections()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO audit_event (at, actor_login, action, object_type, object_id, "
                     "details, ip) VALUES ('2026-12-01 10:00:00+00:00', '', 'captcha_used', "
                     "'captcha', 'sig-before-upgrade', '{}', '')")
    await migrate_all("sqlite://" + path)
    with sqlite3.connect(path) as conn:
        print(conn.execute('SELECT "key" FROM spent_captcha').fetchall())

asyncio.run(main())
"""


@pytest.mark.skipif(BACKEND != "sqlite", reason="the CLI check runs on the embedded default")
def test_a_captcha_spent_before_the_upgrade_stays_spent(tmp_path):
    done = subprocess.run([sys.executable, "-c", CAPTCHA_CARRY_OVER, str(tmp_path / "c.sqlite3")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[('sig-before-upgrade',)]"


BROKEN_REFERENCE = """
import asyncio, sqlite3, sys
from ppas.db import migrate

path = sys.argv[1]
asyncio.run(migrate("sqlite://" + path))
with sqlite3.connect(path) as conn:  # foreign keys are off on a plain connection
    conn.execute("INSERT INTO billing_form (period, status, version, convention_id, "
                 "created_at, updated_at) VALUES ('2026-10', 'open', 1, 999999, "
                 "'2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00')")
try:
    asyncio.run(migrate("sqlite://" + path))
except RuntimeError as error:
    print(error)
"""


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's foreign keys are off while migrating")
def test_migrating_sqlite_checks_every_reference_afterwards(tmp_path):
    done = subprocess.run([sys.executable, "-c", BROKEN_REFERENCE, str(tmp_path / "f.sqlite3")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "broken foreign keys" in done.stdout and "billing_form" in done.stdout
