"""Password pages: « Mot de passe oublié », « Nouveau mot de passe », the expiry countdown
after sign-in, the locked message with its way out."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ppas.domain.typography import french_spacing
from ppas.models import OutboxMessage, User
from ppas.services.passwords import issue_temporary_password
from ppas.services.sign_in import LOCKED

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(page) -> str:
    return CSRF.search(page.text).group(1)


async def form_sign_in(http, login: str, password: str, next_page: str = "/espace"):
    page = await http.get("/connexion")
    return await http.post("/connexion", data={"csrf_token": token_of(page), "login": login,
                                               "password": password, "next": next_page})


def field_tag(html: str, field_id: str) -> str:
    return re.search(rf'<input id="{field_id}"[^>]*>', html, re.S).group(0)


async def test_sign_in_page_links_to_forgot_password(client):
    page = await client.get("/connexion")
    assert '<a href="/mot-de-passe-oublie">Mot de passe oublié</a>' in page.text


async def test_the_answer_after_three_failures_links_to_a_new_password(client, make_user):
    user = await make_user("Secret2026")
    for i in range(3):
        response = await form_sign_in(client, user.login, f"Faux{i}2026")
    assert response.status_code == 400
    alert = re.search(r'<div class="error-summary" role="alert".*?</div>', response.text, re.S).group(0)
    # The same answer as for an unknown login; it says what to do when the account is locked.
    assert "ou compte bloqué" in alert
    assert 'href="/mot-de-passe-oublie"' in alert


async def test_forgot_password_form_is_labelled_and_answers_the_same_for_anyone(client, make_user):
    user = await make_user("Secret2026")
    await User.filter(id=user.id).update(email="page.oubli@example.org")
    page = await client.get("/mot-de-passe-oublie")
    assert page.status_code == 200
    assert '<label for="login">Identifiant</label>' in page.text
    assert '<label for="email">Adresse électronique</label>' in page.text
    answers = []
    for login, email in [(user.login, "page.oubli@example.org"), ("inconnu42", "x@example.org")]:
        sent = await client.post("/mot-de-passe-oublie", data={
            "csrf_token": token_of(page), "login": login, "email": email})
        assert sent.status_code == 303 and sent.headers["location"] == "/mot-de-passe-oublie?envoye=1"
        answers.append((await client.get(sent.headers["location"])).text)
    assert answers[0] == answers[1]
    assert 'role="status"' in answers[0] and "mot de passe temporaire" in answers[0]
    assert await OutboxMessage.filter(recipient="page.oubli@example.org").count() == 1


async def test_forgot_password_without_the_address_marks_the_field(client):
    page = await client.get("/mot-de-passe-oublie")
    response = await client.post("/mot-de-passe-oublie", data={
        "csrf_token": token_of(page), "login": "quelquun", "email": ""})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "adresse électronique" in response.text
    email = field_tag(response.text, "email")
    assert 'aria-invalid="true"' in email and 'aria-describedby="erreur-oubli"' in email


async def test_forgot_password_post_without_csrf_token_is_refused(client):
    await client.get("/mot-de-passe-oublie")
    response = await client.post("/mot-de-passe-oublie", data={"login": "a", "email": "b@c.fr"})
    assert response.status_code == 403


async def test_change_page_has_three_fields_and_states_the_rules(client, make_user, sign_in):
    user = await make_user("Secret2026")
    await sign_in(client, user.login, "Secret2026")
    page = await client.get("/mot-de-passe/changer")
    assert page.status_code == 200
    assert "<h1>Changer mon mot de passe</h1>" in page.text
    # The account is the signed-in one: shown, never asked for.
    assert 'id="login"' not in page.text and french_spacing(f"Compte : <strong>{user.login}</strong>") in page.text
    for field_id, label in [("old_password", "Ancien mot de passe"),
                            ("new_password", "Nouveau mot de passe"),
                            ("confirmation", "Confirmer")]:
        assert f'<label for="{field_id}">{label}</label>' in page.text
        assert f'aria-describedby="{field_id}-aide"' in field_tag(page.text, field_id)
    assert ("Le mot de passe doit comporter entre 8 et 12 caractères, au moins un chiffre, "
            "aucun des caractères &lt; &gt; / ! # { } ; |, différent de vos 3 derniers mots "
            "de passe. Il est valable 6 mois.") in page.text


async def test_change_page_lists_each_problem_and_marks_the_field(client, make_user, sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    response = await client.post("/mot-de-passe/changer", data={
        "csrf_token": token, "login": user.login, "old_password": "Secret2026",
        "new_password": "court", "confirmation": "court"})
    assert response.status_code == 400
    assert "Le mot de passe est trop court" in response.text
    assert "Le mot de passe doit contenir au moins un chiffre (0 à 9)." in response.text
    new = field_tag(response.text, "new_password")
    assert 'aria-invalid="true"' in new and "erreur-mot-de-passe" in new
    assert 'aria-invalid' not in field_tag(response.text, "old_password")

    mismatch = await client.post("/mot-de-passe/changer", data={
        "csrf_token": token, "login": user.login, "old_password": "Secret2026",
        "new_password": "Neuve2026", "confirmation": "Neuve2027"})
    assert "La confirmation est différente" in mismatch.text
    assert 'aria-invalid="true"' in field_tag(mismatch.text, "confirmation")


async def test_voluntary_change_shows_success_and_keeps_the_session(client, make_user, sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    response = await client.post("/mot-de-passe/changer", data={
        "csrf_token": token, "login": user.login, "old_password": "Secret2026",
        "new_password": "Changee2026", "confirmation": "Changee2026"})
    done = await client.get(response.headers["location"])
    assert re.search(r'role="status"[^>]*>Votre nouveau mot de passe est enregistré', done.text)
    assert (await client.get("/espace")).status_code == 200


async def test_three_wrong_old_passwords_on_the_change_page_lock_and_sign_out(client, make_user,
                                                                            sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    for i in range(3):
        response = await client.post("/mot-de-passe/changer", data={
            "csrf_token": token, "login": user.login, "old_password": f"Faux{i}2026",
            "new_password": "Changee2026", "confirmation": "Changee2026"})
    assert response.headers["location"] == "/connexion?bloque=1"
    page = await client.get(response.headers["location"])
    assert LOCKED in page.text and 'href="/mot-de-passe-oublie"' in page.text
    assert (await client.get("/espace")).headers["location"] == "/connexion?suivant=/espace"


async def test_forced_change_keeps_the_session_and_never_asks_for_the_login(client, make_user,
                                                                            settings):
    user = await make_user("Secret2026")
    temporary = await issue_temporary_password(user, settings=settings,
                                               now=datetime.now(timezone.utc))
    signed = await form_sign_in(client, user.login, temporary)
    assert signed.headers["location"] == "/mot-de-passe/nouveau"
    page = await client.get("/mot-de-passe/nouveau")
    assert "<h1>Nouveau mot de passe</h1>" in page.text
    assert 'role="status">Vous êtes connecté avec un mot de passe temporaire' in page.text
    assert 'id="login"' not in page.text and french_spacing(f"Compte : <strong>{user.login}</strong>") in page.text
    response = await client.post("/mot-de-passe/nouveau", data={
        "csrf_token": token_of(page), "old_password": temporary,
        "new_password": "Choisi2026", "confirmation": "Choisi2026"})
    landing = await client.get(response.headers["location"])
    assert re.search(r'role="status"[^>]*>Votre nouveau mot de passe est enregistré', landing.text)
    # Still signed in, with the new password in force: no sign-in right after.
    assert (await client.get("/espace")).status_code == 200
    await user.refresh_from_db()
    assert not user.must_change_password


async def test_grace_sign_in_shows_the_countdown_on_the_next_page(client, make_user):
    user = await make_user("Secret2026")
    await User.filter(id=user.id).update(
        password_changed_at=datetime.now(timezone.utc) - timedelta(days=200))
    signed = await form_sign_in(client, user.login, "Secret2026", "/beneficiaires")
    assert signed.headers["location"] == "/mot-de-passe/expiration?suivant=/beneficiaires"
    page = await client.get(signed.headers["location"])
    assert re.search(r'role="status"[^>]*>Votre mot de passe arrive à expiration — il vous reste 3 '
                     r'authentifications', page.text)
    assert 'href="/mot-de-passe/changer"' in page.text and 'href="/beneficiaires"' in page.text
    # The change page repeats the countdown until the password is changed.
    change = await client.get("/mot-de-passe/changer")
    assert "il vous reste 3 authentifications" in change.text


async def test_countdown_page_without_an_expired_password_moves_on(client, make_user, sign_in):
    user = await make_user("Secret2026")
    await sign_in(client, user.login, "Secret2026")
    response = await client.get("/mot-de-passe/expiration?suivant=//ailleurs.example")
    assert response.status_code == 303 and response.headers["location"] == "/espace"
