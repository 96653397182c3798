"""Integration (« intégration »): accepted lines become payable, or rejected with a report anomaly.

A line accepted at upload (billing file) or a filled line of a validated form is *due* once
`Settings.report_delay_business_days` business days (France's holidays, Alsace-Moselle's as a
setting) have passed since it was sent: the Europe/Paris calendar day of the file's
`uploaded_at` (of the line's `sent_at` for a line re-billed through the portal) or of the
form's `validated_at`. `integrate_due_lines` takes every due line that
has no IntegratedLine yet, runs R01–R04 (ppas/domain/report_checks.py), writes one
IntegratedLine per line (figures frozen, `payable` or `rejected`) and, for a rejected one, its
report anomalies; then one e-mail per partner that got report anomalies in this run.

Batched: the due lines are read once (ids and send time only), then handled
`Settings.integration_batch_size` at a time, each batch in one transaction with a fixed number
of statements (its lines with their plan, beneficiary and convention; the lines already
integrated for the same care plans; two bulk inserts). Idempotent: IntegratedLine's
`billing_line`/`form_line` are unique, so a line is integrated once; when a concurrent run got
some lines of a batch first, the batch rolls back and is redone without them (IntegrityError),
so the second run inserts nothing twice and writes no duplicate anomaly.

A periodic job calls `integrate_due_lines(now, settings)`; `ppas integrate` runs it once.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from ppas.domain.anomalies import format_message
from ppas.domain.business_days import add_business_days
from ppas.domain.periods import PARIS, Period, paris_date
from ppas.domain.report_checks import LineFacts, PlanNow, report_codes
from ppas.models import Anomaly, BillingLine, FormLine, IntegratedLine, Partner
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.billing_form import FormStatus
from ppas.models.integration import IntegrationStatus
from ppas.services.jobs.registry import JobContext, job_handler
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


async def _due(cutoff: datetime) -> list[tuple[datetime, str, int]]:
    """(sent_at, channel, id) of every due line not yet integrated, oldest sent first."""
    integrated_files = IntegratedLine.filter(billing_line_id__isnull=False).values("billing_line_id")
    integrated_forms = IntegratedLine.filter(form_line_id__isnull=False).values("form_line_id")
    # A line re-billed through the portal was sent when re-billed; the others with their file.
    file_rows = await BillingLine.filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, file__uploaded_at__lt=cutoff),
        status=LineStatus.ACCEPTED, file__status=FileStatus.ACCEPTED,
    ).exclude(id__in=Subquery(integrated_files)).values_list("id", "sent_at", "file__uploaded_at")
    form_rows = await FormLine.filter(
        hours__isnull=False, crossed_out=False, form__status=FormStatus.VALIDATED,
        form__validated_at__lt=cutoff,
    ).exclude(id__in=Subquery(integrated_forms)).values_list("id", "form__validated_at")
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
    closed_at = row["care_plan__closed_at"]
    return PlanNow(
        hours_per_month=row["care_plan__hours_per_month"],
        hourly_rate=row["care_plan__hourly_rate"],
        participation=row["care_plan__participation"],
        start_date=row["care_plan__start_date"], end_date=row["care_plan__end_date"],
        closed_on=paris_date(_aware(closed_at)) if closed_at else None,
        deceased_on=row["care_plan__beneficiary__deceased_on"],
        sunday_hourly_rate=sunday_rate)


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
        found.append(_Candidate(
            channel=_FILE, line_id=row["id"], caisse_id=row["file__partner__caisse_id"],
            partner_id=row["file__partner_id"], convention_id=convention_id,
            convention_status=str(status), care_plan_id=row["care_plan_id"],
            plan=_plan_now(row, row["file__convention__sunday_hourly_rate"]),
            facts=LineFacts(row["period_start"], row["period_end"], row["hours"],
                            row["sunday_hours"] or _ZERO, row["hourly_rate"],
                            row["participation"], row["amount"]),
            sent_at=_aware(row["sent_at"] or row["file__uploaded_at"]), file_id=row["file_id"],
            record_number=row["record_number"]))
    return found


async def _form_candidates(ids: Sequence[int]) -> list[_Candidate]:
    if not ids:
        return []
    rows = await FormLine.filter(id__in=ids).values(
        "id", "hours", "sunday_hours", "amount", "form__period", "form__validated_at",
        "form__convention_id", "form__convention__status", "form__convention__partner_id",
        "form__convention__partner__caisse_id", "form__convention__sunday_hourly_rate",
        *_PLAN_FIELDS)
    found = []
    for row in rows:
        period = Period.parse(row["form__period"])
        plan = _plan_now(row, row["form__convention__sunday_hourly_rate"])
        hours, sunday = row["hours"], row["sunday_hours"] or _ZERO
        amount = row["amount"] if row["amount"] is not None else _ZERO
        found.append(_Candidate(
            channel=_FORM, line_id=row["id"], caisse_id=row["form__convention__partner__caisse_id"],
            partner_id=row["form__convention__partner_id"],
            convention_id=row["form__convention_id"],
            convention_status=str(row["form__convention__status"]),
            care_plan_id=row["care_plan_id"], plan=plan,
            facts=LineFacts(period.first_day, period.last_day, hours, sunday, None, None, amount),
            sent_at=_aware(row["form__validated_at"])))
    return found


def _overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


async def _integrate_batch(batch: Sequence[tuple[datetime, str, int]], now: datetime,
                           summary: IntegrationSummary) -> None:
    """Integrate one batch in one transaction; on a concurrent run's insert, redo without it."""
    wanted = list(batch)
    for _attempt in range(3):
        try:
            async with in_transaction():
                await _write_batch(wanted, now, summary)
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


