"""Administration › Notifications (webhooks): register an address, the secret once, the
delivery log with « Renvoyer », deletion after confirmation; partner admins only."""
from __future__ import annotations

import re

from ppas.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from ppas.services import webhooks
from tests.billing_file_support import PASSWORD, make_provider

PAGE = "/administration/webhooks"
SECRET_IN_PAGE = re.compile(r'id="cle-creee" type="text" readonly value="(whsec_[^"]+)"')


async def test_an_admin_registers_an_address_and_sees_its_secret_once(client, sign_in):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    empty = await client.get(PAGE)
    assert empty.status_code == 200 and "Aucune adresse n'est enregistrée" in empty.text
    assert 'href="/administration/webhooks" aria-current="page"' in empty.text
    created = await client.post(PAGE, data={"csrf_token": csrf, "url": "http://127.0.0.1:9/ppas",
                                            "events": ["BILLING_FILE_CHECKED",
                                                       "PAYMENT_SLIP_PUBLISHED"]})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    secret = SECRET_IN_PAGE.search(created.text).group(1)
    row = await WebhookSubscription.get(partner_id=provider.partner.id)
    assert row.secret == secret and row.events == "billing_file.checked,payment_slip.published"
    again = await client.get(PAGE)
    assert secret not in again.text and "http://127.0.0.1:9/ppas" in again.text
    assert again.text.count("Bordereau de paiement publié") == 2  # listed, and as a choice


async def test_what_to_fix_is_said_next_to_the_field(client, sign_in):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    refused = await client.post(PAGE, data={"csrf_token": csrf, "url": "ftp://exemple.fr/x",
                                            "events": ["BILLING_FILE_CHECKED"]})
    assert refused.status_code == 400
    assert 'id="erreur-url"' in refused.text and "https://" in refused.text
    assert 'value="ftp://exemple.fr/x"' in refused.text  # what was typed stays
    no_event = await client.post(PAGE, data={"csrf_token": csrf, "url": "http://127.0.0.1:9/x"})
    assert no_event.status_code == 400 and 'id="erreur-events"' in no_event.text
    assert not await WebhookSubscription.filter(partner_id=provider.partner.id).exists()


async def test_the_log_shows_deliveries_and_renvoyer_sends_again(client, sign_in):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    created = await webhooks.create_subscription(provider.user, "http://127.0.0.1:9/log",
                                                 ["billing_file.checked"], development=True)
    await webhooks.emit_event(provider.partner.id, "billing_file.checked", {"id": "1"})
    delivery = await WebhookDelivery.get(subscription_id=created.subscription.id)
    await WebhookDelivery.filter(id=delivery.id).update(
        status=DeliveryStatus.FAILED, attempts=8, response_status=503, last_error="réponse HTTP 503")
    page = await client.get(PAGE)
    assert delivery.event_id in page.text and "Abandonné" in page.text and "HTTP 503" in page.text
    done = await client.post(f"{PAGE}/envois/{delivery.id}/renvoyer", data={"csrf_token": csrf})
    assert done.status_code == 303
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    assert "sera renvoyé" in (await client.get(done.headers["location"])).text
    unknown = await client.post(f"{PAGE}/envois/999999999/renvoyer", data={"csrf_token": csrf})
    assert unknown.status_code == 400


async def test_deleting_asks_first_then_stops_the_address(client, sign_in):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    created = await webhooks.create_subscription(provider.user, "http://127.0.0.1:9/del",
                                                 ["billing_file.checked"], development=True)
    confirm = await client.get(f"{PAGE}/{created.subscription.id}/supprimer")
    assert confirm.status_code == 200 and "Supprimer définitivement" in confirm.text
    assert (await WebhookSubscription.get(id=created.subscription.id)).deleted_at is None
    done = await client.post(f"{PAGE}/{created.subscription.id}/supprimer",
                             data={"csrf_token": csrf})
    assert done.status_code == 303
    assert (await WebhookSubscription.get(id=created.subscription.id)).deleted_at is not None
    other = await make_provider(1)
    theirs = await webhooks.create_subscription(other.user, "http://127.0.0.1:9/autre",
                                                ["billing_file.checked"], development=True)
    assert (await client.get(f"{PAGE}/{theirs.subscription.id}/supprimer")).status_code == 404


async def test_only_partner_admins_reach_the_page(client, sign_in, make_user):
    staff = await make_user(password=PASSWORD, role="partner_user")
    await sign_in(client, staff.login, PASSWORD)
    assert (await client.get(PAGE)).status_code == 403


async def test_without_csrf_token_nothing_is_registered(client, sign_in):
    provider = await make_provider(1)
    await sign_in(client, provider.login, PASSWORD)
    refused = await client.post(PAGE, data={"url": "http://127.0.0.1:9/x",
                                            "events": ["BILLING_FILE_CHECKED"]})
    assert refused.status_code == 403
    assert not await WebhookSubscription.filter(partner_id=provider.partner.id).exists()
