"""« Tâches de fond » through the app: the agents' list (kind, state, tries, last error,
next run), the state filter, « Relancer » on a failed job (POST with its CSRF token), and
the refusals (a job that has not failed, a partner, a forged form)."""
from __future__ import annotations

import html
import re
import uuid
from datetime import datetime, timedelta, timezone

from ppas.models import AuditEvent, Job, JobState
from ppas.services.demo import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def plain(text: str) -> str:
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


async def failed_job(kind: str | None = None) -> Job:
    now = datetime.now(timezone.utc)
    return await Job.create(kind=kind or f"essai_web_{uuid.uuid4().hex[:8]}", payload={},
                            state=JobState.FAILED, run_at=now + timedelta(days=3650),
                            attempts=5, max_attempts=5, created_at=now, finished_at=now,
                            last_error="ConnectionRefusedError: serveur SMTP injoignable")


def row_of(page: str, job: Job) -> str:
    match = re.search(rf"<tr>\s*<td class=\"num\">{job.id}</td>.*?</tr>", page, re.S)
    assert match, f"job {job.id} is not listed"
    return plain(match.group(0))


async def test_an_agent_sees_a_failed_job_and_relaunches_it(client, sign_in):
    job = await failed_job()
    token = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    page = await client.get("/caisse/taches?etat=failed")
    assert page.status_code == 200
    row = row_of(page.text, job)
    assert job.kind in row and "En échec" in row and "5 sur 5" in row
    assert "serveur SMTP injoignable" in row and "Relancer" in row
    assert f'action="/caisse/taches/{job.id}/relancer?etat=failed"' in page.text
    assert '<option value="failed" selected>En échec</option>' in page.text

    posted = await client.post(f"/caisse/taches/{job.id}/relancer?etat=failed",
                               data={"csrf_token": token})
    # POST/redirect/GET: the answer is a redirect; the list it leads to says what was done
    # and takes the focus (reloading it posts nothing again).
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/caisse/taches?etat=failed&relancee={job.id}"
    done = await client.get(posted.headers["location"])
    assert done.status_code == 200
    text = plain(done.text)
    assert f"Tâche n° {job.id} relancée" in text
    assert 'role="status" tabindex="-1" autofocus' in done.text
    assert "relancée" not in plain((await client.get("/caisse/taches?relancee=abc")).text)
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at) == (JobState.QUEUED, 0, None)
    assert job.run_at <= datetime.now(timezone.utc)
    assert await AuditEvent.filter(action="job_retried", object_id=str(job.id)).exists()
    # queued again: its row says when it runs, and offers no « Relancer »
    listed = row_of((await client.get("/caisse/taches?etat=queued")).text, job)
    assert "En attente" in listed and "Relancer" not in listed and "0 sur 5" in listed


async def test_a_job_that_has_not_failed_is_not_relaunched(client, sign_in):
    job = await failed_job()
    await Job.filter(id=job.id).update(state=JobState.DONE)
    token = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    refused = await client.post(f"/caisse/taches/{job.id}/relancer", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "Seule une tâche en échec se relance : celle-ci est terminée." in plain(refused.text)
    assert 'role="alert" id="erreur-relance" tabindex="-1" autofocus' in refused.text
    missing = await client.post("/caisse/taches/999999999/relancer", data={"csrf_token": token})
    assert missing.status_code == 400
    assert "Cette tâche de fond n'existe pas" in plain(missing.text)
    await job.refresh_from_db()
    assert job.state == JobState.DONE


async def test_a_partner_is_refused_and_a_forged_form_changes_nothing(client, sign_in, app):
    import httpx

    job = await failed_job()
    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    assert (await client.get("/caisse/taches")).status_code == 403
    assert (await client.post(f"/caisse/taches/{job.id}/relancer",
                              data={"csrf_token": token})).status_code == 403
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as agent:
        await sign_in(agent, "caisseagent", DEMO_PASSWORD)
        forged = await agent.post(f"/caisse/taches/{job.id}/relancer", data={})
        assert forged.status_code == 403
    await job.refresh_from_db()
    assert job.state == JobState.FAILED


async def test_the_menu_of_an_agent_leads_to_the_jobs(client, sign_in):
    await sign_in(client, "caisseagent", DEMO_PASSWORD)
    home = await client.get("/espace")
    assert 'href="/caisse/taches"' in home.text and "Tâches de fond" in plain(home.text)
