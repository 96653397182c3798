"""PreparedQuery: built once, it answers like the queryset it was built from."""
from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from ppas.models import Beneficiary, Caisse, CarePlan
from ppas.models.prepared import PreparedQuery
from tests.billing_form_support import make_provider

PLAN_OF_PARTNER = PreparedQuery(
    lambda plan_id, partner_id: CarePlan.filter(id=plan_id, partner_id=partner_id)
    .select_related("beneficiary__caisse", "convention").limit(1),
    plan_id=-1, partner_id=-2)


async def test_rows_and_related_models_match_the_plain_queryset(db):
    provider = await make_provider(2)
    for plan in provider.plans:
        prepared = await PLAN_OF_PARTNER.first(plan_id=plan.id, partner_id=provider.partner.id)
        plain = await CarePlan.filter(id=plan.id).select_related(
            "beneficiary__caisse", "convention").first()
        assert prepared.id == plain.id and prepared.hourly_rate == plain.hourly_rate
        assert prepared.notified_at == plain.notified_at
        assert prepared.beneficiary.last_name == plain.beneficiary.last_name
        assert prepared.beneficiary.caisse.code == "03"
        assert prepared.convention.number == provider.convention.number


async def test_each_run_takes_its_own_values(db):
    owner, other = await make_provider(1), await make_provider(1)
    plan = owner.plans[0]
    assert await PLAN_OF_PARTNER.first(plan_id=plan.id, partner_id=other.partner.id) is None
    assert (await PLAN_OF_PARTNER.first(plan_id=plan.id, partner_id=owner.partner.id)).id == plan.id


async def test_it_runs_on_the_transaction_connection(db):
    caisse = await Caisse.get(code="03")
    by_file = PreparedQuery(lambda number: Beneficiary.filter(file_number=number), number="\x00n")
    async with in_transaction():
        await Beneficiary.create(caisse=caisse, file_number="0399999999", last_name="VU",
                                 first_name="Dans la transaction")
        seen = await by_file.all(number="0399999999")
        assert [b.first_name for b in seen] == ["Dans la transaction"]


async def test_a_placeholder_that_is_not_a_parameter_is_refused(db):
    wrong = PreparedQuery(lambda plan_id: CarePlan.filter(id=5), plan_id=-1)
    with pytest.raises(ValueError, match="placeholder 'plan_id' appears 0 times"):
        await wrong.first(plan_id=5)


def test_hand_written_statements_get_each_dialect_s_parameter_marks():
    from ppas.models.prepared import placeholders

    assert placeholders("sqlite", 3) == ["?", "?", "?"]
    assert placeholders("postgres", 3) == ["$1", "$2", "$3"]
    with pytest.raises(ValueError, match="mysql"):
        placeholders("mysql", 1)
