"""The cost of a document, estimated and bounded before anything runs.

Depth, alias and token limits bound the text of a document, not what it asks for: 15
aliases of `billingForm → lines → form → lines …` fit inside all three and still asked for
almost a million values. This extension estimates, before execution, how many field values
a document can produce with the variables it came with, and refuses it above a budget.

The estimate, per field: (its weight + the cost of its selection) × how many times it can
appear. A list appears as often as its page allows: its `limit`/`first` argument (literal,
variable or default; a null limit means the page size of the settings, as the resolvers
do), capped at the largest page a resolver accepts; a list inside a paginated field (a
page's `items`) takes that page's window; any other list the size its field declares
(`cost(size=…)`) or a default. Sizes multiply down the tree. Fragments on abstract
types are summed, an upper bound.

A field declared `cost(outside_lists=True)` is refused anywhere below a list: a PDF laid
out per row, or a back-reference to the parent a list was read from (the cycle above).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

COST_KEY = "ppas.cost"
TOO_COSTLY = "QUERY_TOO_COSTLY"
NOT_IN_LISTS = "FIELD_NOT_ALLOWED_IN_LIST"
_LIMIT_ARGUMENTS = ("limit", "first")


@dataclass(frozen=True)
class FieldCost:
    """What a field declares about its own cost."""

    size: int | None = None  # an unpaginated list: the number of items it holds at most
    weight: int = 1  # the cost of one value of the field (a PDF layout costs far more)
    outside_lists: bool = False  # refused under any list


def cost(*, size: int | None = None, weight: int = 1,
         outside_lists: bool = False) -> dict[str, FieldCost]:
    """The metadata of a Strawberry field: `strawberry.field(metadata=cost(size=16))`."""
    return {COST_KEY: FieldCost(size, weight, outside_lists)}


@dataclass(frozen=True)
class Limits:
    """The sizes the estimate works with, from the settings."""

    budget: int
    page_size: int  # what a null `limit` gives
    max_page_size: int  # the largest `limit` a resolver accepts
    # An unpaginated list that declares no size holds a partner's own few things
    # (conventions, users, tokens, a beneficiary's care plans): a few dozen at most.
    list_size: int = 20


@dataclass
class Estimate:
    cost: int
    refused_paths: list[str]  # `outside_lists` fields found under a list


def _declared(field_def) -> FieldCost:
    definition = field_def.extensions.get("strawberry-definition") if field_def.extensions else None
    metadata = getattr(definition, "metadata", None) or {}
    return metadata.get(COST_KEY) or FieldCost()


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: dict[str, Any], limits: Limits) -> None:
        self.schema, self.fragments, self.variables, self.limits = schema, fragments, variables, limits
        self.refused: list[str] = []

    def _window(self, field_def, node: FieldNode) -> int | None:
        """The page size a field with a limit argument asks for; None without such an argument."""
        names = [name for name in _LIMIT_ARGUMENTS if name in field_def.args]
        if not names:
            return None
        try:
            values = get_argument_values(field_def, node, self.variables)
        except GraphQLError:  # execution reports it; estimate the worst
            return self.limits.max_page_size
        asked = values.get(names[0])
        if not isinstance(asked, int):
            asked = self.limits.page_size
        return min(max(asked, 1), self.limits.max_page_size)

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None,
                   window: int | None, in_list: bool, path: str,
                   spread: frozenset[str] = frozenset()) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, window, in_list, path)
            elif isinstance(selection, InlineFragmentNode):
                target = (self.schema.get_type(selection.type_condition.name.value)
                          if selection.type_condition else parent)
                total += self.selections(target, selection.selection_set, window, in_list, path,
                                         spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:  # validation reports both
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(target, fragment.selection_set, window, in_list, path,
                                         spread | {name})
        return total

    def field(self, parent: GraphQLNamedType, node: FieldNode, window: int | None,
              in_list: bool, path: str) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0  # __typename; introspection is bounded by the depth limit
        field_def = parent.fields.get(name)
        if field_def is None:
            return 0
        declared = _declared(field_def)
        here = f"{path}.{name}" if path else name
        if declared.outside_lists and in_list:
            self.refused.append(here)
        own_window = self._window(field_def, node)
        is_list = isinstance(get_nullable_type(field_def.type), GraphQLList)
        if not is_list:
            count = 1
        elif own_window is not None:
            count = own_window
        elif window is not None:
            count = window  # a page's items: as many as the page above asks for
        else:
            count = declared.size if declared.size is not None else self.limits.list_size
        below = self.selections(get_named_type(field_def.type), node.selection_set,
                                own_window if not is_list else None, in_list or is_list, here)
        return count * (declared.weight + below)


def estimate(schema: GraphQLSchema, document, variables: dict[str, Any] | None,
             operation_name: str | None, limits: Limits) -> Estimate | list[GraphQLError]:
    """The cost of the operation that would run; graphql-core's errors for bad variables."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Estimate(0, [])
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return coerced
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, coerced, limits)
    root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type}[operation.operation]
    total = walk.selections(root, operation.selection_set, None, False, "")
    return Estimate(total, walk.refused)


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # French thousands separator


def refusals(found: Estimate, limits: Limits) -> list[GraphQLError]:
    """The errors a client gets for an estimate, none when the document may run."""
    errors = [GraphQLError(
        f"Le champ {path.rsplit('.', 1)[-1]} ne peut pas être demandé à l'intérieur d'une liste "
        f"(chemin : {path}) : demandez-le pour un seul élément, par exemple par billingForm(id: …) "
        "ou billingFormLine(id: …).",
        extensions={"code": NOT_IN_LISTS, "path": path})
        for path in dict.fromkeys(found.refused_paths)]  # once a path, however many aliases
    if found.cost > limits.budget:
        errors.append(GraphQLError(
            f"Requête trop coûteuse : elle peut produire environ {_number(found.cost)} valeurs, "
            f"pour un maximum de {_number(limits.budget)}. Réduisez la taille des pages (limit), les listes "
            "imbriquées ou le nombre d'alias, ou découpez-la en plusieurs requêtes.",
            extensions={"code": TOO_COSTLY, "cost": found.cost, "budget": limits.budget}))
    return errors


def document_cost(limits: Limits) -> Callable[[], SchemaExtension]:
    """A factory of the extension refusing documents above the budget before they run."""

    class DocumentCost(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and not context.result:
                found = estimate(context.schema._schema, document, context.variables,
                                 context.operation_name, limits)
                # Bad variables: let the executor report them in its own words.
                errors = refusals(found, limits) if isinstance(found, Estimate) else []
                if errors:
                    # A result set here is returned instead of executing the document.
                    context.result = ExecutionResult(data=None, errors=errors)
            yield

    return DocumentCost


__all__ = ["NOT_IN_LISTS", "TOO_COSTLY", "FieldCost", "Limits", "cost", "document_cost",
           "estimate", "refusals"]
