"""Use cases of the online billing form, on the real database."""
from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from ppas.domain.clock import FixedClock
from ppas.domain.periods import Period
from ppas.models import FormLine, FormStatus, PaymentRun
from ppas.services import billing_forms
from ppas.services.errors import ErrorCode, ServiceError, NotFound
from tests.billing_form_support import make_provider

NOW = datetime(2025, 6, 18, 10, 0, tzinfo=timezone.utc)
MAY = "2025-05"


async def opened(provider, period=MAY, now=NOW):
    form = await billing_forms.open_form(provider.user, provider.convention.id, period, now)
    lines = await FormLine.filter(form_id=form.id).order_by("position").select_related(
        "care_plan__beneficiary")
    return form, lines


async def test_first_opening_creates_one_line_per_notified_plan_in_progress(db):
    provider = await make_provider(3, now=NOW)
    late = provider.plans[2]
    late.start_date = Period(2025, 7).first_day  # starts after May
    await late.save()
    form, lines = await opened(provider)
    assert [ln.care_plan_id for ln in lines] == [p.id for p in provider.plans[:2]]
    assert [ln.position for ln in lines] == [1, 2]
    again, lines_again = await opened(provider)
    assert again.id == form.id and len(lines_again) == 2


async def test_periods_older_than_12_months_are_refused_with_the_caisse_advice(db):
    provider = await make_provider(1, now=NOW)
    with pytest.raises(ServiceError) as error:
        await billing_forms.open_form(provider.user, provider.convention.id, "2024-05", NOW)
    assert error.value.code == ErrorCode.PERIOD_NOT_BILLABLE and error.value.field == "period"
    # The advice is the point of this refusal: bill the caisse individually.
    assert "facture individuelle" in error.value.message
    form = await billing_forms.open_form(provider.user, provider.convention.id, "2024-06", NOW)
    assert form.period == "2024-06"
    with pytest.raises(ServiceError, match="pas encore facturable"):
        await billing_forms.open_form(provider.user, provider.convention.id, "2025-07", NOW)


async def test_save_computes_the_amount_in_decimal_and_refuses_hours_above_the_plan(db):
    provider = await make_provider(1, now=NOW)
    _, (line,) = await opened(provider)
    saved = await billing_forms.save_line(provider.user, line.id, "12,5", "2", line.version, NOW)
    stored = await FormLine.get(id=line.id)
    # 12.5 × (21.30 − 1.50) + 2 × (26.60 − 1.50)
    assert stored.amount == Decimal("247.50") + Decimal("50.20") == saved.amount
    for value in (stored.amount, stored.hours, stored.sunday_hours):
        assert type(value) is Decimal
    with pytest.raises(ServiceError) as error:
        await billing_forms.save_line(provider.user, line.id, "19", "2", stored.version, NOW)
    assert "dépassent les 20" in error.value.message and error.value.field == "sundayHours"
    assert (await FormLine.get(id=line.id)).hours == Decimal("12.50")  # nothing changed


async def test_no_float_on_the_money_path(db):
    """Sums, amounts and formatting refuse floats: a float anywhere would raise."""
    provider = await make_provider(2, now=NOW)
    form, lines = await opened(provider)
    for line in lines:
        await billing_forms.save_line(provider.user, line.id, "3,25", "", line.version, NOW)
    summary = await billing_forms.form_summary(form.id)
    assert type(summary.amount) is Decimal and type(summary.hours) is Decimal
    # each line rounded half-up to the cent: 3.25 × 19.80 = 64.35 and 3.25 × 18.95 = 61.5875
    assert summary.amount == Decimal("64.35") + Decimal("61.59")
    stored = await FormLine.filter(form_id=form.id).values_list("amount", flat=True)
    assert all(type(value) is Decimal for value in stored)
    with pytest.raises(TypeError):
        billing_forms.summarize([(3.25, None, 64.35, False, None)])


async def test_the_database_totals_match_the_lines_summed_one_by_one(db):
    """Counted by the database (SQLite sums the stored texts), exactly as line by line."""
    provider = await make_provider(7, now=NOW)
    form, lines = await opened(provider)
    typed = ["3,25", "12,5", None, "0", "7,75", None, "17"]
    for line, hours in zip(lines, typed, strict=True):
        if hours is not None:
            await billing_forms.save_line(provider.user, line.id, hours, "1,5" if hours == "17" else "",
                                          line.version, NOW + timedelta(minutes=line.position))
    await billing_forms.set_crossed_out(provider.user, lines[5].id, True, NOW)
    rows = await FormLine.filter(form_id=form.id).values_list(
        "hours", "sunday_hours", "amount", "crossed_out", "saved_at", "position")
    for first, last in ((None, None), (1, 3), (4, 7), (3, 3), (8, 20)):
        expected = billing_forms.summarize(
            [r for r in rows if (first or 0) <= r[5] <= (last or 10**6)])
        summary = await billing_forms.form_summary(form.id, first, last)
        assert summary == expected, (first, last)
        assert type(summary.amount) is Decimal and type(summary.hours) is Decimal
    whole = await billing_forms.form_summary(form.id)
    assert (whole.line_count, whole.filled_count, whole.crossed_out_count) == (7, 5, 1)
    assert whole.first_remaining_position == 3 and whole.hours == Decimal("40.50")
    assert whole.last_saved_at == NOW + timedelta(minutes=7)


