"""Benchmark: autosave of a 300-line billing form against a bare Starlette endpoint.

    .venv/bin/python bench/autosave.py [--lines 300] [--clients 20] [--seconds 8] [--database-url URL]

1. Seeds a fresh temporary SQLite file (the embedded default): one provider, one convention,
   N notified care plans, a partner_admin user; opens the form of last month (N lines).
2. Starts the real server (`python -m ppas serve`, uvicorn) on it, with PPAS_PAGE_SIZE=N, and
   a bare Starlette app (one POST route reading the form and returning a short HTML string)
   under the same uvicorn, both on loopback.
3. C concurrent clients (each its own signed-in session) save lines through
   POST /facturation/lignes/{id} exactly as htmx does (HX-Request, X-CSRF-Token,
   HX-Trigger-Name), each on its own lines, carrying the version the server returns from the
   warm-up into the measured run, and typing a value derived from that version, so that every
   save writes (a save that is not a new version counts as failed); the same C clients hammer
   the bare endpoint for the same duration. Prints saves/s, p50, p99 of both.
4. Times GET /facturation/{id}?page=1 (the whole N-line form on one page) through the server,
   against rendering the same template in-process from plain dicts (the data the page used).

Targets (issue 4): autosave ≥ 25 % of the bare throughput, p99 ≤ 100 ms at 20 clients; the
full form page ≤ 4× the plain render. Exit status 1 when a target is missed.
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

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

async def save(request):
    form = await request.form()
    return HTMLResponse('<span id="etat">Enregistré à 12:00 ' + str(len(form)) + '</span>')

app = Starlette(routes=[Route("/save", save, methods=["POST"])])
"""
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'id="v-(\d+)" name="v-\d+" value="(\d+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def seed(database_url: str, lines: int) -> tuple[str, str, int]:
    from datetime import datetime, timezone

    from ppas.db import close_database, migrate, open_database
    from ppas.domain.periods import current_period
    from ppas.services import billing_forms
    from ppas.services.demo import load_demo
    from tests.billing_form_support import PASSWORD, make_provider

    await migrate(database_url)
    await open_database(database_url)
    try:
        await load_demo()
        provider = await make_provider(lines, hours_per_month=__import__("decimal").Decimal("150"))
        now = datetime.now(timezone.utc)
        form = await billing_forms.open_form(provider.user, provider.convention.id,
                                             str(current_period(now).previous()), now)
        return provider.login, PASSWORD, form.id
    finally:
        await close_database()


def start(command: list[str], env: dict, url: str) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not start")


