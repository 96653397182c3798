"""Use cases of the monthly online billing form: open, fill, cross out, validate, cancel, recap.

Each use case checks who asks (a partner only sees the forms of its own conventions) and
runs in one transaction. Money stays Decimal from the database to the PDF.
"""
from __future__ import annotations

import asyncio
import io
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ppas.domain.billing_form import (
    INTEGRATED_CANCELLATION,
    EntryError,
    LineEntry,
    PlanTerms,
    UnfilledLine,
    billed_part,
    cancellation_problem,
    describe_hours,
    entry_problem,
    form_line_amount,
    offered_on_form,
    parse_entry,
    unfilled_lines,
    validation_problem,
)
from ppas.domain.periods import Period, current_period, online_billing_problem, paris_date
from ppas.models import (
    BillingForm,
    CarePlan,
    Convention,
    ConventionStatus,
    FormLine,
    FormStatus,
    IntegratedLine,
    Partner,
    User,
)
from ppas.models.prepared import PreparedQuery, placeholders
from ppas.services import audit
from ppas.services.access import partner_id_of
from ppas.services.errors import ErrorCode, NotFound, ServiceError

ZERO = Decimal("0.00")
NOT_YOURS = "Ce formulaire n'existe pas ou n'appartient pas à votre structure."
LINE_NOT_YOURS = "Cette ligne n'existe pas ou n'appartient pas à un formulaire de votre structure."
# Rows per table in the PDF recap: xhtml2pdf lays out a long table in quadratic time.
PDF_ROWS_PER_TABLE = 40


class ValidationRefused(ServiceError):
    """The form still has lines neither filled nor crossed out; `lines` lists them."""

    def __init__(self, message: str, lines: Sequence[UnfilledLine]) -> None:
        super().__init__(message, code=ErrorCode.FORM_INCOMPLETE)
        self.lines = list(lines)


@dataclass
class Summary:
    """Counts and totals of a form (or of one page of it), all Decimal."""

    line_count: int = 0
    filled_count: int = 0
    crossed_out_count: int = 0
    hours: Decimal = ZERO
    sunday_hours: Decimal = ZERO
    amount: Decimal = ZERO
    last_saved_at: datetime | None = None
    first_remaining_position: int | None = None  # where to resume filling

    @property
    def remaining_count(self) -> int:
        """Lines neither filled nor crossed out."""
        return self.line_count - self.filled_count - self.crossed_out_count

    @property
    def total_hours(self) -> Decimal:
        """Weekday hours plus Sunday and public-holiday hours: Sunday hours come on top."""
        return self.hours + self.sunday_hours


@dataclass
class Conflict:
    """A save refused because the line changed since it was read: both values, nothing lost."""

    message: str
    line: FormLine
    typed_hours: str
    typed_sunday_hours: str


@dataclass
class WorklistEntry:
    """One form to fill (or to open) in the worklist."""

    convention_id: int
    convention_number: str
    period: str
    status: str  # "to_open" | "open" | "validated" | "paid"
    form_id: int | None = None
    line_count: int = 0
    done_count: int = 0
    last_saved_at: datetime | None = None
    validated_at: datetime | None = None


@dataclass
class Worklist:
    """Forms to fill, then recently validated forms (left the worklist, PDF available)."""

    to_fill: list[WorklistEntry] = field(default_factory=list)
    validated: list[WorklistEntry] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def summarize(rows: Sequence[tuple]) -> Summary:
    """Totals of (hours, sunday_hours, amount, crossed_out, saved_at[, position]) rows, in Decimal."""
    summary = Summary()
    for hours, sunday_hours, amount, crossed_out, saved_at, *position in rows:
        summary.line_count += 1
        if position and hours is None and not crossed_out and (
                summary.first_remaining_position is None
                or position[0] < summary.first_remaining_position):
            summary.first_remaining_position = position[0]
        if crossed_out:
            summary.crossed_out_count += 1
        elif hours is not None:
            summary.filled_count += 1
            summary.hours += hours
            summary.sunday_hours += sunday_hours or ZERO
            summary.amount += amount or ZERO
        if saved_at is not None and (summary.last_saved_at is None or saved_at > summary.last_saved_at):
            summary.last_saved_at = saved_at
    return summary


_FILLED = "hours IS NOT NULL AND NOT crossed_out"


