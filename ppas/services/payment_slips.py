"""Payment slips (« bordereaux »): their lines, PDF and CSV, publication, the partner's view.

A slip is published `PPAS_SLIP_DELAY_HOURS` after its payment date (`available_at`, set by the
run). `publish_due_slips` lays out the PDF of every due slip once (in a process pool, many in
parallel, never on the event loop), stores it, sets `published_at` by a conditional UPDATE and,
in that same transaction, queues one e-mail per slip to the partner's administrators: a slip
is announced once even when two publishers run at the same time.

Partners see published slips of their own partner only; before that, how many slips are on
their way and when they appear (no amount: the slip is the document that tells it).
"""
from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from tortoise import connections
from tortoise.transactions import in_transaction

from ppas.domain.amounts import format_euros, format_hours
from ppas.domain.payment_slips import CSV_COLUMNS
from ppas.domain.periods import PARIS
from ppas.models import Caisse, Partner, PaymentSlip, User
from ppas.services.access import partner_id_of
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.services import webhooks
from ppas.services.mail import event_mail_recipients, queue_mail
from ppas.settings import ROOT, Settings

# Rows per table in the slip PDF: xhtml2pdf lays out a long table in quadratic time, and a
# table that fits on its page is never split (a split copies every cell).
PDF_ROWS_PER_TABLE = 30
# Slips whose lines are read in one statement when publishing.
SLIPS_PER_READ = 100


@dataclass(frozen=True)
class SlipLine:
    """One paid line as the slip, its CSV and the API show it."""

    id: int
    file_number: str
    last_name: str
    first_name: str
    period_start: date
    period_end: date
    hours: Decimal
    sunday_hours: Decimal
    hourly_rate: Decimal
    participation: Decimal
    amount: Decimal
    file_name: str | None
    record_number: int | None
    convention_number: str | None
    form_period: str | None
    form_position: int | None

    @property
    def origin(self) -> str:
        """FILE or FORM."""
        return "FILE" if self.file_name is not None else "FORM"

    @property
    def origin_label(self) -> str:
        """Where the line was billed: the file and its record, or the form and its line."""
        if self.file_name is not None:
            return f"Fichier {self.file_name}, enr. n° {self.record_number}"
        return f"Formulaire {self.convention_number} {self.form_period}, ligne {self.form_position}"


_LINES_SELECT = (
    'SELECT l."id", COALESCE(bl."file_number", b."file_number"), '
    'COALESCE(bl."last_name", b."last_name"), COALESCE(bl."first_name", b."first_name"), '
    'l."period_start", l."period_end", l."hours", l."sunday_hours", l."hourly_rate", '
    'l."participation", l."amount", bf."name", bl."record_number", '
    'CASE WHEN fl."id" IS NULL THEN NULL ELSE c."number" END, f."period", fl."position", '
    'l."slip_id" '
    'FROM "integrated_line" l '
    'LEFT JOIN "billing_line" bl ON bl."id" = l."billing_line_id" '
    'LEFT JOIN "billing_file" bf ON bf."id" = bl."file_id" '
    'LEFT JOIN "form_line" fl ON fl."id" = l."form_line_id" '
    'LEFT JOIN "billing_form" f ON f."id" = fl."form_id" '
    'LEFT JOIN "convention" c ON c."id" = l."convention_id" '
    'LEFT JOIN "care_plan" cp ON cp."id" = COALESCE(l."care_plan_id", fl."care_plan_id") '
    'LEFT JOIN "beneficiary" b ON b."id" = cp."beneficiary_id" ')
# Ordered as on the slip: by beneficiary, then period.
_LINES_ORDER = ' ORDER BY 3, 4, 2, 5, 1'


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _line(row) -> SlipLine:
    return SlipLine(
        id=row[0], file_number=row[1] or "", last_name=row[2] or "", first_name=row[3] or "",
        period_start=_date(row[4]), period_end=_date(row[5]), hours=_decimal(row[6]),
        sunday_hours=_decimal(row[7]), hourly_rate=_decimal(row[8]),
        participation=_decimal(row[9]), amount=_decimal(row[10]), file_name=row[11],
        record_number=row[12], convention_number=row[13], form_period=row[14],
        form_position=row[15])


