"""Benchmark: one /graphql page of care plans through the real app, against plain graphql-core.

    .venv/bin/python bench/graphql_list.py [--plans 500] [--runs 30] [--database-url URL] [--profile]

What it does, on a fresh temporary SQLite file unless --database-url is given:

1. migrates the database and seeds one caisse, a provider partner with a convention and N
   beneficiaries each with one care plan (bulk_create), a partner_admin user and an ApiToken
   row for that user; plus a second, smaller partner (50 plans) seeded the same way, so the
   SQL statement count can be taken at two sizes with the very same query document;
2. times POST /graphql (carePlans, one page of N items, nested beneficiary and convention)
   through create_app(manage_database=False) called in-process with httpx.ASGITransport and
   `Authorization: Bearer <token>`, i.e. through the real identity middleware;
3. times a plain graphql-core baseline: a `build_schema` SDL of the same shape, default
   resolvers, the same rows preloaded once as dicts (execute + JSON encoding of the result);
4. counts the SQL statements of ONE /graphql request at N=50 and at N, through a handler on
   the `tortoise.db_client` logger (every execute_* of the sqlite, asyncpg and psycopg clients
   of Tortoise 1.1.9 logs each statement there exactly once, just before running it) and, on
   SQLite, cross-checked with sqlite3's own trace callback on both of the backend's
   connections (what the engine really ran);
5. prints a result block and exits 1 if the statement count grows with N (2 if the app's
   answer is an error or differs from the baseline's).

Also printed, to show where the time goes: the same database work through the ORM alone,
schema.execute without HTTP with and without the nested beneficiary/convention fields, the
asyncio tasks one request creates, and the time spent in the cyclic GC. All timed functions
take turns in blocks of 5 calls, so a load change on a shared machine hits them all alike;
p50/p90 still move with the load average (printed), min values less. --profile adds a
cProfile of 5 requests.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import io
import json
import logging
import math
import os
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import graphql  # noqa: E402
import httpx  # noqa: E402
from tortoise import connections  # noqa: E402

from ppas.app import create_app  # noqa: E402
from ppas.db import close_database, is_sqlite, migrate, open_database  # noqa: E402
from ppas.models import (  # noqa: E402
    ApiToken,
    Beneficiary,
    Caisse,
    CarePlan,
    Convention,
    ConventionStatus,
    Partner,
    PartnerKind,
    Role,
    User,
)
from ppas.schema.context import Context  # noqa: E402
from ppas.services import partner_data  # noqa: E402
from ppas.settings import Settings  # noqa: E402

SMALL_N = 50
LABELS = {"http": "/graphql", "baseline": "baseline", "schema": "schema.execute",
          "schema_flat": "schema.execute flat", "orm": "ORM alone"}
WARMUP = 5
BLOCK = 5

QUERY = """
query BenchCarePlans($limit: Int!) {
  carePlans(offset: 0, limit: $limit) {
    totalCount
    items {
      id hoursPerMonth hourlyRate participation startDate
      beneficiary { fileNumber lastName firstName }
      convention { number hourlyRate }
    }
  }
}
"""

FLAT_QUERY = """
query BenchCarePlansFlat($limit: Int!) {
  carePlans(offset: 0, limit: $limit) {
    totalCount
    items { id hoursPerMonth hourlyRate participation startDate }
  }
}
"""

BASELINE_SDL = """
scalar Decimal
scalar Date
type Query { carePlans(offset: Int! = 0, limit: Int): CarePlanPage! }
type CarePlanPage { totalCount: Int! items: [CarePlan!]! }
type CarePlan {
  id: ID! hoursPerMonth: Decimal! hourlyRate: Decimal! participation: Decimal! startDate: Date!
  beneficiary: Beneficiary! convention: Convention!
}
type Beneficiary { fileNumber: String! lastName: String! firstName: String! }
type Convention { number: String! hourlyRate: Decimal! }
"""


# --------------------------------------------------------------------------- seeding

class Seeded:
    """The rows one partner needs for the benchmark."""

    def __init__(self, partner: Partner, user: User, token: str, plans: int) -> None:
        self.partner = partner
        self.user = user
        self.token = token
        self.plans = plans


async def seed_partner(caisse: Caisse, tag: str, structure_id: str, count: int,
                       first_number: int) -> Seeded:
    """A provider partner, its convention, `count` beneficiaries with one plan each, an admin
    and a live API token for that admin."""
    partner = await Partner.create(caisse=caisse, structure_id=structure_id, kind=PartnerKind.PROVIDER,
                                   name=f"Bench {tag}", city="Marseille")
    convention = await Convention.create(
        partner=partner, number=f"B{tag}{secrets.token_hex(4)}"[:20], prestation_code="AMD",
        hourly_rate=Decimal("24.50"), valid_from=date(2024, 1, 1), status=ConventionStatus.ACTIVE)
    numbers = [first_number + i for i in range(count)]
    await Beneficiary.bulk_create([
        Beneficiary(caisse=caisse, file_number=f"{n:010d}", last_name=f"NOM{n}",
                    first_name=f"Prenom{n}", city="Marseille")
        for n in numbers
    ], batch_size=500)
    by_number = dict(await Beneficiary.filter(
        caisse=caisse, file_number__in=[f"{n:010d}" for n in numbers]
    ).values_list("file_number", "id"))
    start = date(2025, 1, 1)
    await CarePlan.bulk_create([
        CarePlan(beneficiary_id=by_number[f"{n:010d}"], partner=partner, convention=convention,
                 hours_per_month=Decimal(10 + i % 30) + Decimal("0.50"),
                 hourly_rate=Decimal("24.50"), participation=Decimal(i % 7),
                 start_date=start + timedelta(days=(i * 7) % 400))
        for i, n in enumerate(numbers)
    ], batch_size=500)
    user = await User.create(login=f"bench{tag}{secrets.token_hex(3)}"[:30], password_hash="!",
                             role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner,
                             first_name="Bench", last_name=tag)
    token = secrets.token_urlsafe(32)
    await ApiToken.create(partner=partner, created_by=user, name=f"bench {tag}",
                          token_hash=hashlib.sha256(token.encode()).hexdigest())
    return Seeded(partner, user, token, count)


async def free_caisse_code() -> str:
    used = set(await Caisse.all().values_list("code", flat=True))
    for i in range(99, -1, -1):
        if f"{i:02d}" not in used:
            return f"{i:02d}"
    raise SystemExit("no free two-digit caisse code in this database")


async def cleanup(caisse: Caisse) -> None:
    """Remove the rows this run added (only on a --database-url database)."""
    partner_ids = list(await Partner.filter(caisse=caisse).values_list("id", flat=True))
    await ApiToken.filter(partner_id__in=partner_ids).delete()
    await CarePlan.filter(partner_id__in=partner_ids).delete()
    await User.filter(caisse=caisse).delete()
    await Beneficiary.filter(caisse=caisse).delete()
    await Convention.filter(partner_id__in=partner_ids).delete()
    await Partner.filter(id__in=partner_ids).delete()
    await caisse.delete()


# --------------------------------------------------------------------------- measuring

def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class GcMeter:
    """Collections and milliseconds spent in the cyclic garbage collector, per generation."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.ms = [0.0, 0.0, 0.0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count[info["generation"]] += 1
            self.ms[info["generation"]] += (time.perf_counter() - self._start) * 1000