@lru_cache
def _summary_sql(dialect: str, page: bool) -> str:
    """One row of counts and totals of a form's lines (or of those between two positions)."""
    marks = placeholders(dialect, 3)
    if dialect == "sqlite":
        # Its decimals are stored as text: concatenated here, summed exactly in Python
        # (SQLite's SUM would turn them into floats).
        total = lambda column: f"GROUP_CONCAT(CASE WHEN {_FILLED} THEN {column} END, ' ')"  # noqa: E731
    else:
        total = lambda column: f"SUM(CASE WHEN {_FILLED} THEN {column} END)"  # noqa: E731
    where = f"form_id = {marks[0]}" + (f" AND position BETWEEN {marks[1]} AND {marks[2]}"
                                       if page else "")
    return (f"SELECT COUNT(*), SUM(CASE WHEN {_FILLED} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN crossed_out THEN 1 ELSE 0 END), "
            f"{total('hours')}, {total('sunday_hours')}, {total('amount')}, MAX(saved_at), "
            "MIN(CASE WHEN hours IS NULL AND NOT crossed_out THEN position END) "
            f'FROM "form_line" WHERE {where}')


def _exact_total(value: object) -> Decimal:
    # PostgreSQL's SUM of numeric is a Decimal; SQLite's GROUP_CONCAT is the stored texts.
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return sum(map(Decimal, value.split()), ZERO)
    raise TypeError(f"a stored total must be text or Decimal, not {type(value).__name__}")


async def form_summary(form_id: int, first_position: int | None = None,
                       last_position: int | None = None) -> Summary:
    """Totals of a whole form, or of the lines between two positions (a page).

    Counted by the database in one row: reading every line through the ORM cost 3 ms
    for a 300-line form on every autosave.
    """
    db = FormLine._meta.db
    page = first_position is not None or last_position is not None
    values = [form_id]
    if page:
        values += [first_position if first_position is not None else 0,
                   last_position if last_position is not None else 2**31 - 1]
    _, rows = await db.execute_query(_summary_sql(db.capabilities.dialect, page), values)
    lines, filled, crossed_out, hours, sunday_hours, amount, last_saved, first_remaining = \
        tuple(rows[0])
    return Summary(line_count=lines, filled_count=filled or 0, crossed_out_count=crossed_out or 0,
                   hours=_exact_total(hours), sunday_hours=_exact_total(sunday_hours),
                   amount=_exact_total(amount),
                   last_saved_at=datetime.fromisoformat(last_saved) if isinstance(last_saved, str)
                   else last_saved,
                   first_remaining_position=first_remaining)


async def _own_form(form_id: int, partner_id: int, *, lock: bool = False) -> BillingForm:
    query = BillingForm.filter(id=form_id, convention__partner_id=partner_id)
    if lock:
        query = query.select_for_update()
    form = await query.select_related("convention").first()
    if form is None:
        raise NotFound(NOT_YOURS)
    return form


async def get_form(user: User | None, form_id: int) -> BillingForm | None:
    """The form if it belongs to the user's partner (with its convention), else None."""
    partner_id = partner_id_of(user)
    return await BillingForm.filter(id=form_id, convention__partner_id=partner_id).select_related(
        "convention", "validated_by").first()


async def form_lines(form: BillingForm, offset: int, limit: int) -> list[FormLine]:
    """One page of a form's lines, in order (care plans are loaded by the caller's loaders)."""
    return await FormLine.filter(form_id=form.id).order_by("position").offset(offset).limit(limit)


async def worklist(user: User | None, now: datetime) -> Worklist:
    """Open forms and the months still to open (previous and current), then validated ones."""
    partner_id = partner_id_of(user)
    conventions = await Convention.filter(partner_id=partner_id, status=ConventionStatus.ACTIVE,
                                          prestation_code="001").order_by("number")
    oldest = str(current_period(now).plus_months(-12))
    forms = await BillingForm.filter(convention__partner_id=partner_id).filter(
        Q(status=FormStatus.OPEN) | Q(period__gte=oldest)).select_related("convention").order_by(
        "-period", "convention__number")
    open_ids = [f.id for f in forms if f.status == FormStatus.OPEN]
    per_form: dict[int, list[tuple]] = {i: [] for i in open_ids}
    if open_ids:
        for form_id, *row in await FormLine.filter(form_id__in=open_ids).values_list(
                "form_id", "hours", "sunday_hours", "amount", "crossed_out", "saved_at"):
            per_form[form_id].append(tuple(row))
    result = Worklist()
    existing = {(f.convention_id, f.period) for f in forms}
    current = current_period(now)
    for convention in conventions:
        for period in (current.previous(), current):
            if (convention.id, str(period)) in existing:
                continue
            if convention.valid_from > period.last_day or (
                    convention.valid_to is not None and convention.valid_to < period.first_day):
                continue
            result.to_fill.append(WorklistEntry(convention.id, convention.number, str(period),
                                                "to_open"))
    for form in forms:
        entry = WorklistEntry(form.convention_id, form.convention.number, form.period,
                              str(form.status), form_id=form.id, validated_at=form.validated_at)
        if form.status == FormStatus.OPEN:
            summary = summarize(per_form[form.id])
            entry.line_count = summary.line_count
            entry.done_count = summary.filled_count + summary.crossed_out_count
            entry.last_saved_at = summary.last_saved_at
            result.to_fill.append(entry)
        else:
            result.validated.append(entry)
    result.to_fill.sort(key=lambda e: (e.period, e.convention_number))
    return result


