"""The partner admin's pages under /administration: users, partner data, conventions,
API tokens. Each runs a named operation; the schema's services decide who may do what."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.periods import PARIS
from ppas.domain.roles import Role
from ppas.web.guards import redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

Handler = Callable[[Request], Awaitable[Response]]

ROLE_CHOICES = [
    ("partner_user", "Utilisateur"),
    ("partner_admin", "Administrateur"),
    ("evaluator", "Évaluateur"),
]
ROLE_LABELS = dict(ROLE_CHOICES)
STATUS_LABELS = {"active": "Active", "suspended": "Suspendue", "closed": "Close",
                 "requested": "Demandée"}
ADMIN_ONLY = "L'administration est réservée aux administrateurs du partenaire."
USER_DONE = {
    "cree": "Le compte {login} est créé : un mot de passe provisoire lui a été envoyé par "
            "courriel.",
    "modifie": "Le compte {login} est modifié.",
    "desactive": "Le compte {login} est désactivé : ses sessions ont pris fin.",
    "reactive": "Le compte {login} est réactivé.",
}


def paris_time(value: str | None) -> str:
    """An ISO instant from the schema, as a French reader expects it (Paris time)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value).astimezone(PARIS)
    return moment.strftime("%d/%m/%Y à %H:%M")


def admin_area(handler: Handler) -> Handler:
    """Signed-in partner admins only; everyone else gets a plain refusal."""

    @signed_in
    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if request.state.user.role != Role.PARTNER_ADMIN:
            return render(request, "pages/refused.html", status_code=403, messages=[ADMIN_ONLY])
        try:
            return await handler(request)
        except OperationFailed as failure:
            return refusal_page(request, failure)

    return guarded


def problems_of(result: Outcome) -> dict[str, str]:
    """Field → message of an AdminError; the general message under ''."""
    problems = {p["field"]: p["message"] for p in result.problems}
    if not problems:
        problems[result.field or ""] = result.message
    return problems


def _form_value(form, name: str) -> str:
    return str(form.get(name, "")).strip()


# --- home ----------------------------------------------------------------------------------

@admin_area
async def admin_home(request: Request) -> Response:
    data = await run_operation(request, "AdminPartner")
    return render(request, "pages/admin_home.html", partner=data["partner"])


# --- users ---------------------------------------------------------------------------------

async def _users(request: Request) -> list[dict[str, Any]]:
    data = await run_operation(request, "AdminUsers")
    return data["partnerUsers"]


def _render_users(request: Request, users, *, notice: str = "", error: str = "",
                  status_code: int = 200) -> Response:
    return render(request, "pages/admin_users.html", status_code=status_code, users=users,
                  role_labels=ROLE_LABELS, notice=notice, error=error,
                  created=paris_time)


@admin_area
async def users_page(request: Request) -> Response:
    users = await _users(request)
    done = request.query_params.get("fait", "")
    notice = ""
    if done in USER_DONE:
        login = next((u["login"] for u in users if u["id"] == request.query_params.get("id")), "")
        if login:
            notice = USER_DONE[done].format(login=login)
    return _render_users(request, users, notice=notice)


def _user_form(request: Request, *, user: dict[str, Any] | None, values: dict[str, str],
               problems: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "pages/admin_user_form.html", status_code=status_code, edited=user,
                  values=values, problems=problems or {}, roles=ROLE_CHOICES,
                  role_labels=ROLE_LABELS)


USER_FIELDS = ("lastName", "firstName", "email", "phone", "role")
ROLE_REFUSED = "Choisissez le rôle : administrateur, utilisateur ou évaluateur."


def _user_input(values: dict[str, str]) -> dict[str, str] | None:
    """The GraphQL input of the user form: the role as its enum name (the form posts the
    stored value, "partner_user"); None when the role is none of the roles."""
    try:
        role = Role(values["role"])
    except ValueError:
        return None
    return {**values, "role": role.name}


@admin_area
async def new_user_form(request: Request) -> Response:
    return _user_form(request, user=None, values={"role": "partner_user"})


