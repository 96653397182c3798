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
    env = {**os.environ, "DATABASE_URL": f"sqlite://{database}"}
    for command in (["migrate"], ["migrate"], ["demo"], ["demo"]):
        done = subprocess.run([sys.executable, "-m", "ppas", *command], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "demoadmin" in done.stdout and "caisseadmin" in done.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM care_plan").fetchone()[0] == 48
