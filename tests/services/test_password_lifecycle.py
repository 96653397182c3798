"""Password lifecycle: every rule with its message (legacy and nist), history of 3, expiry
with the countdown of grace sign-ins, temporary passwords, « Mot de passe oublié »."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from ppas.models import AuditEvent, OutboxMessage, PasswordHistory, Session, User
from ppas.services.errors import AccessDenied, ServiceError
from ppas.services.mail_sender import deliver_pending
from ppas.services.passwords import (
    MISMATCH,
    WRONG_LOGIN,
    WRONG_OLD,
    PasswordRefused,
    change_password,
    issue_temporary_password,
    request_password_reset,
)
from ppas.services.sessions import open_session
from ppas.services.sign_in import EXPIRED, LOCKED, TEMPORARY_EXPIRED, WRONG_CREDENTIALS, sign_in
from ppas.settings import Settings

LEGACY = Settings()
NIST = Settings(password_policy="nist")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FORBIDDEN = "< > / ! # { } ; |"


def real_now() -> datetime:
    # The reset rate limit counts audit events, stamped by the database with the real time.
    return datetime.now(timezone.utc)


async def account(make_user, password="Secret2026", email=""):
    user = await make_user(password)
    user.password_changed_at = T0
    user.email = email
    await user.save()
    return user


async def refusal(user, new, settings=LEGACY, *, old="Secret2026", confirm=None, login=None):
    """The messages a user reads when the change is refused; [] when it went through."""
    try:
        await change_password(user, user.login if login is None else login, old, new,
                              new if confirm is None else confirm, settings=settings,
                              now=T0 + timedelta(days=1))
    except PasswordRefused as error:
        assert error.field == "newPassword"
        return error.problems
    except ServiceError as error:
        return [error.message]
    return []


# --- every rule, with the exact message ------------------------------------------------------

@pytest.mark.parametrize(("new", "message"), [
    ("Court12", "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères "
                "(il en compte 7)."),
    ("Beaucoup2long", "Le mot de passe est trop long : il doit comporter entre 8 et 12 "
                      "caractères (il en compte 13)."),
    ("SansChiffre", "Le mot de passe doit contenir au moins un chiffre (0 à 9)."),
    ("", "Saisissez votre nouveau mot de passe."),
])
async def test_legacy_rules_each_say_what_to_fix(make_user, new, message):
    user = await account(make_user)
    assert await refusal(user, new) == [message]


@pytest.mark.parametrize("char", list("<>/!#{};|"))
async def test_legacy_names_each_forbidden_character(make_user, char):
    user = await account(make_user)
    assert await refusal(user, f"Neuf2026{char}") == [
        f"Le caractère « {char} » n'est pas autorisé dans le mot de passe "
        f"(caractères interdits : {FORBIDDEN})."]


async def test_legacy_lists_every_problem_at_once_and_accepts_a_good_one(make_user):
    user = await account(make_user)
    assert await refusal(user, "ab<c") == [
        "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères "
        "(il en compte 4).",
        "Le mot de passe doit contenir au moins un chiffre (0 à 9).",
        f"Le caractère « < » n'est pas autorisé dans le mot de passe (caractères interdits : "
        f"{FORBIDDEN}).",
    ]
    assert await refusal(user, "Bonne2026x") == []  # 10 characters, a digit, nothing forbidden
    await user.refresh_from_db()
    assert (await sign_in(user.login, "Bonne2026x", now=T0 + timedelta(days=2))).user is not None


async def test_the_form_checks_login_old_password_and_confirmation(make_user):
    user = await account(make_user)
    assert await refusal(user, "Neuve2026", login="quelquun") == [WRONG_LOGIN]
    assert await refusal(user, "Neuve2026", old="Pas2026le") == [WRONG_OLD]
    assert await refusal(user, "Neuve2026", confirm="Neuve2027") == [MISMATCH]
    assert MISMATCH == ("La confirmation est différente du nouveau mot de passe : saisissez deux "
                        "fois le même.")
    await user.refresh_from_db()
    assert (await sign_in(user.login, "Secret2026", now=T0)).user is not None  # unchanged


async def test_three_wrong_old_passwords_lock_the_account_like_sign_in(make_user):
    user = await account(make_user)
    await open_session(user, T0)
    answers = [await refusal(user, "Neuve2026", old=f"Faux{i}2026") for i in range(3)]
    assert answers == [[WRONG_OLD], [WRONG_OLD], [LOCKED]]
    await user.refresh_from_db()
    assert user.locked_at is not None
    assert not await Session.filter(user_id=user.id).exists()
    assert (await sign_in(user.login, "Secret2026", now=T0)).error == WRONG_CREDENTIALS


@pytest.mark.parametrize(("new", "message"), [
    ("Court2026ab", "Le mot de passe est trop court : il doit comporter entre 12 et 128 "
                    "caractères (il en compte 11)."),
    ("x" * 129, "Le mot de passe est trop long : il doit comporter entre 12 et 128 caractères "
                "(il en compte 129)."),
    ("motdepasse123", "Ce mot de passe fait partie des plus courants et se devine facilement : "
                      "choisissez-en un autre."),
    ("AZERTYAZERTY", "Ce mot de passe fait partie des plus courants et se devine facilement : "
                     "choisissez-en un autre."),
    ("Autre2026x", "Le mot de passe est trop court : il doit comporter entre 12 et 128 "
                   "caractères (il en compte 10)."),
])
async def test_nist_rules_each_say_what_to_fix(make_user, new, message):
    user = await account(make_user)
    assert await refusal(user, new, NIST) == [message]


async def test_nist_refuses_the_login_and_the_current_password(make_user):
    user = await account(make_user, password="une phrase assez longue")
    await User.filter(id=user.id).update(login=f"identifiant{user.id:06d}")
    await user.refresh_from_db()
    problems = await refusal(user, user.login.upper(), NIST, old="une phrase assez longue")
    assert problems == ["Le mot de passe ne doit pas être identique à l'identifiant : "
                        "choisissez-en un autre."]
    assert await refusal(user, "une phrase assez longue", NIST, old="une phrase assez longue") == [
        "Ce mot de passe est identique au précédent : choisissez-en un nouveau."]


async def test_nist_has_no_composition_rule_and_no_expiry(make_user):
    user = await account(make_user)
    # No digit, a "forbidden" legacy character, spaces: all fine under nist.
    assert await refusal(user, "pas de chiffre ! ni règle", NIST) == []
    ten_years = T0 + timedelta(days=3650)
    result = await sign_in(user.login, "pas de chiffre ! ni règle", now=ten_years,
                           policy=NIST.password_rules)
    assert result.user is not None and result.warning == ""


# --- history of 3 ----------------------------------------------------------------------------

async def test_the_last_three_passwords_are_refused_the_fourth_last_is_accepted(make_user):
    user = await account(make_user, password="Premier2026")  # p1
    for old, new in [("Premier2026", "Second2026"), ("Second2026", "Troisie2026"),
                     ("Troisie2026", "Quatrie2026")]:
        assert await refusal(user, new, old=old) == []
    recent = ("Ce mot de passe fait partie de vos 3 derniers mots de passe : "
              "choisissez-en un nouveau.")
    for last_three in ["Quatrie2026", "Troisie2026", "Second2026"]:
        assert await refusal(user, last_three, old="Quatrie2026") == [recent], last_three
    assert await refusal(user, "Premier2026", old="Quatrie2026") == []
    assert await PasswordHistory.filter(user_id=user.id).count() == 4
    assert all(h.startswith("$argon2id$") for h in
               await PasswordHistory.filter(user_id=user.id).values_list("password_hash", flat=True))


# --- expiry and the countdown of grace sign-ins ----------------------------------------------

async def test_expired_password_gives_three_counted_down_sign_ins_then_blocks(make_user):
    user = await account(make_user)
    day_before = T0 + timedelta(days=182)
    assert (await sign_in(user.login, "Secret2026", now=day_before)).warning == ""
    expired = T0 + timedelta(days=183)
    warnings = []
    for hour in range(3):
        result = await sign_in(user.login, "Secret2026", now=expired + timedelta(hours=hour))
        assert result.user is not None
        warnings.append(result.warning)
    assert warnings == [
        "Votre mot de passe arrive à expiration — il vous reste 3 authentifications avant le "
        "blocage de votre compte : modifiez-le dès maintenant.",
        "Votre mot de passe arrive à expiration — il vous reste 2 authentifications avant le "
        "blocage de votre compte : modifiez-le dès maintenant.",
        "Votre mot de passe arrive à expiration — il vous reste 1 authentification avant le "
        "blocage de votre compte : modifiez-le dès maintenant.",
    ]
    blocked = await sign_in(user.login, "Secret2026", now=expired + timedelta(hours=4))
    assert blocked.user is None and blocked.error == EXPIRED
    assert "Mot de passe oublié" in EXPIRED and "courriel" in EXPIRED
    await user.refresh_from_db()
    assert user.grace_logins_used >= 3
    assert "sign_in_refused_expired" in await AuditEvent.filter(actor_id=user.id).values_list(
        "action", flat=True)


async def test_a_wrong_password_does_not_use_a_grace_sign_in(make_user):
    user = await account(make_user)
    expired = T0 + timedelta(days=200)
    assert (await sign_in(user.login, "Faux2026", now=expired)).error == WRONG_CREDENTIALS
    first = await sign_in(user.login, "Secret2026", now=expired)
    assert "il vous reste 3 authentifications" in first.warning


async def test_changing_during_grace_stops_the_countdown(make_user):
    user = await account(make_user)
    expired = T0 + timedelta(days=200)
    await sign_in(user.login, "Secret2026", now=expired)
    await change_password(user, user.login, "Secret2026", "Renouvel2026", "Renouvel2026",
                          settings=LEGACY, now=expired)
    await user.refresh_from_db()
    assert user.grace_logins_used == 0 and user.password_changed_at == expired
    assert (await sign_in(user.login, "Renouvel2026", now=expired)).warning == ""


# --- temporary passwords ---------------------------------------------------------------------

async def test_temporary_password_forces_the_change_and_serves_once(make_user):
    user = await account(make_user)
    temporary = await issue_temporary_password(user, settings=LEGACY, now=T0)
    first = await sign_in(user.login, temporary, now=T0 + timedelta(hours=1))
    assert first.user is not None and first.must_change_password
    again = await sign_in(user.login, temporary, now=T0 + timedelta(hours=2))
    assert again.user is None and again.error == TEMPORARY_EXPIRED
    # The session opened by the first sign-in can still choose the new password.
    assert await refusal(user, "Choisi2026", old=temporary) == []
    await user.refresh_from_db()
    assert not user.must_change_password and user.temporary_password_expires_at is None


async def test_an_expired_temporary_password_is_refused_with_what_to_do(make_user):
    user = await account(make_user)
    temporary = await issue_temporary_password(user, settings=LEGACY, now=T0)
    late = await sign_in(user.login, temporary, now=T0 + timedelta(hours=24))
    assert late.user is None and late.error == TEMPORARY_EXPIRED
    assert "Demandez-en un nouveau avec « Mot de passe oublié »" in TEMPORARY_EXPIRED
    # A wrong password still counts as a failure, whatever the state of the password.
    assert (await sign_in(user.login, "Faux2026", now=T0)).error == WRONG_CREDENTIALS


async def test_a_temporary_password_blocks_partner_data_below_the_schema(make_user):
    from ppas.services.access import partner_id_of

    user = await account(make_user)
    await issue_temporary_password(user, settings=LEGACY, now=T0)
    with pytest.raises(AccessDenied, match="Nouveau mot de passe"):
        partner_id_of(user)


# --- « Mot de passe oublié » -----------------------------------------------------------------

async def test_reset_unlocks_and_the_mail_arrives_over_smtp(make_user, settings, smtp_server):
    box, port = smtp_server
    user = await account(make_user, email="oubli.verrou@example.org")
    for i in range(3):
        await sign_in(user.login, f"Faux{i}2026", now=T0)
    await user.refresh_from_db()
    assert user.locked_at is not None

    now = real_now()
    answer = await request_password_reset(user.login, "Oubli.Verrou@Example.org",
                                          settings=settings, now=now)
    assert "valable 24 heures" in answer
    await user.refresh_from_db()
    assert user.locked_at is None and user.failed_attempts == 0
    assert user.must_change_password and user.temporary_password_expires_at == now + timedelta(
        hours=24)

    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port), now)
    [mail] = box.to("oubli.verrou@example.org")
    assert mail["Subject"] == "PPAS — votre mot de passe temporaire"
    body = mail.get_content()
    assert user.login in body and "/connexion" in body and "24 heures" in body
    temporary = re.search(r"Mot de passe temporaire : (\S+)", body).group(1)

    assert (await sign_in(user.login, "Secret2026", now=now)).error == WRONG_CREDENTIALS
    result = await sign_in(user.login, temporary, now=now + timedelta(minutes=5))
    assert result.user is not None and result.must_change_password
    details = await AuditEvent.filter(actor_id=user.id, action="password_reset").values_list(
        "details", flat=True)
    assert details and temporary not in str(details)


@pytest.mark.parametrize("case", ["unknown login", "wrong e-mail", "inactive",
                                  "no e-mail on record"])
async def test_reset_answers_the_same_and_sends_nothing_when_nothing_matches(make_user, settings,
                                                                            case):
    user = await account(make_user, password="Secret2026", email="garde@example.org")
    login = user.login
    email = "autre@example.org" if case == "wrong e-mail" else "garde@example.org"
    if case == "unknown login":
        login = "personneici"
    elif case == "inactive":
        await User.filter(id=user.id).update(active=False)
    elif case == "no e-mail on record":
        await User.filter(id=user.id).update(email="")
    before = await OutboxMessage.all().count()
    reference = await request_password_reset("x", "y@example.org", settings=settings,
                                             now=real_now())
    answer = await request_password_reset(login, email, settings=settings, now=real_now())
    assert answer == reference
    assert await OutboxMessage.all().count() == before
    await user.refresh_from_db()
    assert not user.must_change_password


async def test_reset_needs_both_the_login_and_the_address(settings):
    with pytest.raises(ServiceError, match="adresse électronique") as error:
        await request_password_reset("quelquun", "  ", settings=settings, now=real_now())
    assert error.value.field == "email"


async def test_resets_are_limited_to_three_an_hour_per_account(make_user, settings):
    user = await account(make_user, email="limite@example.org")
    answers = {await request_password_reset(user.login, "limite@example.org", settings=settings,
                                            now=real_now()) for _ in range(5)}
    assert len(answers) == 1  # the same answer every time
    assert await OutboxMessage.filter(recipient="limite@example.org").count() == 3
    actions = await AuditEvent.filter(actor_id=user.id).values_list("action", flat=True)
    assert actions.count("password_reset") == 3 and actions.count("password_reset_throttled") == 2


# --- sessions ----------------------------------------------------------------------------------

async def test_a_change_ends_every_other_session_of_the_user(make_user):
    user = await account(make_user)
    _, current = await open_session(user, T0)
    _, other = await open_session(user, T0)
    stranger = await make_user()
    _, strangers = await open_session(stranger, T0)
    await change_password(user, user.login, "Secret2026", "Nouveau2026", "Nouveau2026",
                          settings=LEGACY, now=T0, keep_session_id=current.id)
    remaining = set(await Session.filter(id__in=[current.id, other.id, strangers.id])
                    .values_list("id", flat=True))
    assert remaining == {current.id, strangers.id}
    event = await AuditEvent.filter(actor_id=user.id, action="password_changed").first()
    assert event.details["other_sessions_ended"] == 1
    assert "Nouveau2026" not in str(event.details)


# --- through the app: the forced change, and the sessions a change ends ------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_sign_in(http, login: str, password: str):
    page = await http.get("/connexion")
    token = CSRF.search(page.text).group(1)
    return await http.post("/connexion", data={"csrf_token": token, "login": login,
                                               "password": password, "next": "/espace"})


async def test_a_temporary_password_opens_only_the_change_page(client, make_user, settings):
    user = await account(make_user)
    temporary = await issue_temporary_password(user, settings=settings, now=real_now())
    signed = await form_sign_in(client, user.login, temporary)
    assert signed.status_code == 303 and signed.headers["location"] == "/mot-de-passe/nouveau"

    for path in ["/espace", "/beneficiaires", "/facturation", "/", "/mot-de-passe/changer"]:
        response = await client.get(path)
        assert (response.status_code, response.headers.get("location")) == (
            303, "/mot-de-passe/nouveau"), path
    fragment = await client.get("/beneficiaires", headers={"HX-Request": "true"})
    assert fragment.headers["hx-redirect"] == "/mot-de-passe/nouveau"

    page = await client.get("/mot-de-passe/nouveau")
    assert page.status_code == 200 and "mot de passe temporaire" in page.text
    token = CSRF.search(page.text).group(1)
    # GraphQL is refused too, below the schema; only the change remains possible.
    data = (await client.post("/graphql", headers={"X-CSRF-Token": token}, json={
        "query": "{ beneficiaries(limit: 5) { totalCount } }"})).json()
    assert data["data"] is None and "Nouveau mot de passe" in data["errors"][0]["message"]

    changed = await client.post("/mot-de-passe/nouveau", data={
        "csrf_token": token, "login": user.login, "old_password": temporary,
        "new_password": "Perso2026ab", "confirmation": "Perso2026ab"})
    # Changed: the same session goes on, the portal open (no second sign-in)…
    assert changed.headers["location"] == "/mot-de-passe/changer?modifie=1"
    assert (await client.get("/espace")).status_code == 200
    # …and the new password is the one that signs in afterwards.
    await client.post("/deconnexion", data={"csrf_token": token})
    again = await form_sign_in(client, user.login, "Perso2026ab")
    assert again.headers["location"] == "/espace"


async def test_a_voluntary_change_keeps_this_browser_and_signs_out_the_others(app, make_user):
    import httpx

    user = await account(make_user)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as mine, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await form_sign_in(mine, user.login, "Secret2026")
        await form_sign_in(other, user.login, "Secret2026")
        assert (await other.get("/espace")).status_code == 200
        page = await mine.get("/mot-de-passe/changer")
        response = await mine.post("/mot-de-passe/changer", data={
            "csrf_token": CSRF.search(page.text).group(1), "login": user.login,
            "old_password": "Secret2026", "new_password": "Autre2026ab",
            "confirmation": "Autre2026ab"})
        assert response.headers["location"] == "/mot-de-passe/changer?modifie=1"
        assert (await mine.get("/espace")).status_code == 200
        assert (await other.get("/espace")).headers["location"] == "/connexion?suivant=/espace"