def _marks(dialect: str, count: int, start: int = 1) -> list[str]:
    if dialect == "postgres":
        return [f"${n}" for n in range(start, start + count)]
    return ["?"] * count


async def slip_lines(slip_id: int, offset: int = 0, limit: int | None = None) -> list[SlipLine]:
    """A slip's lines in the slip's order (a page of them with `limit`); one statement."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    marks = _marks(dialect, 3)
    sql = _LINES_SELECT + f'WHERE l."slip_id" = {marks[0]}' + _LINES_ORDER
    values: list = [slip_id]
    if limit is not None:
        sql += f" LIMIT {marks[1]} OFFSET {marks[2]}"
        values += [limit, offset]
    _, rows = await db.execute_query(sql, values)
    return [_line(row) for row in rows]


async def lines_of_slips(slip_ids: Sequence[int]) -> dict[int, list[SlipLine]]:
    """The lines of several slips, in one statement."""
    if not slip_ids:
        return {}
    db = connections.get("default")
    marks = _marks(db.capabilities.dialect, len(slip_ids))
    sql = _LINES_SELECT + f'WHERE l."slip_id" IN ({", ".join(marks)})' + _LINES_ORDER
    _, rows = await db.execute_query(sql, list(slip_ids))
    found: dict[int, list[SlipLine]] = {slip_id: [] for slip_id in slip_ids}
    for row in rows:
        found[row[16]].append(_line(row))
    return found


# --------------------------------------------------------------------------- PDF


def _nb(text: str) -> str:
    # ReportLab breaks lines at a narrow no-break space (U+202F, the French thousands
    # separator) but not at a no-break space: « 1 234,56 € » must never split.
    return text.replace("\u202f", "\u00a0")


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def calculation(line: SlipLine) -> str:
    """How a line's amount is made: hours (+ Sunday hours) × (rate − participation)."""
    hours = format_hours(line.hours)
    if line.sunday_hours:
        hours = f"({hours} + {format_hours(line.sunday_hours)} dim.)"
    # No-break spaces: one word for the layout (each word is measured), never split.
    return _nb(f"{hours} × ({format_euros(line.hourly_rate)} - "
               f"{format_euros(line.participation)})").replace(" ", "\u00a0")


def pdf_rows(lines: Sequence[SlipLine]) -> list[tuple[str, ...]]:
    """The slip's table rows, formatted: beneficiary (file number) and period, hours × (rate -
    participation), amount, origin. Four cells: xhtml2pdf's time grows with the cells."""
    return [(f"{ln.last_name} {ln.first_name} ({ln.file_number}), "
             f"{ln.period_start:%d/%m}\u00a0–\u00a0{_day(ln.period_end)}", calculation(ln),
             _nb(format_euros(ln.amount)), ln.origin_label) for ln in lines]


def slip_totals(lines: Sequence[SlipLine]) -> dict[str, object]:
    return {"line_count": len(lines),
            "hours": _nb(format_hours(sum((ln.hours for ln in lines), Decimal(0)))),
            "sunday_hours": _nb(format_hours(sum((ln.sunday_hours for ln in lines), Decimal(0)))),
            "amount": _nb(format_euros(sum((ln.amount for ln in lines), Decimal(0))))}


def pdf_context(slip: dict, caisse: dict, partner: dict,
                lines: Sequence[SlipLine]) -> dict[str, object]:
    """Everything the slip's PDF shows, as plain picklable values (for a worker process)."""
    rows = pdf_rows(lines)
    return {"slip": slip, "caisse": caisse, "partner": partner, "totals": slip_totals(lines),
            "chunks": [rows[i:i + PDF_ROWS_PER_TABLE]
                       for i in range(0, len(rows), PDF_ROWS_PER_TABLE)]}


