"""Named operations from graphql/operations/, checked against the schema at start-up."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    execute,
    parse,
    print_ast,
    validate,
    visit,
)
from strawberry.execution import optimized_is_awaitable

from ppas import metrics
from ppas.schema.extensions.operation_metrics import outcome_of
from ppas.schema.context import Context
from ppas.services.errors import AccessDenied, ServiceError
from ppas.services.rate_limits import TooManyRequests


class InvalidOperation(Exception):
    """An operation document no longer validates against the schema."""


class OperationFailed(Exception):
    """A named operation returned errors; `messages` are safe to show."""

    def __init__(self, messages: list[str], *, denied: bool,
                 retry_after: int | None = None, codes: list[str] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.denied = denied
        self.retry_after = retry_after  # seconds, when a rate limit refused the request
        self.codes = codes or []  # the errors' extensions.code (ppas/services/errors.py)


@dataclass(frozen=True)
class Outcome:
    """The typed view of a mutation's union result (`SignInSuccess | SignInError`…).

    Every result selects `__typename` (its `kind`); an error type (`…Error`) has a `code`
    (its error code: `INVALID_INPUT`, `NOT_FOUND`…), a `message` in French and often the
    `field` it concerns; a `…Conflict` (the online form's concurrent save) is neither a
    success nor an error. The kind's own fields (a success's payload, an error's `problems`)
    stay in `payload`, the result as the operation answered it: handlers branch on `ok`,
    `is_error`, `is_conflict` and `code`, never on the type's name or on a message.
    """

    kind: str
    code: str = ""
    message: str = ""
    field: str | None = None
    payload: Mapping[str, Any] = dataclass_field(default_factory=dict)

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> Outcome:
        """The view of one result dict; the operation must select `__typename`."""
        kind = result.get("__typename")
        if not kind:
            raise ValueError("a mutation result without __typename: select it in the operation")
        return cls(kind=kind, code=result.get("code") or "", message=result.get("message") or "",
                   field=result.get("field") or None, payload=result)

    @property
    def is_error(self) -> bool:
        return self.kind.endswith("Error")

    @property
    def is_conflict(self) -> bool:
        return self.kind.endswith("Conflict")

    @property
    def ok(self) -> bool:
        """A success (`…Success`, or a kind such as `BillingFileReport`)."""
        return not self.is_error and not self.is_conflict

    @property
    def problems(self) -> list[Any]:
        """The error's per-field problems as selected (`[{field, message}]`, or strings for
        a password's rules); empty when the kind has none."""
        return list(self.payload.get("problems") or [])


@dataclass(frozen=True)
class Operation:
    """One named operation: its document as parsed at start-up, its source and its kind."""

    name: str
    source: str
    kind: str
    document: DocumentNode


class _Spreads(Visitor):
    """Collects the names of the fragments a node spreads."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args) -> None:
        self.names.add(node.name.value)


def _spread_names(node) -> set[str]:
    spreads = _Spreads()
    visit(node, spreads)
    return spreads.names


def _needed_fragments(operation: OperationDefinitionNode,
                      fragments: dict[str, FragmentDefinitionNode]) -> list[FragmentDefinitionNode]:
    """The fragments an operation uses, directly or through other fragments."""
    needed: dict[str, FragmentDefinitionNode] = {}
    pending = _spread_names(operation)
    while pending:
        name = pending.pop()
        if name in needed or name not in fragments:
            continue  # an unknown fragment is reported by validation
        needed[name] = fragments[name]
        pending |= _spread_names(fragments[name])
    return [needed[name] for name in sorted(needed)]


def load_operations(directory: Path, schema: strawberry.Schema) -> dict[str, Operation]:
    """Parse and validate every operation once; any invalid one stops start-up.

    Fragments may live in any file of the folder and are shared: each operation's document
    is the operation plus the fragments it uses, so what runs per request stays small.
    """
    fragments: dict[str, FragmentDefinitionNode] = {}
    found: list[tuple[str, OperationDefinitionNode]] = []
    for path in sorted(directory.glob("*.graphql")):
        try:
            document = parse(path.read_text(encoding="utf-8"))
        except GraphQLError as error:
            raise InvalidOperation(f"{path.name}: {error.message}") from error
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.name.value in fragments:
                    raise InvalidOperation(
                        f"{path.name}: fragment {definition.name.value} is defined twice")
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode) and definition.name:
                found.append((path.name, definition))
    operations: dict[str, Operation] = {}
    for file_name, definition in found:
        name = definition.name.value
        if name in operations:
            raise InvalidOperation(f"{file_name}: operation {name} is defined twice")
        document = DocumentNode(definitions=(definition, *_needed_fragments(definition, fragments)))
        errors = validate(schema._schema, document)
        if errors:
            details = "; ".join(e.message for e in errors)
            raise InvalidOperation(f"{file_name} does not validate against the schema: {details}")
        operations[name] = Operation(name, print_ast(document), definition.operation.value, document)
    return operations


class OperationRunner:
    """Executes named operations in-process with the request's context.

    The documents are the project's own, parsed and validated once by load_operations, so
    they run straight through graphql-core's executor on Strawberry's schema: the parse,
    validation and limit extensions guard /graphql, where documents come from outside,
    and cost half a millisecond per run here for nothing.
    """

    def __init__(self, schema: strawberry.Schema, operations: dict[str, Operation]) -> None:
        self.schema = schema
        self.operations = operations

    async def run(self, name: str, context: Context, **variables: Any) -> dict[str, Any]:
        """The operation's data, or OperationFailed with user-readable messages."""
        operation = self.operations[name]
        result = execute(self.schema._schema, operation.document, variable_values=variables,
                         context_value=context, operation_name=name,
                         executor_class=self.schema.execution_context_class,
                         is_awaitable=optimized_is_awaitable)
        if not isinstance(result, ExecutionResult):
            result = await result
        # Counted here too: pages run their operations past the schema's extensions.
        metrics.GRAPHQL_OPERATIONS.labels(name, outcome_of(result.errors)).inc()
        if result.errors:
            unexpected = [e for e in result.errors if not isinstance(e.original_error, ServiceError)]
            if unexpected:
                # A bug, not a refusal: let the server error page and the log show it.
                if unexpected[0].original_error is not None:
                    raise unexpected[0].original_error
                raise RuntimeError(f"{name}: " + "; ".join(e.message for e in unexpected))
            denied = any(isinstance(e.original_error, AccessDenied) for e in result.errors)
            waits = [e.original_error.retry_after for e in result.errors
                     if isinstance(e.original_error, TooManyRequests)]
            raise OperationFailed([e.message for e in result.errors], denied=denied,
                                  retry_after=max(waits) if waits else None,
                                  codes=[(e.extensions or {}).get("code", "") for e in result.errors])
        if not result.data:
            return {}
        return stored_values(self.schema._schema, operation.document, result.data)


def stored_values(schema: GraphQLSchema, document: DocumentNode,
                  data: dict[str, Any]) -> dict[str, Any]:
    """The data with every enum as its stored value (`OPEN` → "open", `PARTNER_ADMIN` →
    "partner_admin"): the one place the web layer maps them, so templates and handlers keep
    comparing the values the database and the domain use. Codes (`NOT_FOUND`, `F01`) are
    their own value and come back unchanged."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(operation.operation)
    return _map_object(schema, data, root, [operation.selection_set], fragments)


def _fields(selection_sets: list[SelectionSetNode],
            fragments: dict[str, FragmentDefinitionNode]) -> dict[str, list[FieldNode]]:
    """Field nodes by response key, through fragments (type conditions are settled by the
    data: a key absent from a union member's answer is skipped)."""
    found: dict[str, list[FieldNode]] = {}
    pending = [s for s in selection_sets if s is not None]
    while pending:
        for selection in pending.pop(0).selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                found.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                pending.append(fragments[selection.name.value].selection_set)
    return found


def _map_object(schema: GraphQLSchema, data: dict[str, Any], parent, selection_sets,
                fragments) -> dict[str, Any]:
    if not isinstance(parent, GraphQLObjectType):  # union or interface: the answer's type
        parent = schema.get_type(data.get("__typename", "")) or parent
    fields = getattr(parent, "fields", {})
    out = dict(data)
    for key, nodes in _fields(selection_sets, fragments).items():
        definition = fields.get(nodes[0].name.value)
        if key in out and definition is not None:
            out[key] = _map_value(schema, out[key], definition.type,
                                  [n.selection_set for n in nodes], fragments)
    return out


def _map_value(schema, value, type_, selection_sets, fragments):
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return _map_value(schema, value, type_.of_type, selection_sets, fragments)
    if isinstance(type_, GraphQLList):
        return [_map_value(schema, item, type_.of_type, selection_sets, fragments)
                for item in value]
    if isinstance(type_, GraphQLEnumType):
        return type_.values[value].value if value in type_.values else value
    if isinstance(value, dict):
        return _map_object(schema, value, type_, selection_sets, fragments)
    return value
