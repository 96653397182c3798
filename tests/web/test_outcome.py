"""The typed view of a mutation's union result (ppas/web/operations.py: Outcome)."""
from __future__ import annotations

import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLUnionType,
    OperationDefinitionNode,
    get_named_type,
)

from ppas.schema import schema
from ppas.settings import Settings
from ppas.web.operations import Outcome, _fields, load_operations


def test_a_success_is_ok_and_keeps_its_payload():
    outcome = Outcome.of({"__typename": "PartnerUserSuccess", "user": {"id": "7"}})
    assert outcome.ok and not outcome.is_error and not outcome.is_conflict
    assert outcome.kind == "PartnerUserSuccess"
    assert (outcome.code, outcome.message, outcome.field) == ("", "", None)
    assert outcome.payload["user"] == {"id": "7"}
    assert outcome.problems == []


def test_a_success_may_carry_a_message():
    outcome = Outcome.of({"__typename": "ValidateRegistrationSuccess", "id": "3",
                          "login": "jdupont", "message": "Compte créé."})
    assert outcome.ok
    assert outcome.message == "Compte créé."


def test_a_success_not_named_success_is_ok():
    outcome = Outcome.of({"__typename": "BillingFileReport", "anomalies": []})
    assert outcome.ok and not outcome.is_error


def test_an_error_has_its_code_message_field_and_problems():
    outcome = Outcome.of({"__typename": "AdminError", "code": "INVALID_INPUT",
                          "message": "Le formulaire contient des erreurs.", "field": "email",
                          "problems": [{"field": "email", "message": "Adresse invalide."}]})
    assert outcome.is_error and not outcome.ok and not outcome.is_conflict
    assert outcome.code == "INVALID_INPUT"
    assert outcome.message == "Le formulaire contient des erreurs."
    assert outcome.field == "email"
    assert outcome.problems == [{"field": "email", "message": "Adresse invalide."}]


def test_an_error_without_a_code_field_or_problems():
    outcome = Outcome.of({"__typename": "SignInError", "message": "Identifiant inconnu.",
                          "field": "", "problems": None})
    assert outcome.is_error
    assert outcome.code == ""
    assert outcome.field is None
    assert outcome.problems == []


def test_a_conflict_is_neither_a_success_nor_an_error():
    outcome = Outcome.of({"__typename": "FormLineConflict", "message": "Modifiée entre-temps.",
                          "typedHours": "3", "typedSundayHours": None, "line": {"id": "1"}})
    assert outcome.is_conflict and not outcome.ok and not outcome.is_error
    assert outcome.payload["typedHours"] == "3"


def test_the_view_is_frozen():
    outcome = Outcome.of({"__typename": "SignInError", "code": "BAD_CREDENTIALS", "message": "x"})
    with pytest.raises(AttributeError):
        outcome.code = "OTHER"  # type: ignore[misc]


def test_a_result_without_its_typename_is_a_bug():
    with pytest.raises(ValueError, match="__typename"):
        Outcome.of({"code": "NOT_FOUND", "message": "Introuvable."})


def _mutation_unions() -> dict[str, GraphQLUnionType]:
    mutation = schema._schema.mutation_type
    return {name: named for name, field in mutation.fields.items()
            if isinstance(named := get_named_type(field.type), GraphQLUnionType)}


def test_every_error_of_a_mutation_result_has_a_code_and_a_message():
    """What Outcome relies on: error kinds end in Error and carry `code` and `message`."""
    unions = _mutation_unions()
    assert unions
    for union in unions.values():
        errors = [member for member in union.types if member.name.endswith("Error")]
        assert errors, f"{union.name} has no error kind"
        for member in errors:
            assert {"code", "message"} <= set(member.fields), member.name


def test_every_mutation_operation_selects_the_kind_and_the_code():
    unions = _mutation_unions()
    for operation in load_operations(Settings().operations_dir, schema).values():
        if operation.kind != "mutation":
            continue
        definition = next(d for d in operation.document.definitions
                          if isinstance(d, OperationDefinitionNode))
        fragments = {d.name.value: d for d in operation.document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        for root in definition.selection_set.selections:
            assert isinstance(root, FieldNode)
            if root.name.value not in unions:
                continue
            selected = _fields([root.selection_set], fragments)
            assert "__typename" in selected, f"{operation.name} does not select __typename"
            assert "code" in selected, f"{operation.name} does not select the error's code"
