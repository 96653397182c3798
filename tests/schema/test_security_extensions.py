"""Depth, alias and token limits, masked errors, GraphiQL for caisse admins only, GET is read-only."""
from __future__ import annotations

from ppas.services.demo import DEMO_PASSWORD


async def _post(client, token, query):
    response = await client.post("/graphql", json={"query": query}, headers={"X-CSRF-Token": token})
    return response.json()


async def test_too_deep_query_is_refused(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    deep = "{ carePlans { items { " + "beneficiary { carePlans { " * 6 + "id" + " } }" * 6 + " } } }"
    result = await _post(client, token, deep)
    assert "exceeds maximum operation depth" in result["errors"][0]["message"]


async def test_too_many_aliases_are_refused(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    aliased = "{ " + " ".join(f"a{i}: partner {{ name }}" for i in range(20)) + " }"
    result = await _post(client, token, aliased)
    assert "aliases" in result["errors"][0]["message"]


async def test_oversized_document_is_refused(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    huge = "{ partner { " + "name " * 3000 + "} }"
    result = await _post(client, token, huge)
    assert "more than 2000 tokens" in result["errors"][0]["message"]


async def test_graphiql_only_for_caisse_admin(client, sign_in):
    await sign_in(client, "demoadmin", DEMO_PASSWORD)
    refused = await client.get("/graphql", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "réservé aux administrateurs" in refused.text
    await client.post("/deconnexion", headers={"X-CSRF-Token": (await _token(client))})
    await sign_in(client, "caisseadmin", DEMO_PASSWORD)
    allowed = await client.get("/graphql", headers={"Accept": "text/html"})
    assert allowed.status_code == 200 and "graphiql" in allowed.text.lower()


async def _token(client):
    page = await client.get("/espace")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_get_never_runs_a_mutation(client, sign_in):
    await sign_in(client, "demoadmin", DEMO_PASSWORD)
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)


async def test_unexpected_errors_are_masked(app):
    from ppas.schema.extensions.masking import GENERIC_MESSAGE, should_mask
    from graphql import GraphQLError

    assert should_mask(GraphQLError("boom", original_error=ZeroDivisionError()))
    assert not should_mask(GraphQLError("Cannot query field"))
    assert GENERIC_MESSAGE.startswith("Une erreur inattendue")


async def test_repeated_documents_are_validated_once(client, sign_in):
    """The depth and alias rules must not defeat the validation cache (one validation per text)."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    query = "query RepeatedForCache { partner { name city } }"
    cache = _get_validate_cache(256)
    await _post(client, token, query)
    before = cache.cache_info()
    result = await _post(client, token, query)
    after = cache.cache_info()
    assert result["data"]["partner"]["name"]
    assert after.hits == before.hits + 1 and after.misses == before.misses


async def test_named_operations_run_the_document_parsed_at_start_up(app, settings, db):
    """The UI's own operations are neither parsed nor validated again on each request."""
    from strawberry.extensions.parser_cache import _get_parse_cache
    from strawberry.extensions.validation_cache import _get_validate_cache

    from ppas.models import User
    from ppas.schema.context import Context

    context = Context(request=None, user=await User.get(login="demouser"), settings=settings)
    parses, validations = _get_parse_cache(256).cache_info(), _get_validate_cache(256).cache_info()
    data = await app.state.operations.run("PartnerHome", context, billing=False)
    assert data["partner"]["structureId"] == "21231300"
    assert _get_parse_cache(256).cache_info() == parses
    assert _get_validate_cache(256).cache_info() == validations
