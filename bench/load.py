"""Load test: real journeys of many users against N server processes on PostgreSQL (Locust).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py [--users 200] [--seconds 60] [--workers 2]
                                   [--accounts 20] [--database-url postgres://…]

What it does:
1. a database: the --database-url one (migrated; the accounts it adds stay), else a temporary
   PostgreSQL cluster (tests/conftest.py's PostgresServer) dropped at the end;
2. `ppas migrate`, the demo, then A partner accounts (--accounts), each with one convention
   and 40 notified care plans (tests/billing_form_support.py), as docs/deploy.md says;
3. `ppas serve --workers N` (one port, N processes; rate limits raised: every simulated user
   comes from 127.0.0.1), until /readyz is green;
4. U simulated users (Locust, headless, in this process), spawned at 5/s, each signing in
   with its own login of one of the accounts (colleagues of one partner share its form),
   then, with 1–3 s of thought between actions: autosave a line of the month's form (htmx,
   with the line's version: a colleague's save in between is answered as a conflict, which is
   a correct answer), change page, open the form, list the files and the worklist, and send a
   billing file (GraphQL multipart upload, dry run: every check, nothing stored);
5. prints the ramp-up's figures (every user's sign-in: one argon2id hash of 64 MiB each, by
   design the costliest request), resets the stats once every user is in, then measures
   --seconds of steady journeys and prints per request kind: requests, failures, p50/p95/p99
   and max (ms), the totals (throughput, errors); then the servers' sign-in failure figures.
   A baseline rides along: GET /healthz on the same servers (no session, no database), whose
   latency is the machine's queue; the journeys' p50 over the baseline's is the app's share.

Exit 1 when a request failed or the overall p99 is above --p99-target ms (issue 14: 300 ms on
2 cores, 0 errors). The machine may be shared: print `uptime` beside the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLANS_PER_ACCOUNT = 40
PAGE_SIZE = 20
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'id="v-(\d+)" name="v-\d+" value="(\d+)"')
UPLOAD = ("mutation Envoi($file: Upload!) { submitBillingFile(file: $file, dryRun: true) { "
          "__typename ... on BillingFileReport { status lineCount anomalyCount } "
          "... on BillingFileError { message } } }")


@dataclass
class Account:
    logins: list[str]  # colleagues of one partner: each simulated user signs in as its own
    password: str
    convention_id: int
    period: str
    file_name: str
    file_bytes: bytes


ACCOUNTS: list[Account] = []
USER_NUMBERS = itertools.count()
SIGNED_IN = [0]  # users past on_start (greenlets: no lock needed)


# ---------------------------------------------------------------- set-up (before gevent)

async def seed(database_url: str, count: int, users: int) -> list[Account]:
    from datetime import datetime, timezone

    from ppas.db import close_database, migrate, open_database
    from ppas.domain.periods import current_period
    from ppas.models import User
    from ppas.services.demo import load_demo
    from tests.billing_file_support import billing_xml, ligne
    from tests.billing_form_support import PASSWORD, make_provider

    await migrate(database_url)
    await open_database(database_url)
    accounts = []
    try:
        await load_demo()
        period = current_period(datetime.now(timezone.utc)).previous()
        for _ in range(count):
            provider = await make_provider(PLANS_PER_ACCOUNT)
            numbers = []
            for plan in provider.plans[:10]:
                await plan.fetch_related("beneficiary")
                numbers.append(plan.beneficiary.file_number)
            shim = _FileShim(provider.partner.structure_id, provider.convention, period)
            data = billing_xml(shim, [ligne(i + 1, n, period) for i, n in enumerate(numbers)])
            # One login per simulated user: an account takes at most 3 password checks at
            # once (the lockout's slots, ppas/services/sign_in.py), so users never share one.
            logins = [provider.login]
            for n in range(1, -(-users // count)):
                colleague = await User.create(
                    login=f"{provider.login}c{n}", password_hash=provider.user.password_hash,
                    role=provider.user.role, caisse_id=provider.user.caisse_id,
                    partner_id=provider.user.partner_id)
                logins.append(colleague.login)
            accounts.append(Account(logins, PASSWORD, provider.convention.id, str(period),
                                    shim.amd_name(), data))
    finally:
        await close_database()
    return accounts


@dataclass
class _FileShim:
    """What tests/billing_file_support.billing_xml reads of a provider."""

    structure_id: str
    convention: object
    period: object

    def amd_name(self, period=None) -> str:
        period = period or self.period
        return f"03_{self.structure_id}_{period.year:04d}{period.month:02d}.xml"


def start_servers(database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    import httpx

    from tests.conftest import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_SECRET_KEY": "bench-load",
           "PPAS_DEVELOPMENT": "1", "PPAS_RATE_LIMIT_SIGN_IN": "1000000/minute",
           "PPAS_METRICS_ALLOW": "127.0.0.1", "PPAS_LOG_FORMAT": "json",
           "PPAS_PAGE_SIZE": str(PAGE_SIZE)}
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"ppas-load-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "ppas", "serve", "--port", str(port),
                                "--workers", str(workers)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                print(f"servers: {workers} processes on {url} (log {log.name})")
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the servers did not become ready; see {log.name}")


# ---------------------------------------------------------------- the journeys (Locust)

def define_user():
    from locust import HttpUser, between, task

    class PortalUser(HttpUser):
        wait_time = between(1, 3)

        def on_start(self) -> None:
            number = next(USER_NUMBERS)
            self.account = ACCOUNTS[number % len(ACCOUNTS)]
            login = self.account.logins[(number // len(ACCOUNTS)) % len(self.account.logins)]
            self.versions: dict[int, int] = {}
            self.form_url = ""
            page = self.client.get("/connexion", name="GET /connexion")
            token = CSRF.search(page.text).group(1)
            self.client.post("/connexion", name="POST /connexion (sign-in)", data={
                "csrf_token": token, "login": login,
                "password": self.account.password, "next": "/espace"}, allow_redirects=False)
            home = self.client.get("/espace", name="GET /espace")
            self.csrf = CSRF.search(home.text).group(1)
            self.open_form()
            SIGNED_IN[0] += 1

        @task(2)
        def open_form(self) -> None:
            with self.client.post("/facturation/ouvrir", name="POST /facturation/ouvrir",
                                  data={"csrf_token": self.csrf, "period": self.account.period,
                                        "convention": str(self.account.convention_id)},
                                  allow_redirects=False, catch_response=True) as answer:
                if answer.status_code != 303:
                    answer.failure(f"open form: {answer.status_code}")
                    return
                self.form_url = answer.headers["location"]
            self.change_page(1)

        @task(4)
        def change_page(self, page: int | None = None) -> None:
            if not self.form_url:
                return
            page = page or random.randint(1, PLANS_PER_ACCOUNT // PAGE_SIZE)
            answer = self.client.get(f"{self.form_url}?page={page}",
                                     name="GET /facturation/{id}?page")
            self.versions = {int(i): int(v) for i, v in VERSION.findall(answer.text)}

        @task(10)
        def autosave(self) -> None:
            if not self.versions:
                return
            line, version = random.choice(list(self.versions.items()))
            hours = f"{random.randint(1, 15)},{random.choice('05')}"
            with self.client.post(f"/facturation/lignes/{line}", name="POST autosave (htmx)",
                                  data={f"h-{line}": hours, f"s-{line}": "",
                                        f"v-{line}": str(version), "page": "1",
                                        "form": self.form_url.rsplit("/", 1)[1]},
                                  headers={"HX-Request": "true", "X-CSRF-Token": self.csrf,
                                           "HX-Trigger-Name": f"h-{line}"},
                                  catch_response=True) as answer:
                if answer.status_code != 200:
                    answer.failure(f"autosave: {answer.status_code}")
                    return
                if "Enregistré à" not in answer.text and "modifiée entre-temps" not in answer.text:
                    answer.failure("autosave: neither saved nor a conflict")
                    return
                found = dict(VERSION.findall(answer.text))
                if str(line) in found:
                    self.versions[line] = int(found[str(line)])

        @task(2)
        def files_list(self) -> None:
            self.client.get("/fichiers", name="GET /fichiers (list)")

        @task(1)
        def worklist(self) -> None:
            self.client.get("/facturation", name="GET /facturation (worklist)")

        @task(1)
        def baseline(self) -> None:
            # The same servers doing no work (no session, no database): what is left of a
            # request's time once the app's own work is taken out, i.e. the machine's queue.
            self.client.get("/healthz", name="GET /healthz (baseline: no work)")

        @task(1)
        def upload(self) -> None:
            operations = json.dumps({"query": UPLOAD, "variables": {"file": None}})
            with self.client.post("/graphql", name="POST /graphql upload (dry run)",
                                  data={"operations": operations,
                                        "map": json.dumps({"0": ["variables.file"]})},
                                  files={"0": (self.account.file_name, self.account.file_bytes,
                                               "text/xml")},
                                  headers={"X-CSRF-Token": self.csrf},
                                  catch_response=True) as answer:
                result = (answer.json().get("data") or {}).get("submitBillingFile") \
                    if answer.status_code == 200 else None
                if not result or result.get("__typename") != "BillingFileReport":
                    answer.failure(f"upload: {answer.status_code} {answer.text[:200]}")

    return PortalUser


def run_locust(url: str, users: int, seconds: float, spawn_rate: float, p99_target: float) -> int:
    """Ramp-up (every user signs in), its figures; then the stats reset and `seconds` of
    steady journeys, the measured run."""
    import gevent
    from locust.env import Environment

    env = Environment(user_classes=[define_user()], host=url)
    runner = env.create_local_runner()
    started = time.perf_counter()
    runner.start(users, spawn_rate=spawn_rate)
    deadline = time.monotonic() + 600
    while SIGNED_IN[0] < users and time.monotonic() < deadline:
        gevent.sleep(0.5)
    ramp = time.perf_counter() - started
    print(f"\nramp-up: {SIGNED_IN[0]} of {users} users signed in and opened their form in "
          f"{ramp:.0f} s")
    report(env.stats, ramp, None)
    env.stats.reset_all()
    print(f"\nsteady run: {users} users for {seconds:.0f} s "
          f"(load average before: {os.getloadavg()})")
    gevent.sleep(seconds)
    measured = env.stats
    code = report(measured, seconds, p99_target)
    runner.quit()
    return code


def report(stats, seconds: float, p99_target: float | None) -> int:
    rows = sorted((e for e in stats.entries.values() if e.num_requests),
                  key=lambda entry: -entry.num_requests)
    print(f"\n{'request kind':<38} {'reqs':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7}")
    for entry in rows:
        print(f"{entry.name:<38} {entry.num_requests:>7} {entry.num_failures:>5} "
              f"{entry.get_response_time_percentile(0.5):>7.0f} "
              f"{entry.get_response_time_percentile(0.95):>7.0f} "
              f"{entry.get_response_time_percentile(0.99):>7.0f} {entry.max_response_time:>7.0f}")
    total = stats.total
    p99 = total.get_response_time_percentile(0.99)
    print(f"{'ALL':<38} {total.num_requests:>7} {total.num_failures:>5} "
          f"{total.get_response_time_percentile(0.5):>7.0f} "
          f"{total.get_response_time_percentile(0.95):>7.0f} {p99:>7.0f} "
          f"{total.max_response_time:>7.0f}")
    rest = [e for e in rows if "sign-in" not in e.name and "baseline" not in e.name]
    if rest:
        from locust.stats import StatsEntry

        merged = StatsEntry(stats, "journeys", "")
        for entry in rest:
            merged.extend(entry)
        print(f"{'journeys (no sign-in, no baseline)':<38} {merged.num_requests:>7} "
              f"{merged.num_failures:>5} {merged.get_response_time_percentile(0.5):>7.0f} "
              f"{merged.get_response_time_percentile(0.95):>7.0f} "
              f"{merged.get_response_time_percentile(0.99):>7.0f} {merged.max_response_time:>7.0f}")
    print(f"throughput: {total.num_requests / seconds:.1f} requests/s over {seconds:.0f} s")
    for error in stats.errors.values():
        print(f"error ×{error.occurrences}: {error.method} {error.name}: {str(error.error)[:200]}")
    print("load average:", os.getloadavg())
    if p99_target is None:
        return 0
    missed = []
    if total.num_failures:
        missed.append(f"{total.num_failures} failed requests")
    if p99 > p99_target:
        missed.append(f"p99 {p99:.0f} ms > {p99_target:.0f} ms")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=5,
                        help="users started per second (each signs in: one argon2 hash)")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--accounts", type=int, default=20, help="partner accounts shared by users")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL database (default: a temporary cluster)")
    parser.add_argument("--p99-target", type=float, default=300.0)
    args = parser.parse_args()

    cluster = None
    database_url = args.database_url
    if database_url is None:
        from tests.conftest import PostgresServer

        cluster = PostgresServer()
        database_url = cluster.start()
        print(f"temporary PostgreSQL: {cluster.version}")
    server = None
    try:
        started = time.perf_counter()
        ACCOUNTS.extend(asyncio.run(seed(database_url, args.accounts, args.users)))
        print(f"seeded {len(ACCOUNTS)} accounts in {time.perf_counter() - started:.1f} s")
        server, url = start_servers(database_url, args.workers)
        print(f"{args.users} users, spawn {args.spawn_rate}/s, {args.seconds:.0f} s; "
              f"load average before: {os.getloadavg()}")
        code = run_locust(url, args.users, args.seconds, args.spawn_rate, args.p99_target)
        import httpx

        metrics = httpx.get(url + "/metrics", timeout=10).text
        failures = [line for line in metrics.splitlines()
                    if line.startswith(("ppas_sign_in_failures_total", "ppas_account_lockouts_total"))]
        print("server metrics:", failures or "no sign-in failure, no lockout")
        return code
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
