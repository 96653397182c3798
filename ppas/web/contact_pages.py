"""« Contact »: the assistance desk's details and the form to write to it; the caisse's inbox.

The form is a plain multipart POST (it carries an optional attachment), its CSRF token first.
"""
from __future__ import annotations

import base64
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppas.domain.contact import (
    ALLOWED_ATTACHMENTS,
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    allowed_extensions_text,
    size_text,
)
from ppas.services import captcha
from ppas.domain.roles import CAISSE_ROLES
from ppas.web.body_limit import BodyTooLarge
from ppas.web.caisse_registration_pages import paris_time
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

PATH = "/contact"
SENT_PATH = "/contact/envoye"
INBOX_PATH = "/caisse/messages"
# The form's text fields: the GraphQL input's names, in the order of the page.
FIELDS = ["caisseCode", "name", "email", "subject", "message"]
# Agents read the desk's messages rather than write to it (the web layer imports no model).


def _prefilled(request: Request) -> dict[str, str]:
    """A signed-in partner's name and address, ready in the form (they may change them)."""
    user = request.state.user
    if user is None:
        return {}
    return {"name": user.display_name, "email": user.email}


async def _form_page(request: Request, *, status_code: int = 200, values: dict | None = None,
                     problems: dict | None = None, summary: str = "") -> Response:
    try:
        desks = (await run_operation(request, "ContactPage"))["assistanceDesks"]
    except OperationFailed as failure:
        return refusal_page(request, failure)
    user = request.state.user
    own = [d for d in desks if user is not None and d["caisseCode"] == user.caisse.code]
    settings = request.app.state.settings
    return render(
        request, "pages/contact.html", status_code=status_code,
        desks=own or desks, anonymous=user is None,
        is_agent=user is not None and user.role in CAISSE_ROLES,
        values=values if values is not None else _prefilled(request),
        problems=problems or {}, summary=summary,
        accept=",".join(ext for kind in ALLOWED_ATTACHMENTS for ext in kind.extensions),
        allowed=allowed_extensions_text(),
        max_size=size_text(settings.contact_max_attachment_bytes),
        subject_max=SUBJECT_MAX_LENGTH, body_max=BODY_MAX_LENGTH)


async def contact_page(request: Request) -> Response:
    return await _form_page(request)


def _too_large(request: Request) -> dict[str, str]:
    cap = size_text(request.app.state.settings.contact_max_attachment_bytes)
    return {"attachment": f"La pièce jointe dépasse la taille acceptée ({cap}) : réduisez-la "
                          "(une capture d'écran ou un extrait suffit)."}


async def send(request: Request) -> Response:
    try:
        form = await request.form(max_files=1, max_fields=len(FIELDS) + 3)
    except BodyTooLarge:
        problems = _too_large(request)
        return await _form_page(request, status_code=400, values=_prefilled(request),
                                problems=problems, summary="Le message n'est pas envoyé : "
                                "corrigez le champ signalé.")
    try:
        values = {name: str(form.get(name, "")) for name in FIELDS}
        upload = form.get("attachment")
        if not isinstance(upload, UploadFile) or not upload.filename:
            upload = None
        data = await run_operation(request, "SendContactMessage", input=values,
                                   captcha=str(form.get("captcha", "")), attachment=upload)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    finally:
        await form.close()
    result = Outcome.of(data["sendContactMessage"])
    if result.ok:
        return redirect(request, f"{SENT_PATH}?n={quote(result.payload['reference'])}")
    problems = {p["field"]: p["message"] for p in result.problems}
    if not problems:
        problems = {"message": result.message}
    return await _form_page(request, status_code=400, values=values, problems=problems,
                            summary=result.message)


async def sent(request: Request) -> Response:
    reference = request.query_params.get("n", "")
    return render(request, "pages/contact_sent.html",
                  reference=reference if reference.isdigit() else "")


async def captcha_challenge(request: Request) -> Response:
    challenge = captcha.new_challenge(request.app.state.settings)
    return JSONResponse(challenge, headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------------------- back office


@signed_in
async def inbox(request: Request) -> Response:
    page = page_number(request.query_params.get("page", "1"))
    size = request.app.state.settings.page_size
    try:
        data = await run_operation(request, "CaisseContactMessages",
                                   offset=(page - 1) * size, limit=size)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    messages = data["receivedContactMessages"]
    return render(request, "pages/caisse_messages.html", messages=messages, page=page,
                  pages=max(1, -(-messages["totalCount"] // size)), paris_time=paris_time,
                  size_text=size_text)


@signed_in
async def attachment(request: Request) -> Response:
    try:
        data = await run_operation(request, "CaisseContactAttachment",
                                   id=str(request.path_params["id"]))
    except OperationFailed as failure:
        return refusal_page(request, failure)
    found = data["contactAttachment"]
    if found is None:
        return render(request, "pages/not_found.html", status_code=404)
    # Served as a download, never rendered by the portal's origin (the sender chose its bytes).
    name = found["name"].replace('"', "")
    return Response(base64.b64decode(found["contentBase64"]), media_type=found["contentType"],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                             "X-Content-Type-Options": "nosniff"})


routes = [
    Route(PATH, contact_page, methods=["GET"], name="contact"),
    Route(PATH, send, methods=["POST"]),
    Route(SENT_PATH, sent, methods=["GET"], name="contact_sent"),
    Route("/contact/captcha", captcha_challenge, methods=["GET"], name="contact_captcha"),
    Route(INBOX_PATH, inbox, methods=["GET"], name="caisse_messages"),
    Route(INBOX_PATH + "/{id:int}/piece-jointe", attachment, methods=["GET"],
          name="caisse_message_attachment"),
]
