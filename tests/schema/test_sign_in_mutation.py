"""The signIn mutation: errors as data, and aliases cannot multiply password guesses."""
from __future__ import annotations

from ppas.models import User
from ppas.services.sign_in import WRONG_CREDENTIALS


async def _anonymous_token(client) -> str:
    page = await client.get("/connexion")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_four_aliased_guesses_in_one_document_get_three_tries(client, make_user):
    user = await make_user("Secret2026")
    token = await _anonymous_token(client)
    guesses = " ".join(
        f'g{i}: signIn(login: "{user.login}", password: "{pw}") '
        "{ __typename ... on SignInError { message } }"
        for i, pw in enumerate(["Guess1aaa", "Guess2aaa", "Guess3aaa", "Secret2026"])
    )
    response = await client.post("/graphql", json={"query": f"mutation {{ {guesses} }}"},
                                 headers={"X-CSRF-Token": token})
    data = response.json()["data"]
    assert [data[f"g{i}"]["message"] for i in range(3)] == [WRONG_CREDENTIALS] * 3
    # The right password, fourth in the same document, is refused: the account is locked.
    assert data["g3"] == {"__typename": "SignInError", "message": WRONG_CREDENTIALS}
    await user.refresh_from_db()
    assert user.locked_at is not None


async def test_sign_in_mutation_sets_a_session_cookie(client, make_user):
    user = await make_user("Secret2026")
    token = await _anonymous_token(client)
    query = ('mutation { signIn(login: "%s", password: "Secret2026") '
             "{ __typename ... on SignInSuccess { viewer { login } } } }" % user.login)
    response = await client.post("/graphql", json={"query": query}, headers={"X-CSRF-Token": token})
    assert response.json()["data"]["signIn"] == {"__typename": "SignInSuccess",
                                                 "viewer": {"login": user.login}}
    assert "ppas_session=" in response.headers["set-cookie"]
    me = await client.get("/graphql", params={"query": "{ me { login } }"})
    assert me.json()["data"]["me"]["login"] == user.login
    assert (await User.get(id=user.id)).failed_attempts == 0


async def test_wrong_password_comes_back_as_data_not_as_an_error(client, make_user):
    user = await make_user("Secret2026")
    token = await _anonymous_token(client)
    query = ('mutation { signIn(login: "%s", password: "nope") '
             "{ ... on SignInError { message } } }" % user.login)
    body = (await client.post("/graphql", json={"query": query},
                              headers={"X-CSRF-Token": token})).json()
    assert "errors" not in body
    assert body["data"]["signIn"]["message"] == WRONG_CREDENTIALS


async def test_a_login_longer_than_30_characters_is_refused_as_data(client):
    token = await _anonymous_token(client)
    query = ('mutation { signIn(login: "%s", password: "Secret2026") '
             "{ __typename ... on SignInError { message } } }" % ("x" * 40))
    body = (await client.post("/graphql", json={"query": query},
                              headers={"X-CSRF-Token": token})).json()
    assert "errors" not in body, body
    assert body["data"]["signIn"]["__typename"] == "SignInError"
    assert "trop long" in body["data"]["signIn"]["message"]


async def test_a_reset_for_a_login_longer_than_30_characters_is_refused_as_data(client):
    token = await _anonymous_token(client)
    query = ('mutation { requestPasswordReset(login: "%s", email: "a@example.org") '
             "{ __typename ... on RequestPasswordResetError { message field } } }" % ("x" * 40))
    body = (await client.post("/graphql", json={"query": query},
                              headers={"X-CSRF-Token": token})).json()
    assert "errors" not in body, body
    answer = body["data"]["requestPasswordReset"]
    assert answer["__typename"] == "RequestPasswordResetError" and answer["field"] == "login"
    assert "trop long" in answer["message"]