@lru_cache(maxsize=1)
def _pdf_environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(ROOT / "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def render_slip_html(context: dict) -> str:
    return _pdf_environment().get_template("pdf/payment_slip.html").render(**context)


def render_slip_pdf(context: dict) -> bytes:
    """Lay out a slip's PDF (templates/pdf/payment_slip.html through xhtml2pdf). CPU-bound:
    runs in a worker process (`render_many`)."""
    from ppas.services.billing_forms import html_to_pdf

    return html_to_pdf(render_slip_html(context))


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of slip layouts (spawned: a forked child would inherit the server's
    threads and connections)."""
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != workers:
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ProcessPoolExecutor(max_workers=max(1, workers),
                                    mp_context=multiprocessing.get_context("spawn"))
        _POOL_SIZE = workers
    return _POOL


async def render_many(contexts: Sequence[dict], workers: int) -> list[bytes]:
    """Lay out several slips in parallel in the process pool, off the event loop."""
    loop = asyncio.get_running_loop()
    pool = _pool(workers)
    return list(await asyncio.gather(*(loop.run_in_executor(pool, render_slip_pdf, context)
                                       for context in contexts)))


# --------------------------------------------------------------------------- CSV


def _comma(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def slip_csv(slip: PaymentSlip, structure_id: str, lines: Sequence[SlipLine]) -> str:
    """The slip's rows for accounting software: `;`, UTF-8 with BOM, decimal comma, a header
    row (columns: ppas.domain.payment_slips.CSV_COLUMNS)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    paid_on = _day(slip.paid_on) if slip.paid_on else ""
    for ln in lines:
        from_file = ln.file_name is not None
        writer.writerow([
            slip.number or "", paid_on, structure_id, ln.file_number, ln.last_name,
            ln.first_name, _day(ln.period_start), _day(ln.period_end), _comma(ln.hours),
            _comma(ln.sunday_hours), _comma(ln.hourly_rate), _comma(ln.participation),
            _comma(ln.amount), "FICHIER" if from_file else "FORMULAIRE",
            ln.file_name or "", ln.record_number if from_file else "",
            "" if from_file else ln.convention_number or "",
            "" if from_file else ln.form_period or "",
            "" if from_file else ln.form_position])
    return "\ufeff" + out.getvalue()


# --------------------------------------------------------------------------- publication


def _paris_day(value: date | None) -> str:
    return _day(value) if value else ""


async def _contexts(slips: list[PaymentSlip]) -> dict[int, dict]:
    caisse_ids = {s.caisse_id for s in slips}
    partner_ids = {s.partner_id for s in slips}
    caisses = {c.id: c for c in await Caisse.filter(id__in=caisse_ids)}
    partners = {p.id: p for p in await Partner.filter(id__in=partner_ids)}
    contexts: dict[int, dict] = {}
    for start in range(0, len(slips), SLIPS_PER_READ):
        batch = slips[start:start + SLIPS_PER_READ]
        lines = await lines_of_slips([s.id for s in batch])
        for slip in batch:
            caisse, partner = caisses.get(slip.caisse_id), partners[slip.partner_id]
            contexts[slip.id] = pdf_context(
                {"number": slip.number, "paid_on": _paris_day(slip.paid_on)},
                {"name": caisse.name if caisse else "", "code": caisse.code if caisse else ""},
                {"name": partner.name, "structure_id": partner.structure_id},
                lines[slip.id])
    return contexts


async def render_missing_pdfs(slip_ids: Sequence[int], workers: int) -> int:
    """Lay out and store the PDF of the given slips that have none yet; how many were laid out."""
    slips = await PaymentSlip.filter(id__in=list(slip_ids), pdf__isnull=True).order_by("id")
    if not slips:
        return 0
    contexts = await _contexts(slips)
    pdfs = await render_many([contexts[s.id] for s in slips], workers)
    for slip, pdf in zip(slips, pdfs):
        # Conditional: a publisher running beside this one may have stored it already.
        await PaymentSlip.filter(id=slip.id, pdf__isnull=True).update(pdf=pdf)
    return len(slips)


SLIP_PUBLISHED_EVENT = "payment_slip.published"


async def publish_due_slips(now: datetime, settings: Settings) -> int:
    """Publish every slip whose `available_at` has come: PDF laid out and stored if missing,
    `published_at` set, one e-mail per slip to the partner's administrators. Idempotent; the
    number of slips this call published."""
    due = await PaymentSlip.filter(published_at__isnull=True, available_at__lte=now,
                                   number__isnull=False).order_by("id").values_list("id", flat=True)
    if not due:
        return 0
    await render_missing_pdfs(due, settings.slip_pdf_workers)
    published = 0
    for slip in await PaymentSlip.filter(id__in=list(due), pdf__isnull=False).only(
            "id", "partner_id", "number", "paid_on", "amount", "line_count").order_by("id"):
        async with in_transaction():
            changed = await PaymentSlip.filter(id=slip.id, published_at__isnull=True).update(
                published_at=now)
            if not changed:
                continue
            partner = await Partner.get(id=slip.partner_id)
            for address in await event_mail_recipients(slip.partner_id):
                await queue_mail(address, "slip_published", partner=partner, slip=slip,
                                 paid_on=_paris_day(slip.paid_on),
                                 amount=format_euros(slip.amount),
                                 url=settings.public_url.rstrip("/") + "/bordereaux")
            await webhooks.emit_event(slip.partner_id, SLIP_PUBLISHED_EVENT, {
                "id": str(slip.id), "number": slip.number, "paidOn": slip.paid_on.isoformat(),
                "amount": f"{slip.amount:.2f}", "lineCount": slip.line_count}, now=now)
        published += 1
    return published


# --------------------------------------------------------------------------- partner's view


@dataclass(frozen=True)
class PendingSlips:
    """Slips of the partner not yet online, by the instant they appear."""

    available_at: datetime
    paid_on: date | None
    count: int


# Every column but the PDF's bytes (read only to download it).
_SLIP_FIELDS = ("id", "run_id", "partner_id", "caisse_id", "number", "paid_on", "available_at",
                "published_at", "amount", "line_count", "created_at")


def _published_of(partner_id: int):
    return PaymentSlip.filter(partner_id=partner_id, published_at__isnull=False)


async def list_slips(user: User | None, offset: int, limit: int) -> tuple[list[PaymentSlip], int]:
    """The partner's published slips, newest payment first."""
    partner_id = partner_id_of(user)
    query = _published_of(partner_id)
    rows = await query.order_by("-paid_on", "-id").offset(offset).limit(limit).only(*_SLIP_FIELDS)
    return rows, await query.count()


async def own_slip(user: User | None, slip_id: int) -> PaymentSlip | None:
    """A published slip of the user's partner, or None (another partner's is None too)."""
    partner_id = partner_id_of(user)
    return await _published_of(partner_id).filter(id=slip_id).only(*_SLIP_FIELDS).first()


async def pending_slips(user: User | None) -> list[PendingSlips]:
    """How many slips of the partner are paid but not yet online, and when each appears."""
    partner_id = partner_id_of(user)
    rows = await PaymentSlip.filter(partner_id=partner_id, published_at__isnull=True,
                                    number__isnull=False).order_by("available_at") \
        .values_list("available_at", "paid_on")
    grouped: dict[datetime, list] = {}
    for available_at, paid_on in rows:
        if available_at is None:
            continue
        grouped.setdefault(available_at, []).append(paid_on)
    return [PendingSlips(available_at=at, paid_on=days[0], count=len(days))
            for at, days in grouped.items()]


async def own_slip_lines(user: User | None, slip_id: int, offset: int,
                         limit: int) -> tuple[list[SlipLine], int] | None:
    """A page of the lines of a published slip of the user's partner, or None."""
    slip = await own_slip(user, slip_id)
    if slip is None:
        return None
    return await slip_lines(slip.id, offset, limit), slip.line_count


async def own_slip_pdf(user: User | None, slip_id: int) -> tuple[PaymentSlip, bytes] | None:
    """The stored PDF of a published slip of the user's partner, or None."""
    partner_id = partner_id_of(user)
    slip = await _published_of(partner_id).filter(id=slip_id, pdf__isnull=False).first()
    return None if slip is None else (slip, slip.pdf)


async def own_slip_csv(user: User | None, slip_id: int) -> tuple[PaymentSlip, str] | None:
    """The CSV of a published slip of the user's partner, or None."""
    slip = await own_slip(user, slip_id)
    if slip is None:
        return None
    partner = await Partner.get(id=slip.partner_id)
    return slip, slip_csv(slip, partner.structure_id, await slip_lines(slip.id))


def paris_time(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)


@job_handler("publish_due_slips", label="Publication des bordereaux")
async def publish_due_slips_job(payload: dict, context: JobContext) -> None:
    """The periodic job: publish the slips whose time has come (idempotent)."""
    await publish_due_slips(context.now(), context.settings)