# --------------------------------------------------------------------------- opening


async def _add_missing_lines(form: BillingForm, period: Period) -> int:
    """Give the open form a line for every care plan offered this month that has none yet."""
    plans = await CarePlan.filter(
        partner_id=form.convention.partner_id, convention_id=form.convention_id,
        notified_at__isnull=False, start_date__lte=period.last_day,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=period.first_day)).select_related(
        "beneficiary")
    if not plans:
        return 0
    plan_ids = [p.id for p in plans]
    crossed_earlier = set(await FormLine.filter(
        care_plan_id__in=plan_ids, crossed_out=True, form__period__lt=form.period,
        form__convention_id=form.convention_id,
    ).values_list("care_plan_id", flat=True))
    present = await FormLine.filter(form_id=form.id).values_list("care_plan_id", "position")
    have = {plan_id for plan_id, _ in present}
    position = max((pos for _, pos in present), default=0)
    offered = [
        p for p in plans
        if p.id not in have and offered_on_form(
            start=p.start_date, end=p.end_date, notified=p.notified_at is not None,
            closed_on=paris_date(p.closed_at) if p.closed_at else None, period=period,
            crossed_out_earlier=p.id in crossed_earlier)
    ]
    offered.sort(key=lambda p: (p.beneficiary.last_name, p.beneficiary.first_name,
                                p.beneficiary.file_number, p.id))
    new_lines = []
    for plan in offered:
        position += 1
        new_lines.append(FormLine(form_id=form.id, care_plan_id=plan.id, position=position))
    if new_lines:
        await FormLine.bulk_create(new_lines)
    return len(new_lines)


async def open_form(user: User | None, convention_id: int, period_text: str,
                    now: datetime) -> BillingForm:
    """The form of a convention and month, created with its lines on first opening."""
    partner_id = partner_id_of(user)
    try:
        period = Period.parse(period_text)
    except (TypeError, ValueError) as error:
        raise ServiceError(str(error), field="period") from error
    problem = online_billing_problem(period, now)
    if problem:
        raise ServiceError(problem, field="period", code=ErrorCode.PERIOD_NOT_BILLABLE)
    for attempt in range(2):
        try:
            async with in_transaction():
                convention = await Convention.get_or_none(id=convention_id, partner_id=partner_id)
                if convention is None:
                    raise NotFound("Cette convention n'existe pas ou n'est pas celle de votre "
                                   "structure.", field="conventionId")
                if convention.status != ConventionStatus.ACTIVE:
                    raise ServiceError(f"La convention {convention.number} n'est pas active : "
                                       "elle ne peut pas être facturée.", field="conventionId",
                                       code=ErrorCode.CONVENTION_NOT_ACTIVE)
                if convention.valid_from > period.last_day or (
                        convention.valid_to is not None and convention.valid_to < period.first_day):
                    raise ServiceError(
                        f"La convention {convention.number} ne couvre pas {period.label_fr} : "
                        "choisissez un mois pendant lequel elle était en vigueur.", field="period",
                        code=ErrorCode.CONVENTION_NOT_ACTIVE)
                form = await BillingForm.get_or_none(convention_id=convention.id, period=str(period))
                if form is None:
                    form = await BillingForm.create(convention=convention, period=str(period))
                    await audit.record("billing_form.opened", actor=user,
                                       object_type="billing_form", object_id=form.id,
                                       period=str(period), convention=convention.number)
                form.convention = convention
                if form.status == FormStatus.OPEN:
                    await _add_missing_lines(form, period)
                return form
        except IntegrityError:
            if attempt:  # two first openings at once: the other one created it, read it
                raise
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- lines


