"""The demo loads once and stays the same when loaded again."""
from __future__ import annotations

from ppas.models import Beneficiary, CarePlan, Convention, EvaluationOrder, Partner, User
from ppas.services.demo import DEMO_LOGINS, load_demo


async def _counts():
    return [await m.all().count() for m in (Partner, Convention, Beneficiary, CarePlan,
                                            EvaluationOrder)]


async def test_demo_is_idempotent_and_complete(db):
    before = await _counts()
    await load_demo()
    assert await _counts() == before
    provider = await Partner.get(structure_id="21231300")
    assert await CarePlan.filter(partner=provider, notified_at__isnull=False).count() == 40
    assert await Convention.filter(partner=provider, status="active").count() == 1
    assert await EvaluationOrder.filter(status="open").count() >= 1
    logins = set(await User.filter(login__in=list(DEMO_LOGINS)).values_list("login", flat=True))
    assert logins == set(DEMO_LOGINS)