async def interleaved(fns: dict[str, tuple[Callable[[], Awaitable[Any]], int]],
                      warmup: int = WARMUP) -> tuple[dict[str, list[float]], dict[str, GcMeter]]:
    """Milliseconds of calls of each function (`name: (function, runs)`), after `warmup`
    untimed rounds, and the GC time of each. The functions take turns in blocks of BLOCK consecutive calls: turns so that
    every function sees the same machine load, blocks so that each one mostly pays for the full
    GC collections its own garbage triggers (strict round-robin lets one function's garbage
    land its gen2 collections on another's timing)."""
    for _ in range(warmup):
        for fn, _runs in fns.values():
            await fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    meters = {name: GcMeter() for name in fns}
    current: list[GcMeter] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if current:
            current[0](phase, info)

    gc.callbacks.append(on_gc)
    try:
        for first in range(0, max(runs for _fn, runs in fns.values()), BLOCK):
            for name, (fn, runs) in fns.items():
                for _ in range(max(0, min(BLOCK, runs - first))):
                    current[:] = [meters[name]]
                    start = time.perf_counter()
                    await fn()
                    samples[name].append((time.perf_counter() - start) * 1000)
                    current.clear()
    finally:
        gc.callbacks.remove(on_gc)
    return samples, meters


class StatementCounter(logging.Handler):
    """Counts the statements Tortoise's clients log on `tortoise.db_client` before running them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Created connection", "Closed connection")):
            return
        self.statements.append(message)


class Counted:
    """What one request did: statements logged by Tortoise, statements the SQLite engine ran,
    asyncio tasks created."""

    def __init__(self) -> None:
        self.logged: list[str] = []
        self.traced: list[str] = []
        self.tasks = 0
        self.data: dict[str, Any] = {}


async def count_one_request(request: Callable[[], Awaitable[httpx.Response]], sqlite: bool) -> Counted:
    """Run one request with statement logging (and, on SQLite, the engine's trace) on."""
    counted = Counted()
    logger = logging.getLogger("tortoise.db_client")
    handler = StatementCounter()
    previous_level = logger.level
    raw = reader = None
    if sqlite:
        # Both connections of the SQLite backend: aiosqlite's (writes, transactions) and the
        # read-only one that runs reads outside transactions on the event loop.
        raw = connections.get("default")._connection  # the aiosqlite.Connection
        await raw.set_trace_callback(counted.traced.append)
        reader = getattr(connections.get("default"), "_reader", None)
        if reader is not None:
            reader.set_trace_callback(counted.traced.append)
    loop = asyncio.get_running_loop()
    previous_factory = loop.get_task_factory()

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
        counted.tasks += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    loop.set_task_factory(counting_factory)
    try:
        counted.data = check_answer(await request())
    finally:
        loop.set_task_factory(previous_factory)
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        if raw is not None:
            await raw.set_trace_callback(None)
        if reader is not None:
            reader.set_trace_callback(None)
    counted.logged = handler.statements
    return counted


def check_answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        print(f"/graphql answered HTTP {response.status_code}: {response.text[:500]}")
        raise SystemExit(2)
    body = response.json()
    if body.get("errors"):
        print(f"/graphql answered errors: {body['errors']}")
        raise SystemExit(2)
    return body["data"]


# --------------------------------------------------------------------------- baseline

async def preload_rows(seeded: Seeded, limit: int) -> dict[str, Any]:
    """The page, as plain dicts, loaded once (same order as the app: -start_date, id)."""
    plans = await CarePlan.filter(partner_id=seeded.partner.id).order_by("-start_date", "id").limit(limit)
    total = await CarePlan.filter(partner_id=seeded.partner.id).count()
    people = {b.id: b for b in await Beneficiary.filter(id__in={p.beneficiary_id for p in plans})}
    conventions = {c.id: c for c in await Convention.filter(id__in={p.convention_id for p in plans})}
    items = []
    for p in plans:
        b, c = people[p.beneficiary_id], conventions[p.convention_id]
        items.append({
            "id": p.id, "hoursPerMonth": p.hours_per_month, "hourlyRate": p.hourly_rate,
            "participation": p.participation, "startDate": p.start_date,
            "beneficiary": {"fileNumber": b.file_number, "lastName": b.last_name,
                            "firstName": b.first_name},
            "convention": {"number": c.number, "hourlyRate": c.hourly_rate},
        })
    return {"carePlans": {"totalCount": total, "items": items}}


def baseline_schema() -> graphql.GraphQLSchema:
    schema = graphql.build_schema(BASELINE_SDL)
    # Serialised like Strawberry's Decimal and Date scalars (graphql-core 3.3 reads
    # `coerce_output_value`, 3.2 reads `serialize`).
    for name, output in (("Decimal", str), ("Date", date.isoformat)):
        scalar = schema.type_map[name]
        scalar.serialize = output  # type: ignore[attr-defined]
        scalar.coerce_output_value = output  # type: ignore[attr-defined]
    return schema


# --------------------------------------------------------------------------- main

async def run(args: argparse.Namespace) -> int:
    temp_dir = None
    database_url = args.database_url
    if database_url is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="ppas-bench-"))
        database_url = f"sqlite://{temp_dir / 'bench.sqlite3'}"
    sqlite = is_sqlite(database_url)
    settings = replace(Settings(), database_url=database_url, secret_key="bench", development=True)
    if args.plans > settings.max_page_size:
        raise SystemExit(f"--plans must be at most max_page_size ({settings.max_page_size}): "
                         "the whole list is fetched in one page")
    # The statement count is taken at N=SMALL_N and at N=--plans; below that, at half of --plans.
    small_n = SMALL_N if args.plans > SMALL_N else max(1, args.plans // 2)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t0 = time.perf_counter()
    caisse = None
    try:
        await migrate(database_url)
        await open_database(database_url)
        t_migrated = time.perf_counter()
        code = await free_caisse_code()
        caisse = await Caisse.create(code=code, name="Caisse de banc d'essai")
        big = await seed_partner(caisse, "L", "90000001", args.plans, 1_000_000)
        small = await seed_partner(caisse, "S", "90000002", small_n, 2_000_000)
        t_seeded = time.perf_counter()

        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        payload = {"query": QUERY, "variables": {"limit": args.plans}}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.invalid") as client:

            def poster(token: str) -> Callable[[], Awaitable[httpx.Response]]:
                headers = {"Authorization": f"Bearer {token}"}
                return lambda: client.post("/graphql", json=payload, headers=headers)

            post_big, post_small = poster(big.token), poster(small.token)

            # Correctness first: the app's page equals the baseline's. (This first request of
            # the token is counted too, to show what a token's first use costs.)
            first_use = await count_one_request(post_big, sqlite)
            app_data = first_use.data
            rows = await preload_rows(big, args.plans)
            bschema = baseline_schema()
            document = graphql.parse(QUERY)
            if errors := graphql.validate(bschema, document):
                raise SystemExit(f"baseline SDL does not fit the query: {errors}")
            variables = {"limit": args.plans}

            async def baseline() -> str:
                result = graphql.execute(bschema, document, root_value=rows, variable_values=variables)
                if isinstance(result, Awaitable):
                    result = await result
                return json.dumps({"data": result.data})

            baseline_data = json.loads(await baseline())["data"]
            if baseline_data != app_data:
                print("the baseline's answer differs from the app's; the comparison would be unfair")
                return 2
            items = len(app_data["carePlans"]["items"])

            # SQL statements (and asyncio tasks) of one request, at two sizes, same document.
            # Each token is used once first: the identity middleware may write a token's
            # last_used_at on its first use (then at most once a minute), which is not per-row
            # work and would skew the comparison.
            check_answer(await post_small())
            small_count = await count_one_request(post_small, sqlite)
            check_answer(await post_big())
            big_count = await count_one_request(post_big, sqlite)

            # Timings, in turns. Besides the two figures asked for, a breakdown: the same
            # database work through the ORM alone, the schema without HTTP, and the schema
            # without the two nested fields (beneficiary, convention).
            user = await User.get(id=big.user.id)
            schema = app.state.schema

            async def orm_only() -> None:
                page = await partner_data.own_care_plans(user, 0, args.plans)
                await Beneficiary.filter(id__in={p.beneficiary_id for p in page.items})
                await Convention.filter(id__in={p.convention_id for p in page.items})

            def schema_only(query: str) -> Callable[[], Awaitable[None]]:
                async def execute() -> None:
                    result = await schema.execute(query, variable_values=variables,
                                                  context_value=Context(request=None, user=user,
                                                                        settings=settings))
                    if result.errors:
                        raise SystemExit(f"schema.execute errors: {result.errors}")
                return execute

            breakdown_runs = max(BLOCK, args.runs // 2)
            samples, meters = await interleaved({
                "http": (post_big, args.runs),
                "baseline": (baseline, args.runs),
                "schema": (schema_only(QUERY), breakdown_runs),
                "schema_flat": (schema_only(FLAT_QUERY), breakdown_runs),
                "orm": (orm_only, breakdown_runs),
            })

            profile_text = ""
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(5):
                    await post_big()
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                profile_text = out.getvalue()
        t_done = time.perf_counter()
    finally:
        if caisse is not None and temp_dir is None:
            await cleanup(caisse)
        await close_database()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)

    p50 = {name: statistics.median(values) for name, values in samples.items()}
    http_ms, base_ms = samples["http"], samples["baseline"]
    p90, b90 = pct(http_ms, 0.9), pct(base_ms, 0.9)
    n_small, n_big = len(small_count.logged), len(big_count.logged)
    grows = n_big > n_small or len(big_count.traced) > len(small_count.traced)
    if small_n == args.plans:
        print(f"warning: --plans {args.plans} is too small to tell whether statements grow with N")
    verdict = "GROWS" if grows else "constant"
    backend = "SQLite (temporary file)" if temp_dir else database_url.split("://", 1)[0]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = args.runs

    print(f"backend: {backend} | {os.cpu_count()} CPUs, load average {load_before} before, "
          f"{load} after | {runs} timed runs ({breakdown_runs} for the breakdown), in turns of {BLOCK}, "
          f"after {WARMUP} warm-up rounds")
    print(f"setup: migrate {t_migrated - t0:.1f} s, seed {t_seeded - t_migrated:.1f} s, "
          f"measure {t_done - t_seeded:.1f} s")
    print(f"SQL statements of one request (N={args.plans}):")
    for text in big_count.logged:
        print("   ", (text[:140] + " …") if len(text) > 140 else text)
    if sqlite:
        agree = (len(small_count.traced), len(big_count.traced)) == (n_small, n_big)
        print(f"sqlite3 trace cross-check (statements the engine ran): {len(small_count.traced)} "
              f"(N={small_n}), {len(big_count.traced)} (N={args.plans}) → "
              + ("agrees with the tortoise.db_client log" if agree else "DIFFERS from the log"))
    extra = [t for t in first_use.logged if not t.startswith("SELECT")]
    print(f"first request with a fresh token: {len(first_use.logged)} statements"
          + (f", of which not SELECT: {'; '.join(t.split(': [')[0] for t in extra)}" if extra else ""))
    print(f"asyncio tasks created by one request: {small_count.tasks} (N={small_n}), "
          f"{big_count.tasks} (N={args.plans})")
    print(f"breakdown, p50 (min) ms: ORM queries alone {p50['orm']:.1f} ({min(samples['orm']):.1f})"
          f" | schema.execute without nested beneficiary/convention {p50['schema_flat']:.1f} "
          f"({min(samples['schema_flat']):.1f}) | schema.execute, full query {p50['schema']:.1f} "
          f"({min(samples['schema']):.1f}) | /graphql over ASGI {p50['http']:.1f} "
          f"({min(http_ms):.1f})")
    gen2 = [m.count[2] for m in meters.values()]
    gen2_ms = [m.ms[2] for m in meters.values()]
    print("cyclic GC, ms per call (collections gen0/gen1/gen2 per call): " + " | ".join(
        f"{LABELS[name]} {sum(m.ms) / len(samples[name]):.1f} ("
        + "/".join(f"{n / len(samples[name]):.1f}" for n in m.count) + ")"
        for name, m in meters.items()))
    if sum(gen2):
        print(f"   {sum(gen2)} full (gen2) collections in the timed loop, {sum(gen2_ms) / sum(gen2):.1f} ms "
              f"each on average, over {len(gc.get_objects())} tracked objects")
    if profile_text:
        print(profile_text)
    print("=" * 100)
    print(f"care plans: {items} | /graphql p50 {p50['http']:.1f} ms p90 {p90:.1f} ms | "
          f"graphql-core baseline p50 {p50['baseline']:.1f} ms p90 {b90:.1f} ms | ratio "
          f"{p50['http']:.1f}/{p50['baseline']:.1f} = {p50['http'] / p50['baseline']:.1f} | "
          f"SQL statements per request: {n_small} (N={small_n}), {n_big} (N={args.plans}) → {verdict}")
    print("=" * 100)
    return 1 if grows else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=500, help="care plans in the page (default 500)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests (default 30)")
    parser.add_argument("--database-url", default=None,
                        help="use this database instead of a temporary SQLite file; it is migrated, "
                             "rows are added then deleted")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 5 requests")
    args = parser.parse_args()
    if args.plans < 1 or args.runs < 1:
        parser.error("--plans and --runs must be positive")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
