"""Billing file names: the two patterns (AMD and other prestations) and the uploader checks."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from ppas.domain.periods import Period

__all__ = [
    "AMD_PATTERN",
    "AMD_PRESTATION_CODE",
    "EXTENSION",
    "OTHER_PATTERN",
    "FileKind",
    "FileNameError",
    "ParsedFileName",
    "check_name_matches_uploader",
    "parse_file_name",
]

FileKind = Literal["amd", "other"]

AMD_PRESTATION_CODE = "001"
AMD_PATTERN = "CC_SSSSSSSS_AAAAMM.xml"
OTHER_PATTERN = "CC_JJMMAA_PPP_SSSSSSSS.xml"
EXTENSION = ".xml"

_AMD_HINT = f"{AMD_PATTERN} pour l'aide ménagère à domicile (par exemple 03_21231300_201010.xml)"
_OTHER_HINT = f"{OTHER_PATTERN} pour les autres prestations (par exemple 03_171110_014_21231300.xml)"
_CAISSE_RE = re.compile(r"[0-9]{2}", re.ASCII)
_STRUCTURE_RE = re.compile(r"[0-9]{8}", re.ASCII)
_PRESTATION_RE = re.compile(r"[0-9]{3}", re.ASCII)
_SIX_DIGITS_RE = re.compile(r"[0-9]{6}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ParsedFileName:
    """A valid name: AMD names imply prestation 001 and carry a period, others a send date."""

    kind: FileKind
    caisse_code: str
    structure_id: str
    prestation_code: str
    period: str | None
    send_date: date | None


class FileNameError(ValueError):
    """A refused file name: anomaly `code` (F01) and a French `message` naming the wrong parts."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the anomaly code and the user message."""
        super().__init__(message)
        self.code = code
        self.message = message


def _check_today(today: date) -> None:
    """Refuse anything but a plain calendar date for `today`."""
    if isinstance(today, datetime) or not isinstance(today, date):
        raise TypeError(f"today must be a date, got {type(today).__name__}")


def _caisse_problem(text: str) -> str | None:
    """Say what is wrong with the caisse code part, or None."""
    if _CAISSE_RE.fullmatch(text):
        return None
    return f"le code caisse « {text} » doit comporter exactement 2 chiffres (par exemple 03)"


def _structure_problem(text: str) -> str | None:
    """Say what is wrong with the structure id part, or None."""
    if _STRUCTURE_RE.fullmatch(text):
        return None
    return f"l'identifiant de structure « {text} » doit comporter exactement 8 chiffres"


def _prestation_problem(text: str) -> str | None:
    """Say what is wrong with the prestation code part of an other-prestation name, or None."""
    if not _PRESTATION_RE.fullmatch(text):
        return f"le code prestation « {text} » doit comporter exactement 3 chiffres (par exemple 014)"
    if text == AMD_PRESTATION_CODE:
        return (
            f"le code prestation {AMD_PRESTATION_CODE} (aide ménagère à domicile) se facture "
            f"avec un fichier nommé {AMD_PATTERN}"
        )
    return None


def _period_part(text: str, today: date) -> tuple[Period | None, str | None]:
    """Read the AAAAMM part into a Period not after today's month, or say what is wrong."""
    if not _SIX_DIGITS_RE.fullmatch(text):
        return None, f"l'échéance « {text} » doit s'écrire AAAAMM, en 6 chiffres (par exemple 201010)"
    year, month = int(text[:4]), int(text[4:])
    if not 1 <= month <= 12:
        return None, f"l'échéance « {text} » désigne le mois {text[4:]}, qui n'existe pas (01 à 12)"
    if year == 0:
        return None, f"l'échéance « {text} » désigne l'année 0000, qui n'existe pas"
    period, current = Period(year, month), Period.of(today)
    if period > current:
        return None, (
            f"l'échéance {period.label_fr} n'a pas encore commencé "
            f"(mois le plus récent possible : {current.label_fr})"
        )
    return period, None


