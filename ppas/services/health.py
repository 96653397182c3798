"""What /readyz checks: the database answers, its migrations are those of this code."""
from __future__ import annotations

import re
from pathlib import Path

from tortoise import connections

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS_TABLE = "tortoise_migrations"
APP = "ppas"
_MIGRATION_FILE = re.compile(r"\d{4}_\w+\.py")


async def ping_database() -> None:
    """A trivial query; raises when the database cannot be reached."""
    await connections.get("default").execute_query("SELECT 1")


def migration_files(directory: Path | None = None) -> list[str]:
    """The migrations this code ships, in order ("0001_initial", …)."""
    directory = directory or MIGRATIONS_DIR
    return sorted(p.stem for p in directory.glob("*.py") if _MIGRATION_FILE.fullmatch(p.name))


async def applied_migrations() -> set[str]:
    """The names of the migrations recorded as applied (none when the table is missing)."""
    try:
        _, rows = await connections.get("default").execute_query(
            f'SELECT "name" FROM "{MIGRATIONS_TABLE}" WHERE "app" = \'{APP}\'')  # nosec B608
    except Exception:  # noqa: BLE001 - no table yet: nothing applied
        return set()
    return {row["name"] if hasattr(row, "keys") else row[0] for row in rows}


async def pending_migrations(directory: Path | None = None) -> list[str]:
    """The migrations of this code not yet applied to the database: run `ppas migrate`.

    Migrations applied but unknown to this code (a newer release migrated first, as the
    upgrade procedure says) are not pending: the old code keeps serving until restarted.
    """
    applied = await applied_migrations()
    return [name for name in migration_files(directory) if name not in applied]