async def test_two_sessions_editing_one_line_get_a_conflict_with_both_values(db):
    provider = await make_provider(1, now=NOW)
    _, (line,) = await opened(provider)
    read_version = line.version  # both tabs read the same version
    first = await billing_forms.save_line(provider.user, line.id, "10", "", read_version, NOW)
    assert first.version == read_version + 1
    second = await billing_forms.save_line(provider.user, line.id, "7,5", "", read_version, NOW)
    assert isinstance(second, billing_forms.Conflict)
    assert "10 h" in second.message.replace("\u00a0", " ")
    assert "7,5 h" in second.message.replace("\u00a0", " ")
    assert second.typed_hours == "7,5" and second.line.version == first.version
    assert (await FormLine.get(id=line.id)).hours == Decimal("10.00")  # first write kept
    # Retyping what is stored is never a conflict; confirming with the stored version saves.
    assert not isinstance(await billing_forms.save_line(provider.user, line.id, "10", "",
                                                        read_version, NOW), billing_forms.Conflict)
    confirmed = await billing_forms.save_line(provider.user, line.id, "7,5", "",
                                              second.line.version, NOW)
    assert confirmed.hours == Decimal("7.50")


def next_read_returns(monkeypatch, stale):
    """The save's next read of its line returns `stale`, as if it had read before a write."""
    real_own_line = getattr(billing_forms._own_line, "real", billing_forms._own_line)
    reads = iter([stale])

    async def own_line(line_id, partner_id):
        return next(reads, None) or await real_own_line(line_id, partner_id)

    own_line.real = real_own_line
    monkeypatch.setattr(billing_forms, "_own_line", own_line)


async def test_the_same_hours_sent_twice_at_once_are_saved_once_without_a_conflict(db, monkeypatch):
    """The autosave of a field and the form's button can send one value together."""
    provider = await make_provider(1, now=NOW)
    _, (line,) = await opened(provider)
    read_version = line.version
    stale = await billing_forms._own_line(line.id, provider.partner.id)  # read by both
    first = await billing_forms.save_line(provider.user, line.id, "10", "", read_version, NOW)
    next_read_returns(monkeypatch, stale)
    second = await billing_forms.save_line(provider.user, line.id, "10", "", read_version, NOW)
    assert not isinstance(second, billing_forms.Conflict)
    assert second.version == first.version and second.hours == Decimal("10.00")
    # A different value racing the same way is still a conflict.
    other = await billing_forms.save_line(provider.user, line.id, "8", "", first.version, NOW)
    next_read_returns(monkeypatch, stale)
    late = await billing_forms.save_line(provider.user, line.id, "9", "", read_version, NOW)
    assert isinstance(late, billing_forms.Conflict) and late.line.version == other.version


async def test_a_save_read_before_the_validation_writes_nothing_after_it(db, monkeypatch):
    """The write itself checks the form is open: a save racing a validation cannot slip in."""
    provider = await make_provider(1, now=NOW)
    form, (line,) = await opened(provider)
    saved = await billing_forms.save_line(provider.user, line.id, "4", "", line.version, NOW)
    stale = await billing_forms._own_line(line.id, provider.partner.id)  # read while open
    await billing_forms.validate_form(provider.user, form.id, NOW)
    next_read_returns(monkeypatch, stale)
    with pytest.raises(ServiceError, match="validé"):
        await billing_forms.save_line(provider.user, line.id, "9", "", saved.version, NOW)
    assert (await FormLine.get(id=line.id)).hours == Decimal("4.00")


