"""Database start-up: Tortoise configuration, SQLite pragmas, migrations."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from ppas.settings import DEFAULT_DATABASE_URL

MODELS_MODULE = "ppas.models"
MIGRATIONS_MODULE = "ppas.migrations"
SQLITE_ENGINE = "ppas.models.sqlite_backend"


def tortoise_config(database_url: str, *, foreign_keys: bool = True) -> dict[str, Any]:
    """The Tortoise config for one database URL (sqlite:// or postgres://).

    `foreign_keys=False` is for migrations on SQLite only (see `migrate`).
    """
    connection: str | dict[str, Any] = database_url
    if is_sqlite(database_url):
        if ":memory:" not in database_url:
            Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
        expanded = expand_db_url(database_url)
        # Each credential is a PRAGMA on every connection (Tortoise adds journal_mode=WAL and
        # foreign_keys=ON). WAL lets the web server read while a writer commits; the busy
        # timeout turns brief write contention from another process into a wait, not an error.
        connection = {**expanded, "engine": SQLITE_ENGINE,
                      "credentials": {**expanded["credentials"], "busy_timeout": 5000,
                                      "foreign_keys": "ON" if foreign_keys else "OFF"}}
    return {
        "connections": {"default": connection},
        "apps": {
            "ppas": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_sqlite(database_url: str) -> bool:
    """True for the embedded default backend."""
    return database_url.startswith("sqlite")


async def open_database(database_url: str) -> None:
    """Connect Tortoise for the whole process (every task sees the connection)."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    """Close every connection."""
    await Tortoise.close_connections()


async def migrate(database_url: str, target: str | None = None) -> None:
    """Apply every pending migration (up to `target`, e.g. "ppas.0005_…", when given)."""
    if not is_sqlite(database_url):
        await run_migrations(config=tortoise_config(database_url), target=target)
        await Tortoise.close_connections()
        return
    # SQLite changes a column by rebuilding its table: copy, DROP, rename. With foreign keys
    # on, that DROP deletes the rows of every table referring to it ON DELETE CASCADE (a
    # rebuild of billing_line emptied it and the anomalies). SQLite's own procedure for such
    # changes: foreign keys off while they run, then check that every reference still holds.
    await run_migrations(config=tortoise_config(database_url, foreign_keys=False), target=target)
    try:
        _, broken = await connections.get("default").execute_query("PRAGMA foreign_key_check")
    finally:
        await Tortoise.close_connections()
    if broken:
        raise RuntimeError(f"the migrations left {len(broken)} broken foreign keys, "
                           f"first: {tuple(broken[0])}")


# For the `tortoise` command (makemigrations): `tortoise -c ppas.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