# Every autosave runs it: built once (see PreparedQuery). The beneficiary comes along, so
# the saved line is shown with its name with no other query.
_OWN_LINE = PreparedQuery(
    lambda line_id, partner_id: FormLine.filter(
        id=line_id, form__convention__partner_id=partner_id).select_related(
        "form__convention", "care_plan__beneficiary").limit(1),
    line_id=-101, partner_id=-102)


async def _own_line(line_id: int, partner_id: int) -> FormLine:
    line = await _OWN_LINE.first(line_id=line_id, partner_id=partner_id)
    if line is None:
        raise NotFound(LINE_NOT_YOURS)
    return line


async def get_line(user: User | None, line_id: int) -> FormLine | None:
    """A line of one of the user's partner's forms (with its form), else None."""
    partner_id = partner_id_of(user)
    return await FormLine.filter(id=line_id, form__convention__partner_id=partner_id).select_related(
        "form__convention").first()


def _validated(form: BillingForm) -> ServiceError:
    return ServiceError(
        f"Le formulaire de {Period.parse(form.period).label_fr} est validé : ses lignes ne "
        "peuvent plus être modifiées. Annulez la validation le jour même pour le corriger.",
        code=ErrorCode.FORM_NOT_OPEN)


def _require_open(form: BillingForm) -> None:
    if form.status != FormStatus.OPEN:
        raise _validated(form)


async def _hold_open_form(form: BillingForm) -> None:
    """In a line's transaction: the form is still open, and stays open until the commit.

    On PostgreSQL the row lock waits for a validation under way, and keeps one from
    starting before this write commits (validation locks the row FOR UPDATE).
    """
    if await BillingForm.filter(id=form.id, status=FormStatus.OPEN).select_for_update(
            no_key=True).first() is None:
        raise _validated(form)


def _terms(line: FormLine) -> PlanTerms:
    plan = line.care_plan
    return PlanTerms(hours_per_month=plan.hours_per_month, hourly_rate=plan.hourly_rate,
                     participation=plan.participation,
                     sunday_hourly_rate=line.form.convention.sunday_hourly_rate)


def conflict_message(stored: FormLine, typed: LineEntry, sunday_allowed: bool) -> str:
    """Say that the line changed meanwhile, with the stored and the typed values."""
    stored_text = describe_hours(stored.hours)
    typed_text = describe_hours(typed.hours)
    if sunday_allowed and (stored.sunday_hours or typed.sunday_hours):
        stored_text += f" dont {describe_hours(stored.sunday_hours)} le dimanche ou férié"
        typed_text += f" dont {describe_hours(typed.sunday_hours)} le dimanche ou férié"
    if stored.crossed_out:
        stored_text = "ligne barrée"
    return (
        "Cette ligne a été modifiée entre-temps (dans un autre onglet ou par un collègue). "
        f"Valeur enregistrée : {stored_text}. Votre saisie : {typed_text}, non enregistrée. "
        "Gardez la valeur enregistrée, ou confirmez votre saisie pour la remplacer."
    )


_WRITTEN_COLUMNS = ("hours", "sunday_hours", "amount", "version", "saved_at")


@lru_cache
def _write_hours_sql(dialect: str) -> str:
    """The UPDATE of a line's hours, conditioned on its id and version."""
    marks = placeholders(dialect, 7)
    assignments = ", ".join(f'"{column}" = {mark}' for column, mark in zip(_WRITTEN_COLUMNS, marks))
    return f'UPDATE "form_line" SET {assignments} WHERE "id" = {marks[5]} AND "version" = {marks[6]}'


async def _write_hours(line_id: int, expected_version: int, entry: LineEntry,
                       amount: Decimal | None, now: datetime) -> bool:
    """Write a line's hours if it still has `expected_version`; False when it has not."""
    # Written as SQL built once: building the same UPDATE through Tortoise on every save
    # cost a sixth of the save.
    db = FormLine._meta.db
    fields_map = FormLine._meta.fields_map
    new_values = (entry.hours, entry.sunday_hours, amount, expected_version + 1, now)
    values = [fields_map[column].to_db_value(value, None)
              for column, value in zip(_WRITTEN_COLUMNS, new_values)]
    changed, _ = await db.execute_query(_write_hours_sql(db.capabilities.dialect),
                                        [*values, line_id, expected_version])
    return bool(changed)


