"""The AGGIR evaluation form as data: its fields, their French labels and their rules.

The same definitions drive the server (`validate`) and the browser offline
(`definitions()`, served as JSON at /evaluations/definitions.json): the rules are declarative
so a small interpreter applies them in JavaScript —

* `required`: a value must be given;
* `enum`: the value (or, for `multi`, every value) is one of `options[].value`;
* `min` / `max` (numbers, `step`), `maxLength` (texts);
* `dateBounds`: `notAfter: "today"` (Paris), `notBefore: "orderCreatedOn"` (the order's
  creation day, given with each order).

Answers are a flat mapping: field name → value (strings, as typed; `multi` a list of strings).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ppas.domain import aggir

ABC_OPTIONS = (
    {"value": "A", "label": "A : fait seul, totalement, habituellement et correctement"},
    {"value": "B", "label": "B : fait partiellement, ou non habituellement, ou non correctement"},
    {"value": "C", "label": "C : ne fait pas"},
)

DISCRIMINANT: tuple[tuple[str, str], ...] = (
    ("COH", "Cohérence"),
    ("ORI", "Orientation"),
    ("TOI", "Toilette"),
    ("HAB", "Habillage"),
    ("ALI", "Alimentation"),
    ("ELI", "Élimination"),
    ("TRA", "Transferts"),
    ("DIN", "Déplacements à l'intérieur"),
    ("DEX", "Déplacements à l'extérieur"),
    ("COM", "Communication à distance"),
)
ILLUSTRATIVE: tuple[tuple[str, str], ...] = (
    ("GES", "Gestion"),
    ("CUI", "Cuisine"),
    ("MEN", "Ménage"),
    ("TRN", "Transports"),
    ("ACH", "Achats"),
    ("SUI", "Suivi du traitement"),
    ("TLI", "Activités de temps libre"),
)
PREVENTION_ACTIONS: tuple[tuple[str, str], ...] = (
    ("chutes", "Prévention des chutes, équilibre"),
    ("logement", "Adaptation du logement"),
    ("nutrition", "Nutrition"),
    ("memoire", "Mémoire"),
    ("lien_social", "Lien social, sorties"),
    ("teleassistance", "Téléassistance"),
    ("aidants", "Soutien des aidants"),
)
MAX_HOURS_PER_MONTH = 90
TEXT_MAX = 2000

assert tuple(code for code, _ in DISCRIMINANT) == aggir.VARIABLES


def _abc(code: str, label: str, section: str) -> dict[str, Any]:
    return {"name": code, "label": label, "section": section, "type": "choice",
            "required": True, "options": [dict(o) for o in ABC_OPTIONS]}


SECTIONS: tuple[dict[str, str], ...] = (
    {"name": "visit", "label": "Visite"},
    {"name": "discriminant", "label": "Variables discriminantes (elles donnent le GIR)"},
    {"name": "illustrative", "label": "Variables illustratives (relevées, sans effet sur le GIR)"},
    {"name": "situation", "label": "Conditions de vie et besoins"},
    {"name": "plan", "label": "Plan d'aide préconisé"},
    {"name": "comments", "label": "Commentaires"},
)

FIELDS: tuple[dict[str, Any], ...] = (
    {"name": "visitDate", "label": "Date de la visite", "section": "visit", "type": "date",
     "required": True, "dateBounds": {"notAfter": "today", "notBefore": "orderCreatedOn"}},
    *(_abc(code, label, "discriminant") for code, label in DISCRIMINANT),
    *(_abc(code, label, "illustrative") for code, label in ILLUSTRATIVE),
    {"name": "livingConditions", "label": "Conditions de vie (logement, entourage, aides en place)",
     "section": "situation", "type": "text", "required": True, "maxLength": TEXT_MAX},
    {"name": "needs", "label": "Besoins exprimés et constatés", "section": "situation",
     "type": "text", "required": True, "maxLength": TEXT_MAX},
    {"name": "recommendedHoursPerMonth", "label": "Heures d'aide à domicile par mois",
     "section": "plan", "type": "number", "required": True, "min": 0,
     "max": MAX_HOURS_PER_MONTH, "step": 0.5},
    {"name": "preventionActions", "label": "Actions de prévention", "section": "plan",
     "type": "multi", "required": False,
     "options": [{"value": v, "label": label} for v, label in PREVENTION_ACTIONS]},
    {"name": "comments", "label": "Commentaires", "section": "comments", "type": "text",
     "required": False, "maxLength": TEXT_MAX},
)
FIELD_NAMES: tuple[str, ...] = tuple(f["name"] for f in FIELDS)
_BY_NAME = {f["name"]: f for f in FIELDS}

MESSAGES = {
    "required": "Ce champ est obligatoire : renseignez-le.",
    "choice": "Choisissez A, B ou C.",
    "enum": "Choisissez une valeur de la liste.",
    "date": "Saisissez une date au format JJ/MM/AAAA.",
    "notAfter": "La date de la visite ne peut pas être dans le futur.",
    "notBefore": "La date de la visite ne peut pas précéder la commande ({bound}).",
    "number": "Saisissez un nombre d'heures (ex. 12,5).",
    "range": "Saisissez un nombre d'heures entre {min} et {max}.",
    "step": "Saisissez un nombre d'heures par demi-heure (ex. 12 ou 12,5).",
    "maxLength": "Ce texte dépasse {maxLength} caractères : raccourcissez-le.",
}


def definitions() -> dict[str, Any]:
    """The form and the AGGIR table, for the browser (and for the pages)."""
    body = {"sections": [dict(s) for s in SECTIONS], "fields": [dict(f) for f in FIELDS],
            "messages": dict(MESSAGES), "aggir": aggir.table(),
            "discriminant": [c for c, _ in DISCRIMINANT],
            "illustrative": [c for c, _ in ILLUSTRATIVE]}
    return {"version": _version(body), **body}


def _version(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


DEFINITIONS_VERSION: str = definitions()["version"]


def definitions_json() -> str:
    """`definitions()` as canonical JSON (its `version` changes with any rule)."""
    return json.dumps(definitions(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_date(value: Any) -> date | None:
    """An ISO date (AAAA-MM-JJ, as a date input gives) or JJ/MM/AAAA; None if unreadable."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = text.split("/")
            if len(year) != 4:
                return None
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_hours(value: Any) -> Decimal | None:
    """A number of hours typed with a comma or a dot; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    else:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def validate(answers: Mapping[str, Any], *, today: date,
             order_created_on: date | None = None) -> dict[str, str]:
    """The fields to correct, each with its French message; empty when the answers are valid."""
    problems: dict[str, str] = {}
    for field in FIELDS:
        name = field["name"]
        value = answers.get(name)
        if _empty(value):
            if field["required"]:
                problems[name] = MESSAGES["required"]
            continue
        message = _check(field, value, today, order_created_on)
        if message:
            problems[name] = message
    return problems


def _check(field: Mapping[str, Any], value: Any, today: date,
           order_created_on: date | None) -> str | None:
    kind = field["type"]
    if kind == "choice":
        allowed = {o["value"] for o in field["options"]}
        return None if isinstance(value, str) and value in allowed else MESSAGES["choice"]
    if kind == "multi":
        allowed = {o["value"] for o in field["options"]}
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) and v in allowed
                                                       for v in value)
        return None if ok else MESSAGES["enum"]
    if kind == "text":
        if not isinstance(value, str):
            return MESSAGES["required"]
        if len(value) > field["maxLength"]:
            return MESSAGES["maxLength"].format(maxLength=field["maxLength"])
        return None
    if kind == "number":
        number = parse_hours(value)
        if number is None:
            return MESSAGES["number"]
        if not field["min"] <= number <= field["max"]:
            return MESSAGES["range"].format(min=field["min"], max=field["max"])
        if (number / Decimal(str(field["step"]))) % 1 != 0:
            return MESSAGES["step"]
        return None
    if kind == "date":
        day = parse_date(value)
        if day is None:
            return MESSAGES["date"]
        if day > today:
            return MESSAGES["notAfter"]
        if order_created_on is not None and day < order_created_on:
            return MESSAGES["notBefore"].format(bound=order_created_on.strftime("%d/%m/%Y"))
        return None
    raise AssertionError(f"unknown field type {kind}")  # pragma: no cover


def normalised(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The valid answers as stored: only the form's fields, texts stripped, the date ISO,
    hours as a string with a dot, prevention actions sorted and unique."""
    out: dict[str, Any] = {}
    for field in FIELDS:
        name = field["name"]
        value = answers.get(name)
        if _empty(value):
            out[name] = [] if field["type"] == "multi" else None
        elif field["type"] == "date":
            out[name] = parse_date(value).isoformat()
        elif field["type"] == "number":
            out[name] = str(parse_hours(value).normalize())
        elif field["type"] == "multi":
            out[name] = sorted(set(value))
        elif field["type"] == "text":
            out[name] = value.strip()
        else:
            out[name] = value
    return out


def digest(answers: Mapping[str, Any]) -> str:
    """A fingerprint of normalised answers: the same content gives the same digest."""
    canonical = json.dumps(answers, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def modalities(answers: Mapping[str, Any]) -> dict[str, str]:
    """The ten discriminant modalities of valid answers, for `aggir.gir`."""
    return {code: answers[code] for code in aggir.VARIABLES}


def label_of(name: str) -> str:
    """A field's French label."""
    return _BY_NAME[name]["label"]