async def test_a_partner_cannot_read_or_write_another_partners_form(db):
    owner = await make_provider(1, now=NOW)
    intruder = await make_provider(1, now=NOW)
    form, (line,) = await opened(owner)
    assert await billing_forms.get_form(intruder.user, form.id) is None
    assert await billing_forms.get_line(intruder.user, line.id) is None
    for attempt in (
        billing_forms.save_line(intruder.user, line.id, "1", "", line.version, NOW),
        billing_forms.set_crossed_out(intruder.user, line.id, True, NOW),
        billing_forms.validate_form(intruder.user, form.id, NOW),
        billing_forms.cancel_validation(intruder.user, form.id, NOW),
        billing_forms.recap_pdf(intruder.user, form.id),
        billing_forms.open_form(intruder.user, owner.convention.id, MAY, NOW),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert (await FormLine.get(id=line.id)).hours is None


async def test_validation_refuses_unfilled_lines_and_lists_them(db):
    provider = await make_provider(3, now=NOW)
    form, lines = await opened(provider)
    await billing_forms.save_line(provider.user, lines[0].id, "4", "", lines[0].version, NOW)
    with pytest.raises(billing_forms.ValidationRefused) as refused:
        await billing_forms.validate_form(provider.user, form.id, NOW)
    assert [u.line_id for u in refused.value.lines] == [lines[1].id, lines[2].id]
    assert "NOM001" in refused.value.message and "NOM002" in refused.value.message
    await billing_forms.set_crossed_out(provider.user, lines[1].id, True, NOW)
    await billing_forms.save_line(provider.user, lines[2].id, "0", "", lines[2].version, NOW)
    validated = await billing_forms.validate_form(provider.user, form.id, NOW)
    assert validated.status == FormStatus.VALIDATED and validated.validated_by_id == provider.user.id
    work = await billing_forms.worklist(provider.user, NOW)
    assert form.id not in [e.form_id for e in work.to_fill]
    assert form.id in [e.form_id for e in work.validated]
    with pytest.raises(ServiceError, match="validé"):
        await billing_forms.save_line(provider.user, lines[0].id, "5", "", 2, NOW)


async def test_cancel_same_paris_day_then_refused_the_next_day(db):
    clock = FixedClock(datetime(2025, 6, 18, 21, 30, tzinfo=timezone.utc))  # 23:30 in Paris
    provider = await make_provider(1, now=clock.now())
    form, (line,) = await opened(provider, now=clock.now())
    await billing_forms.save_line(provider.user, line.id, "3", "", line.version, clock.now())
    await billing_forms.validate_form(provider.user, form.id, clock.now())
    clock.advance(timedelta(minutes=20))
    reopened = await billing_forms.cancel_validation(provider.user, form.id, clock.now())
    assert reopened.status == FormStatus.OPEN
    assert (await FormLine.get(id=line.id)).hours == Decimal("3.00")  # data kept
    await billing_forms.validate_form(provider.user, form.id, clock.now())
    clock.advance(timedelta(minutes=30))  # 00:20 in Paris: the next day
    with pytest.raises(ServiceError, match="jour même"):
        await billing_forms.cancel_validation(provider.user, form.id, clock.now())


async def test_cancel_refused_once_a_payment_run_took_the_form(db):
    provider = await make_provider(1, now=NOW)
    form, (line,) = await opened(provider)
    await billing_forms.set_crossed_out(provider.user, line.id, True, NOW)
    await billing_forms.validate_form(provider.user, form.id, NOW)
    run = await PaymentRun.create(caisse_id=provider.partner.caisse_id)
    form.payment_run = run
    await form.save(update_fields=["payment_run_id"])
    with pytest.raises(ServiceError, match="paiement"):
        await billing_forms.cancel_validation(provider.user, form.id, NOW)


async def test_a_plan_closed_on_the_first_of_the_month_gets_no_line_that_month(db):
    # Closed at 00:30 on 1 May in Paris (22:30 UTC the day before): no day of May is covered,
    # as a file line of May would get L08; closed on 2 May, May is still offered.
    provider = await make_provider(3, now=NOW)
    first, second = provider.plans[0], provider.plans[1]
    first.closed_at = datetime(2025, 4, 30, 22, 30, tzinfo=timezone.utc)
    second.closed_at = datetime(2025, 5, 2, 8, 0, tzinfo=timezone.utc)
    await first.save()
    await second.save()
    _, may_lines = await opened(provider, MAY)
    assert [ln.care_plan_id for ln in may_lines] == [second.id, provider.plans[2].id]
    _, april_lines = await opened(provider, "2025-04")
    assert [ln.care_plan_id for ln in april_lines] == [p.id for p in provider.plans]


async def test_crossed_out_line_is_not_offered_next_month_and_restore_works(db):
    provider = await make_provider(2, now=NOW)
    _, lines = await opened(provider, "2025-04")
    crossed = await billing_forms.set_crossed_out(provider.user, lines[0].id, True, NOW)
    assert crossed.crossed_out and crossed.amount is None
    restored = await billing_forms.set_crossed_out(provider.user, lines[1].id, True, NOW)
    restored = await billing_forms.set_crossed_out(provider.user, lines[1].id, False, NOW)
    assert not restored.crossed_out
    _, may_lines = await opened(provider, MAY)
    assert [ln.care_plan_id for ln in may_lines] == [provider.plans[1].id]


async def test_pdf_recap_shows_every_line_and_the_totals(db):
    provider = await make_provider(3, now=NOW)
    form, lines = await opened(provider)
    await billing_forms.save_line(provider.user, lines[0].id, "10", "1", lines[0].version, NOW)
    await billing_forms.save_line(provider.user, lines[1].id, "4,5", "", lines[1].version, NOW)
    await billing_forms.set_crossed_out(provider.user, lines[2].id, True, NOW)
    with pytest.raises(ServiceError, match="une fois le formulaire validé"):
        await billing_forms.recap_pdf(provider.user, form.id)
    await billing_forms.validate_form(provider.user, form.id, NOW)
    pdf = await billing_forms.recap_pdf(provider.user, form.id)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))
    expected = (Decimal("10") * Decimal("19.80") + Decimal("1") * Decimal("25.10")
                + Decimal("4.5") * Decimal("18.95"))
    assert f"Montant total : {str(expected.quantize(Decimal('0.01'))).replace('.', ',')} €" in flat
    # Sunday hours are on top of the weekday hours, and the total says so.
    assert "Heures en semaine : 14,5 h" in flat and "Heures dimanches et fériés : 1 h" in flat
    assert "Total des heures : 15,5 h" in flat
    assert provider.partner.name in flat and provider.convention.number in flat and "mai 2025" in flat
    assert "NOM000" in flat and "NOM001" in flat and "NOM002" in flat and "ligne barrée" in flat
    assert "18/06/2025" in flat and provider.user.login in flat


