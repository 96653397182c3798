"""Browser fixtures: Debian's chromium driven by Playwright (async API), and an axe check."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 768}
BLOCKING_IMPACTS = ("serious", "critical")

_AXE = Axe()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    try:
        yield await context.new_page()
    finally:
        await context.close()


def _selector(target: list) -> str:
    # axe gives a list of selectors per node; a nested list crosses iframes or shadow roots.
    return " ".join(part if isinstance(part, str) else " >>> ".join(part) for part in target)


def blocking_violations(axe_response: dict) -> list[str]:
    """One line per serious or critical axe violation: rule id, impact, target selectors."""
    lines = []
    for violation in axe_response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        targets = "; ".join(_selector(node["target"]) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"— targets: {targets}")
    return lines


@pytest.fixture
def assert_accessible(page: Page) -> Callable[..., Awaitable[None]]:
    """`await assert_accessible()` (or `assert_accessible(other_page)`) runs axe on the page
    as it is now, and fails listing every serious or critical violation."""

    async def check(target: Page | None = None) -> None:
        checked = target or page
        results = await _AXE.run(checked)
        problems = blocking_violations(results.response)
        assert not problems, (
            f"axe found {len(problems)} serious/critical violation(s) on {checked.url}:\n"
            + "\n".join(problems)
        )

    return check

