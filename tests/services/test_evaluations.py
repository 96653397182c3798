"""Evaluation orders and synchronisation: reservation rules, receipts (accepted, duplicate,
conflict kept, invalid), one bad item never blocking the others, renewals, packages."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ppas.models import Evaluation, EvaluationConflict, EvaluationOrder, OfflinePackage, OrderStatus
from ppas.services import evaluations
from ppas.services.errors import AccessDenied, ErrorCode, FieldsRefused, ServiceError
from tests.evaluation_support import NOW, answers, make_order, make_structure

DAYS = 30
Receipt = evaluations.ReceiptStatus


def item(order, **changes):
    values = dict(client_id=str(uuid.uuid4()), order_id=order.id, order_version=order.version,
                  answers=answers())
    values.update(changes)
    return evaluations.Submission(**values)


async def reserved(structure, user=None, **changes):
    order = await make_order(structure, **changes)
    return await evaluations.reserve(user or structure.evaluators[0], order.id, NOW, DAYS)


async def test_reserving_takes_an_open_order_until_the_configured_day(db):
    s = await make_structure()
    order = await make_order(s)
    got = await evaluations.reserve(s.evaluators[0], order.id, NOW, DAYS)
    assert got.status == OrderStatus.RESERVED and got.reserved_by_id == s.evaluators[0].id
    assert got.reserved_until == NOW + timedelta(days=DAYS)
    assert got.version == order.version + 1
    # renewing one's own reservation keeps the version
    again = await evaluations.reserve(s.evaluators[0], order.id, NOW + timedelta(days=1), DAYS)
    assert again.version == got.version
    assert again.reserved_until == NOW + timedelta(days=DAYS + 1)


async def test_a_held_order_is_refused_naming_the_holder_and_the_end(db):
    s = await make_structure()
    order = await reserved(s)
    with pytest.raises(ServiceError) as refused:
        await evaluations.reserve(s.evaluators[1], order.id, NOW, DAYS)
    assert refused.value.code == ErrorCode.CONFLICT
    assert "Éva0" in refused.value.message and "20/12/2026" in refused.value.message


async def test_an_expired_reservation_is_open_to_another(db):
    s = await make_structure()
    order = await reserved(s)
    later = NOW + timedelta(days=DAYS, seconds=1)
    assert evaluations.effective_status(order, later) == OrderStatus.OPEN
    taken = await evaluations.reserve(s.evaluators[1], order.id, later, DAYS)
    assert taken.reserved_by_id == s.evaluators[1].id


async def test_release_opens_the_order_and_only_the_holder_releases(db):
    s = await make_structure()
    order = await reserved(s)
    with pytest.raises(ServiceError) as refused:
        await evaluations.release(s.evaluators[1], order.id, NOW)
    assert refused.value.code == ErrorCode.NOT_RESERVED
    freed = await evaluations.release(s.evaluators[0], order.id, NOW)
    assert freed.status == OrderStatus.OPEN and freed.reserved_by_id is None


async def test_other_structures_and_billing_roles_see_nothing(db, make_user):
    s = await make_structure()
    other = await make_structure()
    order = await make_order(s)
    assert await evaluations.get_order(other.evaluators[0], order.id) is None
    with pytest.raises(ServiceError) as refused:
        await evaluations.reserve(other.evaluators[0], order.id, NOW, DAYS)
    assert refused.value.code == ErrorCode.NOT_FOUND
    biller = await make_user(role="partner_user")
    with pytest.raises(AccessDenied):
        await evaluations.list_orders(biller, NOW, evaluations.OrderFilter.ALL, 0, 20)
    # the caisse sees it
    assert await evaluations.get_order(s.agent, order.id) is not None


async def test_accepted_evaluation_marks_the_order_evaluated_with_its_gir(db):
    s = await make_structure()
    order = await reserved(s)
    sent = item(order)
    [receipt] = await evaluations.synchronise(s.evaluators[0], [sent], NOW, DAYS)
    assert receipt.status == Receipt.ACCEPTED and receipt.gir == 4
    stored = await Evaluation.get(order_id=order.id)
    assert stored.gir == 4 and str(stored.client_id) == sent.client_id
    assert stored.answers["recommendedHoursPerMonth"] == "12.5"
    assert (await EvaluationOrder.get(id=order.id)).status == OrderStatus.EVALUATED


async def test_the_same_uuid_and_content_again_is_a_duplicate_creating_nothing(db):
    s = await make_structure()
    order = await reserved(s)
    sent = item(order)
    await evaluations.synchronise(s.evaluators[0], [sent], NOW, DAYS)
    [again] = await evaluations.synchronise(s.evaluators[0], [sent], NOW, DAYS)
    assert again.status == Receipt.DUPLICATE and again.gir == 4
    assert await Evaluation.filter(order_id=order.id).count() == 1
    assert await EvaluationConflict.filter(order_id=order.id).count() == 0


async def test_the_same_uuid_with_other_content_is_a_conflict_kept_for_review(db):
    s = await make_structure()
    order = await reserved(s)
    sent = item(order)
    await evaluations.synchronise(s.evaluators[0], [sent], NOW, DAYS)
    changed = item(order, client_id=sent.client_id, answers=answers(COH="C"))
    [receipt] = await evaluations.synchronise(s.evaluators[0], [changed], NOW, DAYS)
    assert receipt.status == Receipt.CONFLICT
    kept = await EvaluationConflict.get(client_id=sent.client_id)
    assert kept.answers["COH"] == "C" and "autre contenu" in kept.reason
    # replaying the conflicting one creates nothing more and answers as the first time
    [replay] = await evaluations.synchronise(s.evaluators[0], [changed], NOW, DAYS)
    assert replay.status == Receipt.CONFLICT and replay.message == receipt.message
    assert await EvaluationConflict.filter(client_id=sent.client_id).count() == 1


async def test_a_sync_after_the_reservation_expired_is_a_conflict_never_dropped(db):
    s = await make_structure()
    order = await reserved(s)
    late = NOW + timedelta(days=DAYS + 1)
    [receipt] = await evaluations.synchronise(s.evaluators[0], [item(order)], late, DAYS)
    assert receipt.status == Receipt.CONFLICT and "expiré" in receipt.message
    assert await EvaluationConflict.filter(order_id=order.id).count() == 1
    assert (await EvaluationOrder.get(id=order.id)).status == OrderStatus.RESERVED


async def test_a_sync_after_the_order_moved_to_someone_else_names_them(db):
    s = await make_structure()
    order = await reserved(s)
    late = NOW + timedelta(days=DAYS + 1)
    await evaluations.reserve(s.evaluators[1], order.id, late, DAYS)
    [receipt] = await evaluations.synchronise(s.evaluators[0], [item(order)], late, DAYS)
    assert receipt.status == Receipt.CONFLICT and "Éva1" in receipt.message


async def test_invalid_items_get_french_messages_and_never_block_the_others(db):
    s = await make_structure()
    first, second = await reserved(s), await reserved(s)
    bad = item(first, answers=answers(COH="D", visitDate="2026-12-25", needs="",
                                      recommendedHoursPerMonth="200"))
    unknown = item(first, order_id=999_999_999)
    broken_id = item(first, client_id="pas-un-uuid")
    good = item(second)
    receipts = await evaluations.synchronise(s.evaluators[0], [bad, unknown, broken_id, good],
                                             NOW, DAYS)
    assert [r.status for r in receipts] == [Receipt.INVALID, Receipt.INVALID, Receipt.INVALID,
                                            Receipt.ACCEPTED]
    assert set(receipts[0].problems) == {"COH", "visitDate", "needs", "recommendedHoursPerMonth"}
    assert "futur" in receipts[0].problems["visitDate"]
    assert receipts[0].message.startswith("Évaluation non reçue")
    assert await Evaluation.filter(order_id=first.id).count() == 0
    assert await Evaluation.filter(order_id=second.id).count() == 1


async def test_a_visit_before_the_order_was_created_is_refused(db):
    s = await make_structure()
    order = await reserved(s)
    [receipt] = await evaluations.synchronise(
        s.evaluators[0], [item(order, answers=answers(visitDate="2026-11-01"))], NOW, DAYS)
    assert receipt.status == Receipt.INVALID and "précéder" in receipt.problems["visitDate"]


async def test_a_sync_renews_the_other_reservations_and_records_the_package(db):
    s = await make_structure()
    done, other = await reserved(s), await reserved(s)
    package, orders = await evaluations.generate_package(s.evaluators[0], "navigateur-a", None,
                                                         NOW)
    assert {o.id for o in orders} == {done.id, other.id}
    later = NOW + timedelta(days=10)
    [receipt] = await evaluations.synchronise(
        s.evaluators[0], [item(done, package_id=package.id)], later, DAYS)
    assert receipt.status == Receipt.ACCEPTED
    renewed = await EvaluationOrder.get(id=other.id)
    assert renewed.reserved_until == later + timedelta(days=DAYS)
    assert renewed.version == other.version  # a renewal is no change of state
    assert (await OfflinePackage.get(id=package.id)).last_synchronised_at == later


async def test_a_package_on_another_browser_supersedes_the_old_one_which_shows_pending_work(db):
    s = await make_structure()
    first, second = await reserved(s), await reserved(s)
    old, _ = await evaluations.generate_package(s.evaluators[0], "navigateur-a", None, NOW)
    await evaluations.synchronise(s.evaluators[0], [item(first, package_id=old.id)], NOW, DAYS)
    new, _ = await evaluations.generate_package(s.evaluators[0], "navigateur-b", None,
                                                NOW + timedelta(hours=1))
    rows, total = await evaluations.list_packages(s.evaluators[0], 0, 20)
    assert [r.id for r in rows] == [new.id, old.id] and total == 2
    assert rows[1].superseded_at is not None and rows[0].superseded_at is None
    pending = await evaluations.unsynchronised_order_ids(rows)
    assert pending[old.id] == [second.id]  # the first was received from it
    # the caisse sees them too
    caisse_rows, _ = await evaluations.list_packages(s.agent, 0, 100)
    assert {old.id, new.id} <= {r.id for r in caisse_rows}


async def test_a_package_refuses_orders_not_held(db):
    s = await make_structure()
    order = await make_order(s)
    with pytest.raises(ServiceError) as refused:
        await evaluations.generate_package(s.evaluators[0], "nav", [order.id], NOW)
    assert refused.value.code == ErrorCode.NOT_RESERVED


async def test_the_caisse_accepts_a_conflict_which_becomes_the_evaluation(db):
    s = await make_structure()
    order = await reserved(s)
    late = NOW + timedelta(days=DAYS + 1)
    await evaluations.synchronise(s.evaluators[0], [item(order)], late, DAYS)
    conflict = await EvaluationConflict.get(order_id=order.id)
    with pytest.raises(AccessDenied):
        await evaluations.resolve_conflict(s.evaluators[0], conflict.id, True, late)
    resolved = await evaluations.resolve_conflict(s.agent, conflict.id, True, late)
    assert resolved.status == "accepted"
    assert (await Evaluation.get(order_id=order.id)).gir == 4
    assert (await EvaluationOrder.get(id=order.id)).status == OrderStatus.EVALUATED
    with pytest.raises(ServiceError) as again:
        await evaluations.resolve_conflict(s.agent, conflict.id, False, late)
    assert again.value.code == ErrorCode.ALREADY_DONE


async def test_the_caisse_creates_an_order_for_an_evaluation_structure(db):
    s = await make_structure()
    person = (await make_order(s)).beneficiary_id
    order = await evaluations.create_order(s.agent, person, s.partner.id, "15/12/2026", NOW)
    assert order.status == OrderStatus.OPEN and order.reference.startswith("EV-2026-")
    with pytest.raises(FieldsRefused) as refused:
        await evaluations.create_order(s.agent, 999_999_999, 999_999_999, "hier", NOW)
    assert set(refused.value.problems) == {"beneficiaryId", "partnerId", "dueDate"}
    with pytest.raises(AccessDenied):
        await evaluations.create_order(s.evaluators[0], person, s.partner.id, "15/12/2026", NOW)