@admin_area
async def create_user(request: Request) -> Response:
    form = await request.form()
    values = {name: _form_value(form, name) for name in ("login", *USER_FIELDS)}
    if (variables := _user_input(values)) is None:
        return _user_form(request, user=None, values=values, problems={"role": ROLE_REFUSED},
                          status_code=400)
    data = await run_operation(request, "AdminCreateUser", input=variables)
    result = Outcome.of(data["createPartnerUser"])
    if result.is_error:
        return _user_form(request, user=None, values=values, problems=problems_of(result),
                          status_code=400)
    user_id = result.payload["user"]["id"]
    return redirect(request, f"/administration/utilisateurs?fait=cree&id={user_id}")


async def _one_user(request: Request) -> dict[str, Any] | None:
    wanted = str(request.path_params["id"])
    return next((u for u in await _users(request) if u["id"] == wanted), None)


@admin_area
async def edit_user_form(request: Request) -> Response:
    user = await _one_user(request)
    if user is None:
        return render(request, "pages/not_found.html", status_code=404)
    return _user_form(request, user=user, values={name: user[name] for name in USER_FIELDS})


@admin_area
async def update_user(request: Request) -> Response:
    user = await _one_user(request)
    if user is None:
        return render(request, "pages/not_found.html", status_code=404)
    form = await request.form()
    values = {name: _form_value(form, name) for name in USER_FIELDS}
    if (variables := _user_input(values)) is None:
        return _user_form(request, user=user, values=values, problems={"role": ROLE_REFUSED},
                          status_code=400)
    data = await run_operation(request, "AdminUpdateUser", id=user["id"], input=variables)
    result = Outcome.of(data["updatePartnerUser"])
    if result.is_error:
        return _user_form(request, user=user, values=values, problems=problems_of(result),
                          status_code=400)
    return redirect(request, f"/administration/utilisateurs?fait=modifie&id={user['id']}")


def _switch(operation: str, field: str, done: str) -> Handler:
    @admin_area
    async def switch(request: Request) -> Response:
        user_id = str(request.path_params["id"])
        data = await run_operation(request, operation, id=user_id)
        result = Outcome.of(data[field])
        if result.is_error and result.code == "NOT_FOUND":
            # Someone else's user (a forged post): refused, and nothing says whether it exists.
            return render(request, "pages/refused.html", status_code=403,
                          messages=[result.message])
        if result.is_error:
            return _render_users(request, await _users(request), error=result.message,
                                 status_code=400)
        return redirect(request, f"/administration/utilisateurs?fait={done}&id={user_id}")

    return switch


@admin_area
async def confirm_deactivation(request: Request) -> Response:
    """Deactivating ends a colleague's sessions and API tokens: say so, and ask first."""
    user = await _one_user(request)
    if user is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/admin_user_deactivate.html", target=user)


deactivate_user = _switch("AdminDeactivateUser", "deactivatePartnerUser", "desactive")
reactivate_user = _switch("AdminReactivateUser", "reactivatePartnerUser", "reactive")


# --- partner data --------------------------------------------------------------------------

PARTNER_FIELDS = ("name", "addressLine", "postalCode", "city", "phone", "email")


@admin_area
async def partner_form(request: Request) -> Response:
    partner = (await run_operation(request, "AdminPartner"))["partner"]
    notice = "Les données de la structure sont enregistrées." if request.query_params.get(
        "fait") else ""
    return render(request, "pages/admin_partner.html", partner=partner,
                  values={name: partner[name] for name in PARTNER_FIELDS}, problems={},
                  notice=notice)


@admin_area
async def update_partner(request: Request) -> Response:
    form = await request.form()
    values = {name: _form_value(form, name) for name in PARTNER_FIELDS}
    data = await run_operation(request, "AdminUpdatePartner", input=values)
    result = Outcome.of(data["updatePartner"])
    if result.is_error:
        partner = (await run_operation(request, "AdminPartner"))["partner"]
        return render(request, "pages/admin_partner.html", status_code=400, partner=partner,
                      values=values, problems=problems_of(result), notice="")
    return redirect(request, "/administration/partenaire?fait=1")


# --- conventions ---------------------------------------------------------------------------

async def _render_conventions(request: Request, *, values=None, problems=None, notice="",
                              status_code=200) -> Response:
    conventions = (await run_operation(request, "AdminConventions"))["conventions"]
    return render(request, "pages/admin_conventions.html", status_code=status_code,
                  conventions=conventions, status_labels=STATUS_LABELS,
                  values=values or {}, problems=problems or {}, notice=notice)


