"""Per-request DataLoaders, so a list never costs one query per row."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from ppas.models import Beneficiary, CarePlan, Convention


def _by_id(model: Any):
    async def load(ids: Sequence[int]) -> list[Any]:
        rows = {row.id: row for row in await model.filter(id__in=set(ids))}
        return [rows.get(i) for i in ids]

    return load


def _grouped(rows: Iterable[Any], key: str, keys: Sequence[int]) -> list[list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return [groups.get(k, []) for k in keys]


class Loaders:
    """The loaders of one request; never shared between requests or users."""

    def __init__(self) -> None:
        self.beneficiary = DataLoader(load_fn=_by_id(Beneficiary))
        self.convention = DataLoader(load_fn=_by_id(Convention))
        self._plans_by_partner: dict[int, DataLoader] = {}

    def care_plans_of(self, partner_id: int) -> DataLoader:
        """Care plans by beneficiary id, limited to one partner's plans."""
        if partner_id not in self._plans_by_partner:

            async def load(beneficiary_ids: Sequence[int]) -> list[list[CarePlan]]:
                rows = await CarePlan.filter(
                    partner_id=partner_id, beneficiary_id__in=set(beneficiary_ids)
                ).order_by("-start_date", "id")
                return _grouped(rows, "beneficiary_id", beneficiary_ids)

            self._plans_by_partner[partner_id] = DataLoader(load_fn=load)
        return self._plans_by_partner[partner_id]