def _send_date_part(text: str, today: date) -> tuple[date | None, str | None]:
    """Read the JJMMAA part (years 2000–2099) into a date not after today, or say what is wrong."""
    if not _SIX_DIGITS_RE.fullmatch(text):
        return None, f"la date d'envoi « {text} » doit s'écrire JJMMAA, en 6 chiffres (par exemple 171110)"
    day, month, year = int(text[:2]), int(text[2:4]), 2000 + int(text[4:])
    if not 1 <= month <= 12:
        return None, f"la date d'envoi « {text} » désigne le mois {text[2:4]}, qui n'existe pas (01 à 12)"
    if day == 0:
        return None, f"la date d'envoi « {text} » désigne le jour 00, qui n'existe pas"
    month_period = Period(year, month)
    if day > month_period.last_day.day:
        return None, (
            f"la date d'envoi « {text} » n'existe pas "
            f"({month_period.label_fr} ne compte que {month_period.last_day.day} jours)"
        )
    sent = date(year, month, day)
    if sent > today:
        return None, (
            f"la date d'envoi {sent:%d/%m/%Y} est postérieure à la date du jour ({today:%d/%m/%Y})"
        )
    return sent, None


def _refuse(name: str, problems: list[str], hints: tuple[str, ...]) -> FileNameError:
    """Build the F01 error listing every problem and the expected pattern(s)."""
    return FileNameError(
        "F01",
        f"Le nom de fichier « {name} » n'est pas conforme : {' ; '.join(problems)}. "
        f"Modèle attendu : {' ou '.join(hints)}.",
    )


def parse_file_name(name: str, *, today: date) -> ParsedFileName:
    """Read a billing file name, raising FileNameError("F01", …) when it follows neither pattern."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    _check_today(today)
    problems: list[str] = []
    if name.lower().endswith(EXTENSION):
        stem, extension = name[: -len(EXTENSION)], name[-len(EXTENSION) :]
        if extension != EXTENSION:
            problems.append(
                f"l'extension « {extension} » doit être écrite en minuscules (« {EXTENSION} »)"
            )
    else:
        stem = name
        problems.append(f"le nom doit se terminer par l'extension « {EXTENSION} »")
    parts = stem.split("_")
    if len(parts) == 3:
        caisse, structure, period_text = parts
        period, period_problem = _period_part(period_text, today)
        problems += filter(
            None, (_caisse_problem(caisse), _structure_problem(structure), period_problem)
        )
        if problems:
            raise _refuse(name, problems, (_AMD_HINT,))
        return ParsedFileName("amd", caisse, structure, AMD_PRESTATION_CODE, str(period), None)
    if len(parts) == 4:
        caisse, date_text, prestation, structure = parts
        sent, date_problem = _send_date_part(date_text, today)
        problems += filter(
            None,
            (
                _caisse_problem(caisse),
                date_problem,
                _prestation_problem(prestation),
                _structure_problem(structure),
            ),
        )
        if problems:
            raise _refuse(name, problems, (_OTHER_HINT,))
        return ParsedFileName("other", caisse, structure, prestation, None, sent)
    problems.append(
        "le nom doit comporter 3 parties séparées par « _ » (aide ménagère à domicile) "
        f"ou 4 (autres prestations), et non {len(parts)}"
    )
    raise _refuse(name, problems, (_AMD_HINT, _OTHER_HINT))


def check_name_matches_uploader(
    parsed: ParsedFileName,
    *,
    caisse_code: str,
    structure_id: str,
    prestation_codes: Collection[str],
) -> list[str]:
    """Return the F06 messages for a name whose caisse, structure or prestation is not the uploader's."""
    if isinstance(prestation_codes, str):
        raise TypeError("prestation_codes must be a collection of codes, not a single str")
    problems: list[str] = []
    if parsed.caisse_code != caisse_code:
        problems.append(
            f"Le code caisse {parsed.caisse_code} du nom du fichier n'est pas celui "
            f"de votre caisse ({caisse_code})."
        )
    if parsed.structure_id != structure_id:
        problems.append(
            f"L'identifiant de structure {parsed.structure_id} du nom du fichier n'est pas "
            f"celui de votre structure ({structure_id})."
        )
    if parsed.prestation_code not in prestation_codes:
        known = ", ".join(sorted(prestation_codes)) or "aucune"
        problems.append(
            f"La prestation {parsed.prestation_code} facturée par ce fichier ne fait l'objet "
            f"d'aucune de vos conventions (prestations conventionnées : {known})."
        )
    return problems
