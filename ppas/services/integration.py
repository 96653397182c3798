"""Integration (« intégration »): accepted lines become payable, or rejected with a report anomaly.

A line accepted at upload (billing file) or a filled line of a validated form is *due* once
`Settings.report_delay_business_days` business days (France's holidays, Alsace-Moselle's as a
setting) have passed since it was sent: the Europe/Paris calendar day of the file's
`uploaded_at` (of the line's `sent_at` for a line re-billed through the portal) or of the
form's `validated_at`. `integrate_due_lines` takes every due line that
has no IntegratedLine yet, runs R01–R04 (ppas/domain/report_checks.py), writes one
IntegratedLine per line (figures frozen, `payable` or `rejected`) and, for a rejected one, its
report anomalies. Then it announces: one e-mail per partner whose rejected lines were not yet
announced (`announced_at`), queued in the transaction that marks them, so a run that stops
after its batches leaves the mail to the next run, which sends it once.

A form line bills the month cut to its plan's dates as they were at validation
(`FormLine.billed_start`/`billed_end`; for a line validated before these were kept, the month
cut to the plan's dates now): that is its period here, on the integrated line and its slip.

Batched: the due lines are read once (ids and send time only), then handled
`Settings.integration_batch_size` at a time, each batch in one transaction with a fixed number
of statements (its lines with their plan, beneficiary and convention; the lines already
integrated for the same care plans; two bulk inserts). On PostgreSQL the batch first locks
(`FOR UPDATE`, in id order) the validated forms of its form lines — a form cancelled
meanwhile is left out, and a cancellation waiting for the lock then finds the lines
integrated and is refused — then its care plans, so two concurrent runs handling the file
line and the form line of the same plan and month take turns, and R03, read after the lock,
sees the other's payable line (SQLite serialises writers). Idempotent: IntegratedLine's
`billing_line`/`form_line` are unique, so a line is integrated once; when a concurrent run got
some lines of a batch first, the batch rolls back and is redone without them (IntegrityError),
so the second run inserts nothing twice and writes no duplicate anomaly.

A periodic job calls `integrate_due_lines(now, settings)`; `ppas integrate` runs it once.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from ppas.domain.anomalies import format_message
from ppas.domain.billing_form import billed_part
from ppas.domain.business_days import add_business_days
from ppas.domain.periods import PARIS, Period, paris_date
from ppas.domain.report_checks import LineFacts, PlanNow, report_codes
from ppas.models import Anomaly, BillingLine, FormLine, IntegratedLine, Partner
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.billing_form import FormStatus
from ppas.models.integration import IntegrationStatus
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.services import webhooks
from ppas.services.mail import event_mail_recipients, queue_mail

__all__ = ["IntegrationSummary", "due_cutoff", "integrate_due_lines"]

log = logging.getLogger(__name__)

_FILE, _FORM = "file", "form"
_PAID_OR_PAYABLE = (IntegrationStatus.PAYABLE, IntegrationStatus.PAID)
_ZERO = Decimal("0.00")


@dataclass
class IntegrationSummary:
    """What one run did: lines made payable, lines rejected, anomalies and mails written."""

    payable: int = 0
    rejected: int = 0
    anomalies: int = 0
    mails: int = 0
    rejected_by_partner: dict[int, int] = field(default_factory=dict)


def last_sent_day(today: date, delay: int, *, alsace_moselle: bool = False) -> date:
    """The latest Paris day a line may have been sent on to be integrated `today`."""
    day = today
    while add_business_days(day, delay, alsace_moselle=alsace_moselle) > today:
        day -= timedelta(days=1)
    return day


def due_cutoff(now: datetime, delay: int, *, alsace_moselle: bool = False) -> datetime:
    """The instant (UTC) before which a line must have been sent to be due at `now`."""
    last = last_sent_day(paris_date(now), max(0, delay), alsace_moselle=alsace_moselle)
    return datetime.combine(last + timedelta(days=1), time(0), PARIS).astimezone(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _due(cutoff: datetime, partner_ids: Collection[int] | None = None,
               ) -> list[tuple[datetime, str, int]]:
    """(sent_at, channel, id) of every due line not yet integrated, oldest sent first."""
    integrated_files = IntegratedLine.filter(billing_line_id__isnull=False).values("billing_line_id")
    integrated_forms = IntegratedLine.filter(form_line_id__isnull=False).values("form_line_id")
    # A line re-billed through the portal was sent when re-billed; the others with their file.
    file_rows = BillingLine.filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, file__uploaded_at__lt=cutoff),
        status=LineStatus.ACCEPTED, file__status=FileStatus.ACCEPTED,
    ).exclude(id__in=Subquery(integrated_files))
    form_rows = FormLine.filter(
        hours__isnull=False, crossed_out=False, form__status=FormStatus.VALIDATED,
        form__validated_at__lt=cutoff,
    ).exclude(id__in=Subquery(integrated_forms))
    if partner_ids is not None:
        file_rows = file_rows.filter(file__partner_id__in=list(partner_ids))
        form_rows = form_rows.filter(form__convention__partner_id__in=list(partner_ids))
    file_rows = await file_rows.values_list("id", "sent_at", "file__uploaded_at")
    form_rows = await form_rows.values_list("id", "form__validated_at")
    due = [(_aware(sent or uploaded), _FILE, line_id) for line_id, sent, uploaded in file_rows]
    due += [(_aware(sent), _FORM, line_id) for line_id, sent in form_rows]
    due.sort()
    return due


_PLAN_FIELDS = ("care_plan_id", "care_plan__hours_per_month", "care_plan__hourly_rate",
                "care_plan__participation", "care_plan__start_date", "care_plan__end_date",
                "care_plan__closed_at", "care_plan__beneficiary__deceased_on")


def _plan_now(row: dict, sunday_rate: Decimal | None) -> PlanNow | None:
    if row["care_plan_id"] is None:
        return None
    closed_at = _aware(row["care_plan__closed_at"]) if row["care_plan__closed_at"] else None
    return PlanNow(
        hours_per_month=row["care_plan__hours_per_month"],
        hourly_rate=row["care_plan__hourly_rate"],
        participation=row["care_plan__participation"],
        start_date=row["care_plan__start_date"], end_date=row["care_plan__end_date"],
        closed_on=paris_date(closed_at) if closed_at else None,
        deceased_on=row["care_plan__beneficiary__deceased_on"],
        sunday_hourly_rate=sunday_rate, closed_at=closed_at)


@dataclass
class _Candidate:
    """One due line with everything the checks and the insert need."""

    channel: str
    line_id: int
    caisse_id: int
    partner_id: int
    convention_id: int
    convention_status: str
    care_plan_id: int | None
    plan: PlanNow | None
    facts: LineFacts
    sent_at: datetime
    file_id: int | None = None
    record_number: int | None = None
    form_id: int | None = None


async def _file_candidates(ids: Sequence[int]) -> list[_Candidate]:
    if not ids:
        return []
    rows = await BillingLine.filter(id__in=ids).values(
        "id", "file_id", "record_number", "period_start", "period_end", "hours", "sunday_hours",
        "hourly_rate", "participation", "amount", "sent_at", "file__uploaded_at", "file__partner_id",
        "file__partner__caisse_id", "file__convention_id", "file__convention__status",
        "file__convention__sunday_hourly_rate", "care_plan__convention_id",
        "care_plan__convention__status", *_PLAN_FIELDS)
    found = []
    for row in rows:
        convention_id = row["file__convention_id"] or row["care_plan__convention_id"]
        if convention_id is None:  # an accepted file always has one; never integrate blind
            log.warning("billing line %s has no convention: not integrated", row["id"])
            continue
        status = (row["file__convention__status"] if row["file__convention_id"]
                  else row["care_plan__convention__status"])
        sent_at = _aware(row["sent_at"] or row["file__uploaded_at"])
        found.append(_Candidate(
            channel=_FILE, line_id=row["id"], caisse_id=row["file__partner__caisse_id"],
            partner_id=row["file__partner_id"], convention_id=convention_id,
            convention_status=str(status), care_plan_id=row["care_plan_id"],
            plan=_plan_now(row, row["file__convention__sunday_hourly_rate"]),
            facts=LineFacts(row["period_start"], row["period_end"], row["hours"],
                            row["sunday_hours"] or _ZERO, row["hourly_rate"],
                            row["participation"], row["amount"], sent_at),
            sent_at=sent_at, file_id=row["file_id"],
            record_number=row["record_number"]))
    return found


async def _form_candidates(ids: Sequence[int]) -> list[_Candidate]:
    if not ids:
        return []
    rows = await FormLine.filter(id__in=ids).values(
        "id", "hours", "sunday_hours", "amount", "billed_start", "billed_end", "form_id",
        "form__period", "form__validated_at",
        "form__convention_id", "form__convention__status", "form__convention__partner_id",
        "form__convention__partner__caisse_id", "form__convention__sunday_hourly_rate",
        *_PLAN_FIELDS)
    found = []
    for row in rows:
        period = Period.parse(row["form__period"])
        plan = _plan_now(row, row["form__convention__sunday_hourly_rate"])
        start, end = _billed_part(row, period, plan)
        sent_at = _aware(row["form__validated_at"])
        hours, sunday = row["hours"], row["sunday_hours"] or _ZERO
        amount = row["amount"] if row["amount"] is not None else _ZERO
        found.append(_Candidate(
            channel=_FORM, line_id=row["id"], caisse_id=row["form__convention__partner__caisse_id"],
            partner_id=row["form__convention__partner_id"],
            convention_id=row["form__convention_id"],
            convention_status=str(row["form__convention__status"]),
            care_plan_id=row["care_plan_id"], plan=plan,
            facts=LineFacts(start, end, hours, sunday, None, None, amount, sent_at),
            sent_at=sent_at, form_id=row["form_id"]))
    return found


def _billed_part(row: dict, period: Period, plan: PlanNow | None) -> tuple[date, date]:
    """The days a form line bills: frozen at validation; else the month cut to the plan now."""
    if row["billed_start"] is not None and row["billed_end"] is not None:
        return row["billed_start"], row["billed_end"]
    return billed_part(period, plan.start_date if plan else None, plan.end_date if plan else None)


def _overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


async def _integrate_batch(batch: Sequence[tuple[datetime, str, int]], now: datetime,
                           summary: IntegrationSummary) -> None:
    """Integrate one batch in one transaction; on a concurrent run's insert, redo without it."""
    wanted = list(batch)
    for _attempt in range(3):
        try:
            async with in_transaction() as connection:
                await _write_batch(wanted, now, summary, connection)
            return
        except IntegrityError:
            # Another run integrated some of these lines meanwhile: keep only the others.
            file_ids = [i for _, c, i in wanted if c == _FILE]
            form_ids = [i for _, c, i in wanted if c == _FORM]
            done_files = set(await IntegratedLine.filter(billing_line_id__in=file_ids)
                             .values_list("billing_line_id", flat=True)) if file_ids else set()
            done_forms = set(await IntegratedLine.filter(form_line_id__in=form_ids)
                             .values_list("form_line_id", flat=True)) if form_ids else set()
            wanted = [(s, c, i) for s, c, i in wanted
                      if i not in (done_files if c == _FILE else done_forms)]
            if not wanted:
                return
    log.warning("integration: a batch kept colliding with another run; left for the next run")


