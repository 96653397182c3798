"""Benchmark: sign-in bursts against the real server — does argon2 freeze other requests, and
how many wrong passwords of a concurrent burst get checked?

    .venv/bin/python bench/sign_in_burst.py [--burst 15] [--guesses 20] [--probes 40] [--source DIR]

1. Seeds a fresh temporary SQLite file with the demo (its accounts, password Demo2026ppas).
2. Starts the real server (`python -m ppas serve`, uvicorn) on it, the per-address rate
   limits raised so that the bursts reach the sign-in code (they come from one address).
   --source DIR serves another checkout (e.g. main, to compare before and after).
3. Baseline: a static file (/static/css/ppas.css) fetched alone, --probes times in a row.
4. Burst: --burst concurrent sign-ins with unknown logins (each costs one argon2
   verification); the same static file is fetched in a row while the burst runs. Prints p50
   and max of both, and their ratios to the baseline's p50 (few fetches
   during the burst also mean a frozen server).
5. Lockout: --guesses concurrent wrong passwords for `demouser`, the right one sent 50 ms
   later; counts the wrong passwords really checked (`sign_in_failed` audit rows) and says
   whether the right password opened a session. Target: at most 3 checked, no session.

Exit status 1 when the lockout target is missed. The latency ratio is printed, not judged:
it moves with the machine's load (the load average is printed).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATIC = "/static/css/ppas.css"
VICTIM = "demouser"
RIGHT_PASSWORD = "Demo2026ppas"
UNTHROTTLED = "100000/minute"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def seed(database_url: str) -> None:
    from ppas.db import close_database, migrate, open_database
    from ppas.services.demo import load_demo

    await migrate(database_url)
    await open_database(database_url)
    try:
        await load_demo()
    finally:
        await close_database()


async def checked_wrong_passwords(database_url: str) -> int:
    from ppas.db import close_database, open_database
    from ppas.models import AuditEvent

    await open_database(database_url)
    try:
        return await AuditEvent.filter(actor_login=VICTIM, action="sign_in_failed").count()
    finally:
        await close_database()


def start(source: Path, env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "ppas", "serve", "--port", str(port)],
                               env={**env, "PYTHONPATH": str(source)}, cwd=source,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


async def fetch_static(http: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await http.get(STATIC)
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - started


async def baseline(base: str, probes: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await fetch_static(http)  # warm-up: connection, file cache
        return [await fetch_static(http) for _ in range(probes)]


async def during_burst(base: str, burst: int) -> tuple[list[float], float, list[int]]:
    """Static-file latencies while `burst` unknown-login sign-ins run; the burst's duration."""
    limits = httpx.Limits(max_connections=burst + 5)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as signer, \
            httpx.AsyncClient(base_url=base, timeout=120) as prober:
        token = CSRF.search((await signer.get("/connexion")).text).group(1)
        await fetch_static(prober)
        pending = burst

        async def sign_in(i: int) -> int:
            nonlocal pending
            response = await signer.post("/connexion", data={
                "csrf_token": token, "login": f"inconnu{i:04d}", "password": "Faux2026x",
                "next": "/espace"})
            pending -= 1
            return response.status_code

        async def probe() -> list[float]:
            await asyncio.sleep(0.02)  # the burst has reached the server
            latencies = []
            while pending > 0:
                latencies.append(await fetch_static(prober))
            return latencies

        started = time.perf_counter()
        *statuses, latencies = await asyncio.gather(*(sign_in(i) for i in range(burst)), probe())
        return latencies, time.perf_counter() - started, statuses


async def lockout(base: str, guesses: int) -> tuple[list[int], int]:
    limits = httpx.Limits(max_connections=guesses + 5)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        token = CSRF.search((await http.get("/connexion")).text).group(1)

        def attempt(password: str):
            return http.post("/connexion", data={"csrf_token": token, "login": VICTIM,
                                                 "password": password, "next": "/espace"})

        async def right_a_moment_later():
            await asyncio.sleep(0.05)
            return await attempt(RIGHT_PASSWORD)

        *wrong, right = await asyncio.gather(*(attempt(f"Faux{i:02d}x2026") for i in range(guesses)),
                                             right_a_moment_later())
    return [r.status_code for r in wrong], right.status_code


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=15)
    parser.add_argument("--guesses", type=int, default=20)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the checkout to serve (default: this one)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ppas-bench-sign-in-"))
    database_url = f"sqlite://{folder / 'bench.sqlite3'}"
    await seed(database_url)
    # Development: the bench speaks plain http, where Secure cookies would never come back.
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_SECRET_KEY": "bench",
           "PPAS_DEVELOPMENT": "1", "PPAS_RATE_LIMIT_SIGN_IN": UNTHROTTLED}
    port = free_port()
    server = start(args.source.resolve(), env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        alone = await baseline(base, args.probes)
        loaded, burst_seconds, statuses = await during_burst(base, args.burst)
        wrong, right = await lockout(base, args.guesses)
    finally:
        server.terminate()
        server.wait(timeout=10)
    checked = await checked_wrong_passwords(database_url)
    shutil.rmtree(folder, ignore_errors=True)

    ratio = statistics.median(loaded) / statistics.median(alone)
    worst = max(loaded) / statistics.median(alone)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Sign-in burst benchmark — SQLite, server from {args.source.resolve()}, "
          f"{os.cpu_count()} cores, load average {load}")
    print(f"  static page alone (baseline)     : {ms(alone)}   ({len(alone)} fetches)")
    print(f"  during {args.burst} unknown-login sign-ins : {ms(loaded)}   ({len(loaded)} fetches; "
          f"burst took {burst_seconds:.2f} s, answers {sorted(set(statuses))})")
    print(f"  latency ratio to the baseline p50 : {ratio:7.1f}× (p50)   {worst:7.1f}× (max)")
    print(f"  {args.guesses} concurrent wrong passwords   : {checked} checked (target ≤ 3), "
          f"answers {sorted(set(wrong))}")
    print(f"  right password 50 ms later       : "
          f"{'session opened (303)' if right == 303 else f'refused ({right})'}")
    ok = checked <= 3 and right != 303
    print("  result                           :", "lockout holds" if ok else "LOCKOUT BYPASSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
