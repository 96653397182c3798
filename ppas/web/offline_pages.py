"""The evaluators' offline mode: the service worker (/sw.js), its modules and the shell pages.

The shell pages (/hors-ligne/…) hold no personal data and no session token: they are the same
for everyone, so the service worker can precache them and serve them with no network. What
they show (the reserved orders, the form's definitions, the evaluations being written) comes
from the browser's IndexedDB, written by « Générer le mode déconnecté » (sw/offline.js).

The service worker is sw/sw.js with one line put in front: the list of files to precache and
the version, `PPAS_OFFLINE`. A new version (PPAS_OFFLINE_VERSION, or by default a hash of the
precached files) changes the script's bytes, so the browser installs the new worker; Workbox
downloads the new revisions first and deletes the old ones only once they are all in
(precaching semantics); IndexedDB is never touched by an update.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ppas.settings import Settings

# The shell: pages rendered from templates/offline/, then the files they load.
SHELL_PAGES = {
    "/hors-ligne/": "offline/home.html",
    "/hors-ligne/evaluation": "offline/evaluation.html",
}
STATIC_FILES = ("css/ppas.css", "favicon.svg")
IDB_FILE = "/static/vendor/idb/index.js"
# Workbox's browser builds (IIFE, for importScripts), served from node_modules like htmx.
WORKBOX_MODULES = ("workbox-core", "workbox-routing", "workbox-strategies", "workbox-precaching")
WORKBOX_FILE = re.compile(r"^(workbox-[a-z]+)\.prod\.js(\.map)?$")
NO_CACHE = {"Cache-Control": "no-cache"}


def _modules(settings: Settings) -> list[str]:
    """The ES modules of sw/ that pages load (all but the worker itself)."""
    return sorted(path.name for path in settings.sw_dir.glob("*.js") if path.name != "sw.js")


def precache_urls(settings: Settings) -> list[str]:
    """Every address the service worker precaches."""
    return [*SHELL_PAGES, *(f"/static/{name}" for name in STATIC_FILES), IDB_FILE,
            *(f"/sw/{name}" for name in _modules(settings))]


@lru_cache(maxsize=8)
def _content_version(sw_dir: Path, static_dir: Path, templates_dir: Path,
                     node_modules_dir: Path) -> str:
    digest = hashlib.sha256()
    files = [*sorted(sw_dir.glob("*.js")), *(static_dir / name for name in STATIC_FILES),
             *sorted((templates_dir / "offline").glob("*.html")),
             node_modules_dir / "idb" / "package.json",
             *(node_modules_dir / name / "package.json" for name in WORKBOX_MODULES)]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()[:16]


def offline_version(settings: Settings) -> str:
    """The deployed offline version: the setting, else a hash of what is precached."""
    return settings.offline_version or _content_version(
        settings.sw_dir, settings.static_dir, settings.templates_dir, settings.node_modules_dir)


def service_worker_source(settings: Settings) -> str:
    version = offline_version(settings)
    config = {
        "version": version,
        "workbox": [f"/static/vendor/workbox/{name}.prod.js" for name in WORKBOX_MODULES],
        # One revision for all: a new version downloads the whole shell again (it is small).
        "precache": [{"url": url, "revision": version} for url in precache_urls(settings)],
    }
    worker = (settings.sw_dir / "sw.js").read_text(encoding="utf-8")
    return f"self.PPAS_OFFLINE = {json.dumps(config)};\n{worker}"


async def service_worker(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return Response(service_worker_source(settings), media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/", **NO_CACHE})


async def workbox_file(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    name = request.path_params["name"]
    match = WORKBOX_FILE.match(name)
    path = (settings.node_modules_dir / match.group(1) / "build" / name) if match else None
    if match is None or match.group(1) not in WORKBOX_MODULES or not path.is_file():
        return Response("Fichier introuvable.", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="text/javascript")


def _shell_page(template: str):
    async def page(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        html = request.app.state.templates.get_template(template).render(
            offline_version=offline_version(settings), current_path=request.scope["path"])
        return HTMLResponse(html, headers=NO_CACHE)
    return page


def routes(settings: Settings) -> list:
    return [
        Route("/sw.js", service_worker),
        *(Route(path, _shell_page(template)) for path, template in SHELL_PAGES.items()),
        Route("/hors-ligne", _redirect_to_home),
        Route("/static/vendor/workbox/{name}", workbox_file),
        Mount("/static/vendor/idb", StaticFiles(directory=settings.node_modules_dir / "idb" / "build",
                                                check_dir=False)),
        Mount("/sw", StaticFiles(directory=settings.sw_dir, check_dir=False)),
    ]


async def _redirect_to_home(request: Request) -> Response:
    return RedirectResponse("/hors-ligne/", status_code=308)
