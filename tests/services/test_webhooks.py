"""Webhooks: registration by partner admins, events written in the caller's transaction,
signed deliveries with backoff, idempotent claims, « Renvoyer », and a real receiver
(examples/webhook_receiver.py) that checks the signature."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise.transactions import in_transaction

from ppas.models import DeliveryStatus, WebhookDelivery
from ppas.services import billing_ingest, webhooks
from ppas.services.errors import AccessDenied, ErrorCode, NotFound, ServiceError
from ppas.settings import Settings
from tests.billing_file_support import as_file, billing_xml, ligne, make_provider
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import webhook_receiver

DEV = replace(Settings(), development=True, secret_key="x")
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
async def admin(db):
    return (await make_provider(1)).user


async def _subscribe(user, url="http://127.0.0.1:9/hook", events=("billing_file.checked",)):
    return await webhooks.create_subscription(user, url, list(events), development=True)


def _transport(status: int = 200, seen: list | None = None, error: Exception | None = None):
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if error is not None:
            raise error
        return httpx.Response(status)
    return httpx.MockTransport(handle)


# --------------------------------------------------------------------------- registration


async def test_only_a_partner_admin_registers_and_the_secret_comes_once(admin, make_user):
    created = await _subscribe(admin)
    assert created.secret.startswith("whsec_") and len(created.secret) > 40
    listed = await webhooks.list_subscriptions(admin)
    assert [s.id for s in listed] == [created.subscription.id]
    staff = await make_user(role="partner_user")
    with pytest.raises(AccessDenied):
        await _subscribe(staff)
    with pytest.raises(AccessDenied):
        await _subscribe(None)


@pytest.mark.parametrize("url, events, field, code", [
    ("https://logiciel.exemple.fr/hook", [], "events", ErrorCode.REQUIRED),
    ("https://logiciel.exemple.fr/hook", ["billing_file.deleted"], "events", ErrorCode.INVALID),
    ("http://logiciel.exemple.fr/hook", ["billing_file.checked"], "url", ErrorCode.INVALID),
    ("https://10.0.0.1/hook", ["billing_file.checked"], "url", ErrorCode.INVALID),
    ("https://nom-qui-ne-se-resout-pas.invalid/hook", ["billing_file.checked"], "url",
     ErrorCode.INVALID),
])
async def test_a_bad_address_or_event_list_is_refused(admin, url, events, field, code):
    with pytest.raises(ServiceError) as refused:
        await webhooks.create_subscription(admin, url, events, development=False)
    assert refused.value.field == field and refused.value.code == code


async def test_the_same_address_twice_is_already_registered(admin):
    await _subscribe(admin)
    with pytest.raises(ServiceError) as refused:
        await _subscribe(admin)
    assert refused.value.code == ErrorCode.ALREADY_EXISTS


# --------------------------------------------------------------------------- events


async def test_an_event_goes_to_the_subscriptions_that_chose_it_in_the_callers_transaction(admin):
    provider_id = admin.partner_id
    wanted = await _subscribe(admin, "http://127.0.0.1:9/a")
    await _subscribe(admin, "http://127.0.0.1:9/b", ["payment_slip.published"])
    other = await make_provider(1)
    await _subscribe(other.user, "http://127.0.0.1:9/c")
    with pytest.raises(RuntimeError):
        async with in_transaction() as connection:
            await webhooks.emit_event(provider_id, "billing_file.checked", {"id": "1"},
                                      now=NOW, connection=connection)
            raise RuntimeError("the use case fails after emitting")
    assert not await WebhookDelivery.filter(partner_id=provider_id).exists()  # rolled back
    async with in_transaction() as connection:
        assert await webhooks.emit_event(provider_id, "billing_file.checked", {"id": "1"},
                                         now=NOW, connection=connection) == 1
    (delivery,) = await WebhookDelivery.filter(partner_id=provider_id)
    assert delivery.subscription_id == wanted.subscription.id
    body = json.loads(delivery.payload)
    assert body["event"] == "billing_file.checked" and body["id"] == delivery.event_id
    assert body["data"] == {"id": "1"} and delivery.status == DeliveryStatus.PENDING
    with pytest.raises(ValueError):
        await webhooks.emit_event(provider_id, "no.such_event", {})


async def test_a_checked_billing_file_emits_its_event_and_a_dry_run_does_not(db):
    provider = await make_provider(2)
    await _subscribe(provider.user)
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    await billing_ingest.submit_file(provider.user, as_file(data), provider.amd_name(), now=NOW,
                                     max_bytes=1 << 20, dry_run=True)
    assert not await WebhookDelivery.filter(partner_id=provider.partner.id).exists()
    accepted = await billing_ingest.submit_file(provider.user, as_file(data), provider.amd_name(),
                                                now=NOW, max_bytes=1 << 20)
    refused = await billing_ingest.submit_file(provider.user, as_file(b"<pas du xml"),
                                               provider.amd_name(), now=NOW, max_bytes=1 << 20)
    assert accepted.status == "accepted" and refused.status == "refused"
    events = [json.loads(d.payload) for d in
              await WebhookDelivery.filter(partner_id=provider.partner.id).order_by("id")]
    assert [(e["event"], e["data"]["id"], e["data"]["status"]) for e in events] == [
        ("billing_file.checked", str(accepted.file_id), "ACCEPTED"),
        ("billing_file.checked", str(refused.file_id), "REFUSED")]
    assert events[0]["data"]["lineCount"] == 1 and events[1]["data"]["anomalyCount"] == 1


# --------------------------------------------------------------------------- delivery


async def _one_delivery(admin, status=200, **subscribe):
    created = await _subscribe(admin, **subscribe)
    await webhooks.emit_event(admin.partner_id, "billing_file.checked", {"id": "7"}, now=NOW)
    delivery = await WebhookDelivery.get(subscription_id=created.subscription.id)
    return created, delivery


async def test_a_delivery_is_signed_and_carries_its_event_id(admin):
    created, delivery = await _one_delivery(admin)
    seen: list[httpx.Request] = []
    status = await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=_transport(204, seen))
    assert status == DeliveryStatus.DELIVERED
    (request,) = seen
    assert request.headers["x-ppas-event-id"] == delivery.event_id
    assert request.headers["x-ppas-event"] == "billing_file.checked"
    assert webhook_receiver.verify(created.secret, request.headers["x-ppas-signature"],
                                   request.content, now=NOW.timestamp()) is None
    assert webhook_receiver.verify("whsec_autre", request.headers["x-ppas-signature"],
                                   request.content, now=NOW.timestamp()) == "signature mismatch"
    row = await WebhookDelivery.get(id=delivery.id)
    assert (row.status, row.attempts, row.response_status, row.delivered_at) == (
        DeliveryStatus.DELIVERED, 1, 204, NOW)
    # Delivered: nothing more to do, whoever asks.
    assert await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=_transport()) is None


@pytest.mark.parametrize("transport, response_status, words", [
    (_transport(500), 500, "HTTP 500"),
    (_transport(error=httpx.ReadTimeout("slow")), None, "pas de réponse"),
    (_transport(error=httpx.ConnectError("refused")), None, "connexion impossible"),
    (_transport(302), 302, "HTTP 302"),  # a redirect is not followed: not delivered
])
async def test_a_failed_attempt_is_retried_later_with_backoff(admin, transport, response_status,
                                                              words):
    _, delivery = await _one_delivery(admin)
    assert await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=transport) \
        == DeliveryStatus.PENDING
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.attempts == 1 and row.response_status == response_status and words in row.last_error
    assert row.next_attempt_at == NOW + webhooks.FIRST_RETRY
    # Not due yet: nothing happens.
    assert await webhooks.deliver_webhook(delivery.id, NOW + timedelta(seconds=30), DEV,
                                          transport=transport) is None
    later = NOW + webhooks.FIRST_RETRY
    await webhooks.deliver_webhook(delivery.id, later, DEV, transport=transport)
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.attempts == 2 and row.next_attempt_at == later + 2 * webhooks.FIRST_RETRY


async def test_after_the_last_attempt_the_delivery_is_given_up(admin):
    _, delivery = await _one_delivery(admin)
    when = NOW
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        status = await webhooks.deliver_webhook(delivery.id, when, DEV, transport=_transport(503))
        when += webhooks.backoff(attempt)
    assert status == DeliveryStatus.FAILED
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.attempts == webhooks.MAX_ATTEMPTS and row.next_attempt_at is None
    assert await webhooks.deliver_webhook(delivery.id, when, DEV, transport=_transport()) is None


async def test_an_attempt_is_claimed_once_even_by_two_workers(admin):
    _, delivery = await _one_delivery(admin)
    seen: list = []
    first = await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=_transport(500, seen))
    # A second worker with the same clock finds it claimed (then rescheduled): no second POST.
    second = await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=_transport(200, seen))
    assert first == DeliveryStatus.PENDING and second is None and len(seen) == 1


async def test_deliver_due_webhooks_sends_what_is_due_only(admin, monkeypatch):
    _, due = await _one_delivery(admin)
    await WebhookDelivery.filter(id=due.id).update(next_attempt_at=NOW - timedelta(minutes=1))
    created = await _subscribe(admin, "http://127.0.0.1:9/later")
    await webhooks.emit_event(admin.partner_id, "billing_file.checked", {},
                              now=NOW + timedelta(hours=1))
    sent: list = []
    real = webhooks.deliver_webhook

    async def recording(delivery_id, now, settings=None):
        sent.append(delivery_id)
        return await real(delivery_id, now, settings, transport=_transport(200))

    monkeypatch.setattr(webhooks, "deliver_webhook", recording)
    assert await webhooks.deliver_due_webhooks(NOW, DEV) >= 1
    assert due.id in sent
    later = await WebhookDelivery.get(subscription_id=created.subscription.id)
    assert later.id not in sent and later.status == DeliveryStatus.PENDING


async def test_a_private_address_is_not_contacted_in_production(admin):
    _, delivery = await _one_delivery(admin)
    seen: list = []
    production = replace(DEV, development=False)
    await webhooks.deliver_webhook(delivery.id, NOW, production, transport=_transport(200, seen))
    row = await WebhookDelivery.get(id=delivery.id)
    assert seen == [] and row.status == DeliveryStatus.PENDING and "https://" in row.last_error


async def test_redelivery_sends_the_same_event_again_and_deletion_stops_it(admin, make_user):
    created, delivery = await _one_delivery(admin)
    await webhooks.deliver_webhook(delivery.id, NOW, DEV, transport=_transport(200))
    again = await webhooks.redeliver(admin, delivery.id, now=NOW + timedelta(hours=1))
    assert again.status == DeliveryStatus.PENDING and again.event_id == delivery.event_id
    seen: list = []
    await webhooks.deliver_webhook(delivery.id, NOW + timedelta(hours=1), DEV,
                                   transport=_transport(200, seen))
    assert seen[0].headers["x-ppas-event-id"] == delivery.event_id
    stranger = (await make_provider(1)).user
    with pytest.raises(NotFound):
        await webhooks.redeliver(stranger, delivery.id, now=NOW)
    with pytest.raises(NotFound):
        await webhooks.delete_subscription(stranger, created.subscription.id, now=NOW)
    await webhooks.redeliver(admin, delivery.id, now=NOW + timedelta(hours=2))
    await webhooks.delete_subscription(admin, created.subscription.id, now=NOW)
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.status == DeliveryStatus.FAILED and row.last_error == "adresse supprimée"
    with pytest.raises(ServiceError):
        await webhooks.redeliver(admin, delivery.id, now=NOW)
    assert await webhooks.list_subscriptions(admin) == []


# --------------------------------------------------------------------------- a real receiver


@pytest.fixture
def receiver():
    """examples/webhook_receiver.py as its own process, with its secret."""
    secret = "whsec_" + "r" * 43
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "webhook_receiver.py"), "--port", str(port)],
        env={"PATH": "/usr/bin:/bin", "PPAS_WEBHOOK_SECRET": secret}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().startswith("listening")
    yield secret, f"http://127.0.0.1:{port}/ppas"
    process.terminate()
    process.wait(timeout=10)
    process.received = process.stdout.read()


async def test_the_example_receiver_accepts_a_real_delivery_and_refuses_forgeries(admin, receiver):
    secret, url = receiver
    created = await _subscribe(admin, url)
    # The receiver must know the portal's secret: register it as the one the portal drew.
    from ppas.models import WebhookSubscription
    await WebhookSubscription.filter(id=created.subscription.id).update(secret=secret)
    await webhooks.emit_event(admin.partner_id, "billing_file.checked", {"id": "42"})
    delivery = await WebhookDelivery.get(subscription_id=created.subscription.id)
    now = datetime.now(UTC)
    assert await webhooks.deliver_webhook(delivery.id, now, DEV) == DeliveryStatus.DELIVERED
    assert (await WebhookDelivery.get(id=delivery.id)).response_status == 200
    # Redelivered: the receiver sees the id again and answers 200 without processing twice.
    await webhooks.redeliver(admin, delivery.id, now=now)
    assert await webhooks.deliver_webhook(delivery.id, now, DEV) == DeliveryStatus.DELIVERED
    body = delivery.payload.encode()
    async with httpx.AsyncClient() as client:
        forged = await client.post(url, content=body, headers={
            "X-PPAS-Signature": webhooks.signature("whsec_faux", int(time.time()), body)})
        old = await client.post(url, content=body, headers={
            "X-PPAS-Signature": webhooks.signature(secret, int(time.time()) - 3600, body)})
        unsigned = await client.post(url, content=body)
    assert (forged.status_code, old.status_code, unsigned.status_code) == (401, 400, 401)
    # A wrong secret on the portal's side: the receiver refuses, the portal will try again.
    await WebhookSubscription.filter(id=created.subscription.id).update(secret="whsec_autre")
    await webhooks.redeliver(admin, delivery.id, now=now)
    assert await webhooks.deliver_webhook(delivery.id, now, DEV) == DeliveryStatus.PENDING
    assert (await WebhookDelivery.get(id=delivery.id)).response_status == 401
