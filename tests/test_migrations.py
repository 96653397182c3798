"""Migrations: the models and ppas/migrations/ agree; the CLI migrates a fresh SQLite file in WAL;
0005 makes the billing history RESTRICT keeping every row and index, and reverts."""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND = os.environ.get("PPAS_TEST_DATABASE", "sqlite")
ROOT = Path(__file__).resolve().parent.parent

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


REJECTED_BEFORE_0014 = """
import asyncio, sqlite3, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from ppas.db import tortoise_config

ROW = ("INSERT INTO integrated_line (caisse_id, partner_id, convention_id, billing_line_id, "
       "form_line_id, period_start, period_end, hours, sunday_hours, hourly_rate, participation, "
       "amount, status, sent_at, integrated_at) VALUES (1, 1, 1, ?, ?, '2026-04-01', "
       "'2026-04-30', '1', '0', '1', '0', '1', ?, '2026-05-04 08:00:00+00:00', ?)")

async def main():
    path = sys.argv[1]
    config = tortoise_config("sqlite://" + path, foreign_keys=False)
    await migrate(config=config, target="ppas.0010_back_office")
    await Tortoise.close_connections()
    with sqlite3.connect(path) as conn:  # foreign keys off on a plain connection
        conn.execute(ROW, (1, None, "rejected", "2026-05-06 10:00:00+00:00"))
        conn.execute(ROW, (2, None, "payable", "2026-05-06 10:00:00+00:00"))
    await migrate(config=config)
    await Tortoise.close_connections()
    with sqlite3.connect(path) as conn:
        print(conn.execute("SELECT status, announced_at FROM integrated_line ORDER BY id").fetchall())
        for sources in ((None, None), (3, 3)):
            try:
                conn.execute(ROW, (*sources, "payable", "2026-05-06 10:00:00+00:00"))
                print("accepted", sources)
            except sqlite3.IntegrityError as error:
                print("refused", error)

asyncio.run(main())
"""


