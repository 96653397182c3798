"""The administration pages and /graphql with API tokens: who may do what, CSRF, isolation."""
from __future__ import annotations

import html
import re
import secrets

from ppas.domain.password_hashing import hash_password
from ppas.domain.typography import french_spacing
from ppas.models import (
    ApiToken,
    Caisse,
    Convention,
    ConventionStatus,
    Partner,
    Role,
    User,
)
from ppas.services import api_tokens
from ppas.services.demo import DEMO_PASSWORD

PASSWORD = "Secret2026"
SECRET_IN_PAGE = re.compile(r'id="jeton-cree" type="text" readonly value="(ppas_[^"]+)"')


async def provider_b_admin() -> User:
    """An admin of a second, throw-away provider, who can sign in."""
    caisse = await Caisse.get(code="03")
    partner = await Partner.create(caisse=caisse, structure_id=f"7{secrets.randbelow(10**7):07d}",
                                   name="Structure B", address_line="2 rue B",
                                   postal_code="13002", city="Marseille")
    return await User.create(login=f"admb{secrets.token_hex(5)}",
                             password_hash=hash_password(PASSWORD), role=Role.PARTNER_ADMIN,
                             caisse=caisse, partner=partner, first_name="Bruno",
                             last_name="BETA", email="b@essai.invalid")


async def graphql(client, query, *, bearer=None, csrf=None, variables=None):
    headers = {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if csrf:
        headers["X-CSRF-Token"] = csrf
    return await client.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers=headers)


# --- tokens on /graphql ----------------------------------------------------------------------

async def test_a_token_reads_its_partners_data_without_csrf_and_nothing_else(client, make_user):
    admin = await make_user(role="partner_admin")  # provider 21231300
    created = await api_tokens.create_token(admin, "Logiciel A")

    response = await graphql(client, "{ partner { structureId } beneficiaries(limit: 100) "
                                     "{ totalCount items { fileNumber } } }",
                             bearer=created.secret)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["partner"]["structureId"] == "21231300"
    assert data["beneficiaries"]["totalCount"] == 40
    assert all(b["fileNumber"].startswith("030001") for b in data["beneficiaries"]["items"])
    assert "set-cookie" not in response.headers or "ppas_session" not in response.headers[
        "set-cookie"]
    assert (await ApiToken.get(id=created.token.id)).last_used_at is not None


async def test_a_token_never_administers(client, make_user):
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token(admin, "Logiciel sans admin")
    result = (await graphql(client, "{ partnerUsers { login } }", bearer=created.secret)).json()
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The refusal says what to do instead: sign in to the portal.
    assert "connectez-vous au portail" in result["errors"][0]["message"]
    result = (await graphql(client, 'mutation { createApiToken(name: "fils") { __typename } }',
                            bearer=created.secret)).json()
    assert result["data"] is None
    assert await ApiToken.filter(name="fils").count() == 0


async def test_a_revoked_or_unknown_token_gets_nothing(client, make_user):
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token(admin, "Logiciel révoqué")
    await api_tokens.revoke_token(admin, created.token.id, now=created.token.created_at)
    for bearer in (created.secret, "ppas_" + secrets.token_urlsafe(32)):
        response = await graphql(client, "{ partner { name } }", bearer=bearer)
        # Not served as anonymous: 401, so the software learns its token is dead (RFC 6750).
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer ")
        result = response.json()
        assert "data" not in result
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_cookie_requests_need_the_csrf_token(client, sign_in, make_user):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    csrf = await sign_in(client, admin.login, PASSWORD)
    mutation = 'mutation { createApiToken(name: "sans csrf") { __typename } }'

    refused = await graphql(client, mutation)
    assert refused.status_code == 403
    form = await client.post("/administration/jetons", data={"name": "sans csrf"})
    assert form.status_code == 403
    assert not await ApiToken.filter(created_by_id=admin.id).exists()

    accepted = await graphql(client, mutation, csrf=csrf)
    assert accepted.json()["data"]["createApiToken"]["__typename"] == "CreateApiTokenSuccess"


# --- who may use the pages -------------------------------------------------------------------

async def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = await client.get("/administration/utilisateurs")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suivant=/administration/utilisateurs"


async def test_a_partner_user_cannot_administer(client, sign_in, make_user):
    plain = await make_user(password=PASSWORD, role="partner_user")
    csrf = await sign_in(client, plain.login, PASSWORD)
    home = await client.get("/espace")
    assert 'href="/administration"' not in home.text
    for path in ("/administration", "/administration/utilisateurs", "/administration/jetons",
                 "/administration/partenaire", "/administration/conventions"):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "réservée aux administrateurs du partenaire" in response.text
    response = await client.post("/administration/jetons", data={"csrf_token": csrf,
                                                                  "name": "pirate"})
    assert response.status_code == 403
    result = (await graphql(client, "{ partnerUsers { login } }", csrf=csrf)).json()
    assert result["errors"][0]["message"] == ("L'administration est réservée aux "
                                              "administrateurs du partenaire.")


