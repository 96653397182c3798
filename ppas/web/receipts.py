"""Small facts carried through a redirect, signed so that a link cannot put words in our mouth.

After a successful POST the browser is redirected (no re-post on reload); the page it lands
on shows what was just done from the signed receipt in its address. The receipt holds only
what the visitor typed or was just told, in their own browser.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

_PURPOSE_SEPARATOR = b"\x00"


def _signature(secret: str, purpose: str, payload: bytes) -> str:
    key = secret.encode() + _PURPOSE_SEPARATOR + purpose.encode()
    digest = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign(secret: str, purpose: str, facts: dict[str, Any]) -> str:
    """`facts` as a URL-safe text, signed for one `purpose`."""
    payload = json.dumps(facts, ensure_ascii=False, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_signature(secret, purpose, payload)}"


def read(secret: str, purpose: str, receipt: str | None) -> dict[str, Any] | None:
    """The facts of a receipt signed for `purpose`, or None when absent, altered or foreign."""
    if not receipt or receipt.count(".") != 1 or len(receipt) > 4096:
        return None
    body, signature = receipt.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(signature.encode("utf-8", "surrogateescape"),
                               _signature(secret, purpose, payload).encode()):
        return None
    try:
        facts = json.loads(payload)
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None