def _already_stored(line: FormLine, entry: LineEntry) -> bool:
    """Whether the line already holds these hours: saving them again changes nothing."""
    return (not line.crossed_out and entry.hours == line.hours
            and entry.sunday_hours == line.sunday_hours)


async def save_line(user: User | None, line_id: int, hours: str | None, sunday_hours: str | None,
                    expected_version: int, now: datetime) -> FormLine | Conflict:
    """Save the hours of a line if nobody changed it since `expected_version` was read.

    A stale version gives a Conflict with the stored and the typed values; nothing is
    overwritten. Typing again what is stored is never a conflict.
    """
    partner_id = partner_id_of(user)
    try:
        entry = parse_entry(hours, sunday_hours)
    except EntryError as error:
        raise ServiceError(error.message, field=error.field) from error
    # Read outside any transaction: the write below is one statement, so one transaction
    # and one round trip to the database, and its conditions catch any change since.
    line = await _own_line(line_id, partner_id)
    _require_open(line.form)
    terms = _terms(line)
    typed_hours, typed_sunday = (hours or "").strip(), (sunday_hours or "").strip()
    if line.crossed_out:
        if line.version != expected_version:
            return Conflict(conflict_message(line, entry, terms.sunday_hourly_rate is not None),
                            line, typed_hours, typed_sunday)
        raise ServiceError("Cette ligne est barrée : rétablissez-la pour saisir des heures.",
                           field="hours", code=ErrorCode.LINE_CROSSED_OUT)
    if _already_stored(line, entry):
        return line
    problem = entry_problem(entry, terms)
    if problem:
        raise ServiceError(problem[0], field=problem[1])
    if line.version != expected_version:
        return Conflict(conflict_message(line, entry, terms.sunday_hourly_rate is not None),
                        line, typed_hours, typed_sunday)
    amount = form_line_amount(entry, terms)
    # Written only if the line still has the version read. Validation raises every line's
    # version before it reads them, so a save read while the form was open either lands
    # before the validation reads the lines (PostgreSQL makes it wait for the save's row
    # lock) or finds a new version and writes nothing: no line changes once validated.
    if not await _write_hours(line.id, expected_version, entry, amount, now):
        # Another writer, or a validation, got in between our read and our write.
        stored = await _own_line(line_id, partner_id)
        _require_open(stored.form)
        # The same hours sent twice at once (the field's autosave and the form's button)
        # race each other: the loser finds what it typed already stored, which is no conflict.
        if _already_stored(stored, entry):
            return stored
        return Conflict(conflict_message(stored, entry, terms.sunday_hourly_rate is not None),
                        stored, typed_hours, typed_sunday)
    line.hours, line.sunday_hours, line.amount = entry.hours, entry.sunday_hours, amount
    line.version, line.saved_at = expected_version + 1, now
    return line


async def set_crossed_out(user: User | None, line_id: int, crossed_out: bool,
                          now: datetime) -> FormLine:
    """Cross a line out (no hours this month, not offered next month) or restore it."""
    partner_id = partner_id_of(user)
    async with in_transaction():
        line = await _own_line(line_id, partner_id)
        await _hold_open_form(line.form)
        if line.crossed_out == crossed_out:
            return line
        amount = None if crossed_out else form_line_amount(
            LineEntry(line.hours, line.sunday_hours), _terms(line))
        await FormLine.filter(id=line.id).update(crossed_out=crossed_out, amount=amount,
                                                 version=line.version + 1, saved_at=now)
        line.crossed_out, line.amount, line.version, line.saved_at = (
            crossed_out, amount, line.version + 1, now)
        await audit.record("billing_form.line_crossed_out" if crossed_out
                           else "billing_form.line_restored", actor=user,
                           object_type="form_line", object_id=line.id, form=line.form_id)
        return line


# --------------------------------------------------------------------------- validation


async def unfilled_of(form_id: int) -> list[UnfilledLine]:
    """The lines of a form (already authorised) that block its validation, by position."""
    rows = await FormLine.filter(form_id=form_id).values_list(
        "id", "position", "care_plan__beneficiary__last_name",
        "care_plan__beneficiary__first_name", "hours", "crossed_out")
    return unfilled_lines(
        (i, pos, f"{last} {first}", hours, crossed) for i, pos, last, first, hours, crossed in rows)