async def test_an_admin_cannot_reach_another_partners_users_or_tokens(client, sign_in, make_user):
    admin_b = await provider_b_admin()
    their_token = await api_tokens.create_token(admin_b, "Logiciel B")
    admin_a = await make_user(password=PASSWORD, role="partner_admin")
    csrf = await sign_in(client, admin_a.login, PASSWORD)

    users = await client.get("/administration/utilisateurs")
    assert users.status_code == 200
    assert "demouser" in users.text and admin_b.login not in users.text
    assert "autreadmin" not in users.text
    assert (await client.get(f"/administration/utilisateurs/{admin_b.id}")).status_code == 404
    tokens = await client.get("/administration/jetons")
    assert "Logiciel B" not in tokens.text
    assert (await client.get(f"/administration/jetons/{their_token.token.id}/revoquer")
            ).status_code == 404

    # Forged posts against B's objects change nothing.
    response = await client.post(f"/administration/utilisateurs/{admin_b.id}/desactiver",
                                 data={"csrf_token": csrf})
    assert response.status_code == 403
    assert "n'appartient pas à votre structure" in html.unescape(response.text)
    await admin_b.refresh_from_db()
    assert admin_b.active
    response = await client.post(f"/administration/jetons/{their_token.token.id}/revoquer",
                                 data={"csrf_token": csrf})
    assert response.status_code == 404
    result = (await graphql(client, "mutation($id: ID!) { revokeApiToken(id: $id) "
                                    "{ __typename ... on AdminError { code } } }", csrf=csrf,
                            variables={"id": str(their_token.token.id)})).json()
    # Someone else's token is not found, as data: its existence is not told.
    assert result["data"]["revokeApiToken"] == {"__typename": "AdminError", "code": "NOT_FOUND"}
    assert (await ApiToken.get(id=their_token.token.id)).revoked_at is None
    result = (await graphql(client, "mutation($id: ID!) { updatePartnerUser(id: $id, input: "
                                    '{lastName: "X", firstName: "Y", email: "x@y.fr", '
                                    'role: PARTNER_USER}) { __typename ... on AdminError { code } } }',
                            csrf=csrf, variables={"id": str(admin_b.id)})).json()
    assert result["data"]["updatePartnerUser"] == {"__typename": "AdminError", "code": "NOT_FOUND"}
    await admin_b.refresh_from_db()
    assert (admin_b.last_name, admin_b.role) == ("BETA", Role.PARTNER_ADMIN)


# --- the pages at work -------------------------------------------------------------------------

async def test_the_admin_creates_a_user_through_the_form(client, sign_in, make_user):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    csrf = await sign_in(client, admin.login, PASSWORD)
    assert 'href="/administration"' in (await client.get("/espace")).text
    login = f"form{secrets.token_hex(4)}"

    refused = await client.post("/administration/utilisateurs/nouveau", data={
        "csrf_token": csrf, "login": "andré", "lastName": "", "firstName": "Zoé",
        "email": "zoe@essai.invalid", "role": "partner_user"})
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert "Le caractère « é » n'est pas autorisé" in html.unescape(refused.text)
    assert re.search(r'id="f-login"[^>]*aria-describedby="aide-login erreur-login"[^>]*'
                     r'aria-invalid="true"', refused.text)
    assert re.search(r'id="f-lastName"[^>]*aria-invalid="true"', refused.text)
    assert 'value="Zoé"' in refused.text  # what was typed stays

    created = await client.post("/administration/utilisateurs/nouveau", data={
        "csrf_token": csrf, "login": login, "lastName": "Roux", "firstName": "Zoé",
        "email": f"{login}@essai.invalid", "phone": "", "role": "evaluator"})
    assert created.status_code == 303
    listing = await client.get(created.headers["location"])
    assert f"Le compte {login} est créé" in listing.text
    user = await User.get(login=login)
    assert user.role == Role.EVALUATOR and user.must_change_password

    edited = await client.post(f"/administration/utilisateurs/{user.id}", data={
        "csrf_token": csrf, "lastName": "Roux-Martin", "firstName": "Zoé",
        "email": f"{login}@essai.invalid", "phone": "0600000000", "role": "partner_user"})
    assert edited.status_code == 303
    await user.refresh_from_db()
    assert (user.last_name, user.role) == ("Roux-Martin", Role.PARTNER_USER)

    # « Désactiver » asks first, saying what it ends; nothing changes until confirmed.
    listing = await client.get("/administration/utilisateurs")
    assert f'href="/administration/utilisateurs/{user.id}/desactiver"' in listing.text
    ask = await client.get(f"/administration/utilisateurs/{user.id}/desactiver")
    assert ask.status_code == 200 and "Confirmer la désactivation" in ask.text
    assert "sessions en cours prennent fin" in html.unescape(ask.text)
    await user.refresh_from_db()
    assert user.active
    off = await client.post(f"/administration/utilisateurs/{user.id}/desactiver",
                            data={"csrf_token": csrf})
    assert off.status_code == 303
    assert "est désactivé" in (await client.get(off.headers["location"])).text
    await user.refresh_from_db()
    assert not user.active

    own = await client.post(f"/administration/utilisateurs/{admin.id}/desactiver",
                            data={"csrf_token": csrf})
    assert own.status_code == 400
    assert "Vous ne pouvez pas désactiver votre propre compte" in html.unescape(own.text)


