"""Sign-in under concurrent requests, through the app (ASGI) and the real server (uvicorn):
the lockout, the single-use temporary password and the password-change form. (How long other
requests wait during a burst is a timing: bench/sign_in_burst.py measures it.)"""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

import httpx

from ppas.models import AuditEvent, Session
from ppas.services.passwords import issue_temporary_password
from ppas.services.sign_in import WRONG_CREDENTIALS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN = ('mutation($login: String!, $password: String!) { signIn(login: $login, '
           'password: $password) { __typename ... on SignInError { message } } }')


async def anonymous_token(http: httpx.AsyncClient) -> str:
    return CSRF.search((await http.get("/connexion")).text).group(1)


async def checked_wrong_passwords(user) -> int:
    """How many wrong passwords were really verified against the account's hash."""
    return await AuditEvent.filter(actor_id=user.id, action="sign_in_failed").count()


async def test_a_burst_of_19_wrong_passwords_on_the_form_checks_three(client, make_user):
    user = await make_user("Secret2026")
    token = await anonymous_token(client)

    def attempt(password: str):
        return client.post("/connexion", data={"csrf_token": token, "login": user.login,
                                               "password": password, "next": "/espace"})

    answers = await asyncio.gather(*(attempt(f"Faux{i}x2026") for i in range(19)))
    assert {a.status_code for a in answers} == {400}
    assert await checked_wrong_passwords(user) <= 3
    right = await attempt("Secret2026")
    assert right.status_code == 400 and "Vérifiez votre saisie" in right.text
    await user.refresh_from_db()
    assert user.locked_at is not None
    assert not await Session.filter(user_id=user.id).exists()


async def test_a_burst_of_wrong_passwords_on_graphql_then_the_right_one_gets_no_session(
        client, make_user):
    user = await make_user("Secret2026")
    token = await anonymous_token(client)

    def attempt(password: str):
        return client.post("/graphql", headers={"X-CSRF-Token": token}, json={
            "query": SIGN_IN, "variables": {"login": user.login, "password": password}})

    async def right_a_moment_later():
        # The right password follows the burst by 50 ms, as in the tester's report.
        await asyncio.sleep(0.05)
        return await attempt("Secret2026")

    *answers, right = await asyncio.gather(*(attempt(f"Faux{i}x2026") for i in range(19)),
                                           right_a_moment_later())
    assert all(a.json()["data"]["signIn"]["message"] == WRONG_CREDENTIALS for a in answers)
    assert right.json()["data"]["signIn"] == {"__typename": "SignInError",
                                              "message": WRONG_CREDENTIALS}
    assert await checked_wrong_passwords(user) <= 3
    assert not await Session.filter(user_id=user.id).exists()


async def test_a_temporary_password_sent_six_times_at_once_opens_one_session(client, make_user,
                                                                            settings):
    user = await make_user("Secret2026")
    temporary = await issue_temporary_password(user, settings=settings,
                                               now=datetime.now(timezone.utc))
    token = await anonymous_token(client)
    answers = await asyncio.gather(*(
        client.post("/connexion", data={"csrf_token": token, "login": user.login,
                                        "password": temporary, "next": "/espace"})
        for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [303] + [400] * 5
    assert await Session.filter(user_id=user.id).count() == 1
    # The others: already spent, or refused before any check (the slots of the lockout are
    # taken by the sends still running); none of them opened anything.
    assert any("il a expiré ou a déjà servi" in a.text for a in answers)


async def test_concurrent_wrong_old_passwords_on_the_change_form_check_three(client, make_user,
                                                                            sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    answers = await asyncio.gather(*(
        client.post("/mot-de-passe/changer", data={
            "csrf_token": token, "login": user.login, "old_password": f"Faux{i}x2026",
            "new_password": "Changee2026", "confirmation": "Changee2026"})
        for i in range(12)))
    assert all(a.status_code in (303, 400, 403) for a in answers)
    assert await AuditEvent.filter(actor_id=user.id,
                                   action="password_change_failed").count() <= 3
    await user.refresh_from_db()
    assert user.locked_at is not None


async def test_a_burst_on_the_real_server_checks_three_and_refuses_the_right_password(
        live_server, make_user):
    user = await make_user("Secret2026")
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
        token = await anonymous_token(http)

        def attempt(password: str):
            return http.post("/connexion", data={"csrf_token": token, "login": user.login,
                                                 "password": password, "next": "/espace"})

        async def right_a_moment_later():
            await asyncio.sleep(0.05)
            return await attempt("Secret2026")

        *answers, right = await asyncio.gather(
            *(attempt(f"Faux{i}x2026") for i in range(20)), right_a_moment_later())
    assert {a.status_code for a in answers} == {400}
    assert right.status_code == 400
    assert await checked_wrong_passwords(user) <= 3
    assert not await Session.filter(user_id=user.id).exists()

