"""Depth and alias limits as validation rules built once per schema."""
from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import AddValidationRules
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule


def document_limits(max_depth: int, max_aliases: int) -> Callable[[], AddValidationRules]:
    """A factory of the limits extension.

    Strawberry's QueryDepthLimiter and MaxAliasesLimiter build a new rule class for each
    instance, and ValidationCache keys on the rule classes: with one instance per request
    the cache never hits and every request re-validates its document. Rule classes made
    once here keep the key stable.
    """
    rules = [depth_rule(max_depth, None), alias_rule(max_aliases)]
    return lambda: AddValidationRules(rules)
