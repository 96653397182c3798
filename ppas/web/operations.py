"""Named operations from graphql/operations/, checked against the schema at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, parse, validate

from ppas.schema.context import Context
from ppas.services.errors import AccessDenied, ServiceError


class InvalidOperation(Exception):
    """An operation document no longer validates against the schema."""


class OperationFailed(Exception):
    """A named operation returned errors; `messages` are safe to show."""

    def __init__(self, messages: list[str], *, denied: bool) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.denied = denied


@dataclass(frozen=True)
class Operation:
    """One named operation: its source and its kind (query or mutation)."""

    name: str
    source: str
    kind: str


def load_operations(directory: Path, schema: strawberry.Schema) -> dict[str, Operation]:
    """Parse and validate every document once; any invalid one stops start-up."""
    operations: dict[str, Operation] = {}
    for path in sorted(directory.glob("*.graphql")):
        source = path.read_text(encoding="utf-8")
        try:
            document = parse(source)
        except GraphQLError as error:
            raise InvalidOperation(f"{path.name}: {error.message}") from error
        errors = validate(schema._schema, document)
        if errors:
            details = "; ".join(e.message for e in errors)
            raise InvalidOperation(f"{path.name} does not validate against the schema: {details}")
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                name = definition.name.value
                if name in operations:
                    raise InvalidOperation(f"{path.name}: operation {name} is defined twice")
                operations[name] = Operation(name, source, definition.operation.value)
    return operations


class OperationRunner:
    """Executes named operations in-process with the request's context."""

    def __init__(self, schema: strawberry.Schema, operations: dict[str, Operation]) -> None:
        self.schema = schema
        self.operations = operations

    async def run(self, name: str, context: Context, **variables: Any) -> dict[str, Any]:
        """The operation's data, or OperationFailed with user-readable messages."""
        operation = self.operations[name]
        result = await self.schema.execute(
            operation.source,
            variable_values=variables,
            context_value=context,
            operation_name=name,
        )
        if result.errors:
            unexpected = [e for e in result.errors if not isinstance(e.original_error, ServiceError)]
            if unexpected:
                # A bug, not a refusal: let the server error page and the log show it.
                if unexpected[0].original_error is not None:
                    raise unexpected[0].original_error
                raise RuntimeError(f"{name}: " + "; ".join(e.message for e in unexpected))
            denied = any(isinstance(e.original_error, AccessDenied) for e in result.errors)
            raise OperationFailed([e.message for e in result.errors], denied=denied)
        return result.data or {}
