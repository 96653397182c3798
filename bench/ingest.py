"""Benchmark: ingest of billing files of 10k and 100k lines against bare lxml parse + XSD.

    .venv/bin/python bench/ingest.py [--sizes 10000 100000] [--runs 3] [--anomaly-every N]

For each size, in fresh subprocesses (so that one measure's memory does not hide another's),
`--runs` times each, baseline and ingest taking turns (a change of load on the shared machine
hits both); the times compared are the best of the runs on both sides, the memory the worst:

* generates an AMD file for last month whose lines bill 12 months of ~size/12 notified care
  plans (every line valid, every line distinct), written to disk in a streaming way; with
  `--anomaly-every N`, every Nth line bills more hours than its plan allows (a line anomaly:
  the file is accepted, that line is not), to measure a file with many anomalies;
* baseline: `etree.parse` with the hardened parser + `XMLSchema.validate` of the same file;
* full ingest: `billing_ingest.submit_file` on a fresh migrated SQLite file (the embedded
  default) seeded with the caisse, the provider, its convention and care plans: streaming
  parse with the XSD plugged in, header and line checks, one transaction writing the gzip of
  the file, its lines, in batches of executemany;
* peak RSS of the ingest process (ru_maxrss) before and after the ingest, plus the peak RSS
  of the process that parses files from 1 MiB on (billing_ingest logs it), and the number of
  SQL statements the ingest sent (a handler on the `tortoise.db_client` logger: every
  execute_* of Tortoise's clients logs each statement there once; an executemany counts one).

Targets (issue 5), on the embedded SQLite: full ingest ≤ 5× the baseline, ≥ 20 000 lines/s,
peak memory growth ≤ 50 MB from 10k to 100k lines, SQL statements not proportional to lines.
Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import logging
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATE, PARTICIPATION, HOURS = Decimal("21.30"), Decimal("3.20"), Decimal("12.50")
PLAN_HOURS, OVER_PLAN_HOURS = "20.00", Decimal("25.00")
STRUCTURE = "77777777"
MONTHS = 12


def anomalous_lines(size: int, anomaly_every: int) -> int:
    return size // anomaly_every if anomaly_every else 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, size: int, anomaly_every: int = 0) -> str:
    """Write an AMD file of `size` lines (every `anomaly_every`th one over its plan's hours)."""
    from ppas.domain.amounts import line_amount
    from ppas.domain.periods import Period, paris_date

    period = Period.of(paris_date(datetime.now(timezone.utc))).previous()
    name = f"03_{STRUCTURE}_{period.year:04d}{period.month:02d}.xml"
    plans = -(-size // MONTHS)
    amount = line_amount(HOURS, RATE, PARTICIPATION)
    over_amount = line_amount(OVER_PLAN_HOURS, RATE, PARTICIPATION)
    over = anomalous_lines(size, anomaly_every)
    total = amount * (size - over) + over_amount * over
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<facturation xmlns="urn:ppas:facturation:1" version="1">\n'
                  f"<en-tete><rf-borfact>{name}</rf-borfact><code-caisse>03</code-caisse>"
                  f"<id-structure>{STRUCTURE}</id-structure><n-convention>BENCH-001</n-convention>"
                  f"<code-prestation>001</code-prestation><echeance>{period}</echeance>"
                  f"<nb-lignes>{size}</nb-lignes><montant-total>{total}</montant-total>"
                  "<logiciel>bench</logiciel></en-tete>\n<lignes>\n")
        for k in range(size):
            month = period.plus_months(-(k // plans))
            hours, line_total = ((OVER_PLAN_HOURS, over_amount)
                                 if anomaly_every and k % anomaly_every == anomaly_every - 1
                                 else (HOURS, amount))
            out.write(
                f"<ligne><n-enregistrement>{k + 1}</n-enregistrement>"
                f"<n-dossier>07{k % plans:08d}</n-dossier><nom>DUPONT</nom><prenom>Jeanne</prenom>"
                f"<debut-periode>{month.first_day}</debut-periode>"
                f"<fin-periode>{month.last_day}</fin-periode><nb-heures>{hours}</nb-heures>"
                f"<taux-horaire>{RATE}</taux-horaire><participation>{PARTICIPATION}</participation>"
                f"<montant>{line_total}</montant></ligne>\n")
        out.write("</lignes>\n</facturation>\n")
    return name


def baseline(path: Path) -> dict:
    from lxml import etree

    from ppas.domain.xml_safety import load_schema, safe_parser

    schema = load_schema()
    start = time.perf_counter()
    document = etree.parse(str(path), safe_parser())
    valid = schema.validate(document)
    elapsed = time.perf_counter() - start
    assert valid, schema.error_log
    return {"seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


async def seed(size: int) -> None:
    from tortoise import connections

    from ppas.models import Caisse, Convention, Partner, Role, User

    caisse, _ = await Caisse.get_or_create(code="03", defaults={"name": "Carsat bench"})
    partner = await Partner.create(caisse=caisse, structure_id=STRUCTURE, name="Bench")
    convention = await Convention.create(partner=partner, number="BENCH-001", prestation_code="001",
                                         hourly_rate=RATE, valid_from=datetime(2000, 1, 1).date())
    await User.create(login="bench", password_hash="x", role=Role.PARTNER_ADMIN, caisse=caisse,
                      partner=partner)
    plans = -(-size // MONTHS)
    conn = connections.get("default")
    now = datetime.now(timezone.utc)
    postgres = conn.capabilities.dialect == "postgres"

    def sql(text: str) -> str:  # asyncpg numbers its parameters
        if not postgres:
            return text
        parts = text.split("?")
        return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]

    def typed(hours, rate, participation, start, notified):  # asyncpg wants the real types
        if postgres:
            return (Decimal(hours), rate, participation, datetime(2000, 1, 1).date(), notified)
        return (hours, str(rate), str(participation), start, notified.isoformat(" "))

    await conn.execute_many(
        sql('INSERT INTO "beneficiary" (caisse_id, file_number, last_name, first_name, city) '
            "VALUES (?, ?, ?, ?, ?)"),
        [(caisse.id, f"07{i:08d}", "DUPONT", "Jeanne", "") for i in range(plans)])
    await conn.execute_many(
        sql('INSERT INTO "care_plan" (beneficiary_id, partner_id, convention_id, hours_per_month, '
            "hourly_rate, participation, start_date, notified_at) "
            'SELECT id, ?, ?, ?, ?, ?, ?, ? FROM "beneficiary" WHERE file_number = ?'),
        [(partner.id, convention.id,
          *typed(PLAN_HOURS, RATE, PARTICIPATION, "2000-01-01", now), f"07{i:08d}")
         for i in range(plans)])


class ParsePeak(logging.Handler):
    """Keeps the peak RSS the parse process reported (billing_ingest logs it at debug level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.peak_mb = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        self.peak_mb = max(self.peak_mb, getattr(record, "parse_peak_rss_mb", 0.0))


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def ingest(path: Path, name: str, size: int, anomaly_every: int, database: str) -> dict:
    from ppas.db import close_database, migrate, open_database
    from ppas.models import User
    from ppas.services import billing_ingest

    url = database if "://" in database else f"sqlite://{database}"
    await migrate(url)
    await open_database(url)
    await seed(size)
    user = await User.get(login="bench")
    rss_before = peak_rss_mb()
    counter = StatementCounter()
    log = logging.getLogger("tortoise.db_client")
    log.setLevel(logging.DEBUG)
    log.addHandler(counter)
    log.propagate = False
    parse_peak = ParsePeak()
    ingest_log = logging.getLogger(billing_ingest.__name__)
    ingest_log.setLevel(logging.DEBUG)
    ingest_log.addHandler(parse_peak)
    with path.open("rb") as source:
        start = time.perf_counter()
        report = await billing_ingest.submit_file(user, source, name,
                                                  now=datetime.now(timezone.utc),
                                                  max_bytes=64 * 1024 * 1024)
        elapsed = time.perf_counter() - start
    log.removeHandler(counter)
    ingest_log.removeHandler(parse_peak)
    await close_database()
    assert report.status == "accepted", report.anomalies[:3]
    expected = size - anomalous_lines(size, anomaly_every)
    assert report.accepted_count == expected, (report.accepted_count, report.anomalies[:3])
    assert report.anomaly_count == size - expected, report.anomaly_count
    # Both processes run at the same time: their peaks add up.
    return {"seconds": elapsed, "peak_rss_before_mb": rss_before,
            "peak_rss_mb": peak_rss_mb() + parse_peak.peak_mb,
            "parse_peak_rss_mb": parse_peak.peak_mb,
            "statements": counter.count, "accepted": report.accepted_count}


async def _postgres_database(server_url: str, name: str, create: bool) -> str:
    """Create (or drop) database `name` on the server of `server_url`; its URL."""
    import asyncpg

    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def child(mode: str, size: int, anomaly_every: int, database_url: str = "") -> dict:
    with tempfile.TemporaryDirectory(prefix="ppas-bench-ingest-") as folder:
        path = Path(folder) / "file.xml"
        name = generate(path, size, anomaly_every)
        if mode == "baseline":
            return baseline(path) | {"bytes": path.stat().st_size}
        if not database_url:
            return asyncio.run(ingest(path, name, size, anomaly_every,
                                      str(Path(folder) / "db.sqlite3")))
        # PostgreSQL: a fresh database per run on that server, dropped afterwards.
        fresh = f"ppas_bench_ingest_{os.getpid()}"
        url = asyncio.run(_postgres_database(database_url, fresh, create=True))
        try:
            return asyncio.run(ingest(path, name, size, anomaly_every, url))
        finally:
            asyncio.run(_postgres_database(database_url, fresh, create=False))


def run_child(mode: str, size: int, anomaly_every: int, database_url: str = "") -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", mode, str(size),
                             str(anomaly_every), database_url], check=True,
                            capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each side; best time kept")
    parser.add_argument("--anomaly-every", type=int, default=0,
                        help="every Nth line bills over its plan's hours (0: none)")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server URL (postgres://user@host:port/db): each ingest "
                             "runs in a fresh database created on it and dropped afterwards")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]),
                               args.child[3] if len(args.child) > 3 else "")))
        return 0
    print(f"database: {args.database_url.split('://')[0] if args.database_url else 'SQLite (temporary file)'}")
    results = {}
    print(f"{'lines':>8} {'MB':>6} {'baseline s':>10} {'ingest s':>9} {'ratio':>6} "
          f"{'lines/s':>9} {'peak RSS MB':>11} {'RSS growth':>10} {'SQL':>5}")
    for size in args.sizes:
        bases, fulls = [], []
        for _ in range(args.runs):
            bases.append(run_child("baseline", size, args.anomaly_every))
            fulls.append(run_child("ingest", size, args.anomaly_every, args.database_url))
        base = min(bases, key=lambda run: run["seconds"])
        full = min(fulls, key=lambda run: run["seconds"]) | {
            "peak_rss_mb": max(run["peak_rss_mb"] for run in fulls),
            "peak_rss_before_mb": max(run["peak_rss_before_mb"] for run in fulls),
            "statements": max(run["statements"] for run in fulls)}
        results[size] = (base, full)
        spread = (f"  (of {args.runs}: baseline ≤ {max(r['seconds'] for r in bases):.2f} s, "
                  f"ingest ≤ {max(r['seconds'] for r in fulls):.2f} s)") if args.runs > 1 else ""
        print(f"{size:>8} {base['bytes'] / 1e6:>6.1f} {base['seconds']:>10.2f} "
              f"{full['seconds']:>9.2f} {full['seconds'] / base['seconds']:>6.2f} "
              f"{size / full['seconds']:>9.0f} {full['peak_rss_mb']:>11.1f} "
              f"{full['peak_rss_mb'] - full['peak_rss_before_mb']:>10.1f} {full['statements']:>5}"
              f"{spread}")
    failures = []
    for size, (base, full) in results.items():
        if full["seconds"] > 5 * base["seconds"]:
            failures.append(f"{size} lines: ingest {full['seconds']:.2f} s > 5 × baseline")
        if size / full["seconds"] < 20_000:
            failures.append(f"{size} lines: {size / full['seconds']:.0f} lines/s < 20 000")
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = results[sizes[0]][1], results[sizes[-1]][1]
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        print(f"peak RSS growth {sizes[0]} → {sizes[-1]} lines: {growth:.1f} MB; SQL statements "
              f"{small['statements']} → {large['statements']} for {sizes[-1] // sizes[0]}× the lines")
        if growth > 50:
            failures.append(f"peak RSS grows by {growth:.1f} MB > 50 MB")
        if large["statements"] >= small["statements"] * sizes[-1] / sizes[0]:
            failures.append("SQL statements grow in proportion to the lines")
    for failure in failures:
        print("MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
