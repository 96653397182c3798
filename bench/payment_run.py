"""Benchmark: a payment run against the same grouping written as bare SQL, in one database.

    .venv/bin/python bench/payment_run.py [--lines 100000] [--small 20000] [--partners 500]
                                          [--database-url sqlite:///tmp/bench.sqlite3 | postgres://…]

Builds a caisse of its own with `--partners` partners and payable integrated lines spread over
them, then for each size (`--small`, then `--lines`):

* the baseline: in one transaction, `INSERT INTO scratch … SELECT partner_id, COUNT(*),
  SUM(amount) … GROUP BY partner_id` (one row per partner, the slips' totals) and the UPDATE
  that marks the lines paid — the least any payment run must do;
* `execute_payment_run` (ppas/services/payments.py), the service the CLI and the jobs call:
  slips created, numbered, lines attached, totals recomputed, forms marked paid, run totals.

The lines are set back to payable between the two. It prints both times, their ratio (target
≤ 3×), and the SQL statements the run sent at each size (counted like the tests do): they
must not grow with the lines. Default database: a fresh SQLite file; `--database-url` takes an
empty PostgreSQL database as well.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tortoise import connections  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from ppas.db import close_database, migrate, open_database  # noqa: E402
from ppas.models import Caisse, Convention, IntegratedLine, Partner, PaymentSlip  # noqa: E402
from ppas.models.integration import IntegrationStatus  # noqa: E402
from ppas.services import payments  # noqa: E402
from tests.sql_statements import count_statements  # noqa: E402

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PAID_ON = date(2026, 11, 3)
BATCH = 5000


async def build(lines: int, partners: int) -> Caisse:
    """A caisse with `partners` partners and `lines` payable lines, round robin."""
    used = set(await Caisse.all().values_list("code", flat=True))
    code = next(a + b for a in "BCDEFGHJK" for b in "0123456789" if a + b not in used)
    caisse = await Caisse.create(code=code, name=f"Caisse du banc {code}")
    made = await Partner.bulk_create([
        Partner(caisse=caisse, structure_id=f"{90000000 + i:08d}", name=f"Banc {code} {i}")
        for i in range(partners)])
    made = await Partner.filter(caisse=caisse).order_by("id")
    conventions = []
    for partner in made:
        conventions.append(await Convention.create(
            partner=partner, number=f"B{code}-{partner.id}", prestation_code="001",
            hourly_rate=Decimal("21.30"), valid_from=date(2026, 1, 1)))
    for start in range(0, lines, BATCH):
        await IntegratedLine.bulk_create([
            IntegratedLine(caisse=caisse, partner_id=made[i % partners].id,
                           convention_id=conventions[i % partners].id,
                           period_start=date(2026, 9, 1), period_end=date(2026, 9, 30),
                           hours=Decimal("12.50"), sunday_hours=Decimal(0),
                           hourly_rate=Decimal("21.30"), participation=Decimal("3.20"),
                           amount=Decimal("226.25") + Decimal(i % 7), status=IntegrationStatus.PAYABLE,
                           sent_at=NOW, integrated_at=NOW)
            for i in range(start, min(start + BATCH, lines))])
    return caisse


async def analyze() -> None:
    """Fresh statistics and no dead rows (PostgreSQL keeps the old version of every updated
    row until a vacuum): each measure starts on a table as autovacuum would keep it."""
    db = connections.get("default")
    await db.execute_script("VACUUM ANALYZE" if db.capabilities.dialect == "postgres"
                            else "ANALYZE")


async def reset(caisse: Caisse) -> None:
    """Lines payable again, this caisse's slips gone: the next measure starts alike."""
    await IntegratedLine.filter(caisse_id=caisse.id).update(status=IntegrationStatus.PAYABLE,
                                                            slip_id=None)
    await PaymentSlip.filter(caisse_id=caisse.id).delete()


async def baseline(caisse: Caisse) -> float:
    """The same grouping and the same UPDATE of the lines, as bare SQL, one transaction."""
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    mark = "$1" if postgres else "?"
    amount_sum = ("SUM(amount)" if postgres
                  else "SUM(CAST(ROUND(amount * 100) AS INTEGER))")
    await db.execute_script("DROP TABLE IF EXISTS bench_scratch")
    await db.execute_script("CREATE TABLE bench_scratch (partner_id INT PRIMARY KEY, "
                            "line_count INT, amount NUMERIC)")
    began = time.perf_counter()
    async with in_transaction() as conn:
        await conn.execute_query(
            f"INSERT INTO bench_scratch SELECT partner_id, COUNT(*), {amount_sum} "
            f"FROM integrated_line WHERE caisse_id = {mark} AND status = 'payable' "
            "AND slip_id IS NULL GROUP BY partner_id", [caisse.id])
        await conn.execute_query(
            f"UPDATE integrated_line SET status = 'paid' WHERE caisse_id = {mark} "
            "AND status = 'payable' AND slip_id IS NULL "
            "AND partner_id IN (SELECT partner_id FROM bench_scratch)", [caisse.id])
    elapsed = time.perf_counter() - began
    await db.execute_script("DROP TABLE bench_scratch")
    return elapsed


async def ours(caisse: Caisse) -> tuple[float, int, payments.RunSummary]:
    run = await payments.start_payment_run(caisse.id, PAID_ON, None, NOW)
    async with count_statements() as statements:
        began = time.perf_counter()
        summary = await payments.execute_payment_run(run.id, NOW)
        elapsed = time.perf_counter() - began
    return elapsed, len(statements), summary


async def measure(url: str, sizes: list[int], partners: int) -> int:
    await migrate(url)
    await open_database(url)
    worst = 0.0
    counts = []
    try:
        for lines in sizes:
            caisse = await build(lines, partners)
            await analyze()
            bare = await baseline(caisse)
            await reset(caisse)
            await analyze()
            took, statements, summary = await ours(caisse)
            assert summary.line_count == lines and summary.slip_count == partners, summary
            ratio = took / bare
            worst = max(worst, ratio) if lines == sizes[-1] else worst
            counts.append(statements)
            print(f"  {lines:>7} lines, {partners} partners: bare SQL {bare:6.2f} s, "
                  f"execute_payment_run {took:6.2f} s, ratio {ratio:4.2f}×, "
                  f"{statements} SQL statements")
    finally:
        await close_database()
    same = len(set(counts)) == 1
    print(f"  ratio at {sizes[-1]} lines: {worst:4.2f}× (target ≤ 3×); statements "
          f"{' = '.join(map(str, counts))} ({'constant' if same else 'GROWING'} with lines)")
    return 0 if worst <= 3 and same else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    print(f"Payment run ({url.split('://')[0]}):")
    return asyncio.run(measure(url, [args.small, args.lines], args.partners))


if __name__ == "__main__":
    sys.exit(main())
