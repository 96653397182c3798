"""Count each GraphQL operation by name and outcome (ppas/metrics.py), from /graphql and pages."""
from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from ppas import metrics
from ppas.schema.extensions.masking import should_mask
from ppas.services.errors import ErrorCode

OK = "ok"
ERROR = "ERROR"  # an error without a code (there should be none)


def outcome_of(errors) -> str:
    """"ok", or the code of the first top-level error (a bounded enum)."""
    if not errors:
        return OK
    if should_mask(errors[0]):  # seen before MaskErrors gives it its code
        return ErrorCode.INTERNAL_ERROR.value
    code = (getattr(errors[0], "extensions", None) or {}).get("code")
    return str(code) if isinstance(code, str) and code.isupper() and len(code) <= 40 else ERROR


class OperationMetrics(SchemaExtension):
    """After each operation: ppas_graphql_operations{operation, outcome} + 1."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        try:
            name = context.operation_name
        except Exception:  # noqa: BLE001 - a document that did not parse has no name
            name = None
        result = context.result
        errors = (getattr(result, "errors", None) if result is not None else None) \
            or context.pre_execution_errors
        metrics.GRAPHQL_OPERATIONS.labels(metrics.operation_label(name), outcome_of(errors)).inc()
