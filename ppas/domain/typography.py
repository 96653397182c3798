"""French typography of the portal's texts: the spaces that must never break a line.

« guillemets » take a no-break space inside; « : » takes a no-break space before it, and
« ; », « ! », « ? » a narrow no-break space (the Imprimerie nationale's rules, as public
services write). Applied to the templates' own text when they are loaded, so that nobody has
to type invisible characters.
"""
from __future__ import annotations

import re

NBSP = "\u00a0"
NNBSP = "\u202f"
_SPACES = "[ \u00a0\u202f]"

_RULES = (
    (re.compile(f"«{_SPACES}*"), f"«{NBSP}"),
    (re.compile(f"{_SPACES}*»"), f"{NBSP}»"),
    # Only a space already there becomes unbreakable: « 12:30 », « https: » stay as they are.
    (re.compile(r"(?<=[^\s<=\"']) (?=:(?:\s|$|<))"), NBSP),
    (re.compile(r"(?<=[^\s<=\"']) (?=[;!?](?:\s|$|<|»))"), NNBSP),
)


def french_spacing(text: str) -> str:
    """`text` with no-break spaces inside « » and before : ; ! ?"""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