async def _freeze_billed_parts(form: BillingForm) -> None:
    """Keep on each filled line the days it bills: the month cut to its plan's start and end
    as they are now, at validation (integration's R04 compares the plan then with these)."""
    period = Period.parse(form.period)
    rows = await FormLine.filter(form_id=form.id, hours__isnull=False, crossed_out=False).values_list(
        "id", "care_plan__start_date", "care_plan__end_date")
    by_part: dict[tuple[date, date], list[int]] = {}
    for line_id, start, end in rows:
        by_part.setdefault(billed_part(period, start, end), []).append(line_id)
    # One statement per distinct part (most plans cover the whole month: usually one).
    for (first, last), ids in by_part.items():
        await FormLine.filter(id__in=ids).update(billed_start=first, billed_end=last)


async def validate_form(user: User | None, form_id: int, now: datetime) -> BillingForm:
    """Validate a form whose every line is filled or crossed out; it goes to the next payment."""
    partner_id = partner_id_of(user)
    async with in_transaction():
        form = await _own_form(form_id, partner_id, lock=True)
        if form.status != FormStatus.OPEN:
            raise ServiceError("Ce formulaire est déjà validé.", code=ErrorCode.FORM_NOT_OPEN)
        # Before reading the lines: a save still under way must either be seen below or
        # find its version outdated (see save_line).
        await FormLine.filter(form_id=form.id).update(version=F("version") + 1)
        if not await FormLine.filter(form_id=form.id).exists():
            raise ServiceError("Ce formulaire n'a aucune ligne : il n'y a rien à valider.",
                               code=ErrorCode.FORM_EMPTY)
        unfilled = await unfilled_of(form.id)
        problem = validation_problem(unfilled)
        if problem:
            raise ValidationRefused(problem, unfilled)
        form.status, form.validated_at, form.validated_by = FormStatus.VALIDATED, now, user
        form.version += 1
        await form.save(update_fields=["status", "validated_at", "validated_by_id", "version",
                                       "updated_at"])
        await _freeze_billed_parts(form)
        await audit.record("billing_form.validated", actor=user, object_type="billing_form",
                           object_id=form.id, period=form.period)
        return form


async def cancel_validation(user: User | None, form_id: int, now: datetime) -> BillingForm:
    """Reopen a validated form, the same Paris day only and before any payment run took it."""
    partner_id = partner_id_of(user)
    async with in_transaction():
        form = await _own_form(form_id, partner_id, lock=True)
        if form.status == FormStatus.OPEN:
            raise ServiceError("Ce formulaire n'est pas validé : il n'y a pas de validation à annuler.",
                               code=ErrorCode.FORM_NOT_VALIDATED)
        # Once the caisse integrated one of its lines, the form belongs to the payment cycle.
        integrated = await IntegratedLine.filter(form_line__form_id=form.id).exists()
        problem = cancellation_problem(
            validated_at=form.validated_at, now=now,
            taken_by_payment=form.payment_run_id is not None or form.status == FormStatus.PAID,
            integrated=integrated)
        if problem:
            code = ErrorCode.FORM_INTEGRATED if problem == INTEGRATED_CANCELLATION \
                else ErrorCode.CANCELLATION_CLOSED
            raise ServiceError(problem, code=code)
        form.status, form.validated_at, form.validated_by = FormStatus.OPEN, None, None
        form.version += 1
        await form.save(update_fields=["status", "validated_at", "validated_by_id", "version",
                                       "updated_at"])
        await audit.record("billing_form.validation_cancelled", actor=user,
                           object_type="billing_form", object_id=form.id, period=form.period)
        return form


def cancel_problem_of(form: BillingForm, now: datetime) -> str | None:
    """Why the page shows no « Annuler » button for a validated form (None: it shows one)."""
    if form.status == FormStatus.OPEN:
        return None
    return cancellation_problem(
        validated_at=form.validated_at, now=now,
        taken_by_payment=form.payment_run_id is not None or form.status == FormStatus.PAID)


async def cancel_problem_now(form: BillingForm, now: datetime) -> str | None:
    """cancel_problem_of, and once that allows it, whether the caisse integrated a line."""
    problem = cancel_problem_of(form, now)
    if problem is None and form.status != FormStatus.OPEN and \
            await IntegratedLine.filter(form_line__form_id=form.id).exists():
        return INTEGRATED_CANCELLATION
    return problem


