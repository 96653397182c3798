"""A partner admin registers a webhook address with the keyboard, copies the secret shown
once, and sends an event again from the delivery log; the page passes axe."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from ppas.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from ppas.services import webhooks
from tests.browser.test_administration import PASSWORD, sign_in

pytestmark = pytest.mark.browser


async def test_an_admin_registers_an_address_and_resends_an_event(page, live_server, make_user,
                                                                  assert_accessible):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    await sign_in(page, live_server, admin.login)
    await page.goto(live_server + "/administration")
    await page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Notifications (webhooks)").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notifications (webhooks)")
    await assert_accessible()

    # Keyboard only: the address, then the events (the first is ticked already).
    url_field = page.get_by_label("Adresse (URL https://) (obligatoire)")
    await url_field.focus()
    await page.keyboard.type("http://127.0.0.1:9/navigateur")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label(re.compile("^Fichier de facturation contrôlé"))).to_be_focused()
    await expect(page.get_by_label(re.compile("^Fichier de facturation contrôlé"))).to_be_checked()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # Bordereau de paiement publié
    await expect(page.get_by_label(re.compile("^Bordereau de paiement publié"))).to_be_checked()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Enregistrer l'adresse")).to_be_focused()
    await page.keyboard.press("Enter")

    secret_field = page.get_by_label("Clé de signature (lecture seule)")
    await expect(secret_field).to_have_value(re.compile(r"^whsec_[A-Za-z0-9_-]{40,}$"))
    await expect(page.locator("#avertissement-cle")).to_be_focused()
    await expect(secret_field).to_have_accessible_description(
        re.compile("elle ne sera plus jamais affichée"))
    secret = await secret_field.input_value()
    await assert_accessible()
    subscription = await WebhookSubscription.get(created_by_id=admin.id)
    assert subscription.secret == secret
    assert subscription.events == "billing_file.checked,payment_slip.published"

    # An event that could not be delivered: « Renvoyer » from the log, with the keyboard.
    await webhooks.emit_event(admin.partner_id, "billing_file.checked", {"id": "1"})
    await WebhookDelivery.filter(subscription_id=subscription.id).update(
        status=DeliveryStatus.FAILED, attempts=8, response_status=500,
        last_error="réponse HTTP 500")
    await page.goto(live_server + "/administration/webhooks")
    assert secret not in await page.content()
    log = page.get_by_role("table", name="Derniers envois")
    row = log.get_by_role("row").filter(has_text="evt_")
    await expect(row).to_contain_text("Abandonné")
    await expect(row).to_contain_text("HTTP 500")
    await row.get_by_role("button", name=re.compile("^Renvoyer")).focus()
    await page.keyboard.press("Enter")
    notice = page.get_by_role("status").filter(has_text="sera renvoyé")
    await expect(notice).to_be_focused()
    await expect(log.get_by_role("row").filter(has_text="evt_")).to_contain_text("En attente")
    await assert_accessible()