async def _lock(connection, table: str, ids: set[int]) -> None:
    """PostgreSQL: lock these rows until the batch commits, in id order (no deadlock between
    runs); SQLite serialises writers, there is nothing to lock."""
    if ids and connection.capabilities.dialect == "postgres":
        await connection.execute_query(
            f'SELECT "id" FROM "{table}" WHERE "id" = ANY($1::int[]) ORDER BY "id" FOR UPDATE',
            [sorted(ids)])


async def _still_validated(connection, form_line_ids: Sequence[int]) -> list[int]:
    """The form lines whose form is still validated, once their forms are locked: a form whose
    validation was cancelled since the due lines were read is left out."""
    if not form_line_ids:
        return []
    form_ids = set(await FormLine.filter(id__in=form_line_ids).values_list("form_id", flat=True))
    await _lock(connection, "billing_form", form_ids)
    return list(await FormLine.filter(id__in=form_line_ids, form__status=FormStatus.VALIDATED)
                .values_list("id", flat=True))


async def _write_batch(batch: Sequence[tuple[datetime, str, int]], now: datetime,
                       summary: IntegrationSummary, connection) -> None:
    order = {(channel, line_id): n for n, (_, channel, line_id) in enumerate(batch)}
    form_line_ids = await _still_validated(connection, [i for _, c, i in batch if c == _FORM])
    candidates = (await _file_candidates([i for _, c, i in batch if c == _FILE])
                  + await _form_candidates(form_line_ids))
    candidates.sort(key=lambda c: order[(c.channel, c.line_id)])
    if not candidates:
        return
    plan_ids = {c.care_plan_id for c in candidates if c.care_plan_id is not None}
    # Before reading what is already integrated for them (R03): a concurrent run handling the
    # other channel's line of the same plan commits first, and is then seen below.
    await _lock(connection, "care_plan", plan_ids)
    # Lines already integrated (payable or paid) for these plans, by channel.
    integrated: dict[int, list[tuple[str, date, date]]] = defaultdict(list)
    if plan_ids:
        for plan_id, start, end, billing_line_id in await IntegratedLine.filter(
                care_plan_id__in=plan_ids, status__in=_PAID_OR_PAYABLE).values_list(
                "care_plan_id", "period_start", "period_end", "billing_line_id"):
            integrated[plan_id].append((_FILE if billing_line_id else _FORM, start, end))
    lines: list[IntegratedLine] = []
    anomalies: list[Anomaly] = []
    counts = {"payable": 0, "rejected": 0}
    rejected_by_partner: dict[int, int] = defaultdict(int)
    for c in candidates:
        other = _FORM if c.channel == _FILE else _FILE
        paid_elsewhere = c.care_plan_id is not None and any(
            channel == other and _overlaps(start, end, c.facts.period_start, c.facts.period_end)
            for channel, start, end in integrated[c.care_plan_id])
        codes = report_codes(c.facts, c.plan, convention_status=c.convention_status,
                             paid_elsewhere=paid_elsewhere)
        status = IntegrationStatus.REJECTED if codes else IntegrationStatus.PAYABLE
        plan = c.plan
        rate = c.facts.hourly_rate if c.facts.hourly_rate is not None else \
            (plan.hourly_rate if plan else _ZERO)
        participation = c.facts.participation if c.facts.participation is not None else \
            (plan.participation if plan else _ZERO)
        lines.append(IntegratedLine(
            caisse_id=c.caisse_id, partner_id=c.partner_id, convention_id=c.convention_id,
            care_plan_id=c.care_plan_id,
            billing_line_id=c.line_id if c.channel == _FILE else None,
            form_line_id=c.line_id if c.channel == _FORM else None,
            period_start=c.facts.period_start, period_end=c.facts.period_end,
            hours=c.facts.hours, sunday_hours=c.facts.sunday_hours, hourly_rate=rate,
            participation=participation, amount=c.facts.amount, status=status,
            sent_at=c.sent_at, integrated_at=now))
        if codes:
            counts["rejected"] += 1
            rejected_by_partner[c.partner_id] += 1
            for code in codes:
                anomalies.append(Anomaly(
                    code=code, phase=AnomalyPhase.REPORT, message=format_message(code),
                    file_id=c.file_id, line_id=c.line_id if c.channel == _FILE else None,
                    form_line_id=c.line_id if c.channel == _FORM else None,
                    record_number=c.record_number, created_at=now))
        else:
            counts["payable"] += 1
            if c.care_plan_id is not None:
                integrated[c.care_plan_id].append((c.channel, c.facts.period_start,
                                                   c.facts.period_end))
    await IntegratedLine.bulk_create(lines)
    if anomalies:
        await Anomaly.bulk_create(anomalies)
    # Counted once the inserts went through (a rolled-back batch counts nothing).
    summary.payable += counts["payable"]
    summary.rejected += counts["rejected"]
    summary.anomalies += len(anomalies)
    for partner_id, count in rejected_by_partner.items():
        summary.rejected_by_partner[partner_id] = (
            summary.rejected_by_partner.get(partner_id, 0) + count)


