"""Payment runs (« mandatement »): a caisse pays every payable line, one slip per partner.

`start_payment_run` records a run; `execute_payment_run` writes its slips. Both are plain
async functions the jobs worker calls; `execute_payment_run` is idempotent and resumable:

* partners are taken in batches (ordered by id), each batch in one transaction of four
  set-based statements: create the batch's missing slips (`INSERT … SELECT`, guarded by the
  unique (run, partner)), number them, attach the partners' payable lines (`UPDATE … WHERE
  status = 'payable' AND slip_id IS NULL`: a line is paid once, ever), recompute the slips'
  totals from their attached lines. The statements per run grow with partners / batch size,
  never with lines;
* a crash between batches leaves the finished batches committed; executing the run again
  skips them (their lines are no longer payable, their slips exist) and finishes the rest;
* a second run of the same caisse finds no payable line left for what the first one paid.

The run's end (one transaction) removes slips left without lines (a concurrent run took them
first), marks the forms whose lines are all paid or rejected as paid, and writes the totals.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise import connections
from tortoise.transactions import in_transaction

from ppas.domain.payment_slips import slip_available_at, slip_number_prefix
from ppas.domain.periods import paris_date
from ppas.models import Caisse, PaymentRun, PaymentSlip, User
from ppas.models.payment import RunStatus
from ppas.services.access import caisse_id_of
from ppas.services.errors import ErrorCode, NotFound, ServiceError
from ppas.services.jobs.queue import enqueue
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.settings import Settings

PARTNERS_PER_BATCH = 200
CAISSE_ONLY = "Les paiements sont lancés par les agents de la caisse."
# How far ahead a payment date may be set (a typing error of a year is refused).
MAX_DAYS_AHEAD = 366


@dataclass(frozen=True)
class RunSummary:
    """What a finished run paid."""

    run_id: int
    status: str
    slip_count: int
    line_count: int
    total_amount: Decimal


def _marks(dialect: str, sql: str) -> str:
    """`?` placeholders → `$1`, `$2`… on PostgreSQL."""
    if dialect != "postgres":
        return sql
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "")
                   for i, part in enumerate(parts, start=1))


def _cents_sum(dialect: str, column: str) -> str:
    """An exact sum of a 2-place decimal column: whole cents on SQLite (decimals are text
    there and would be summed as floats), numeric on PostgreSQL."""
    if dialect == "postgres":
        return f"COALESCE(SUM({column}), 0)"
    return f"COALESCE(SUM(CAST(ROUND({column} * 100) AS INTEGER)), 0)"


def _as_amount(dialect: str, expression: str) -> str:
    """The value to store in a decimal column from `_cents_sum`."""
    if dialect == "postgres":
        return expression
    return f"printf('%.2f', ({expression}) / 100.0)"


def _padded_id(dialect: str, column: str) -> str:
    if dialect == "postgres":
        return (f"CASE WHEN {column} < 1000000 THEN lpad({column}::text, 6, '0') "
                f"ELSE {column}::text END")
    return f"printf('%06d', {column})"


# --------------------------------------------------------------------------- start


async def start_payment_run(caisse_id: int, paid_on: date, started_by: int | None,
                            now: datetime) -> PaymentRun:
    """Record a planned payment run of a caisse for a payment date (no line taken yet)."""
    today = paris_date(now)
    if paid_on < today:
        raise ServiceError(f"La date de paiement ({paid_on:%d/%m/%Y}) est passée : choisissez "
                           f"aujourd'hui ({today:%d/%m/%Y}) ou une date à venir.",
                           field="paid_on", code=ErrorCode.INVALID)
    if (paid_on - today).days > MAX_DAYS_AHEAD:
        raise ServiceError("La date de paiement est à plus d'un an : vérifiez l'année.",
                           field="paid_on", code=ErrorCode.INVALID)
    if not await Caisse.exists(id=caisse_id):
        raise NotFound("Caisse inconnue.")
    async with in_transaction():
        run = await PaymentRun.create(caisse_id=caisse_id, paid_on=paid_on,
                                      started_by_id=started_by, started_at=now,
                                      status=RunStatus.PLANNED)
        # Whoever starts a run executes it at once (the agent's request, the CLI); this job,
        # recorded with the run, finishes it if that execution died halfway, and finds it
        # done otherwise (execute_payment_run is idempotent and resumable).
        await enqueue(RUN_JOB, {"run_id": run.id}, run_at=now + RUN_JOB_SAFETY_DELAY,
                      key=f"{RUN_JOB}:{run.id}", now=now, caisse_id=caisse_id)
    return run


RUN_JOB = "execute_payment_run"
RUN_JOB_SAFETY_DELAY = timedelta(minutes=10)


@job_handler(RUN_JOB, label="Paiement : écriture des bordereaux")
async def execute_payment_run_job(payload: dict, context: JobContext) -> None:
    """Finish (or find finished) the run of the payload."""
    await execute_payment_run(int(payload["run_id"]), context.now(),
                              slip_delay_hours=context.settings.slip_delay_hours)


# --------------------------------------------------------------------------- execute


def _batch_sql(dialect: str) -> list[str]:
    """The four statements of one batch of partners (ids in [lo, hi])."""
    insert_slips = (
        'INSERT INTO "payment_slip" ("run_id", "partner_id", "caisse_id", "paid_on", '
        '"available_at", "amount", "line_count", "created_at") '
        'SELECT ?, p."id", ?, ?, ?, 0, 0, ? FROM "partner" p '
        'WHERE p."id" BETWEEN ? AND ? AND p."id" IN ('
        '  SELECT l."partner_id" FROM "integrated_line" l WHERE l."caisse_id" = ? '
        "  AND l.\"status\" = 'payable' AND l.\"slip_id\" IS NULL "
        '  AND l."partner_id" BETWEEN ? AND ?) '
        'AND NOT EXISTS (SELECT 1 FROM "payment_slip" s WHERE s."run_id" = ? '
        '  AND s."partner_id" = p."id")')
    number_slips = (
        f'UPDATE "payment_slip" SET "number" = ? || {_padded_id(dialect, chr(34) + "id" + chr(34))} '
        'WHERE "run_id" = ? AND "number" IS NULL')
    # The line's partner's slip of this run; a line whose partner has none is left alone.
    # PostgreSQL joins (UPDATE … FROM, a hash join); SQLite's plan for that join scanned the
    # lines once per slip, so there it is a correlated subquery on the (run, partner) index.
    if dialect == "postgres":
        attach_lines = (
            "UPDATE \"integrated_line\" SET \"status\" = 'paid', \"slip_id\" = s.\"id\" "
            'FROM "payment_slip" s WHERE s."run_id" = ? '
            'AND s."partner_id" = "integrated_line"."partner_id" '
            'AND "integrated_line"."caisse_id" = ? '
            "AND \"integrated_line\".\"status\" = 'payable' "
            'AND "integrated_line"."slip_id" IS NULL '
            'AND "integrated_line"."partner_id" BETWEEN ? AND ? AND s."run_id" = ?')
    else:
        attach_lines = (
            "UPDATE \"integrated_line\" SET \"status\" = 'paid', \"slip_id\" = ("
            '  SELECT s."id" FROM "payment_slip" s WHERE s."run_id" = ? '
            '  AND s."partner_id" = "integrated_line"."partner_id") '
            "WHERE \"caisse_id\" = ? AND \"status\" = 'payable' AND \"slip_id\" IS NULL "
            'AND "partner_id" BETWEEN ? AND ? AND "partner_id" IN ('
            '  SELECT s."partner_id" FROM "payment_slip" s WHERE s."run_id" = ?)')
    # Both totals from one pass over each slip's lines (a row-value assignment).
    totals = (
        'UPDATE "payment_slip" SET ("line_count", "amount") = ('
        f'  SELECT COUNT(*), {_as_amount(dialect, _cents_sum(dialect, "l.amount"))} '
        '  FROM "integrated_line" l WHERE l."slip_id" = "payment_slip"."id") '
        'WHERE "run_id" = ? AND "partner_id" BETWEEN ? AND ?')
    return [_marks(dialect, sql) for sql in (insert_slips, number_slips, attach_lines, totals)]


def _finish_sql(dialect: str) -> list[str]:
    """Remove empty unpublished slips, mark fully paid forms, write the run's totals."""
    drop_empty = (
        'DELETE FROM "payment_slip" WHERE "run_id" = ? AND "published_at" IS NULL '
        'AND NOT EXISTS (SELECT 1 FROM "integrated_line" l WHERE l."slip_id" = "payment_slip"."id")')
    false = "false" if dialect == "postgres" else "0"
    # From the validated forms (few), not from the run's lines (many): a form one of whose
    # lines this run paid, and none of whose lines is still waiting (crossed-out lines have
    # no integrated line; rejected ones are done with).
    forms_paid = (
        "UPDATE \"billing_form\" SET \"status\" = 'paid', \"payment_run_id\" = ?, "
        '"version" = "version" + 1 '
        "WHERE \"status\" = 'validated' AND EXISTS ("
        '  SELECT 1 FROM "form_line" fl JOIN "integrated_line" l ON l."form_line_id" = fl."id" '
        '  WHERE fl."form_id" = "billing_form"."id" AND l."slip_id" IN ('
        '    SELECT s."id" FROM "payment_slip" s WHERE s."run_id" = ?)) '
        'AND NOT EXISTS (SELECT 1 FROM "form_line" fl '
        '  LEFT JOIN "integrated_line" l ON l."form_line_id" = fl."id" '
        f'  WHERE fl."form_id" = "billing_form"."id" AND fl."crossed_out" = {false} '
        "  AND (l.\"id\" IS NULL OR l.\"status\" = 'payable'))")
    totals = (
        'UPDATE "payment_run" SET '
        '"slip_count" = (SELECT COUNT(*) FROM "payment_slip" s WHERE s."run_id" = ?), '
        '"line_count" = (SELECT COALESCE(SUM(s."line_count"), 0) FROM "payment_slip" s '
        '  WHERE s."run_id" = ?), '
        f'"total_amount" = (SELECT {_as_amount(dialect, _cents_sum(dialect, "s.amount"))} '
        '  FROM "payment_slip" s WHERE s."run_id" = ?), '
        "\"status\" = 'done', \"paid_at\" = ? WHERE \"id\" = ?")
    return [_marks(dialect, sql) for sql in (drop_empty, forms_paid, totals)]


