"""Rules for the sign-in login (identifiant): ASCII letters and digits, 3 to 30 characters."""

from __future__ import annotations

import string
import unicodedata

__all__ = [
    "LOGIN_ALLOWED_CHARS",
    "LOGIN_MAX_LENGTH",
    "LOGIN_MIN_LENGTH",
    "describe_char",
    "login_problems",
]

LOGIN_MIN_LENGTH = 3
LOGIN_MAX_LENGTH = 30
LOGIN_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits)

_CHAR_NAMES = {
    " ": "espace",
    "\u00a0": "espace insécable",
    "\u202f": "espace fine insécable",
    "\t": "tabulation",
    "\n": "retour à la ligne",
    "\r": "retour chariot",
}


def describe_char(char: str) -> str:
    """Return how a French message names `char`: « é », espace, or its code point."""
    if char in _CHAR_NAMES:
        return _CHAR_NAMES[char]
    if unicodedata.combining(char):
        return f"accent isolé (U+{ord(char):04X})"
    if not char.isprintable():
        return f"invisible (U+{ord(char):04X})"
    return f"« {char} »"


def _distinct_in_order(chars: str) -> list[str]:
    """Return the distinct characters of `chars` in order of first appearance."""
    return list(dict.fromkeys(chars))


def login_problems(login: str) -> list[str]:
    """Return every French message explaining why `login` is refused; empty when accepted."""
    if login == "":
        return ["Saisissez un identifiant."]
    problems: list[str] = []
    if len(login) < LOGIN_MIN_LENGTH:
        problems.append(
            f"L'identifiant est trop court : il doit comporter entre {LOGIN_MIN_LENGTH} "
            f"et {LOGIN_MAX_LENGTH} caractères (il en compte {len(login)})."
        )
    elif len(login) > LOGIN_MAX_LENGTH:
        problems.append(
            f"L'identifiant est trop long : il doit comporter entre {LOGIN_MIN_LENGTH} "
            f"et {LOGIN_MAX_LENGTH} caractères (il en compte {len(login)})."
        )
    for char in _distinct_in_order(login):
        if char not in LOGIN_ALLOWED_CHARS:
            problems.append(
                f"Le caractère {describe_char(char)} n'est pas autorisé dans l'identifiant : "
                "utilisez uniquement des lettres sans accent et des chiffres."
            )
    return problems
