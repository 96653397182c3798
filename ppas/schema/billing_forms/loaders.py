"""Per-request DataLoaders of the billing form (kept on the request's context)."""
from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from ppas.models import CarePlan
from ppas.schema.context import Context


async def _care_plans(ids: Sequence[int]) -> list[CarePlan | None]:
    rows = {row.id: row for row in await CarePlan.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


def care_plan_loader(context: Context) -> DataLoader:
    """Care plans by id, one query per request whatever the number of lines."""
    loader = getattr(context, "_billing_care_plans", None)
    if loader is None:
        loader = DataLoader(load_fn=_care_plans)
        context._billing_care_plans = loader  # type: ignore[attr-defined]
    return loader