def _partners_sql(dialect: str) -> str:
    """The partners this run has to pay or had started to: payable lines, or a slip already."""
    return _marks(dialect, (
        'SELECT "partner_id" FROM "integrated_line" WHERE "caisse_id" = ? '
        "AND \"status\" = 'payable' AND \"slip_id\" IS NULL "
        'UNION SELECT "partner_id" FROM "payment_slip" WHERE "run_id" = ? ORDER BY 1'))


def _batches(ids: list[int], size: int) -> list[tuple[int, int]]:
    """[lo, hi] bounds of consecutive groups of `size` sorted ids."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


async def _after_batch(run_id: int, done: int) -> None:
    """Called after each committed batch (tests replace it to simulate a crash)."""


async def execute_payment_run(run_id: int, now: datetime, *,
                              slip_delay_hours: int = Settings.slip_delay_hours,
                              partners_per_batch: int = PARTNERS_PER_BATCH) -> RunSummary:
    """Write the slips of a run; safe to call again after a crash or once done."""
    run = await PaymentRun.get_or_none(id=run_id).select_related("caisse")
    if run is None:
        raise NotFound("Ce paiement n'existe pas.")
    if run.status != RunStatus.DONE:
        await _execute(run, now, slip_delay_hours, partners_per_batch)
        await run.refresh_from_db()
    return RunSummary(run_id=run.id, status=str(run.status), slip_count=run.slip_count,
                      line_count=run.line_count, total_amount=run.total_amount)


async def _execute(run: PaymentRun, now: datetime, delay_hours: int, batch: int) -> None:
    db = connections.get("default")
    dialect = db.capabilities.dialect
    await PaymentRun.filter(id=run.id, status=RunStatus.PLANNED).update(status=RunStatus.RUNNING)
    paid_on = run.paid_on or paris_date(now)
    available_at = slip_available_at(paid_on, delay_hours)
    prefix = slip_number_prefix(run.caisse.code, paid_on)
    _, rows = await db.execute_query(_partners_sql(dialect), [run.caisse_id, run.id])
    partner_ids = [row[0] for row in rows]
    insert_slips, number_slips, attach_lines, totals = _batch_sql(dialect)
    dates = PaymentRun._meta.fields_map["paid_at"]
    when = dates.to_db_value(now, None)
    available = dates.to_db_value(available_at, None)
    for done, (lo, hi) in enumerate(_batches(partner_ids, batch), start=1):
        async with in_transaction() as conn:
            await conn.execute_query(insert_slips, [run.id, run.caisse_id, paid_on, available,
                                                    when, lo, hi, run.caisse_id, lo, hi, run.id])
            await conn.execute_query(number_slips, [prefix, run.id])
            await conn.execute_query(attach_lines, [run.id, run.caisse_id, lo, hi, run.id])
            await conn.execute_query(totals, [run.id, lo, hi])
        await _after_batch(run.id, done)
    drop_empty, forms_paid, run_totals = _finish_sql(dialect)
    async with in_transaction() as conn:
        await conn.execute_query(drop_empty, [run.id])
        await conn.execute_query(forms_paid, [run.id, run.id])
        await conn.execute_query(run_totals, [run.id, run.id, run.id, when, run.id])


# --------------------------------------------------------------------------- back office


async def start_run_for(user: User | None, paid_on: date, now: datetime,
                        slip_delay_hours: int = Settings.slip_delay_hours) -> RunSummary:
    """A caisse agent starts a payment run of their caisse and it is executed at once."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    run = await start_payment_run(caisse_id, paid_on, user.id, now)
    return await execute_payment_run(run.id, now, slip_delay_hours=slip_delay_hours)


async def list_runs(user: User | None, offset: int, limit: int) -> tuple[list[PaymentRun], int]:
    """The caisse's payment runs, newest first."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    query = PaymentRun.filter(caisse_id=caisse_id)
    rows = await query.order_by("-id").offset(offset).limit(limit).select_related("started_by")
    return rows, await query.count()


async def own_run(user: User | None, run_id: int) -> PaymentRun | None:
    """One payment run of the agent's caisse, or None."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    return await PaymentRun.get_or_none(id=run_id, caisse_id=caisse_id).select_related(
        "started_by")


async def run_slips(user: User | None, run_id: int, offset: int,
                    limit: int) -> tuple[list[dict], int]:
    """A page of the slips of a run of the agent's caisse (partner's name), by partner."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    query = PaymentSlip.filter(run_id=run_id, run__caisse_id=caisse_id)
    rows = await query.order_by("partner__name", "id").offset(offset).limit(limit).values(
        "id", "number", "partner__name", "partner__structure_id", "line_count", "amount",
        "available_at", "published_at")
    return rows, await query.count()