async def test_pdf_recap_is_laid_out_once_per_version_and_off_the_event_loop(db, monkeypatch):
    """Asked again, a validated form's recap is the same document; a new validation, a new one.

    Each layout stamps its own /ID and date, so equal bytes mean no second layout.
    """
    import threading

    provider = await make_provider(2, now=NOW)
    form, lines = await opened(provider)
    for line in lines:
        await billing_forms.save_line(provider.user, line.id, "5", "", line.version, NOW)
    await billing_forms.validate_form(provider.user, form.id, NOW)
    threads = []
    real_layout = billing_forms.html_to_pdf

    def spied_layout(html: str) -> bytes:  # the real layout, noting where it runs
        threads.append(threading.current_thread())
        return real_layout(html)

    monkeypatch.setattr(billing_forms, "html_to_pdf", spied_layout)
    first = await billing_forms.recap_pdf(provider.user, form.id)
    again = await asyncio.gather(*(billing_forms.recap_pdf(provider.user, form.id)
                                   for _ in range(5)))
    assert all(pdf == first for pdf in again)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    await billing_forms.cancel_validation(provider.user, form.id, NOW)
    line = await FormLine.get(id=lines[0].id)
    await billing_forms.save_line(provider.user, line.id, "7", "", line.version, NOW)
    await billing_forms.validate_form(provider.user, form.id, NOW)
    revised = await billing_forms.recap_pdf(provider.user, form.id)
    assert revised != first and len(threads) == 2
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(revised)).pages)
    assert re.search(r"Heures[^:]* : 12 h", re.sub(r"\s+", " ", text.replace("\u202f", " ")))


def test_pdf_recap_keeps_a_total_on_one_line_and_long_names_whole():
    """A seven-figure total used to break at its thousands separator, and a long name ran
    over the next column; the layout itself is checked, read back from the PDF."""
    from types import SimpleNamespace as NS

    from ppas.services.billing_forms import Summary, chunked, html_to_pdf, render_recap_html

    def plan(i: int) -> NS:
        person = NS(file_number=f"03000{10001 + i}",
                    last_name="DE LA ROCHEFOUCAULD-MONTMORENCY" if i == 0 else f"NOM{i}",
                    first_name="Marie-Antoinette")
        return NS(beneficiary=person, hourly_rate=Decimal("21.30"), participation=Decimal("1.50"))

    lines = [NS(position=i + 1, care_plan=plan(i), crossed_out=False, hours=Decimal("151.67"),
                sunday_hours=Decimal("12.5"), amount=Decimal("12345.67")) for i in range(3)]
    summary = Summary(line_count=3, filled_count=3, hours=Decimal("455.01"),
                      sunday_hours=Decimal("37.5"), amount=Decimal("1234567.89"))
    html = render_recap_html(dict(
        partner=NS(name="Essai", structure_id="21231300"),
        convention=NS(number="C03-0001", prestation_code="001"), form=NS(period="2026-10"),
        period_label="octobre 2026", chunks=chunked(lines, 40), summary=summary, sunday=True,
        validated_at=None, validated_by=None))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(html_to_pdf(html))).pages)
    total = next(line for line in text.splitlines() if "567,89" in line)
    assert re.search(r"1\s234\s567,89\s€", total), total  # the whole amount on one line
    assert "ROCHEFOUCAULD-MONTMORENCY" in text
    assert re.search(r"Total des heures :\s*492,51\sh", text)