async def _write_batch(batch: Sequence[tuple[datetime, str, int]], now: datetime,
                       summary: IntegrationSummary) -> None:
    order = {(channel, line_id): n for n, (_, channel, line_id) in enumerate(batch)}
    candidates = (await _file_candidates([i for _, c, i in batch if c == _FILE])
                  + await _form_candidates([i for _, c, i in batch if c == _FORM]))
    candidates.sort(key=lambda c: order[(c.channel, c.line_id)])
    if not candidates:
        return
    plan_ids = {c.care_plan_id for c in candidates if c.care_plan_id is not None}
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


async def _mail_partners(summary: IntegrationSummary, settings) -> None:
    """One message per partner with report anomalies in this run, to its administrators."""
    if not summary.rejected_by_partner:
        return
    names = dict(await Partner.filter(id__in=list(summary.rejected_by_partner))
                 .values_list("id", "name"))
    url = settings.public_url.rstrip("/") + "/anomalies?phase=report"
    async with in_transaction():
        for partner_id, count in sorted(summary.rejected_by_partner.items()):
            for recipient in await event_mail_recipients(partner_id):
                await queue_mail(recipient, "report_anomalies", partner_name=names.get(partner_id, ""),
                                 count=count, url=url)
                summary.mails += 1


async def integrate_due_lines(now: datetime, settings) -> IntegrationSummary:
    """Integrate every due line (see the module's docstring) and report what was done."""
    cutoff = due_cutoff(now, settings.report_delay_business_days,
                        alsace_moselle=settings.holidays_alsace_moselle)
    summary = IntegrationSummary()
    due = await _due(cutoff)
    size = max(1, settings.integration_batch_size)
    for start in range(0, len(due), size):
        await _integrate_batch(due[start:start + size], now, summary)
    await _mail_partners(summary, settings)
    return summary


@job_handler("integrate_due_lines", label="Intégration des lignes (R01 à R04)")
async def integrate_due_lines_job(payload: dict, context: JobContext) -> None:
    """The periodic job: integrate what is due at the worker's clock (idempotent: a line is
    integrated once, by its unique row)."""
    await integrate_due_lines(context.now(), context.settings)
