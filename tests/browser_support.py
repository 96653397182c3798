"""Browser test helpers: a page that records CSP complaints, a demo sign-in by the form."""
from __future__ import annotations

import re

from playwright.async_api import BrowserContext, Page, expect

from ppas.services.demo import DEMO_PASSWORD


async def recording_page(context: BrowserContext) -> tuple[Page, list[str]]:
    """A page of `context` that records every CSP complaint: the console's and the
    securitypolicyviolation events (which also catch what the console words differently)."""
    page = await context.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None)
    await page.add_init_script("""document.addEventListener('securitypolicyviolation', (event) =>
        console.error('Refused to ' + event.violatedDirective + ' (Content Security Policy): '
                      + event.blockedURI + ' ' + (event.sample || '')));""")
    return page, complaints


async def sign_in_demo(page: Page, base_url: str, login: str) -> None:
    """Sign in with a demo account by the form's labels, submitting with Enter."""
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(re.compile(r"/espace$"))
