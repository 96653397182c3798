"""Refusals carry codes a program can branch on: top-level `extensions.code` for who asks,
the mutation's `code` for what is asked (ppas/schema/errors.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ppas.schema import schema
from ppas.schema.errors import (
    AccountErrorCode,
    BackOfficeErrorCode,
    BillingFileErrorCode,
    BillingFormErrorCode,
    JobErrorCode,
    PartnerAdminErrorCode,
    RegistrationErrorCode,
)
from ppas.services import api_tokens
from ppas.services.errors import DESCRIPTIONS, TOP_LEVEL_CODES, ErrorCode
from tests.billing_file_support import make_provider

SERVICES = Path(__file__).resolve().parents[2] / "ppas" / "services"

# The services whose refusals each feature's mutations return as data.
FEATURE_SERVICES = {
    AccountErrorCode: ["passwords.py", "sign_in.py"],
    BillingFormErrorCode: ["billing_forms.py"],
    BillingFileErrorCode: ["billing_rebill.py", "billing_ingest"],
    PartnerAdminErrorCode: ["partner_admin.py", "api_tokens.py", "webhooks.py"],
    RegistrationErrorCode: ["registration.py", "captcha.py"],
    JobErrorCode: ["jobs/admin.py"],
    BackOfficeErrorCode: ["back_office.py"],
}


@pytest.mark.parametrize("enum", list(FEATURE_SERVICES), ids=lambda e: e.__name__)
def test_every_code_a_feature_raises_is_in_its_enum(enum):
    """A code missing from its feature's enum would fail at run time (a masked error)."""
    raised = set()
    for name in FEATURE_SERVICES[enum]:
        path = SERVICES / name  # a module, or a package split by stage
        for source in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            raised |= set(re.findall(r"ErrorCode\.([A-Z_]+)", source.read_text()))
    top_level = {code.name for code in TOP_LEVEL_CODES}
    missing = sorted(raised - top_level - set(enum.__members__))
    assert missing == [], f"{enum.__name__} lacks {missing}"


def test_the_sdl_declares_a_code_on_every_error_type():
    sdl = schema.as_str()
    for name, body in re.findall(r"type (\w+Error) \{(.*?)\}", sdl, re.S):
        assert re.search(r"\bcode: \w+ErrorCode!", body), f"{name} has no code"


def test_every_code_is_documented():
    assert [code for code in ErrorCode if not DESCRIPTIONS.get(code)] == []


@pytest.fixture
async def provider(db):
    return await make_provider(1)


async def _graphql(client, query, headers=None, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers=headers or {})
    return response.json()


async def _anonymous(client) -> dict[str, str]:
    """The CSRF token of an anonymous browser (a cookie request needs it)."""
    page = await client.get("/connexion")
    return {"X-CSRF-Token": page.text.split('name="csrf_token" value="')[1].split('"')[0]}


async def test_an_anonymous_caller_is_unauthenticated(client):
    body = await _graphql(client, "{ billingForms { toFill { period } } }", await _anonymous(client))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_api_token_may_not_administer(client, provider):
    token = await api_tokens.create_token(provider.user, "Logiciel des codes")
    headers = {"Authorization": f"Bearer {token.secret}"}
    body = await _graphql(client, "{ partnerUsers { login } }", headers)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    revoke = await _graphql(client, 'mutation { revokeApiToken(id: "1") { __typename } }',
                            headers)
    assert revoke["data"] is None and revoke["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    password = await _graphql(client, (
        'mutation { changePassword(login: "x", oldPassword: "x", newPassword: "x", '
        'confirmation: "x") { __typename } }'), headers)
    assert password["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The same token bills: the refusal is about administering, not about the token.
    forms = await _graphql(client, "{ billingForms { toFill { period } } }", headers)
    assert "errors" not in forms


FORM_ACTION = """mutation($id: ID!) { validateBillingForm(id: $id) {
  __typename ... on BillingFormError { code message field } } }"""
OPEN_FORM = """mutation($c: ID!, $p: String!) { openBillingForm(conventionId: $c, period: $p) {
  __typename ... on BillingFormError { code field } } }"""


async def test_someone_elses_or_an_unknown_form_is_not_found_as_data(client, provider):
    other = await make_provider(1)
    token = await api_tokens.create_token(other.user, "Logiciel de l'autre")
    headers = {"Authorization": f"Bearer {token.secret}"}
    opened = await _graphql(client, OPEN_FORM, headers, c=str(other.convention.id), p="2020-01")
    assert opened["data"]["openBillingForm"] == {
        "__typename": "BillingFormError", "code": "PERIOD_NOT_BILLABLE", "field": "period"}
    foreign_convention = await _graphql(client, OPEN_FORM, headers,
                                        c=str(provider.convention.id), p="2026-01")
    assert foreign_convention["data"]["openBillingForm"]["code"] == "NOT_FOUND"
    for unknown in ("999999999", "pas-un-id"):
        body = await _graphql(client, FORM_ACTION, headers, id=unknown)
        assert body["data"]["validateBillingForm"]["code"] == "NOT_FOUND"


async def test_a_wrong_password_is_a_code(client, provider):
    body = await _graphql(client, """mutation($l: String!) { signIn(login: $l, password: "Faux2026") {
      __typename ... on SignInError { code } } }""", await _anonymous(client), l=provider.login)
    assert body["data"]["signIn"] == {"__typename": "SignInError", "code": "WRONG_CREDENTIALS"}


async def test_the_vendor_page_lists_every_code_from_the_schema(client):
    page = await client.get("/documentation/api")
    assert page.status_code == 200
    text = page.text
    for enum in FEATURE_SERVICES:
        for value in enum.__members__:
            assert f"<code>{value}</code>" in text, value
    for code in TOP_LEVEL_CODES:
        assert f"<code>{code.value}</code>" in text
    for value in ("OPEN", "PARTNER_ADMIN", "L05", "REQUESTED"):
        assert f"<code>{value}</code>" in text
    assert "Journal des modifications" in text and "Version 2" in text
    docs = await client.get("/documentation")
    assert 'href="/documentation/api"' in docs.text
