"""Every page a role can reach, in a real browser: no Content-Security-Policy violation in the
console (inline styles or scripts included), no serious axe violation, and a screenshot at
1280×768 of each role's « Mon espace » in var/screenshots/ (kept by `make test`)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from ppas.models import BillingForm, Convention
from tests.browser_support import recording_page, sign_in_demo

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

PUBLIC = ["/", "/faq", "/documentation", "/documentation/cahier-des-charges",
          "/documentation/guides", "/documentation/guides/administrateur",
          "/documentation/anomalies", "/contact",
          "/connexion", "/inscription", "/mot-de-passe-oublie"]
PARTNER_ADMIN = ["/espace", "/facturation", "/fichiers", "/beneficiaires", "/administration",
                 "/administration/utilisateurs", "/administration/utilisateurs/nouveau",
                 "/administration/partenaire", "/administration/conventions",
                 "/administration/jetons", "/mot-de-passe/changer", "/anomalies", "/mon-compte",
                 "/bordereaux", "/administration/webhooks"]
EVALUATOR = ["/espace", "/mot-de-passe/changer", "/evaluations"]
CAISSE_AGENT = ["/espace", "/caisse/conventions", "/caisse/inscriptions", "/caisse/messages",
                "/caisse/taches", "/caisse/taches?etat=failed",
                "/caisse/beneficiaires", "/caisse/beneficiaires?q=03", "/caisse/beneficiaires/nouveau",
                "/caisse/import", "/caisse/paiements",
                "/caisse/evaluations", "/caisse/evaluations/commandes/nouvelle"]
EVALUATOR += ["/hors-ligne/", "/hors-ligne/evaluation"]  # the offline mode's shell (sw/)


async def new_page(browser: Browser) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    return await recording_page(context)


async def visit_all(page: Page, base_url: str, paths: list[str], assert_accessible) -> None:
    for path in paths:
        response = await page.goto(base_url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        await page.wait_for_load_state("networkidle")
        await assert_accessible(page)


async def test_public_pages_break_no_policy(browser, live_server, assert_accessible):
    page, complaints = await new_page(browser)
    await visit_all(page, live_server, PUBLIC, assert_accessible)
    assert complaints == []
    # The recorder hears a violation when there is one: an inline style, as a page might add.
    await page.evaluate("""() => { const style = document.createElement('style');
        style.textContent = 'body { color: red; }'; document.head.append(style); }""")
    for _ in range(50):
        if complaints:
            break
        await page.wait_for_timeout(100)
    assert complaints, "the CSP recorder heard nothing: the check above would prove nothing"
    await page.context.close()


@pytest.mark.parametrize(("login", "paths", "shot"), [
    ("demoadmin", PARTNER_ADMIN, "mon-espace-administrateur-partenaire.png"),
    ("demouser", ["/espace", "/facturation", "/fichiers", "/beneficiaires", "/anomalies",
                  "/bordereaux"],
     "mon-espace-utilisateur-partenaire.png"),
    ("demoeval", EVALUATOR, "mon-espace-evaluateur.png"),
    ("caisseagent", CAISSE_AGENT, "mon-espace-agent-caisse.png"),
])
async def test_each_roles_pages_break_no_policy(browser, live_server, assert_accessible, login,
                                               paths, shot):
    page, complaints = await new_page(browser)
    await sign_in_demo(page, live_server, login)
    await page.screenshot(path=str(SCREENSHOTS / shot))
    await visit_all(page, live_server, paths, assert_accessible)
    if login == "demoadmin":  # the pages behind a list: an open form and its confirmation
        convention = await Convention.get(number="C03-0001")
        await page.goto(live_server + "/facturation")
        opener = page.get_by_role("button", name=re.compile(r"^Ouvrir le formulaire de"))
        if await opener.count():
            await opener.first.click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Formulaire")
        form = await BillingForm.filter(convention_id=convention.id).order_by("-period").first()
        await visit_all(page, live_server, [f"/facturation/{form.id}",
                                            f"/facturation/{form.id}/valider"], assert_accessible)
    if login == "caisseagent":
        await visit_all(page, live_server, await _back_office_pages(), assert_accessible)
    assert complaints == []
    await page.context.close()


async def _back_office_pages() -> list[str]:
    """The caisse's back-office pages behind a list: a demo beneficiary, its plan, its
    convention."""
    from ppas.models import CarePlan

    plan = await CarePlan.filter(beneficiary__file_number="0300020001").order_by("id").first()
    return [f"/caisse/beneficiaires/{plan.beneficiary_id}",
            f"/caisse/beneficiaires/{plan.beneficiary_id}/modifier",
            f"/caisse/beneficiaires/{plan.beneficiary_id}/prises-en-charge/nouvelle",
            f"/caisse/prises-en-charge/{plan.id}/modifier",
            f"/caisse/prises-en-charge/{plan.id}/cloturer",
            f"/caisse/prises-en-charge/{plan.id}/notifier",
            f"/caisse/conventions/{plan.convention_id}/prises-en-charge",
            f"/caisse/conventions/{plan.convention_id}/suspendre"]
