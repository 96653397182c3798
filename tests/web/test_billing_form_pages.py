"""« Facturation » pages: worklist, the paginated form, htmx autosave, validation, PDF."""
from __future__ import annotations

from datetime import datetime, timezone

import httpx

from ppas.domain.periods import current_period
from ppas.domain.typography import french_spacing
from ppas.models import FormLine
from tests.billing_form_support import PASSWORD, make_provider

LAST_MONTH = str(current_period(datetime.now(timezone.utc)).previous())


def htmx(csrf: str, trigger: str | None = None) -> dict:
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    if trigger:
        headers["HX-Trigger-Name"] = trigger
    return headers


async def open_form(client, sign_in, provider) -> tuple[str, int]:
    csrf = await sign_in(client, provider.login, PASSWORD)
    response = await client.post("/facturation/ouvrir", data={
        "csrf_token": csrf, "convention": str(provider.convention.id), "period": LAST_MONTH})
    assert response.status_code == 303
    form_id = int(response.headers["location"].rsplit("/", 1)[1])
    return csrf, form_id


async def lines_of(form_id: int) -> list[FormLine]:
    return await FormLine.filter(form_id=form_id).order_by("position")


def save_data(line: FormLine, hours: str, sunday: str = "", version: int | None = None,
              page: int = 1) -> dict:
    return {f"h-{line.id}": hours, f"s-{line.id}": sunday,
            f"v-{line.id}": str(line.version if version is None else version),
            "page": str(page), "form": str(line.form_id)}


async def test_worklist_offers_last_month_and_refuses_months_older_than_12(client, sign_in, db):
    provider = await make_provider(2)
    csrf = await sign_in(client, provider.login, PASSWORD)
    page = await client.get("/facturation")
    assert page.status_code == 200 and "Formulaires à remplir" in page.text
    assert provider.convention.number in page.text and "Service à venir" not in page.text
    old = str(current_period(datetime.now(timezone.utc)).plus_months(-13))
    refused = await client.post("/facturation/ouvrir", data={
        "csrf_token": csrf, "convention": str(provider.convention.id), "period": old})
    assert refused.status_code == 422
    assert "facture individuelle" in refused.text and 'aria-invalid="true"' in refused.text


async def test_form_is_paginated_with_validate_on_the_last_page_only(client, sign_in, db):
    provider = await make_provider(25)
    _, form_id = await open_form(client, sign_in, provider)
    first = await client.get(f"/facturation/{form_id}?page=1")
    assert first.status_code == 200
    assert first.text.count('<tr id="ligne-') == 20
    assert "Valider le formulaire" not in first.text and "dernière page" in first.text
    # The convention has a Sunday rate: two columns that add up, never « dont » (of which).
    assert "Heures en semaine" in first.text and "Heures dimanches et fériés" in first.text
    assert "Dont" not in first.text and "dont" not in first.text
    assert "21,30" in first.text and "particip." in first.text
    last = await client.get(f"/facturation/{form_id}?page=2")
    assert last.text.count('<tr id="ligne-') == 5 and "Valider le formulaire" in last.text
    worklist = await client.get("/facturation")
    assert f'href="/facturation/{form_id}"' in worklist.text and "0 / 25" in worklist.text


async def test_autosave_returns_the_line_pieces_with_amount_and_time(client, sign_in, db):
    provider = await make_provider(2)
    csrf, form_id = await open_form(client, sign_in, provider)
    line = (await lines_of(form_id))[0]
    response = await client.post(f"/facturation/lignes/{line.id}", data=save_data(line, "12,5"),
                                 headers=htmx(csrf, f"h-{line.id}"))
    assert response.status_code == 200
    assert "Enregistré à" in response.text and "247,50" in response.text
    assert f'id="v-{line.id}" name="v-{line.id}" value="{line.version + 1}"' in response.text
    assert 'id="totaux"' in response.text and 'hx-swap-oob="true"' in response.text
    reloaded = await client.get(f"/facturation/{form_id}?page=1")
    assert 'value="12,5"' in reloaded.text


async def test_failed_save_keeps_the_typed_value_and_marks_the_field(client, sign_in, db):
    provider = await make_provider(1)
    csrf, form_id = await open_form(client, sign_in, provider)
    (line,) = await lines_of(form_id)
    response = await client.post(f"/facturation/lignes/{line.id}", data=save_data(line, "25"),
                                 headers=htmx(csrf, f"h-{line.id}"))
    text = response.text
    assert 'value="25"' in text and 'aria-invalid="true"' in text
    assert f'aria-describedby="err-h-{line.id}"' in text and 'role="alert"' in text
    assert "dépassent les 20" in text and "Non enregistré" in text
    assert (await FormLine.get(id=line.id)).hours is None


