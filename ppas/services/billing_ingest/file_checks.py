"""Billing file ingest, checks of the whole file: who uploads, the name, size and prolog before
any parsing (F01, F02, F04, F06, F08), then the header once parsed (F03, F06, F07).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from ppas.domain.anomalies import format_message
from ppas.domain.billing_lines import line_message
from ppas.domain.file_names import (
    FileNameError,
    ParsedFileName,
    check_name_matches_uploader,
    parse_file_name,
)
from ppas.models import BillingFile, Convention, ConventionStatus, Partner, User
from ppas.models.billing_file import FileStatus
from ppas.services.access import partner_id_of
from ppas.services.billing_ingest.reading import (
    _prolog_problem,
    _read_prolog,
    _upload_size,
)
from ppas.services.billing_ingest.report import _refusal, _Refused


@dataclass
class _Uploader:
    """Who uploads, and the conventions the header may name."""

    partner: Partner
    caisse_code: str
    conventions: list[Convention]


@dataclass
class _Header:
    convention_id: int
    convention: Convention
    period: str | None
    declared_lines: int
    declared_total: Decimal


async def _uploader(user: User | None) -> _Uploader:
    partner_id = partner_id_of(user)
    partner = await Partner.get(id=partner_id).prefetch_related("caisse")
    conventions = await Convention.filter(partner_id=partner_id).all()
    return _Uploader(partner, partner.caisse.code, conventions)


def _active_on(convention: Convention, today: date) -> bool:
    return (convention.status == ConventionStatus.ACTIVE and convention.valid_from <= today
            and (convention.valid_to is None or convention.valid_to >= today))


async def _check_before_parse(uploader: _Uploader, source: IO[bytes], name: str, today: date,
                              max_bytes: int) -> ParsedFileName:
    if not name or len(name) > 64:
        raise _Refused("F01", line_message("F01", "le nom du fichier doit compter de 1 à 64 "
                                                  "caractères"))
    try:
        parsed = parse_file_name(name, today=today)
    except FileNameError as error:
        raise _Refused(error.code, f"{format_message('F01')} : {error.message}") from None
    prestations = {c.prestation_code for c in uploader.conventions}
    problems = check_name_matches_uploader(
        parsed, caisse_code=uploader.caisse_code, structure_id=uploader.partner.structure_id,
        prestation_codes=prestations)
    if problems:
        raise _Refused("F06", f"{format_message('F06')} : {' '.join(problems)}")
    if await BillingFile.filter(partner_id=uploader.partner.id, name=name,
                                status=FileStatus.ACCEPTED).exists():
        raise _refusal("F02", f"le fichier « {name} » a déjà été accepté ; un fichier refusé, "
                              "lui, ne bloque pas son nom")
    size = _upload_size(source)
    if size == 0:
        raise _refusal("F08", "le fichier est vide")
    if size > max_bytes:
        raise _refusal("F08", f"le fichier pèse {_megabytes(size)}, au-delà des "
                              f"{_megabytes(max_bytes)} acceptés : découpez l'envoi en "
                              "plusieurs fichiers")
    first = await asyncio.to_thread(_read_prolog, source)
    problem = _prolog_problem(first)
    if problem:
        raise _refusal("F04", problem)
    return parsed


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def _check_header(values: dict[str, str], name: str, parsed: ParsedFileName,
                  uploader: _Uploader, today: date) -> _Header:
    """F03, F06 and F07 from the header's texts (already valid against the XSD)."""
    if values["rf-borfact"] != name:
        raise _refusal("F03", f"rf-borfact contient « {values['rf-borfact']} », "
                              f"le fichier s'appelle « {name} »")
    problems = []
    for tag, expected, label in (("code-caisse", parsed.caisse_code, "le code caisse"),
                                 ("id-structure", parsed.structure_id, "l'identifiant de structure"),
                                 ("code-prestation", parsed.prestation_code, "le code prestation")):
        if values[tag] != expected:
            problems.append(f"{label} de l'en-tête ({values[tag]}) diffère de celui du nom "
                            f"du fichier ({expected})")
    if parsed.kind == "amd":
        if "echeance" not in values:
            problems.append("un fichier d'aide ménagère à domicile doit indiquer l'échéance "
                            "(balise echeance), pas une date d'envoi")
        elif values["echeance"] != parsed.period:
            problems.append(f"l'échéance de l'en-tête ({values['echeance']}) diffère de celle "
                            f"du nom du fichier ({parsed.period})")
    else:
        if "date-envoi" not in values:
            problems.append("un fichier d'une autre prestation doit indiquer la date d'envoi "
                            "(balise date-envoi), pas une échéance")
        elif values["date-envoi"] != parsed.send_date.isoformat():
            problems.append(f"la date d'envoi de l'en-tête ({values['date-envoi']}) diffère de "
                            f"celle du nom du fichier ({parsed.send_date:%d/%m/%Y})")
    if problems:
        raise _refusal("F06", " ; ".join(problems))
    number = values["n-convention"]
    convention = next((c for c in uploader.conventions if c.number == number), None)
    if convention is None or convention.prestation_code != values["code-prestation"]:
        raise _refusal("F07", f"la convention {number} n'est pas une convention de votre "
                              f"structure pour la prestation {values['code-prestation']}")
    if not _active_on(convention, today):
        raise _refusal("F07", f"la convention {number} n'est pas en cours "
                              f"(état : {convention.status.value})")
    return _Header(convention.id, convention, values.get("echeance"),
                   int(values["nb-lignes"]), Decimal(values["montant-total"]))
