"""« Documentation › Guides et outils »: a user guide per role (HTML and PDF from one template),
the anomaly procedure (from the catalog the reports read), and the FAQ (with the rules in force).

Guides show screenshots of the real pages, written to static/guides/ by the browser tests
(`make guides`); they are static documents, so the handlers run no operation.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.anomalies import CATALOG, AnomalyKind
from ppas.domain.format_documentation import anomaly_title
from ppas.domain.passwords import MAX_FAILED_ATTEMPTS
from ppas.domain.periods import ONLINE_BILLING_MONTHS_BACK
from ppas.web.templating import render

GUIDES_PATH = "/documentation/guides"
ANOMALIES_PATH = "/documentation/anomalies"
SCREENSHOTS_URL = "/static/guides/"


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    audience: str
    template: str


GUIDES = (
    Guide("administrateur", "Guide de l'administrateur de la structure",
          "l'administrateur d'une structure partenaire : comptes des utilisateurs, conventions, "
          "données de la structure, jetons d'API, et tout ce que fait un utilisateur",
          "guides/partner_admin.html"),
    Guide("utilisateur", "Guide de l'utilisateur d'une structure prestataire",
          "les utilisateurs d'un prestataire d'aide à domicile : facturation en ligne, fichiers "
          "de facturation, anomalies, bénéficiaires",
          "guides/partner_user.html"),
    Guide("evaluateur", "Guide de la structure évaluatrice",
          "les évaluateurs : ce qui est ouvert aujourd'hui et ce qui arrive",
          "guides/evaluator.html"),
    Guide("agent-caisse", "Guide de l'agent de la caisse",
          "les agents de la caisse : préinscriptions, demandes de convention, messages reçus "
          "par l'assistance",
          "guides/caisse_agent.html"),
)
_BY_SLUG = {guide.slug: guide for guide in GUIDES}

PHASES = (
    ("F", "Anomalies de fichier (codes F) — à l'envoi",
     "Le fichier entier est refusé : aucune de ses lignes n'est enregistrée, et son nom reste "
     "libre pour l'envoi corrigé."),
    ("L", "Anomalies de facturation (codes L) — à l'envoi",
     "Seule la ligne citée (par son numéro d'enregistrement) est refusée ; les autres lignes du "
     "fichier sont acceptées. Une fois l'anomalie levée, la ligne peut être refacturée depuis le "
     "compte rendu du fichier, sauf pour les motifs marqués « Non »."),
    ("R", "Anomalies de report (codes R) — à l'intégration",
     "Trouvées deux ou trois jours ouvrés après l'envoi, quand la ligne entre dans le système de "
     "la caisse. La ligne n'est pas mise en paiement et ne peut pas être refacturée par le "
     "portail : suivez la conduite indiquée."),
)


def rebill_text(kind: AnomalyKind) -> str:
    """The « Refacturable » cell of the procedure, from the catalog's facts."""
    if kind.level == "file":
        return "Sans objet : renvoyez le fichier corrigé."
    return "Oui, depuis le portail." if kind.rebillable else "Non."


def password_facts(request: Request) -> dict:
    """The password and sign-in rules in force (the caisse's settings), for the FAQ."""
    settings = request.app.state.settings
    policy = settings.password_rules
    validity_months = round(policy.validity.days / 30.5) if policy.validity else None
    return {"policy": policy, "validity_months": validity_months,
            "forbidden": " ".join(policy.forbidden_chars),
            "max_failed": MAX_FAILED_ATTEMPTS,
            "temporary_hours": settings.temporary_password_hours}


async def faq(request: Request) -> Response:
    return render(request, "pages/faq.html", months_back=ONLINE_BILLING_MONTHS_BACK,
                  **password_facts(request))


async def guides(request: Request) -> Response:
    return render(request, "pages/guides.html", guides=GUIDES)


def _guide_context(request: Request, guide: Guide, pdf: bool) -> dict:
    return {"guide": guide, "pdf": pdf, "shots": SCREENSHOTS_URL,
            "months_back": ONLINE_BILLING_MONTHS_BACK, **password_facts(request)}


async def guide_page(request: Request) -> Response:
    guide = _BY_SLUG.get(request.path_params["slug"])
    if guide is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, guide.template, **_guide_context(request, guide, pdf=False))


def _static_file(static_dir: Path):
    """xhtml2pdf's link callback: /static/… URLs are read from the static folder."""
    root = static_dir.resolve()

    def resolve(uri: str, rel: str) -> str:
        if uri.startswith("/static/"):
            return str(root / uri.removeprefix("/static/"))
        return uri

    return resolve


def render_guide_pdf(request: Request, guide: Guide) -> bytes:
    """The guide laid out as PDF by xhtml2pdf, from the template of its HTML page."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    env = request.app.state.templates
    html = env.get_template(guide.template).render(
        request=request, htmx=False, user=None, **_guide_context(request, guide, pdf=True))
    out = io.BytesIO()
    static_dir = request.app.state.settings.static_dir
    # The guide reads its screenshots and nothing else, wherever the server was started from.
    policy = ResourceAccessPolicy(base_dir=(static_dir / "guides").resolve(), allow_remote=False)
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy,
                            link_callback=_static_file(static_dir))
    if status.err:
        raise RuntimeError(f"PDF layout of guide {guide.slug} failed ({status.err} errors)")
    return out.getvalue()


async def guide_pdf(request: Request) -> Response:
    guide = _BY_SLUG.get(request.path_params["slug"])
    if guide is None:
        return render(request, "pages/not_found.html", status_code=404)
    # The same guide for everyone, until the next deployment: laid out once per process.
    cache = getattr(request.app.state, "guide_pdfs", None)
    if cache is None:
        cache = request.app.state.guide_pdfs = {}
    if guide.slug not in cache:
        cache[guide.slug] = render_guide_pdf(request, guide)
    return Response(cache[guide.slug], media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="ppas-{guide.slug}.pdf"'})


async def anomaly_procedure(request: Request) -> Response:
    sections = [(letter, title, intro,
                 [(kind, anomaly_title(kind), rebill_text(kind))
                  for kind in CATALOG.values() if kind.code.startswith(letter)])
                for letter, title, intro in PHASES]
    return render(request, "pages/anomaly_procedure.html", sections=sections)


routes = [
    Route("/faq", faq, name="faq"),
    Route(GUIDES_PATH, guides, name="guides"),
    Route(ANOMALIES_PATH, anomaly_procedure, name="anomaly_procedure"),
    Route(GUIDES_PATH + "/{slug}.pdf", guide_pdf, name="guide_pdf"),
    Route(GUIDES_PATH + "/{slug}", guide_page, name="guide"),
]
