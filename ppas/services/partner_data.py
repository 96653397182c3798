"""Read the signed-in partner's own data: partner, conventions, beneficiaries, care plans."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ppas.models import Beneficiary, CarePlan, Convention, Partner, User
from ppas.services.access import partner_id_of

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: Sequence[T]
    total: int
    offset: int
    limit: int


async def own_partner(user: User | None) -> Partner:
    """The partner of the signed-in user."""
    return await Partner.get(id=partner_id_of(user))


async def own_conventions(user: User | None) -> list[Convention]:
    """Every convention of the user's partner, newest first."""
    return await Convention.filter(partner_id=partner_id_of(user)).order_by("-valid_from", "number")


async def own_beneficiaries(user: User | None, offset: int, limit: int) -> Page[Beneficiary]:
    """Beneficiaries with at least one care plan at the user's partner, by name."""
    partner_id = partner_id_of(user)
    query = Beneficiary.filter(care_plans__partner_id=partner_id).distinct()
    total = await query.count()
    items = await query.order_by("last_name", "first_name", "id").offset(offset).limit(limit)
    return Page(items, total, offset, limit)


async def own_beneficiary(user: User | None, beneficiary_id: int) -> Beneficiary | None:
    """One beneficiary, only if the user's partner has a care plan for them."""
    partner_id = partner_id_of(user)
    return await Beneficiary.filter(
        id=beneficiary_id, care_plans__partner_id=partner_id
    ).first()


async def own_care_plans(
    user: User | None, offset: int, limit: int, *, beneficiary_id: int | None = None
) -> Page[CarePlan]:
    """Care plans of the user's partner, most recent first."""
    query = CarePlan.filter(partner_id=partner_id_of(user))
    if beneficiary_id is not None:
        query = query.filter(beneficiary_id=beneficiary_id)
    total = await query.count()
    items = await query.order_by("-start_date", "id").offset(offset).limit(limit)
    return Page(items, total, offset, limit)
