"""The `ppas` command: serve, migrate, demo, jobs, token, export-schema."""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

from ppas.settings import ROOT, Settings

SCHEMA_FILE = ROOT / "graphql" / "schema.graphql"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # ppas.metrics; not imported before it is set


async def _with_database(settings: Settings, work) -> object:
    from ppas.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        return await work()
    finally:
        await close_database()


def without_password(database_url: str) -> str:
    """The URL to print: its password (if any) replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", database_url)


def _migrate(settings: Settings) -> None:
    from ppas.db import migrate

    asyncio.run(migrate(settings.database_url))
    print(f"Base migrée : {without_password(settings.database_url)}")


def _demo(settings: Settings) -> None:
    from ppas.services.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    asyncio.run(_with_database(settings, load_demo))
    print("Données de démonstration chargées. Comptes (mot de passe commun : "
          f"{DEMO_PASSWORD}) :")
    for login, what in DEMO_LOGINS.items():
        print(f"  {login:<12} {what}")


def _proxy_options(settings: Settings) -> dict:
    """uvicorn believes X-Forwarded-For/-Proto only from PPAS_FORWARDED_ALLOW_IPS (none by
    default): the client address that rate limits and the audit log use is the real one."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _prepare_metrics_dir(workers: int) -> None:
    """Several processes: prometheus-client's multiprocess mode, in a folder emptied now.

    PROMETHEUS_MULTIPROC_DIR must be set before any process imports prometheus_client: the
    workers inherit it. Without it, `ppas serve` makes a fresh temporary folder.
    """
    import tempfile

    if workers <= 1 and not os.environ.get(MULTIPROC_ENV):
        return
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):  # the previous run's figures
            stale.unlink()
    else:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="ppas-metrics-")


