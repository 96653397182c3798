"""Billing file ingest, batch checks: the database facts a batch of lines needs (a few queries
whatever its size) and the line checks (L01–L08) that turn the batch into rows to insert.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise import connections

from ppas.domain.billing_lines import (
    BilledBefore,
    LineFacts,
    PlanFacts,
    billed_key,
    check_line,
    line_message,
    month_index,
)
from ppas.domain.periods import Period, paris_date
from ppas.models import FormStatus
from ppas.models.billing_file import FileStatus, LineStatus
from ppas.models.prepared import placeholders

_BILLED_FORM_STATUSES = (FormStatus.VALIDATED, FormStatus.PAID)


def _line_facts(texts: tuple[str, ...], decimals: dict[str, Decimal],
                days: dict[str, date]) -> LineFacts:
    """The typed values of one line; `decimals` and `days` convert each distinct text once."""
    # 10 children, or 11 with nb-heures-dimanche (the XSD fixed order and count).
    if len(texts) == 11:
        rec, dos, nom, pre, deb, fin, heures, sunday_text, taux, part, montant = texts
        sunday = decimals[sunday_text]
    else:
        rec, dos, nom, pre, deb, fin, heures, taux, part, montant = texts
        sunday_text, sunday = "0.00", None
    return LineFacts(
        int(rec), dos, " ".join(nom.split()), " ".join(pre.split()), days[deb], days[fin],
        decimals[heures], sunday, decimals[taux], decimals[part], Decimal(montant),
        (deb, fin, heures, sunday_text, taux, part, montant))


class _Converted(dict):
    """text → value, converting a text the first time it is asked for."""

    def __init__(self, convert) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text: str):
        value = self[text] = self.convert(text)
        return value


@dataclass
class _BatchFacts:
    plans: dict[str, list[PlanFacts]]
    billed: dict[int, BilledBefore]
    crossed: set[int]
    seen: set[str] = field(default_factory=set)  # file numbers already queried


async def batch_facts(partner_id: int, convention_id: int,
                       file_numbers: Iterable[str], *, file_id: int | None = None,
                       known: _BatchFacts | None = None) -> _BatchFacts:
    """What the checks of one batch need: at most 3 queries whatever the batch size.

    Only this partner's care plans are read: a file number without one gets L01 whether
    or not the caisse knows it.

    With `known` (the facts of the previous batches of the same file), only file numbers not
    seen yet are queried, and the result is merged into `known`.
    """
    numbers = list(set(file_numbers))
    if known is not None:
        numbers = [n for n in numbers if n not in known.plans and n not in known.seen]
        if not numbers:
            return known
        fresh = await batch_facts(partner_id, convention_id, numbers,
                                   file_id=file_id)
        known.plans.update(fresh.plans)
        known.billed.update(fresh.billed)
        known.crossed |= fresh.crossed
        known.seen.update(numbers)
        return known
    # Plain SQL: the ORM's per-value conversions (datetimes above all) and its building of
    # 5,000-value IN lists cost more than the queries, on the event loop.
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    numbers_sql = _in_sql(postgres, 3, numbers)
    marks = placeholders(conn.capabilities.dialect, 2)
    _, rows = await conn.execute_query(
        "SELECT cp.id, b.file_number, cp.start_date, cp.end_date, cp.notified_at IS NOT NULL, "
        "cp.closed_at, cp.hours_per_month, cp.hourly_rate, cp.participation, "
        'c.sunday_hourly_rate FROM "care_plan" cp '
        'JOIN "beneficiary" b ON b.id = cp.beneficiary_id '
        'JOIN "convention" c ON c.id = cp.convention_id '
        f"WHERE cp.partner_id = {marks[0]} AND cp.convention_id = {marks[1]} "
        f"AND b.file_number {numbers_sql}",
        [partner_id, convention_id, numbers] if postgres else [partner_id, convention_id, *numbers])
    plans: dict[str, list[PlanFacts]] = {}
    for pid, number, start, end, notified, closed, hours, rate, part, sunday in rows:
        if closed is not None and not isinstance(closed, datetime):
            closed = datetime.fromisoformat(closed)
        plans.setdefault(number, []).append(PlanFacts(
            pid, _day(start), _day(end), bool(notified), paris_date(closed) if closed else None,
            _dec(hours), _dec(rate), _dec(part), _dec(sunday)))
    plan_ids = [p.id for group in plans.values() for p in group]
    billed: dict[int, BilledBefore] = {}
    crossed: set[int] = set()
    if plan_ids:
        ids_sql = _in_sql(postgres, 1, plan_ids)
        ids_args = [plan_ids] if postgres else list(plan_ids)
        # The file being written is left out: its own lines are checked in memory.
        own_file = f"AND l.file_id <> {'$2' if postgres else '?'} " if file_id is not None else ""
        _, rows = await conn.execute_query(
            'SELECT l.care_plan_id, l.period_start, l.record_number, f.name FROM "billing_line" l '
            'JOIN "billing_file" f ON f.id = l.file_id '
            f"WHERE l.care_plan_id {ids_sql} {own_file}"
            f"AND l.status = '{LineStatus.ACCEPTED.value}' "
            f"AND f.status = '{FileStatus.ACCEPTED.value}'",
            ids_args + ([file_id] if file_id is not None else []))
        for pid, start, record, file_name in rows:
            billed.setdefault(billed_key(pid, month_index(_day(start))),
                              BilledBefore(str(record), f"fichier {file_name}"))
        _, rows = await conn.execute_query(
            "SELECT fl.care_plan_id, f.period, fl.position, fl.crossed_out, f.status, fl.hours "
            'FROM "form_line" fl JOIN "billing_form" f ON f.id = fl.form_id '
            f"WHERE fl.care_plan_id {ids_sql}", ids_args)
        for pid, period, position, crossed_out, status, hours in rows:
            month = Period.parse(period)
            if crossed_out:
                crossed.add(billed_key(pid, month_index(month)))
            elif hours is not None and status in _BILLED_FORM_STATUSES:
                billed.setdefault(billed_key(pid, month_index(month)), BilledBefore(
                    f"{position} du formulaire en ligne de {month.label_fr}",
                    f"le formulaire en ligne de {month.label_fr}"))
    return _BatchFacts(plans, billed, crossed, set(numbers))


def _in_sql(postgres: bool, index: int, values: Sequence) -> str:
    """`IN (?, …)` on SQLite, `= ANY($index)` (one array parameter) on PostgreSQL."""
    return f"= ANY(${index})" if postgres else f"IN ({', '.join('?' for _ in values)})"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@dataclass
class _Checked:
    line_rows: list[tuple]
    anomaly_rows: list[tuple]  # (code, record, message)
    accepted: int
    accepted_amount: Decimal
    total: Decimal  # of every line, for the header's montant-total (F08)


def _typed_lines(texts: Iterable[tuple[str, ...]]) -> Iterable[LineFacts]:
    """The LineFacts of a batch of `<ligne>` texts, one at a time (they die once checked)."""
    # Rates, participations, hours and dates repeat from line to line: each distinct
    # text of the batch is converted once.
    decimals, days = _Converted(Decimal), _Converted(date.fromisoformat)
    for line in texts:
        yield _line_facts(line, decimals, days)


def check_batch(lines: Iterable[LineFacts], facts: _BatchFacts, *, file_id: int | None,
                 today: date, last_month: Period | None, in_file: dict[int, int],
                 as_text: bool = False) -> _Checked:
    """Check a batch (in a worker thread) and build its rows."""
    line_rows: list[tuple] = []
    anomaly_rows: list[tuple] = []
    accepted, accepted_amount, total = 0, Decimal(0), Decimal(0)
    crossed = facts.crossed
    crossed_months: dict[int, int] = {}
    for key in crossed:  # plan → first crossed month index; later months count as crossed
        pid, index = divmod(key, 120_000)
        crossed_months[pid] = min(index, crossed_months.get(pid, index))
    crossed_view = _CrossedView(crossed_months)
    plans, billed = facts.plans, facts.billed
    accepted_status, anomaly_status = LineStatus.ACCEPTED.value, LineStatus.ANOMALY.value
    for line in lines:
        total += line.amount
        group = plans.get(line.file_number)
        plan, found = check_line(
            line, group, today=today, last_month=last_month, billed=billed,
            crossed_out=crossed_view)
        if plan is not None:
            key = billed_key(plan.id, month_index(line.start))
            earlier = in_file.get(key)
            if earlier is not None and not any(code == "L05" for code, _ in found):
                found.append(("L05", line_message(
                    "L05", f"{Period.of(line.start).label_fr} de ce bénéficiaire est déjà facturé "
                           "plus haut dans ce même fichier", record=earlier)))
        status = anomaly_status if found else accepted_status
        if not found:
            accepted += 1
            accepted_amount += line.amount
            in_file[key] = line.record
        if as_text and line.texts is not None:  # SQLite stores these as text anyway
            line_rows.append((file_id, line.record, plan.id if plan else None, line.file_number,
                              line.last_name, line.first_name, *line.texts, status))
        else:
            line_rows.append((
                file_id, line.record, plan.id if plan else None, line.file_number,
                line.last_name, line.first_name, line.start, line.end, line.hours,
                line.sunday_hours if line.sunday_hours is not None else Decimal("0.00"),
                line.rate, line.participation, line.amount, status))
        for code, message in found:
            anomaly_rows.append((code, line.record, message))
    return _Checked(line_rows, anomaly_rows, accepted, accepted_amount, total)


class _CrossedView:
    """`key in view` tells whether the plan was crossed out that month or before."""

    def __init__(self, first_crossed: dict[int, int]) -> None:
        self.first = first_crossed

    def __contains__(self, key: int) -> bool:
        pid, index = divmod(key, 120_000)
        first = self.first.get(pid)
        return first is not None and index >= first
