"""changePassword and requestPasswordReset: errors as data, no extra guesses through aliases."""
from __future__ import annotations

import hashlib

from ppas.models import ApiToken, OutboxMessage, User
from ppas.services.sign_in import LOCKED

CHANGE = """mutation {{ {alias}changePassword(login: "{login}", oldPassword: "{old}",
  newPassword: "{new}", confirmation: "{new}") {{
    __typename
    ... on ChangePasswordSuccess {{ message }}
    ... on ChangePasswordError {{ message field problems }}
  }} }}"""


async def graphql(client, token: str, query: str) -> dict:
    response = await client.post("/graphql", json={"query": query},
                                 headers={"X-CSRF-Token": token})
    return response.json()


async def test_change_password_refusal_is_data_with_every_problem(client, make_user, sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    body = await graphql(client, token, CHANGE.format(alias="", login=user.login,
                                                      old="Secret2026", new="abc|"))
    assert "errors" not in body
    result = body["data"]["changePassword"]
    assert result["__typename"] == "ChangePasswordError" and result["field"] == "newPassword"
    assert result["problems"] == [
        "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères "
        "(il en compte 4).",
        "Le mot de passe doit contenir au moins un chiffre (0 à 9).",
        "Le caractère « | » n'est pas autorisé dans le mot de passe "
        "(caractères interdits : < > / ! # { } ; |).",
    ]
    ok = await graphql(client, token, CHANGE.format(alias="", login=user.login,
                                                    old="Secret2026", new="Valide2026"))
    assert ok["data"]["changePassword"] == {"__typename": "ChangePasswordSuccess",
                                            "message": "Votre nouveau mot de passe est enregistré."}
    # This session survives the change: the API client keeps working.
    me = await client.get("/graphql", params={"query": "{ me { login } }"})
    assert me.json()["data"]["me"]["login"] == user.login


async def test_aliases_give_no_more_than_three_old_password_guesses(client, make_user, sign_in):
    user = await make_user("Secret2026")
    token = await sign_in(client, user.login, "Secret2026")
    guesses = " ".join(
        f'g{i}: changePassword(login: "{user.login}", oldPassword: "{old}", '
        'newPassword: "Valide2026", confirmation: "Valide2026") '
        "{ ... on ChangePasswordError { message } ... on ChangePasswordSuccess { message } }"
        for i, old in enumerate(["Devine1aa", "Devine2aa", "Devine3aa", "Secret2026"]))
    body = await graphql(client, token, f"mutation {{ {guesses} }}")
    messages = [body["data"][f"g{i}"]["message"] for i in range(4)]
    assert messages[2] == LOCKED and messages[3] == LOCKED
    await user.refresh_from_db()
    assert user.locked_at is not None
    assert (await client.get("/graphql", params={"query": "{ me { login } }"})).json()["errors"]


async def test_change_password_needs_a_signed_in_session_not_a_token(client, make_user):
    user = await make_user("Secret2026", role="partner_admin")
    secret = "jeton-essai-" + user.login
    await ApiToken.create(partner_id=user.partner_id, created_by=user, name="essai",
                          token_hash=hashlib.sha256(secret.encode()).hexdigest())
    query = CHANGE.format(alias="", login=user.login, old="Secret2026", new="Valide2026")
    by_token = (await client.post("/graphql", json={"query": query},
                                  headers={"Authorization": f"Bearer {secret}"})).json()
    assert by_token["data"] is None and "jeton" in by_token["errors"][0]["message"]
    page = await client.get("/connexion")
    anonymous = await graphql(client, page.text.split('name="csrf_token" value="')[1].split('"')[0], query)
    assert anonymous["data"] is None and "Connectez-vous" in anonymous["errors"][0]["message"]
    await user.refresh_from_db()
    assert not user.must_change_password and user.failed_attempts == 0


async def test_request_password_reset_same_answer_and_limited_through_aliases(client, make_user):
    user = await make_user("Secret2026")
    await User.filter(id=user.id).update(email="alias.reset@example.org")
    page = await client.get("/connexion")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    calls = " ".join(
        f'r{i}: requestPasswordReset(login: "{login}", email: "alias.reset@example.org") '
        "{ __typename ... on RequestPasswordResetSuccess { message } }"
        for i, login in enumerate([user.login] * 5 + ["personne"]))
    data = (await graphql(client, token, f"mutation {{ {calls} }}"))["data"]
    assert len({data[f"r{i}"]["message"] for i in range(6)}) == 1
    assert {data[f"r{i}"]["__typename"] for i in range(6)} == {"RequestPasswordResetSuccess"}
    assert await OutboxMessage.filter(recipient="alias.reset@example.org").count() == 3


async def test_request_password_reset_incomplete_is_an_error_as_data(client):
    page = await client.get("/connexion")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    body = await graphql(client, token, 'mutation { requestPasswordReset(login: "", email: "") '
                                        "{ ... on RequestPasswordResetError { message field } } }")
    assert body["data"]["requestPasswordReset"]["field"] == "login"
