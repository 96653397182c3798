"""The offline mode's server side: /sw.js and what it precaches, the shell pages."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import httpx
import pytest

from ppas.app import create_app
from ppas.services.demo import DEMO_PASSWORD
from ppas.web.offline_pages import offline_version, precache_urls


def _config(script: str) -> dict:
    first_line = script.split("\n", 1)[0]
    match = re.fullmatch(r"self\.PPAS_OFFLINE = (.*);", first_line)
    assert match, first_line
    return json.loads(match.group(1))


async def test_the_worker_is_served_at_the_root_with_its_precache_list(client):
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    config = _config(response.text)
    urls = [entry["url"] for entry in config["precache"]]
    assert {"/hors-ligne/", "/hors-ligne/evaluation", "/sw/store.js", "/sw/rules.js",
            "/static/vendor/idb/index.js", "/static/css/ppas.css"} <= set(urls)
    assert "/sw/sw.js" not in urls  # the worker is not a page's module
    assert {entry["revision"] for entry in config["precache"]} == {config["version"]}
    # Every file it will download exists: one 404 would fail the install.
    for url in [*urls, *config["workbox"]]:
        answer = await client.get(url)
        assert answer.status_code == 200, url


async def test_the_version_is_the_setting_or_a_hash_of_the_precached_files(settings, db):
    assert offline_version(replace(settings, offline_version="2026.12.1")) == "2026.12.1"
    computed = offline_version(settings)
    assert re.fullmatch(r"[0-9a-f]{16}", computed)
    app = create_app(replace(settings, offline_version="v9"), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        config = _config((await http.get("/sw.js")).text)
    assert config["version"] == "v9"
    assert len(precache_urls(settings)) == len(config["precache"])


@pytest.mark.parametrize("path", ["/hors-ligne/", "/hors-ligne/evaluation"])
async def test_shell_pages_hold_no_session_data_and_load_only_own_scripts(client, sign_in, path):
    await sign_in(client, "demoeval", DEMO_PASSWORD)
    response = await client.get(path)
    assert response.status_code == 200
    assert "csrf" not in response.text.lower()  # cached for everyone: no token in it
    assert "demoeval" not in response.text
    assert "<script>" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'id="non-synchronisees"' in response.text and 'aria-live="polite"' in response.text


async def test_unknown_workbox_files_are_not_found(client):
    assert (await client.get("/static/vendor/workbox/workbox-window.prod.js")).status_code == 404
    assert (await client.get("/static/vendor/workbox/..%2Fpackage.json")).status_code == 404


async def test_an_evaluator_sees_the_badge_and_loads_the_offline_modules(client, sign_in):
    await sign_in(client, "demoeval", DEMO_PASSWORD)
    page = (await client.get("/espace")).text
    assert 'id="non-synchronisees"' in page
    assert '<script type="module" src="/sw/badge.js">' in page


async def test_other_roles_do_not_load_the_offline_modules(client, sign_in):
    await sign_in(client, "demouser", DEMO_PASSWORD)
    page = (await client.get("/espace")).text
    assert "/sw/badge.js" not in page and "non-synchronisees" not in page