# --------------------------------------------------------------------------- PDF recap


@lru_cache(maxsize=1)
def _pdf_environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ppas.domain.amounts import format_euros, format_hours
    from ppas.settings import ROOT

    env = Environment(loader=FileSystemLoader(ROOT / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    # ReportLab breaks lines at a narrow no-break space (U+202F, the French thousands
    # separator) but not at a no-break space: « 1 234 567,89 € » must never split.
    env.filters["euros"] = lambda value: format_euros(value).replace("\u202f", "\u00a0")
    env.filters["hours"] = lambda value: format_hours(value).replace("\u202f", "\u00a0")
    return env


def render_recap_html(context: dict) -> str:
    """The recap's HTML (templates/pdf/form_recap.html), tables split in chunks."""
    return _pdf_environment().get_template("pdf/form_recap.html").render(**context)


def html_to_pdf(html: str) -> bytes:
    """Lay out HTML as PDF with xhtml2pdf."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise RuntimeError(f"PDF layout failed ({status.err} errors)")
    return out.getvalue()


def chunked(items: Sequence, size: int) -> list[Sequence]:
    """Consecutive slices of `size` items (the last may be shorter)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


async def recap_context(form: BillingForm) -> dict:
    """Everything the recap shows: partner, convention, month, lines, totals, validation."""
    convention = form.convention
    partner = await Partner.get(id=convention.partner_id)
    validated_by = await User.get_or_none(id=form.validated_by_id) if form.validated_by_id else None
    lines = await FormLine.filter(form_id=form.id).order_by("position").select_related(
        "care_plan__beneficiary")
    summary = summarize([(ln.hours, ln.sunday_hours, ln.amount, ln.crossed_out, ln.saved_at)
                         for ln in lines])
    return {
        "partner": partner, "convention": convention, "form": form,
        "period_label": Period.parse(form.period).label_fr,
        "chunks": chunked(lines, PDF_ROWS_PER_TABLE), "summary": summary,
        "sunday": convention.sunday_hourly_rate is not None,
        "validated_at": form.validated_at.astimezone(_paris()) if form.validated_at else None,
        "validated_by": validated_by,
    }


def _paris():
    from ppas.domain.periods import PARIS

    return PARIS


# Layouts run in this thread, one at a time: one takes seconds of CPU that must not hold
# the event loop, and xhtml2pdf and reportlab keep module-level state (fonts, styles) that
# two layouts at once would share.
_PDF_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ppas-pdf")
RECAP_CACHE_SIZE = 32


class _Recaps:
    """Recent recaps by (form id, version, validated_at), laid out or being laid out.

    A validated form never changes, and validating or cancelling raises its version, so a
    key never names two contents. Futures, so that two requests for the same recap share
    one layout. Used from the event loop's thread only.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._futures: OrderedDict[Hashable, Future] = OrderedDict()

    def get(self, key: Hashable) -> Future | None:
        future = self._futures.get(key)
        if future is not None:
            self._futures.move_to_end(key)
        return future

    def put(self, key: Hashable, future: Future) -> None:
        self._futures[key] = future
        while len(self._futures) > self.size:
            self._futures.popitem(last=False)

    def forget(self, key: Hashable, future: Future) -> None:
        if self._futures.get(key) is future:
            del self._futures[key]


_RECAPS = _Recaps(RECAP_CACHE_SIZE)


def _lay_out(context: dict) -> bytes:
    return html_to_pdf(render_recap_html(context))


async def recap_pdf(user: User | None, form_id: int) -> bytes:
    """The PDF recap of a validated form of the user's partner, laid out once per version."""
    partner_id = partner_id_of(user)
    form = await _own_form(form_id, partner_id)
    if form.status == FormStatus.OPEN:
        raise ServiceError("Le récapitulatif est disponible une fois le formulaire validé.",
                           code=ErrorCode.FORM_NOT_VALIDATED)
    key = (form.id, form.version, form.validated_at)
    future = _RECAPS.get(key)
    if future is None:
        context = await recap_context(form)
        future = _RECAPS.get(key)  # started by another request while this one read
        if future is None:
            future = _PDF_THREAD.submit(_lay_out, context)
            _RECAPS.put(key, future)
    try:
        # Shielded: a client that goes away does not cancel a layout others may await.
        return await asyncio.shield(asyncio.wrap_future(future))
    except Exception:
        _RECAPS.forget(key, future)  # a failed layout is tried again next time
        raise
