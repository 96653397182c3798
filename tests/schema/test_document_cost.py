"""The cost of a document is bounded before it runs; PDFs never inside a list (issue 12)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    type_from_ast,
)

from ppas.domain.periods import Period
from ppas.models import FormLine
from ppas.services import api_tokens, billing_forms
from tests.billing_form_support import make_provider

LINES = 30
# The codes a client branches on (ppas/schema/extensions/document_cost.py).
TOO_COSTLY, NOT_IN_LISTS = "QUERY_TOO_COSTLY", "FIELD_NOT_ALLOWED_IN_LIST"


@pytest.fixture
async def vendor(db):
    """A provider whose last month's form is validated, read over /graphql with a token."""
    provider = await make_provider(LINES)
    now = datetime.now(timezone.utc)
    period = Period.of(now.date()).plus_months(-1)
    form = await billing_forms.open_form(provider.user, provider.convention.id, str(period), now)
    for line in await FormLine.filter(form_id=form.id):
        await billing_forms.save_line(provider.user, line.id, "3", "", line.version, now)
    await billing_forms.validate_form(provider.user, form.id, now)
    token = await api_tokens.create_token(provider.user, "Logiciel d'essai")
    return form.id, {"Authorization": f"Bearer {token.secret}"}


async def _post(client, headers, query, variables=None):
    response = await client.post("/graphql", headers=headers,
                                 json={"query": query, "variables": variables or {}})
    return response.json()


def _codes(result) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def fan_out(form_id) -> str:
    """15 aliases of billingForm → lines → form → lines → … down to the depth limit (10)."""
    nested = "lines(limit: 500) { items { form { lines(limit: 500) { items { form { " \
             "lines(limit: 500) { items { id } } } } } } } }"
    return "{ " + " ".join(f'f{i}: billingForm(id: "{form_id}") {{ {nested} }}'
                           for i in range(15)) + " }"


async def test_the_fan_out_through_lines_and_their_form_is_refused_before_it_runs(client, vendor):
    form_id, headers = vendor
    result = await _post(client, headers, fan_out(form_id))
    assert result.get("data") is None
    assert set(_codes(result)) == {NOT_IN_LISTS, TOO_COSTLY}
    refusal = next(e for e in result["errors"] if e["extensions"]["code"] == NOT_IN_LISTS)
    assert refusal["message"].startswith("Le champ form ne peut pas être demandé à l'intérieur "
                                         "d'une liste (chemin : billingForm.lines.items.form)")
    costly = next(e for e in result["errors"] if e["extensions"]["code"] == TOO_COSTLY)
    assert "Requête trop coûteuse" in costly["message"]
    assert costly["extensions"]["cost"] > costly["extensions"]["budget"] == 10000


async def test_nested_lists_multiply_with_their_default_sizes(client, vendor):
    """No back-reference, no limit written: the defaults still count, level after level."""
    _, headers = vendor
    cycle = "{ beneficiaries { items { carePlans { beneficiary { carePlans { beneficiary { " \
            "carePlans { id } } } } } } } }"
    result = await _post(client, headers, cycle)
    assert result.get("data") is None and _codes(result) == [TOO_COSTLY]


async def test_the_limit_of_a_variable_decides_the_cost(client, vendor):
    form_id, headers = vendor
    query = "query Wide($n: Int) { " + " ".join(
        f'f{i}: billingForm(id: "{form_id}") {{ lines(limit: $n) {{ items {{ id position hours '
        f'amount }} }} }}' for i in range(15)) + " }"
    refused = await _post(client, headers, query, {"n": 500})
    assert refused.get("data") is None and _codes(refused) == [TOO_COSTLY]
    allowed = await _post(client, headers, query, {"n": 20})
    assert "errors" not in allowed, allowed
    assert len(allowed["data"]["f14"]["lines"]["items"]) == 20


async def test_a_pdf_is_refused_inside_a_list_and_given_once_per_request(client, vendor):
    form_id, headers = vendor
    under_list = f'{{ billingForm(id: "{form_id}") {{ lines {{ items {{ form {{ recapPdf }} }} }} }} }}'
    result = await _post(client, headers, under_list)
    assert result.get("data") is None
    paths = [e["extensions"].get("path") for e in result["errors"]]
    assert "billingForm.lines.items.form.recapPdf" in paths
    two = f'{{ a: billingForm(id: "{form_id}") {{ recapPdf }} b: billingForm(id: "{form_id}") ' \
          '{ recapPdf } }'
    assert _codes(await _post(client, headers, two)) == [TOO_COSTLY]
    one = await _post(client, headers, f'{{ billingForm(id: "{form_id}") {{ recapPdf }} }}')
    assert one["data"]["billingForm"]["recapPdf"].startswith("JVBERi0")  # "%PDF-" in base64


async def test_a_vendor_reads_a_whole_page_of_lines_with_the_ui_fragments(app, client, vendor,
                                                                          settings):
    """The UI's own page document, at the largest page size, still runs through /graphql."""
    form_id, headers = vendor
    source = app.state.operations.operations["BillingFormPage"].source
    result = await _post(client, headers, source,
                         {"id": str(form_id), "offset": 0, "limit": settings.max_page_size})
    assert "errors" not in result, result
    assert len(result["data"]["billingForm"]["lines"]["items"]) == LINES


def _sample(type_):
    """A value of `type_` that passes coercion, for the variables of an operation."""
    if isinstance(type_, GraphQLNonNull):
        return _sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_sample(type_.of_type)]
    if isinstance(type_, GraphQLInputObjectType):
        return {name: _sample(f.type) for name, f in type_.fields.items()
                if isinstance(f.type, GraphQLNonNull)}
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    assert isinstance(type_, GraphQLScalarType)
    return {"Int": 0, "Boolean": False, "Date": "2025-01-01"}.get(type_.name, "1")


@pytest.mark.parametrize("page_size", ["ui", "max"])
async def test_every_named_operation_of_the_ui_fits_the_budget(app, settings, page_size):
    """What the web layer runs must stay below the budget, the form's page even at 500 lines."""
    from ppas.schema import cost_limits
    from ppas.schema.extensions.document_cost import Estimate, estimate

    schema = app.state.schema._schema
    limits = cost_limits(settings)
    size = settings.page_size if page_size == "ui" else settings.max_page_size
    limits = replace(limits, page_size=size)
    costs = {}
    for name, operation in app.state.operations.operations.items():
        definition = operation.document.definitions[0]
        variables = {d.variable.name.value: size if d.variable.name.value == "limit"
                     else _sample(type_from_ast(schema, d.type))
                     for d in definition.variable_definitions or ()}
        found = estimate(schema, operation.document, variables, name, limits)
        assert isinstance(found, Estimate), (name, found)
        assert found.refused_paths == [], name
        costs[name] = found.cost
    if page_size == "ui":
        assert len(costs) > 40 and max(costs.values()) <= limits.budget, costs
    else:
        assert costs["BillingFormPage"] <= limits.budget, costs["BillingFormPage"]
