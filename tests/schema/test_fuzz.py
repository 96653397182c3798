"""Every query and mutation, fed arguments drawn from the schema's introspection: bad input
gets a readable error, never a 5xx and never the masked « Une erreur inattendue »."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_client_schema,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppas.schema import schema as portal_schema
from ppas.schema.extensions.masking import GENERIC_MESSAGE
from ppas.services import api_tokens
from tests.billing_file_support import make_provider

# The schema as a client sees it: built from the introspection answer, not from the Python.
CLIENT_SCHEMA = build_client_schema(portal_schema.introspect())
FIELDS = [(root.name, name) for root in (CLIENT_SCHEMA.query_type, CLIENT_SCHEMA.mutation_type)
          for name in root.fields]

# Values that broke ids, pages and coercion once: digits int() reads but an id never has,
# numbers past every integer column, and values of the wrong type.
TRICKY_TEXT = ["", " ", "0", "-1", "1", "²", "³", "١", "١٢", "1²", str(2**31), str(2**63),
               "9" * 40, "abc", "1e9", "1.5", "null", "\u200b", "é" * 300, "2026-13-45",
               "03_21231300_201010.xml", "a\x00b"]
WRONG_TYPE: list[Any] = [None, "x", 1.5, True, [], {}, [1], {"a": 1}, 2**63, -(2**63)]

text = st.one_of(st.sampled_from(TRICKY_TEXT), st.text(max_size=40))
integers = st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**70), 2**70))


def value_for(type_, depth: int = 0) -> st.SearchStrategy:
    """A value for an input type: mostly of that type, sometimes null or of the wrong type."""
    if isinstance(type_, GraphQLNonNull):
        inner = type_.of_type
        return st.one_of(value_for(inner, depth), st.sampled_from(WRONG_TYPE)) \
            if depth == 0 else value_for(inner, depth)
    wrong = st.sampled_from(WRONG_TYPE)
    if isinstance(type_, GraphQLList):
        return st.one_of(st.lists(value_for(type_.of_type, depth + 1), max_size=3), wrong)
    if isinstance(type_, GraphQLInputObjectType):
        fields = {name: value_for(field.type, depth + 1) for name, field in type_.fields.items()}
        return st.one_of(st.fixed_dictionaries({}, optional=fields), wrong) if depth > 2 \
            else st.one_of(st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields),
                           wrong)
    if isinstance(type_, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(type_.values)), text, wrong)
    assert isinstance(type_, GraphQLScalarType), type_
    by_name = {
        "Int": st.one_of(integers, wrong),
        "Float": st.one_of(st.floats(allow_nan=False), wrong),
        "Boolean": st.one_of(st.booleans(), wrong),
        "ID": st.one_of(text, integers, wrong),
        "String": st.one_of(text, wrong),
    }
    return by_name.get(type_.name, st.one_of(text, integers, wrong))  # Date, Decimal, Upload…


def selection(type_, depth: int = 0) -> str:
    """Every field without required arguments, two levels deep; a union by its members."""
    named = get_named_type(type_)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return ""
    if isinstance(named, GraphQLUnionType):
        parts = [f"... on {member.name} {selection(member, depth)}" for member in named.types]
        return "{ __typename " + " ".join(parts) + " }"
    assert isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)), named
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        leaf = isinstance(get_named_type(field.type), (GraphQLScalarType, GraphQLEnumType))
        if leaf:
            parts.append(name)
        elif depth < 1:
            parts.append(f"{name} {selection(field.type, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


def document(root: str, name: str) -> tuple[str, dict[str, st.SearchStrategy]]:
    """The operation calling `name` with every argument as a variable, and their strategies."""
    field = (CLIENT_SCHEMA.query_type if root == "Query" else CLIENT_SCHEMA.mutation_type).fields[name]
    definitions = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    kind = "query" if root == "Query" else "mutation"
    head = f"{kind} Fuzz({definitions})" if definitions else f"{kind} Fuzz"
    call = f"{name}({arguments})" if arguments else name
    source = f"{head} {{ {call} {selection(field.type)} }}"
    return source, {arg: value_for(spec.type) for arg, spec in field.args.items()}


@pytest.fixture(scope="module")
async def fuzz_client(app) -> AsyncIterator[httpx.AsyncClient]:
    # An address of its own (TEST-NET-3): limits counted per client address, such as the
    # sign-in rate limits, are not spent for the rest of the suite by the fuzz's calls.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.12", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="module")
async def anonymous_headers(fuzz_client) -> dict[str, str]:
    """An anonymous visitor's CSRF token (its cookie stays in the client)."""
    page = await fuzz_client.get("/connexion")
    return {"X-CSRF-Token": page.text.split('name="csrf_token" value="')[1].split('"')[0]}


@pytest.fixture(scope="module")
async def token_headers(db) -> dict[str, str]:
    """A partner admin's API token, of a throw-away provider: fuzzed mutations only ever
    change its own data (or are refused on anybody else's)."""
    provider = await make_provider(2)
    created = await api_tokens.create_token(provider.user, "Fuzz")
    return {"Authorization": f"Bearer {created.secret}"}


async def _call(http: httpx.AsyncClient, headers: dict[str, str], source: str,
                variables: dict[str, Any]) -> None:
    # Serialised here, ASCII only: any string the strategies draw reaches the server intact.
    body = json.dumps({"query": source, "variables": variables})
    response = await http.post("/graphql", content=body,
                               headers={**headers, "Content-Type": "application/json"})
    assert response.status_code < 500, (source, variables, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.text[:500]
    answer = response.json()
    masked = [e for e in answer.get("errors") or [] if GENERIC_MESSAGE in e["message"]]
    assert not masked, (source, variables, answer)


@pytest.mark.parametrize(("root", "name"), FIELDS, ids=[f"{r}.{n}" for r, n in FIELDS])
@settings(max_examples=4, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_no_argument_crashes_an_operation(root, name, fuzz_client, anonymous_headers,
                                                token_headers, data):
    source, strategies = document(root, name)
    variables = data.draw(st.fixed_dictionaries(strategies), label="variables")
    for headers in (anonymous_headers, token_headers):  # anonymously, then as the partner admin
        await _call(fuzz_client, headers, source, variables)


def test_every_operation_of_the_schema_is_fuzzed():
    assert len(FIELDS) == len(portal_schema._schema.query_type.fields) + len(
        portal_schema._schema.mutation_type.fields)
