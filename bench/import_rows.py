"""Benchmark: the caisse's CSV import of N rows (beneficiary + care plan) against a bare baseline.

    .venv/bin/python bench/import_rows.py [--rows 2000]

On a fresh migrated temporary SQLite file (the embedded default), seeded with a caisse, an
agent, a partner and a convention:

* baseline: N beneficiaries and N care plans written with plain `Model.create`, one
  transaction per row (what the import must at least do);
* import: `back_office.import_csv` of a file of N new rows, then of the same file again
  (every row unchanged), as the « Importer » page runs it inside the web request.

Prints the seconds and rows/s of each and the ratio import/baseline. The import runs inside
the request: the row cap (`back_office.IMPORT_MAX_ROWS`) is chosen so that a full file
finishes well within a request's time (see the figure printed for the cap).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def csv_of(rows: int, start: int, convention: str) -> bytes:
    from ppas.domain.beneficiary_import import IMPORT_COLUMNS
    lines = [";".join(IMPORT_COLUMNS)]
    for i in range(rows):
        lines.append(f"03{start + i:08d};NOM{i};Prénom;01/02/1940;;{convention};12,5;;3,20;"
                     "01/01/2026;")
    return ("\r\n".join(lines) + "\r\n").encode()


async def run(rows: int, path: str) -> None:
    from tortoise.transactions import in_transaction

    from ppas.db import close_database, migrate, open_database
    from ppas.models import Beneficiary, Caisse, CarePlan, Convention, Partner, Role, User
    from ppas.services import back_office

    url = f"sqlite://{path}"
    await migrate(url)
    await open_database(url)
    caisse = await Caisse.create(code="03", name="Caisse 03")
    agent = await User.create(login="bench", password_hash="x", role=Role.CAISSE_AGENT,
                              caisse=caisse)
    partner = await Partner.create(caisse=caisse, structure_id="12345678", name="Aide bench")
    convention = await Convention.create(partner=partner, number="C03-BENCH",
                                         prestation_code="001", hourly_rate=Decimal("21.30"),
                                         valid_from=date(2025, 1, 1))
    now = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)

    start = time.perf_counter()
    for i in range(rows):
        async with in_transaction() as connection:
            person = await Beneficiary.create(caisse=caisse, file_number=f"03{50_000_000 + i:08d}",
                                              last_name=f"NOM{i}", first_name="Prénom",
                                              birth_date=date(1940, 2, 1), using_db=connection)
            await CarePlan.create(beneficiary=person, partner=partner, convention=convention,
                                  hours_per_month=Decimal("12.5"), hourly_rate=Decimal("21.30"),
                                  participation=Decimal("3.20"), start_date=date(2026, 1, 1),
                                  using_db=connection)
    bare = time.perf_counter() - start

    content = csv_of(rows, 10_000_000, convention.number)
    start = time.perf_counter()
    report = await back_office.import_csv(agent, io.BytesIO(content), "bench.csv", now=now,
                                          max_bytes=len(content) + 1)
    first = time.perf_counter() - start
    assert report.count("created") == rows, report.rows[:3]
    start = time.perf_counter()
    again = await back_office.import_csv(agent, io.BytesIO(content), "bench.csv", now=now,
                                         max_bytes=len(content) + 1)
    second = time.perf_counter() - start
    assert again.count("unchanged") == rows, again.rows[:3]
    await close_database()

    print(f"rows: {rows} (beneficiary + care plan each), SQLite, one transaction per row")
    print(f"baseline (plain creates)  : {bare:7.2f} s  {rows / bare:8.0f} rows/s")
    print(f"import, new rows          : {first:7.2f} s  {rows / first:8.0f} rows/s  "
          f"ratio {first / bare:.2f}× the baseline")
    print(f"import again (unchanged)  : {second:7.2f} s  {rows / second:8.0f} rows/s  "
          f"ratio {second / bare:.2f}× the baseline")
    cap = back_office.IMPORT_MAX_ROWS
    print(f"row cap {cap}: about {cap / rows * first:.1f} s for a full file of new rows")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.rows, str(Path(folder) / "bench.sqlite3")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