@admin_area
async def conventions_page(request: Request) -> Response:
    notice = ""
    if request.query_params.get("fait") == "demande":
        notice = ("Votre demande est transmise à la caisse. Elle apparaît avec le statut "
                  "« Demandée » jusqu'à sa décision.")
    return await _render_conventions(request, notice=notice)


@admin_area
async def request_convention(request: Request) -> Response:
    form = await request.form()
    values = {"prestationCode": _form_value(form, "prestationCode"),
              "comment": _form_value(form, "comment")}
    data = await run_operation(request, "AdminRequestConvention", **values)
    result = Outcome.of(data["requestConvention"])
    if result.is_error:
        return await _render_conventions(request, values=values, problems=problems_of(result),
                                         status_code=400)
    return redirect(request, "/administration/conventions?fait=demande")


# --- API tokens ----------------------------------------------------------------------------

async def _render_tokens(request: Request, *, created=None, values=None, problems=None,
                         notice="", status_code=200) -> Response:
    tokens = (await run_operation(request, "AdminApiTokens"))["apiTokens"]
    response = render(request, "pages/admin_api_tokens.html", status_code=status_code,
                      tokens=tokens, created=created, values=values or {},
                      problems=problems or {}, notice=notice, when=paris_time)
    # The page may hold a secret shown once: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_area
async def tokens_page(request: Request) -> Response:
    notice = ""
    if request.query_params.get("fait") == "revoque":
        notice = "Le jeton est révoqué : il ne donne plus accès au portail."
    return await _render_tokens(request, notice=notice)


@admin_area
async def create_token(request: Request) -> Response:
    form = await request.form()
    values = {"name": _form_value(form, "name")}
    data = await run_operation(request, "AdminCreateApiToken", tokenName=values["name"])
    result = Outcome.of(data["createApiToken"])
    if result.is_error:
        return await _render_tokens(request, values=values, problems=problems_of(result),
                                    status_code=400)
    # Rendered here, not after a redirect: the secret exists in this response only.
    return await _render_tokens(request, created=result.payload)


async def _one_token(request: Request) -> dict[str, Any] | None:
    wanted = str(request.path_params["id"])
    tokens = (await run_operation(request, "AdminApiTokens"))["apiTokens"]
    return next((t for t in tokens if t["id"] == wanted), None)


@admin_area
async def revoke_token_confirm(request: Request) -> Response:
    token = await _one_token(request)
    if token is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/admin_api_token_revoke.html", token=token, error="",
                  when=paris_time)


@admin_area
async def revoke_token(request: Request) -> Response:
    token = await _one_token(request)
    if token is None:
        return render(request, "pages/not_found.html", status_code=404)
    data = await run_operation(request, "AdminRevokeApiToken", id=token["id"])
    result = Outcome.of(data["revokeApiToken"])
    if result.is_error:
        return render(request, "pages/admin_api_token_revoke.html", status_code=400,
                      token=token, error=result.message, when=paris_time)
    return redirect(request, "/administration/jetons?fait=revoque")


routes = [
    Route("/administration", admin_home, name="administration"),
    Route("/administration/utilisateurs", users_page, name="admin_users"),
    Route("/administration/utilisateurs/nouveau", new_user_form, methods=["GET"]),
    Route("/administration/utilisateurs/nouveau", create_user, methods=["POST"]),
    Route("/administration/utilisateurs/{id:int}", edit_user_form, methods=["GET"]),
    Route("/administration/utilisateurs/{id:int}", update_user, methods=["POST"]),
    Route("/administration/utilisateurs/{id:int}/desactiver", confirm_deactivation, methods=["GET"]),
    Route("/administration/utilisateurs/{id:int}/desactiver", deactivate_user, methods=["POST"]),
    Route("/administration/utilisateurs/{id:int}/reactiver", reactivate_user, methods=["POST"]),
    Route("/administration/partenaire", partner_form, methods=["GET"]),
    Route("/administration/partenaire", update_partner, methods=["POST"]),
    Route("/administration/conventions", conventions_page, methods=["GET"]),
    Route("/administration/conventions", request_convention, methods=["POST"]),
    Route("/administration/jetons", tokens_page, methods=["GET"]),
    Route("/administration/jetons", create_token, methods=["POST"]),
    Route("/administration/jetons/{id:int}/revoquer", revoke_token_confirm, methods=["GET"]),
    Route("/administration/jetons/{id:int}/revoquer", revoke_token, methods=["POST"]),
]
