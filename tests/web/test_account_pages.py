"""« Mon compte »: a partner administrator turns the event e-mails off and on again."""
from __future__ import annotations

from ppas.models import Role, User
from tests.billing_form_support import PASSWORD, make_provider


async def test_a_partner_admin_turns_the_event_mails_off_then_on(client, sign_in, db):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    page = await client.get("/mon-compte")
    assert page.status_code == 200
    assert '<a href="/mon-compte" aria-current="page">Mon compte</a>' in page.text
    assert 'name="event_mail" value="1" checked' in page.text
    saved = await client.post("/mon-compte/avis", data={"csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == "/mon-compte?enregistre=1"
    assert (await User.get(id=provider.user.id)).event_mail is False
    again = await client.get("/mon-compte?enregistre=1")
    assert "Votre choix est enregistré." in again.text
    assert 'name="event_mail" value="1">' in again.text
    await client.post("/mon-compte/avis", data={"csrf_token": csrf, "event_mail": "1"})
    assert (await User.get(id=provider.user.id)).event_mail is True


async def test_without_csrf_nothing_changes(client, sign_in, db):
    provider = await make_provider(1)
    await sign_in(client, provider.login, PASSWORD)
    response = await client.post("/mon-compte/avis", data={})
    assert response.status_code == 403
    assert (await User.get(id=provider.user.id)).event_mail is True


async def test_a_partner_user_sees_no_such_choice_and_may_not_post_it(client, sign_in, db):
    provider = await make_provider(1)
    await User.filter(id=provider.user.id).update(role=Role.PARTNER_USER)
    csrf = await sign_in(client, provider.login, PASSWORD)
    page = await client.get("/mon-compte")
    assert page.status_code == 200 and "event_mail" not in page.text
    refused = await client.post("/mon-compte/avis", data={"csrf_token": csrf, "event_mail": "1"})
    assert refused.status_code == 403
