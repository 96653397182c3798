"""Two real server processes on one PostgreSQL database, driven at once (docs/deploy.md).

What a deployment of N instances must keep: no lost write (autosaves of one form line from
both, each answered saved or conflict), no double line (the same file, the same form opened
from both), and the lockout counted in the database, so it holds across processes.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from tests.conftest import BACKEND, sign_in_as
from tests.server_support import start_server, stop_server

pytestmark = pytest.mark.skipif(BACKEND != "postgres",
                                reason="several processes on one database: PostgreSQL")


@pytest.fixture(scope="module")
def two_servers(database_url: str, db) -> Iterator[tuple[str, str]]:
    first, url_a = start_server(database_url)
    try:
        second, url_b = start_server(database_url)
    except Exception:
        stop_server(first)
        raise
    yield url_a, url_b
    stop_server(first)
    stop_server(second)


def htmx(csrf: str, trigger: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf, "HX-Trigger-Name": trigger}


async def test_both_processes_are_ready(two_servers):
    async with httpx.AsyncClient() as http:
        for url in two_servers:
            answer = await http.get(url + "/readyz")
            assert answer.status_code == 200, answer.text
            assert answer.json()["checks"]["migrations"] == {"status": "ok"}


async def test_autosaves_of_one_line_from_both_processes_lose_nothing(two_servers):
    from ppas.domain.periods import current_period
    from ppas.models import BillingForm, FormLine
    from tests.billing_form_support import PASSWORD, make_provider

    url_a, url_b = two_servers
    provider = await make_provider(8)
    period = str(current_period(datetime.now(timezone.utc)).previous())
    async with httpx.AsyncClient(base_url=url_a) as tab_a, \
            httpx.AsyncClient(base_url=url_b) as tab_b:
        csrf_a = await sign_in_as(tab_a, provider.login, PASSWORD)
        csrf_b = await sign_in_as(tab_b, provider.login, PASSWORD)
        # Both open the same month's form at once: one form, one set of lines.
        opened = await asyncio.gather(*(
            tab.post("/facturation/ouvrir", data={"csrf_token": csrf, "period": period,
                                                  "convention": str(provider.convention.id)})
            for tab, csrf in ((tab_a, csrf_a), (tab_b, csrf_b))))
        assert [o.status_code for o in opened] == [303, 303]
        assert opened[0].headers["location"] == opened[1].headers["location"]
        forms = await BillingForm.filter(convention_id=provider.convention.id)
        assert len(forms) == 1
        lines = await FormLine.filter(form_id=forms[0].id).order_by("position")
        assert len(lines) == 8  # no double line

        line = lines[0]
        outcomes = []
        for round_number in range(6):
            stored = await FormLine.get(id=line.id)
            values = {"a": f"{round_number + 1}", "b": f"{round_number + 1},5"}

            def data(value: str) -> dict[str, str]:
                return {f"h-{line.id}": value, f"s-{line.id}": "",
                        f"v-{line.id}": str(stored.version), "page": "1", "form": str(line.form_id)}

            answers = await asyncio.gather(
                tab_a.post(f"/facturation/lignes/{line.id}", data=data(values["a"]),
                           headers=htmx(csrf_a, f"h-{line.id}")),
                tab_b.post(f"/facturation/lignes/{line.id}", data=data(values["b"]),
                           headers=htmx(csrf_b, f"h-{line.id}")))
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            saved = ["Enregistré à" in a.text for a in answers]
            conflicts = ["modifiée entre-temps" in a.text for a in answers]
            # Exactly one lands; the other is told, with both values, never silently lost.
            assert sorted(saved) == [False, True] and sorted(conflicts) == [False, True]
            after = await FormLine.get(id=line.id)
            winner = "a" if saved[0] else "b"
            assert after.version == stored.version + 1
            assert str(after.hours).rstrip("0").rstrip(".") == values[winner].replace(",", ".")
            outcomes.append(winner)

        # Different lines from both processes at once: every one stored.
        others = lines[1:]
        await asyncio.gather(*(
            (tab_a if i % 2 else tab_b).post(
                f"/facturation/lignes/{other.id}",
                data={f"h-{other.id}": "3", f"s-{other.id}": "", f"v-{other.id}": str(other.version),
                      "page": "1", "form": str(other.form_id)},
                headers=htmx(csrf_a if i % 2 else csrf_b, f"h-{other.id}"))
            for i, other in enumerate(others)))
    for other in others:
        assert (await FormLine.get(id=other.id)).hours == 3


async def test_the_same_file_sent_to_both_processes_is_stored_once(two_servers):
    from ppas.models import BillingFile, BillingLine
    from ppas.services import api_tokens
    from tests.billing_file_support import billing_xml, ligne, make_provider
    from tests.schema.test_billing_file_upload import SUBMIT

    provider = await make_provider()
    token = await api_tokens.create_token(provider.user, "Logiciel sur deux instances")
    headers = {"Authorization": f"Bearer {token.secret}"}
    data = billing_xml(provider, [ligne(i + 1, number) for i, number in enumerate(provider.numbers)])
    operations = json.dumps({"query": SUBMIT, "variables": {"file": None, "dryRun": False}})

    async def send(url: str) -> dict:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            answer = await http.post("/graphql", headers=headers, data={
                "operations": operations, "map": json.dumps({"0": ["variables.file"]})},
                files={"0": (provider.amd_name(), data, "text/xml")})
        return answer.json()["data"]["submitBillingFile"]

    results = await asyncio.gather(*(send(url) for url in two_servers * 2))
    accepted = [r for r in results if r.get("status") == "ACCEPTED"]
    assert len(accepted) == 1, results
    assert accepted[0]["acceptedCount"] == len(provider.numbers)
    # The others are refused (F02: already accepted), never stored twice.
    files = await BillingFile.filter(partner_id=provider.partner.id, status="accepted")
    assert len(files) == 1
    assert await BillingLine.filter(file__partner_id=provider.partner.id).count() == \
        len(provider.numbers)


async def test_wrong_passwords_alternating_between_processes_lock_the_account(two_servers,
                                                                               make_user):
    from ppas.models import User

    user = await make_user(password="Juste2026ok")
    url_a, url_b = two_servers

    async def attempt(url: str, password: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=url) as http:
            page = await http.get("/connexion")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            return await http.post("/connexion", data={"csrf_token": csrf, "login": user.login,
                                                       "password": password, "next": "/espace"})

    for url in (url_a, url_b, url_a):
        refused = await attempt(url, "Faux2026mauvais")
        assert refused.status_code != 303
    stored = await User.get(id=user.id)
    assert stored.locked_at is not None and stored.failed_attempts == 3
    # The right password, on either process, no longer opens it.
    for url in (url_b, url_a):
        assert (await attempt(url, "Juste2026ok")).status_code != 303


async def test_concurrent_wrong_passwords_on_both_processes_check_at_most_three(two_servers,
                                                                                make_user):
    from ppas.models import AuditEvent, User

    user = await make_user(password="Juste2026ok")

    async def attempt(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            page = await http.get("/connexion")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            await http.post("/connexion", data={"csrf_token": csrf, "login": user.login,
                                                "password": "Faux2026mauvais"})

    await asyncio.gather(*(attempt(url) for url in two_servers * 4))
    stored = await User.get(id=user.id)
    assert stored.locked_at is not None
    checked = await AuditEvent.filter(action="sign_in_failed", actor_id=user.id).count()
    assert checked <= 3  # the rest were refused before argon2, as locked


async def test_serve_with_two_workers_is_ready_and_sums_metrics(database_url, db):
    """`ppas serve --workers 2`: one port, two processes, metrics added up across them."""
    process, url = start_server(database_url, {"PPAS_METRICS_TOKEN": "jeton-de-mesure-000000"},
                                ("--workers", "2"))
    try:
        auth = {"Authorization": "Bearer jeton-de-mesure-000000"}
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/readyz")).status_code == 200
            for _ in range(40):
                await http.get("/healthz", headers={"Connection": "close"})
            text = (await http.get("/metrics", headers=auth)).text
    finally:
        stop_server(process)
    found = re.search(r'ppas_http_request_duration_seconds_count\{method="GET",route="/healthz",'
                      r'status="200"\} (\S+)', text)
    # Whichever worker answered the scrape, it counts the requests both served.
    assert found and float(found.group(1)) >= 40
