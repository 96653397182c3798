"""Jinja rendering: a full page, or only its content for an htmx request."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import re

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ppas.domain.amounts import format_euros, format_hours
from ppas.domain.periods import PARIS
from ppas.domain.plural import count_of, plural
from ppas.domain.roles import menu_for
from ppas.domain.typography import french_spacing

# What Jinja reads as code in a template: left exactly as written.
_JINJA_SYNTAX = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.S)


class FrenchTypography(Extension):
    """The HTML templates' own text gets its no-break spaces (« », : ; ! ?) when loaded."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not (name or "").endswith(".html"):
            return source
        parts = _JINJA_SYNTAX.split(source)
        # split() with a group: text at even indexes, Jinja syntax at odd ones.
        return "".join(part if index % 2 else french_spacing(part)
                       for index, part in enumerate(parts))



def paris_time(value: str | datetime | None, pattern: str) -> str:
    """An instant (a datetime, or its ISO text as GraphQL gives it) in Paris time."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(PARIS).strftime(pattern)


def make_environment(templates_dir) -> Environment:
    """The Jinja environment with the French formatting filters."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: no stat of every template file on every render.
        auto_reload=False,
        extensions=[FrenchTypography],
    )
    env.filters["euros"] = format_euros
    env.filters["hours"] = format_hours
    env.filters["date_fr"] = lambda d: d.strftime("%d/%m/%Y") if d else "—"
    # GraphQL results carry scalars as strings: turn them back into values to format.
    env.filters["decimal"] = Decimal
    env.filters["isodate"] = date.fromisoformat
    env.filters["isodatetime"] = datetime.fromisoformat
    env.filters["paris_hm"] = lambda v: paris_time(v, "%H:%M")
    env.filters["paris_datetime"] = lambda v: paris_time(v, "%d/%m/%Y à %H:%M")
    # French agreement: {{ n | plural("ligne", "lignes") }}, {{ n | count_of("ligne", "lignes") }}.
    env.filters["plural"] = plural
    env.filters["count_of"] = count_of
    return env


def is_htmx(request: Request) -> bool:
    """True when htmx asked for a fragment rather than a full page."""
    return request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` as a page, or as a fragment for htmx."""
    env: Environment = request.app.state.templates
    user = request.state.user
    html = env.get_template(template).render(
        request=request,
        htmx=is_htmx(request),
        user=user,
        csrf_token=request.state.csrf_token,
        menu=menu_for(user.role if user is not None else None),
        current_path=request.scope["path"],
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "HX-Request"})
