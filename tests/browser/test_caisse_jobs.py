"""A caisse agent in a real browser, keyboard only: « Tâches de fond » from the menu, the
failed jobs through the filter, « Relancer »; the message takes focus and the job is queued."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect

from ppas.models import Job, JobState
from tests.browser_support import sign_in_demo

pytestmark = pytest.mark.browser


async def test_an_agent_relaunches_a_failed_job_with_the_keyboard(page: Page, live_server,
                                                                   assert_accessible):
    now = datetime.now(timezone.utc)
    job = await Job.create(kind=f"essai_navigateur_{uuid.uuid4().hex[:6]}", payload={},
                           state=JobState.FAILED, run_at=now + timedelta(days=3650), attempts=3,
                           max_attempts=3, created_at=now, finished_at=now,
                           last_error="OSError: le serveur de courriel ne répond pas")
    await sign_in_demo(page, live_server, "caisseagent")
    menu_link = page.get_by_role("link", name="Tâches de fond")
    await menu_link.focus()
    await menu_link.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tâches de fond")

    await page.get_by_label("Afficher").focus()
    await page.get_by_label("Afficher").select_option(label="En échec")
    await page.get_by_role("button", name="Filtrer").press("Enter")
    await expect(page).to_have_url(re.compile(r"/caisse/taches\?etat=failed$"))
    row = page.get_by_role("row").filter(has_text=job.kind)
    await expect(row).to_contain_text("En échec")
    await expect(row).to_contain_text("le serveur de courriel ne répond pas")
    await expect(row).to_contain_text("3 sur 3")
    await assert_accessible()

    await row.get_by_role("button", name=f"Relancer la tâche n° {job.id}").press("Enter")
    notice = page.get_by_role("status").filter(has_text=f"Tâche n° {job.id}")
    await expect(notice).to_be_focused()
    await expect(notice).to_contain_text("relancée")
    await assert_accessible()
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)
    # the failed list no longer holds it
    await expect(page.get_by_role("row").filter(has_text=job.kind)).to_have_count(0)