async def test_a_token_is_shown_once_then_revoked_after_confirmation(client, sign_in, make_user):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    csrf = await sign_in(client, admin.login, PASSWORD)

    page = await client.post("/administration/jetons", data={"csrf_token": csrf,
                                                             "name": "Facturo"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    secret = SECRET_IN_PAGE.search(page.text).group(1)
    assert "il ne sera plus jamais affiché" in page.text
    assert secret not in (await client.get("/administration/jetons")).text

    # The token works for the vendor…
    assert (await graphql(client, "{ me { login } }", bearer=secret)).json()["data"] == {
        "me": {"login": admin.login}}
    token = await ApiToken.get(created_by_id=admin.id, name="Facturo")
    confirm = await client.get(f"/administration/jetons/{token.id}/revoquer")
    assert french_spacing("Révoquer le jeton « Facturo » ?") in confirm.text
    assert (await ApiToken.get(id=token.id)).revoked_at is None  # the GET changes nothing
    done = await client.post(f"/administration/jetons/{token.id}/revoquer",
                             data={"csrf_token": csrf})
    assert done.status_code == 303
    assert "Le jeton est révoqué" in (await client.get(done.headers["location"])).text
    # …until it is revoked.
    assert (await graphql(client, "{ me { login } }", bearer=secret)).status_code == 401


async def test_partner_data_form_keeps_the_structure_id(client, sign_in):
    admin = await provider_b_admin()
    csrf = await sign_in(client, admin.login, PASSWORD)
    partner = await Partner.get(id=admin.partner_id)

    refused = await client.post("/administration/partenaire", data={
        "csrf_token": csrf, "name": "B", "addressLine": "2 rue B", "postalCode": "13",
        "city": "Marseille", "structureId": "00000000"})
    assert refused.status_code == 400 and "5 chiffres" in refused.text
    saved = await client.post("/administration/partenaire", data={
        "csrf_token": csrf, "name": "Structure B renommée", "addressLine": "2 rue B",
        "postalCode": "13002", "city": "Marseille", "phone": "", "email": "",
        "structureId": "00000000"})
    assert saved.status_code == 303
    await partner.refresh_from_db()
    assert partner.name == "Structure B renommée"
    assert partner.structure_id.startswith("7")


async def test_a_convention_request_goes_from_the_partner_to_the_caisse(client, sign_in, app):
    import httpx

    admin = await provider_b_admin()
    csrf = await sign_in(client, admin.login, PASSWORD)
    sent = await client.post("/administration/conventions", data={
        "csrf_token": csrf, "prestationCode": "014", "comment": "Portage de repas à Aubagne"})
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"])
    assert "Votre demande est transmise à la caisse" in page.text
    convention = await Convention.get(partner_id=admin.partner_id, prestation_code="014")
    assert f"{convention.number} (numéro provisoire)" in page.text
    assert (await client.get("/caisse/conventions")).status_code == 403

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as agent:
        agent_csrf = await sign_in(agent, "caisseagent", DEMO_PASSWORD)
        assert 'href="/caisse/conventions"' in (await agent.get("/espace")).text
        listing = await agent.get("/caisse/conventions")
        assert "Portage de repas à Aubagne" in listing.text and "Structure B" in listing.text
        wrong = await agent.post(f"/caisse/conventions/{convention.id}", data={
            "csrf_token": agent_csrf, "decision": "valider", "number": "", "hourlyRate": "-2"})
        assert wrong.status_code == 400
        assert re.search(r'id="f-hourlyRate"[^>]*aria-invalid="true"', wrong.text)
        number = f"C03-{secrets.randbelow(10**6)}"
        ok = await agent.post(f"/caisse/conventions/{convention.id}", data={
            "csrf_token": agent_csrf, "decision": "valider", "number": number,
            "hourlyRate": "23,10"})
        assert ok.status_code == 303
        assert "la convention est active" in (await agent.get(ok.headers["location"])).text

    await convention.refresh_from_db()
    assert (convention.status, convention.number) == (ConventionStatus.ACTIVE, number)
    assert number in (await client.get("/administration/conventions")).text