@pytest.mark.skipif(BACKEND != "sqlite", reason="a hand-made pre-0014 SQLite file")
def test_0014_counts_earlier_rejections_as_announced_and_keeps_one_source(tmp_path):
    done = subprocess.run([sys.executable, "-c", REJECTED_BEFORE_0014, str(tmp_path / "r.sqlite3")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    # Their mails went with the run that rejected them: the first run after 0014 sends none.
    assert out[0] == "[('rejected', '2026-05-06 10:00:00+00:00'), ('payable', None)]"
    assert [line.split(" ")[0] for line in out[1:]] == ["refused", "refused"]
    assert "integrated_line_one_source" in out[1]


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


# The 16 foreign keys of the billing and payment history (migration 0005), as
# (table, column, referenced table).
HISTORY_FOREIGN_KEYS = {
    ("anomaly", "file_id", "billing_file"), ("anomaly", "form_line_id", "form_line"),
    ("anomaly", "line_id", "billing_line"), ("billing_file", "convention_id", "convention"),
    ("billing_file", "partner_id", "partner"), ("billing_file", "uploaded_by_id", "app_user"),
    ("billing_form", "convention_id", "convention"),
    ("billing_form", "payment_run_id", "payment_run"),
    ("billing_form", "validated_by_id", "app_user"), ("billing_line", "care_plan_id", "care_plan"),
    ("billing_line", "file_id", "billing_file"), ("form_line", "care_plan_id", "care_plan"),
    ("form_line", "form_id", "billing_form"), ("payment_run", "caisse_id", "caisse"),
    ("payment_slip", "partner_id", "partner"), ("payment_slip", "run_id", "payment_run"),
}
# Indexes and unique constraints the rebuilt tables must keep (0001's and 0002's), by name.
HISTORY_INDEXES = {
    "idx_billing_fil_partner_0fcd48", "idx_billing_lin_file_id_152387",
    "idx_billing_lin_care_pl_dccc7e", "idx_anomaly_file_id_7ca74a", "idx_anomaly_line_id_1fb28f",
    "idx_form_line_form_id_e44b40", "idx_form_line_care_pl_11fdb0",
} | ({"sqlite_autoindex_billing_form_1", "sqlite_autoindex_form_line_1"} if BACKEND == "sqlite"
     else {"uid_billing_for_convent_c439f6", "uid_form_line_form_id_e9d290"})


def _without_on_delete(entries: list) -> list[str]:
    """Each entry with every ON DELETE clause spelled the same: what 0005 may change."""
    return [json.dumps(entry).replace("ON DELETE RESTRICT", "ON DELETE CASCADE")
            for entry in entries]


def _lost_and_gained(before: list, after: list) -> tuple[list, list]:
    """What `before` had that `after` lacks, and the reverse: a readable failure."""
    return [e for e in before if e not in after], [e for e in after if e not in before]


@pytest.fixture(scope="module")
async def empty_database(database_url, tmp_path_factory):
    """A database of its own: a SQLite file, or a new database on the test PostgreSQL server."""
    if BACKEND == "sqlite":
        yield f"sqlite://{tmp_path_factory.mktemp('restrict') / 'r.sqlite3'}"
        return
    import asyncpg

    server = database_url.replace("postgres://", "postgresql://", 1)
    name = f"restrict_{os.getpid()}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield database_url.rsplit("/", 1)[0] + "/" + name
        await admin.execute(f'DROP DATABASE "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def restrict_migration(empty_database):
    """Migration 0005 applied, then reverted, on a database with the demo and billing history
    (once for the tests below, which each read one part of what happened)."""
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tests.migration_snapshot", empty_database],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_0005_makes_the_history_foreign_keys_restrict_and_only_them(restrict_migration):
    before, after = restrict_migration["before"], restrict_migration["after"]
    assert {tuple(fk) for fk in before["foreign_keys"] if fk[3] != "CASCADE"} == set()
    restricted = {tuple(fk[:3]) for fk in after["foreign_keys"] if fk[3] == "RESTRICT"}
    assert restricted == HISTORY_FOREIGN_KEYS
    kept = {tuple(fk) for fk in after["foreign_keys"] if tuple(fk[:3]) not in restricted}
    assert kept == {tuple(fk) for fk in before["foreign_keys"]
                    if tuple(fk[:3]) not in HISTORY_FOREIGN_KEYS}
    assert {fk[3] for fk in kept} == {"CASCADE"}


async def test_0005_keeps_every_column_index_unique_constraint_row_and_id_counter(
        restrict_migration):
    before, after = restrict_migration["before"], restrict_migration["after"]
    # Tables, columns, constraints and index definitions: identical but for ON DELETE.
    assert _lost_and_gained(_without_on_delete(before["schema"]),
                            _without_on_delete(after["schema"])) == ([], [])
    # Every index (with its columns, uniqueness and origin) and unique constraint.
    assert _lost_and_gained(before["indexes"], after["indexes"]) == ([], [])
    assert HISTORY_INDEXES <= {index[1] for index in after["indexes"]}
    for table, rows in before["rows"].items():
        assert after["rows"][table] == rows, table
    assert after["sequence"] == before["sequence"]
    # The data is really there to lose: the demo and two caisses' history.
    assert len(before["rows"]["care_plan"]) == 48 + 2
    for table in ("billing_file", "billing_line", "billing_form", "form_line", "payment_run",
                  "payment_slip"):
        assert len(before["rows"][table]) == 2, table
    assert len(before["rows"]["anomaly"]) == 6


async def test_after_0005_a_billed_care_plan_convention_or_partner_cannot_be_deleted(
        restrict_migration):
    answers = restrict_migration["delete"]
    assert set(answers) == {"care_plan", "convention", "partner"}
    for table, answer in answers.items():
        # sqlite3.IntegrityError, or asyncpg's ForeignKeyViolationError.
        assert answer.startswith(("IntegrityError", "ForeignKeyViolationError")), (table, answer)
    assert restrict_migration["after delete"]["rows"] == restrict_migration["after"]["rows"]


async def test_0005_downgrade_restores_cascade_and_keeps_everything(restrict_migration):
    before, downgraded = restrict_migration["before"], restrict_migration["downgraded"]
    assert downgraded == before


REFUSED_WITH_FOREIGN_KEYS_ON = """
import asyncio, sqlite3, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from ppas.db import tortoise_config

async def main():
    path = sys.argv[1]
    await migrate(config=tortoise_config("sqlite://" + path), target="ppas.0004_contact")
    try:
        await migrate(config=tortoise_config("sqlite://" + path))  # foreign keys on
    except RuntimeError as error:
        print(error)
    await Tortoise.close_connections()
    with sqlite3.connect(path) as conn:
        print(conn.execute("SELECT max(name) FROM tortoise_migrations").fetchone()[0])
        print({fk[6] for fk in conn.execute("PRAGMA foreign_key_list(billing_line)")})

asyncio.run(main())
"""


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's foreign keys are off while migrating")
def test_0005_refuses_to_rebuild_tables_with_foreign_keys_on(tmp_path):
    # With foreign keys on, dropping the old billing_line would delete (cascade) every anomaly.
    done = subprocess.run([sys.executable, "-c", REFUSED_WITH_FOREIGN_KEYS_ON,
                           str(tmp_path / "k.sqlite3")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    refusal, last_applied, on_delete = done.stdout.strip().splitlines()[-3:]
    assert "foreign keys off" in refusal
    assert last_applied == "0004_contact" and on_delete == "{'CASCADE'}"