def worker_app():
    """The app of one `ppas serve --workers N` process (uvicorn's factory, in the worker)."""
    import gc

    from ppas.app import create_app
    from ppas.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_format)
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve; never migrates nor loads data (`ppas migrate` runs before, once: docs/deploy.md),
    so N processes starting together do no start-up work that could race."""
    import uvicorn

    from ppas.logs import configure_logging

    _prepare_metrics_dir(workers)  # before prometheus_client is imported
    configure_logging(settings.log_format)
    options = dict(host=host, port=port, log_config=None, access_log=False,
                   **_proxy_options(settings))
    if workers > 1:
        # Each worker imports and builds the app itself (spawned processes).
        uvicorn.run("ppas.cli:worker_app", factory=True, workers=workers, **options)
        return
    import gc

    from ppas.app import create_app

    app = create_app(settings)
    # The schema, templates and modules live as long as the process: frozen out of the
    # cyclic GC, its full collections stop walking them on every request that triggers one.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, **options)


def backup_sqlite(database_path: Path, target: Path) -> int:
    """Copy a live SQLite database into `target` through SQLite's online backup API.

    One step (pages=-1): the copy is the database as of one instant. In WAL mode (the
    portal's) the read it holds blocks no writer, so the server keeps serving. Written to a
    temporary file beside `target`, checked (`PRAGMA integrity_check`), then renamed: a
    failed backup never leaves a half file under the target's name. Returns its size.
    """
    import sqlite3

    if not database_path.exists():
        raise FileNotFoundError(f"la base {database_path} n'existe pas")
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database_path, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=-1)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
    finally:
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"la copie est corrompue : {verdict}")
    os.replace(partial, target)
    return target.stat().st_size


def _backup(settings: Settings, target: Path) -> None:
    from ppas.db import is_sqlite

    if not is_sqlite(settings.database_url):
        print("La base est PostgreSQL : sauvegardez-la avec pg_dump (par exemple "
              "`pg_dump --format=custom --file=ppas.dump \"$DATABASE_URL\"`) et restaurez-la "
              "avec pg_restore ; voir docs/deploy.md.", file=sys.stderr)
        sys.exit(2)
    path = Path(settings.database_url.removeprefix("sqlite://"))
    if ":memory:" in str(path):
        print("Une base en mémoire ne se sauvegarde pas.", file=sys.stderr)
        sys.exit(2)
    try:
        size = backup_sqlite(path, target)
    except (OSError, RuntimeError) as error:
        print(f"Sauvegarde impossible : {error}", file=sys.stderr)
        sys.exit(1)
    print(f"Sauvegarde écrite : {target} ({size / 1024 / 1024:.1f} Mo)")


def _send_mail(settings: Settings) -> None:
    from ppas.domain.clock import SystemClock
    from ppas.services.mail_sender import deliver_pending

    async def work():
        return await deliver_pending(settings, SystemClock().now())

    if not settings.smtp_host:
        print("PPAS_SMTP_HOST n'est pas défini : aucun courriel envoyé.")
        return
    print(f"Courriels envoyés : {asyncio.run(_with_database(settings, work))}")


def _integrate(settings: Settings) -> None:
    from ppas.domain.clock import SystemClock
    from ppas.services.integration import integrate_due_lines

    async def work():
        return await integrate_due_lines(SystemClock().now(), settings)

    summary = asyncio.run(_with_database(settings, work))
    print(f"Intégration : {summary.payable} ligne(s) payable(s), {summary.rejected} ligne(s) "
          f"rejetée(s), {summary.anomalies} anomalie(s) de report, {summary.mails} courriel(s).")
def _run_jobs(settings: Settings, once: bool, kinds: list[str] | None) -> None:
    import signal

    from ppas.domain.clock import SystemClock
    from ppas.logs import configure_logging
    from ppas.services.jobs import Worker

    configure_logging(settings.log_format)

    async def work():
        worker = Worker(settings, SystemClock(), kinds=kinds)
        if once:
            return await worker.run_due()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run_forever(stop)
        return None

    ran = asyncio.run(_with_database(settings, work))
    if once:
        print(f"Tâches exécutées : {ran}")


def _create_token(settings: Settings, login: str, name: str) -> None:
    from ppas.services.api_tokens import create_token_for_login
    from ppas.services.errors import ServiceError

    async def work():
        return await create_token_for_login(login, name)

    try:
        created = asyncio.run(_with_database(settings, work))
    except ServiceError as error:
        print(error.message, file=sys.stderr)
        sys.exit(1)
    print(f"Jeton « {created.token.name} » créé pour le partenaire de {login}. Copiez-le "
          "maintenant : il ne sera plus jamais affiché.", file=sys.stderr)
    print(created.secret)  # alone on stdout: TOKEN=$(ppas token create …) works


def _payments_run(settings: Settings, caisse_code: str, paid_on: str) -> None:
    from datetime import date

    from ppas.domain.amounts import format_euros
    from ppas.domain.clock import SystemClock
    from ppas.models import Caisse
    from ppas.services.errors import ServiceError
    from ppas.services.payments import execute_payment_run, start_payment_run

    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        print(f"Date de paiement illisible « {paid_on} » : écrivez-la AAAA-MM-JJ.", file=sys.stderr)
        sys.exit(2)

    async def work():
        caisse = await Caisse.get_or_none(code=caisse_code)
        if caisse is None:
            raise ServiceError(f"Aucune caisse de code « {caisse_code} ».")
        now = SystemClock().now()
        run = await start_payment_run(caisse.id, day, None, now)
        return await execute_payment_run(run.id, now, slip_delay_hours=settings.slip_delay_hours)

    try:
        summary = asyncio.run(_with_database(settings, work))
    except ServiceError as error:
        print(error.message, file=sys.stderr)
        sys.exit(1)
    print(f"Paiement n° {summary.run_id} : {summary.slip_count} bordereau(x), "
          f"{summary.line_count} ligne(s), total {format_euros(summary.total_amount)}")


def _payments_publish(settings: Settings) -> None:
    from ppas.domain.clock import SystemClock
    from ppas.services.payment_slips import publish_due_slips

    async def work():
        return await publish_due_slips(SystemClock().now(), settings)

    print(f"Bordereaux publiés : {asyncio.run(_with_database(settings, work))}")


def export_schema_sdl() -> str:
    """The schema's SDL as it is written to graphql/schema.graphql."""
    from ppas.schema import schema

    return schema.as_str().rstrip() + "\n"


def _export_schema(target: Path) -> None:
    target.write_text(export_schema_sdl(), encoding="utf-8")
    print(f"Schéma écrit dans {target}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `ppas` command."""
    parser = argparse.ArgumentParser(prog="ppas", description="Portail Partenaires Action Sociale")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the portal")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="processes (uvicorn workers) sharing the port (PostgreSQL in production)")
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("demo", help="load the demo data (idempotent)")
    jobs = commands.add_parser("jobs", help="background jobs: run the worker, or send the mail")
    jobs.add_argument("job", choices=["run", "send-mail"])
    jobs.add_argument("--once", action="store_true",
                      help="run: run what is due, print how many, exit (no loop)")
    jobs.add_argument("--kind", action="append", dest="kinds", metavar="KIND",
                      help="run: only jobs of this kind (repeat for several)")
    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_create = token_commands.add_parser("create", help="create an API token (printed once)")
    token_create.add_argument("--login", required=True, help="a partner admin's login")
    token_create.add_argument("--name", required=True, help="the token's name")
    commands.add_parser("integrate", help="integrate the due billing lines once (R01-R04)")
    backup = commands.add_parser("backup", help="copy the SQLite database while serving")
    backup.add_argument("file", type=Path, help="the copy to write (replaced if it exists)")
    payments = commands.add_parser("payments", help="payment runs and slips")
    payment_commands = payments.add_subparsers(dest="payments_command", required=True)
    payments_run = payment_commands.add_parser(
        "run", help="start and execute a payment run of a caisse (prints slips and total)")
    payments_run.add_argument("--caisse", required=True, help="the caisse's code, e.g. 03")
    payments_run.add_argument("--paid-on", required=True, help="payment date, YYYY-MM-DD")
    payment_commands.add_parser("publish", help="publish the slips that are due now")
    export = commands.add_parser("export-schema", help="write graphql/schema.graphql")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE)
    args = parser.parse_args(argv)

    if args.command == "export-schema":
        # Reads no setting: it works anywhere, with or without PPAS_SECRET_KEY.
        _export_schema(args.output)
        return
    settings = Settings.from_env()
    if args.command == "serve":
        _serve(settings, args.host, args.port, args.workers)
    elif args.command == "backup":
        _backup(settings, args.file)
    elif args.command == "migrate":
        _migrate(settings)
    elif args.command == "demo":
        _demo(settings)
    elif args.command == "jobs" and args.job == "send-mail":
        _send_mail(settings)
    elif args.command == "integrate":
        _integrate(settings)
    elif args.command == "jobs" and args.job == "run":
        _run_jobs(settings, args.once, args.kinds)
    elif args.command == "payments" and args.payments_command == "run":
        _payments_run(settings, args.caisse, args.paid_on)
    elif args.command == "payments" and args.payments_command == "publish":
        _payments_publish(settings)
    elif args.command == "token" and args.token_command == "create":
        _create_token(settings, args.login, args.name)
    else:  # pragma: no cover - argparse refuses unknown commands
        parser.print_help()
        sys.exit(2)