async def signed_in_client(base: str, login: str, password: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/connexion")
    token = CSRF.search(page.text).group(1)
    response = await client.post("/connexion", data={"csrf_token": token, "login": login,
                                                     "password": password, "next": "/espace"})
    assert response.status_code == 303, response.text[:300]
    home = await client.get("/espace")
    return client, CSRF.search(home.text).group(1)


def summary(latencies: list[float], seconds: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(ordered) / seconds, statistics.median(ordered) * 1000, p99 * 1000


async def run_saves(base: str, login: str, password: str, form_id: int, line_ids: list[int],
                    clients: int, seconds: float,
                    versions: dict[int, int]) -> tuple[list[float], int]:
    """Saves for `seconds`; `versions` (line id → version) carries over from run to run, as
    the page's hidden fields do: a warm-up that went round a client's lines must not turn
    the measured run's first saves into conflicts."""
    sessions = [await signed_in_client(base, login, password) for _ in range(clients)]
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal failures
        client, csrf = sessions[index]
        mine = line_ids[index::clients]
        turn = 0
        while time.perf_counter() < stop:
            line_id = mine[turn % len(mine)]
            turn += 1
            # Derived from the version: never the value stored, so every save writes.
            hours = f"{1 + versions[line_id] % 50},{versions[line_id] % 4 * 25:02d}"
            data = {f"h-{line_id}": hours, f"s-{line_id}": "", f"v-{line_id}": str(versions[line_id]),
                    "page": "1", "form": str(form_id)}
            began = time.perf_counter()
            response = await client.post(f"/facturation/lignes/{line_id}", data=data, headers={
                "HX-Request": "true", "X-CSRF-Token": csrf, "HX-Trigger-Name": f"h-{line_id}"})
            latencies.append(time.perf_counter() - began)
            match = VERSION.search(response.text)
            if (response.status_code != 200 or match is None or "Enregistré à" not in response.text
                    or int(match.group(2)) != versions[line_id] + 1):
                failures += 1
            else:
                versions[line_id] = int(match.group(2))

    await asyncio.gather(*(worker(i) for i in range(clients)))
    for client, _ in sessions:
        await client.aclose()
    return latencies, failures


async def run_bare(base: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while time.perf_counter() < stop:
                began = time.perf_counter()
                await client.post("/save", data={"h-1": "12,5", "s-1": "", "v-1": "1", "page": "1"})
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def page_render(base: str, login: str, password: str, form_id: int, lines: int,
                      runs: int) -> tuple[float, float]:
    """Median seconds: the full page through the server, and the same template from dicts."""
    from dataclasses import replace

    from starlette.requests import Request

    from ppas.settings import Settings
    from ppas.domain.roles import menu_for
    from ppas.web.templating import make_environment

    client, _ = await signed_in_client(base, login, password)
    http_times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = await client.get(f"/facturation/{form_id}?page=1")
        http_times.append(time.perf_counter() - began)
        assert response.text.count('<tr id="ligne-') == lines, "the page must show every line"
    await client.aclose()
    # The same data as plain dicts: run the page's GraphQL operation once, in-process.
    from ppas.db import close_database, open_database
    from ppas.models import User
    from ppas.schema import build_schema
    from ppas.schema.context import Context
    from ppas.web.operations import OperationRunner, load_operations

    settings = replace(Settings.from_env(), page_size=lines)
    await open_database(settings.database_url)
    try:
        schema = build_schema(settings)
        runner = OperationRunner(schema, load_operations(settings.operations_dir, schema))
        user = await User.get(login=login).select_related("caisse")
        data = await runner.run("BillingFormPage", Context(request=None, user=user, settings=settings),
                                id=str(form_id), offset=0, limit=lines)
    finally:
        await close_database()
    env = make_environment(settings.templates_dir)  # with the app's filters (paris_hm…)
    template = env.get_template("pages/billing_form.html")
    request = Request({"type": "http", "method": "GET", "path": f"/facturation/{form_id}",
                       "headers": [], "query_string": b"page=1"})
    plain_times = []
    for _ in range(runs):
        began = time.perf_counter()
        html = template.render(request=request, htmx=False, user=user, csrf_token="x",
                               menu=menu_for(user.role), current_path=f"/facturation/{form_id}", form=data["billingForm"],
                               page=1, pages=1, page_size=lines, last_page=True)
        plain_times.append(time.perf_counter() - began)
        assert html.count('<tr id="ligne-') == lines
    return statistics.median(http_times), statistics.median(plain_times)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=None,
                        help="use this database (e.g. postgres://…) instead of a temporary SQLite "
                             "file; it is migrated and keeps the provider this run adds")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ppas-bench-autosave-"))
    database_url = args.database_url or f"sqlite://{folder / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    os.environ["PPAS_PAGE_SIZE"] = str(args.lines)
    os.environ["PPAS_DEVELOPMENT"] = "1"  # served over plain http: cookies without Secure
    login, password, form_id = await seed(database_url, args.lines)
    from ppas.db import close_database, open_database
    from ppas.models import FormLine

    await open_database(database_url)
    line_ids = list(await FormLine.filter(form_id=form_id).order_by("position")
                    .values_list("id", flat=True))
    await close_database()

    # Every client signs in twice (warm-up, then the measured run) from one address: far
    # above the per-address sign-in limit, which would refuse most of them.
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_SECRET_KEY": "bench",
           "PPAS_PAGE_SIZE": str(args.lines), "PYTHONPATH": str(ROOT),
           "PPAS_RATE_LIMIT_SIGN_IN": "100000/minute"}
    app_port, bare_port = free_port(), free_port()
    (folder / "bare_app.py").write_text(BARE_APP)
    server = start([sys.executable, "-m", "ppas", "serve", "--port", str(app_port)], env,
                   f"http://127.0.0.1:{app_port}/")
    bare = start([sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_app:app",
                  "--port", str(bare_port), "--log-level", "warning"], env,
                 f"http://127.0.0.1:{bare_port}/")
    try:
        app_base, bare_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        await run_bare(bare_base, args.clients, 1)  # warm-up
        bare_lat = await run_bare(bare_base, args.clients, args.seconds)
        versions = {line_id: 1 for line_id in line_ids}
        await run_saves(app_base, login, password, form_id, line_ids, args.clients, 1, versions)
        save_lat, failures = await run_saves(app_base, login, password, form_id, line_ids,
                                             args.clients, args.seconds, versions)
        http_page, plain_page = await page_render(app_base, login, password, form_id, args.lines,
                                                  args.runs)
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    bare_rate, bare_p50, bare_p99 = summary(bare_lat, args.seconds)
    save_rate, save_p50, save_p99 = summary(save_lat, args.seconds)
    ratio = save_rate / bare_rate
    page_ratio = http_page / plain_page
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(f"Autosave benchmark — {backend}, {args.lines}-line form, {args.clients} concurrent clients, "
          f"{args.seconds:.0f} s each")
    print(f"  bare Starlette endpoint : {bare_rate:8.1f} req/s   p50 {bare_p50:6.1f} ms   p99 {bare_p99:6.1f} ms")
    print(f"  autosave (saveFormLine) : {save_rate:8.1f} saves/s p50 {save_p50:6.1f} ms   p99 {save_p99:6.1f} ms"
          f"   failed {failures}")
    print(f"  throughput ratio        : {ratio:6.1%} of the bare endpoint (target ≥ 25 %)")
    print(f"  full form page (HTTP)   : {http_page * 1000:7.1f} ms; same template from dicts "
          f"{plain_page * 1000:6.1f} ms; ratio {page_ratio:4.2f}× (target ≤ 4×)")
    ok = ratio >= 0.25 and save_p99 <= 100 and page_ratio <= 4 and failures == 0
    print("  result                  :", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
