"""The `ppas` command: serve, migrate, demo, export-schema."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ppas.settings import ROOT, Settings

SCHEMA_FILE = ROOT / "graphql" / "schema.graphql"


async def _with_database(settings: Settings, work) -> object:
    from ppas.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        return await work()
    finally:
        await close_database()


def _migrate(settings: Settings) -> None:
    from ppas.db import migrate

    asyncio.run(migrate(settings.database_url))
    print(f"Base migrée : {settings.database_url}")


def _demo(settings: Settings) -> None:
    from ppas.services.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    asyncio.run(_with_database(settings, load_demo))
    print("Données de démonstration chargées. Comptes (mot de passe commun : "
          f"{DEMO_PASSWORD}) :")
    for login, what in DEMO_LOGINS.items():
        print(f"  {login:<12} {what}")


def _serve(settings: Settings, host: str, port: int) -> None:
    import gc

    import uvicorn

    from ppas.app import create_app

    app = create_app(settings)
    # The schema, templates and modules live as long as the process: frozen out of the
    # cyclic GC, its full collections stop walking them on every request that triggers one.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info")


def _send_mail(settings: Settings) -> None:
    from ppas.domain.clock import SystemClock
    from ppas.services.mail_sender import deliver_pending

    async def work():
        return await deliver_pending(settings, SystemClock().now())

    if not settings.smtp_host:
        print("PPAS_SMTP_HOST n'est pas défini : aucun courriel envoyé.")
        return
    print(f"Courriels envoyés : {asyncio.run(_with_database(settings, work))}")


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
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("demo", help="load the demo data (idempotent)")
    jobs = commands.add_parser("jobs", help="run a background job once")
    jobs.add_argument("job", choices=["send-mail"])
    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_create = token_commands.add_parser("create", help="create an API token (printed once)")
    token_create.add_argument("--login", required=True, help="a partner admin's login")
    token_create.add_argument("--name", required=True, help="the token's name")
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
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        _migrate(settings)
    elif args.command == "demo":
        _demo(settings)
    elif args.command == "jobs" and args.job == "send-mail":
        _send_mail(settings)
    elif args.command == "payments" and args.payments_command == "run":
        _payments_run(settings, args.caisse, args.paid_on)
    elif args.command == "payments" and args.payments_command == "publish":
        _payments_publish(settings)
    elif args.command == "token" and args.token_command == "create":
        _create_token(settings, args.login, args.name)
    else:  # pragma: no cover - argparse refuses unknown commands
        parser.print_help()
        sys.exit(2)