async def test_two_sessions_conflict_shows_both_values_and_loses_nothing(app, sign_in, db):
    provider = await make_provider(1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as tab_a, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as tab_b:
        csrf_a, form_id = await open_form(tab_a, sign_in, provider)
        csrf_b = await sign_in(tab_b, provider.login, PASSWORD)
        (line,) = await lines_of(form_id)
        await tab_a.post(f"/facturation/lignes/{line.id}", data=save_data(line, "10"),
                         headers=htmx(csrf_a, f"h-{line.id}"))
        late = await tab_b.post(f"/facturation/lignes/{line.id}", data=save_data(line, "7,5"),
                                headers=htmx(csrf_b, f"h-{line.id}"))
    text = late.text.replace("\u00a0", " ")
    assert "modifiée entre-temps" in text and "Valeur enregistrée : 10 h" in text
    assert "Votre saisie : 7,5 h" in text and 'value="7,5"' in text
    assert "Confirmer ma saisie" in text and "Reprendre la valeur enregistrée" in text
    assert (await FormLine.get(id=line.id)).hours == 10


async def test_cross_out_validate_refusal_lists_lines_then_pdf(client, sign_in, db):
    provider = await make_provider(3)
    csrf, form_id = await open_form(client, sign_in, provider)
    lines = await lines_of(form_id)
    crossed = await client.post(f"/facturation/lignes/{lines[0].id}/barrer",
                                data={"page": "1", "form": str(form_id)}, headers=htmx(csrf))
    # Right after crossing out, the line's button undoes it.
    assert french_spacing('aria-label="Annuler : rétablir la ligne 1 (') in crossed.text
    assert f'<tr id="ligne-{lines[0].id}"' in crossed.text
    await client.post(f"/facturation/lignes/{lines[1].id}", data=save_data(lines[1], "4"),
                      headers=htmx(csrf, f"h-{lines[1].id}"))
    refused = await client.post(f"/facturation/{form_id}/valider",
                                data={"csrf_token": csrf, "page": "1"})
    assert refused.status_code == 422 and "ni remplie ni barrée" in refused.text
    assert f'href="/facturation/{form_id}?page=1#ligne-{lines[2].id}"' in refused.text
    await client.post(f"/facturation/lignes/{lines[2].id}", data=save_data(lines[2], "0"),
                      headers=htmx(csrf, f"h-{lines[2].id}"))
    validated = await client.post(f"/facturation/{form_id}/valider",
                                  data={"csrf_token": csrf, "page": "1"})
    assert validated.status_code == 303
    page = await client.get(f"/facturation/{form_id}")
    assert "Formulaire validé le" in page.text and "Annuler la validation" in page.text
    assert "recapitulatif.pdf" in page.text
    pdf = await client.get(f"/facturation/{form_id}/recapitulatif.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    cancelled = await client.post(f"/facturation/{form_id}/annuler", data={"csrf_token": csrf})
    assert cancelled.status_code == 303
    assert "Valider le formulaire" in (await client.get(f"/facturation/{form_id}")).text


async def test_another_partner_gets_nothing(client, sign_in, db):
    owner = await make_provider(1)
    _, form_id = await open_form(client, sign_in, owner)
    (line,) = await lines_of(form_id)
    other = await make_provider(1)
    transport = httpx.ASGITransport(app=client._transport.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as intruder:
        csrf = await sign_in(intruder, other.login, PASSWORD)
        assert (await intruder.get(f"/facturation/{form_id}")).status_code == 404
        assert (await intruder.get(f"/facturation/{form_id}/recapitulatif.pdf")).status_code == 404
        attempt = await intruder.post(f"/facturation/lignes/{line.id}",
                                      data=save_data(line, "3"), headers=htmx(csrf, f"h-{line.id}"))
        assert "appartient pas à un formulaire de votre structure" in attempt.text
    assert (await FormLine.get(id=line.id)).hours is None


async def test_form_level_save_button_saves_the_page_without_javascript(client, sign_in, db):
    provider = await make_provider(3)
    csrf, form_id = await open_form(client, sign_in, provider)
    lines = await lines_of(form_id)
    data = {"csrf_token": csrf, "page": "1", "form": str(form_id)}
    for line, hours in zip(lines, ("1", "2,25", "30")):
        data.update(save_data(line, hours))
    response = await client.post(f"/facturation/{form_id}/enregistrer", data=data)
    assert response.status_code == 422  # one line refused, shown on its field, others saved
    assert 'value="30"' in response.text and "dépassent les 20" in response.text
    assert [str(ln.hours) for ln in await lines_of(form_id)] == ["1.00", "2.25", "None"]


async def test_totals_add_sunday_hours_on_top_of_weekday_hours(client, sign_in, db):
    provider = await make_provider(2)
    csrf, form_id = await open_form(client, sign_in, provider)
    line = (await lines_of(form_id))[0]
    response = await client.post(f"/facturation/lignes/{line.id}",
                                 data=save_data(line, "10", "2,5"),
                                 headers=htmx(csrf, f"h-{line.id}"))
    text = response.text.replace("\u202f", " ").replace("\xa0", " ")
    assert "10 h en semaine + 2,5 h dimanches et fériés" in text
    assert '<span id="total-formulaire-heures">12,5 h</span>' in text


async def test_cross_out_buttons_belong_to_their_own_forms_so_enter_saves(client, sign_in, db):
    """Enter in a field submits the form's default button, the first submit button it owns:
    the « − » buttons must not be owned by the hours form, « Enregistrer » must."""
    provider = await make_provider(2)
    _, form_id = await open_form(client, sign_in, provider)
    page = (await client.get(f"/facturation/{form_id}?page=1")).text
    hours_form = page[page.index('<form id="formulaire"'):page.index("</form>", page.index('<form id="formulaire"'))]
    first_submit = hours_form[hours_form.index('type="submit"') - 200:hours_form.index('type="submit"') + 200]
    assert 'form="action-ligne-' in first_submit  # the first submit button seen is a « − »…
    for line in await lines_of(form_id):  # …each owned by its own little form, present
        assert f'form="action-ligne-{line.id}"' in hours_form
        assert f'<form id="action-ligne-{line.id}" method="post" hidden>' in page
    assert hours_form.count('type="submit"') == len(await lines_of(form_id)) + 1


async def test_a_save_after_the_session_ended_says_so_and_writes_nothing(client, sign_in, db):
    from ppas.models import Session

    provider = await make_provider(2)
    csrf, form_id = await open_form(client, sign_in, provider)
    line = (await lines_of(form_id))[0]
    await Session.filter(user_id=provider.user.id).delete()  # timed out, or signed out elsewhere
    response = await client.post(f"/facturation/lignes/{line.id}", data=save_data(line, "4"),
                                 headers=htmx(csrf, f"h-{line.id}"))
    assert response.status_code == 401
    assert "Votre session a expiré" in response.text and "nouvel onglet" in response.text
    assert (await FormLine.get(id=line.id)).hours is None
    token = (await client.get("/session/jeton")).json()
    assert token == {"signedIn": False, "csrfToken": None}


async def test_after_signing_in_again_the_page_gets_the_new_token_and_saves(client, sign_in, db):
    from ppas.models import Session

    provider = await make_provider(2)
    old_csrf, form_id = await open_form(client, sign_in, provider)
    line = (await lines_of(form_id))[0]
    await Session.filter(user_id=provider.user.id).delete()
    new_csrf = await sign_in(client, provider.login, PASSWORD)  # in another tab: same cookies
    stale = await client.post(f"/facturation/lignes/{line.id}", data=save_data(line, "4"),
                              headers=htmx(old_csrf, f"h-{line.id}"))
    assert stale.status_code == 403  # the open page still holds the old session's token
    answer = await client.get("/session/jeton")
    assert answer.json() == {"signedIn": True, "csrfToken": new_csrf}
    assert answer.headers["cache-control"] == "no-store"
    saved = await client.post(f"/facturation/lignes/{line.id}", data=save_data(line, "4"),
                              headers=htmx(answer.json()["csrfToken"], f"h-{line.id}"))
    assert saved.status_code == 200 and "Enregistré à" in saved.text
    assert str((await FormLine.get(id=line.id)).hours) == "4.00"


async def test_validation_is_confirmed_on_a_summary_then_announced(client, sign_in, db):
    provider = await make_provider(3)
    csrf, form_id = await open_form(client, sign_in, provider)
    lines = await lines_of(form_id)
    await client.post(f"/facturation/lignes/{lines[0].id}", data=save_data(lines[0], "10", "2"),
                      headers=htmx(csrf, f"h-{lines[0].id}"))
    # One line left: the summary says so, names it with a link, and offers no confirmation.
    early = " ".join((await client.get(f"/facturation/{form_id}/valider")).text.split())
    assert "ne peut pas encore être validé : 2 lignes ni remplies ni barrées" in early
    assert f'href="/facturation/{form_id}?page=1#ligne-{lines[1].id}"' in early
    assert "Confirmer la validation" not in early
    for line in lines[1:]:
        await client.post(f"/facturation/lignes/{line.id}/barrer",
                          data={"page": "1", "form": str(form_id)}, headers=htmx(csrf))
    summary = " ".join((await client.get(f"/facturation/{form_id}/valider")).text.split())
    assert "Confirmer la validation" in summary
    assert "1 sur 3" in summary and "2 (elles ne seront plus proposées" in summary
    assert '10 h en semaine + 2 h dimanches et fériés = <span id="heures-a-valider">12 h</span>' in summary
    assert "248,20 €" in summary  # 10 × (21,30 − 1,50) + 2 × (26,60 − 1,50)
    assert (await FormLine.get(id=lines[0].id)).form_id == form_id
    validated = await client.post(f"/facturation/{form_id}/valider",
                                  data={"csrf_token": csrf, "page": "1"})
    assert validated.status_code == 303
    assert validated.headers["location"] == f"/facturation/{form_id}?valide=1"
    done = (await client.get(validated.headers["location"])).text
    assert 'role="status" aria-live="polite" tabindex="-1" autofocus>Formulaire validé : il part au prochain paiement' in done
    # Once validated, the confirmation page sends back to the form.
    assert (await client.get(f"/facturation/{form_id}/valider")).status_code == 303
    cancelled = await client.post(f"/facturation/{form_id}/annuler", data={"csrf_token": csrf})
    assert cancelled.headers["location"] == f"/facturation/{form_id}?annule=1"
    reopened = (await client.get(cancelled.headers["location"])).text
    assert "Validation annulée : le formulaire est de nouveau modifiable" in reopened