REPORT_ANOMALIES_EVENT = "report_anomalies.created"


async def _announce(now: datetime, settings, summary: IntegrationSummary,
                    partner_ids: Collection[int] | None = None) -> None:
    """One message per partner with rejected lines not yet announced, to its administrators,
    queued in the transaction that marks those lines announced (a run that stops before this
    leaves it to the next run; two runs never both mark a line, so never both mail it)."""
    query = IntegratedLine.filter(status=IntegrationStatus.REJECTED, announced_at__isnull=True)
    if partner_ids is not None:
        query = query.filter(partner_id__in=list(partner_ids))
    partners = sorted(set(await query.values_list("partner_id", flat=True)))
    if not partners:
        return
    names = dict(await Partner.filter(id__in=partners).values_list("id", "name"))
    url = settings.public_url.rstrip("/") + "/anomalies?phase=report"
    for partner_id in partners:
        async with in_transaction():
            count = await IntegratedLine.filter(
                partner_id=partner_id, status=IntegrationStatus.REJECTED,
                announced_at__isnull=True).update(announced_at=now)
            if not count:
                continue  # another run announced them meanwhile
            for recipient in await event_mail_recipients(partner_id):
                await queue_mail(recipient, "report_anomalies", partner_name=names.get(partner_id, ""),
                                 count=count, url=url)
                summary.mails += 1
            # The partner's software learns it the same way (webhook, same transaction); it
            # reads the anomalies with `anomalies(filter: {phase: REPORT})`.
            await webhooks.emit_event(partner_id, REPORT_ANOMALIES_EVENT,
                                      {"rejectedLines": count, "phase": "REPORT"}, now=now)


async def integrate_due_lines(now: datetime, settings, *,
                              partner_ids: Collection[int] | None = None) -> IntegrationSummary:
    """Integrate every due line (see the module's docstring) and report what was done.

    `partner_ids` limits the run to those partners' lines and mails (tests that own their
    data on a shared database); None, the job's case, takes every partner."""
    cutoff = due_cutoff(now, settings.report_delay_business_days,
                        alsace_moselle=settings.holidays_alsace_moselle)
    summary = IntegrationSummary()
    due = await _due(cutoff, partner_ids)
    size = max(1, settings.integration_batch_size)
    for start in range(0, len(due), size):
        await _integrate_batch(due[start:start + size], now, summary)
    await _announce(now, settings, summary, partner_ids)
    return summary


@job_handler("integrate_due_lines", label="Intégration des lignes (R01 à R04)")
async def integrate_due_lines_job(payload: dict, context: JobContext) -> None:
    """The periodic job: integrate what is due at the worker's clock (idempotent: a line is
    integrated once, by its unique row)."""
    await integrate_due_lines(context.now(), context.settings)
