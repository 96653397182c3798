"""Self-hosted proof-of-work captcha (ALTCHA, protocol v2): challenges and one-use checks.

The HMAC key is derived from `settings.secret_key`, so every instance sharing the
secret accepts the others' challenges. A solved challenge is accepted once: its key goes
into `spent_captcha` (a unique column) in the caller's transaction, so a replay is refused by
every instance, even after a restart, and of two sends racing with the same proof only one
passes; the use is also written to the audit log (`captcha_used`).
"""
from __future__ import annotations

import hashlib
import hmac
import time

import altcha
from tortoise.exceptions import IntegrityError

from ppas.models import SpentCaptcha
from ppas.services import audit
from ppas.services.errors import ErrorCode, ServiceError
from ppas.settings import Settings

ALGORITHM = "PBKDF2/SHA-256"
# PBKDF2 iterations per attempt; with the default key prefix ("00", one byte) a browser
# needs ~256 attempts on average: well under a second, yet costly for a bulk sender.
COST = 2000
LIFETIME_SECONDS = 20 * 60
USED_ACTION = "captcha_used"

MISSING = ("La vérification anti-robot n'est pas faite : attendez que la case « Je ne suis "
           "pas un robot » soit cochée, puis envoyez le formulaire.")
REFUSED = ("La vérification anti-robot a échoué ou a expiré : rechargez la page, attendez "
           "la fin de la vérification puis envoyez à nouveau le formulaire.")
REPLAYED = ("Cette vérification anti-robot a déjà servi : rechargez la page pour en obtenir "
            "une nouvelle, puis envoyez à nouveau le formulaire.")


def hmac_key(settings: Settings) -> str:
    """The captcha's own key, derived from the portal's secret (never the secret itself)."""
    return hmac.new(settings.secret_key.encode(), b"ppas:altcha:v2", hashlib.sha256).hexdigest()


def new_challenge(settings: Settings) -> dict:
    """A signed challenge for the widget (JSON-ready). Expiry uses the wall clock, as the
    library's verification does."""
    challenge = altcha.create_challenge(
        ALGORITHM, COST,
        expires_at=int(time.time()) + LIFETIME_SECONDS,
        hmac_secret=hmac_key(settings),
    )
    return challenge.to_dict()


def _signature(payload: str) -> str:
    try:
        return altcha.Payload.from_base64(payload).challenge.signature or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


async def consume(settings: Settings, payload: str, *, ip: str = "") -> None:
    """Accept a solved challenge once, or raise ServiceError (field "captcha").

    Call it inside the use case's transaction: the use is recorded there.
    """
    payload = (payload or "").strip()
    if not payload:
        raise ServiceError(MISSING, field="captcha", code=ErrorCode.CAPTCHA_FAILED)
    result = altcha.verify_solution(payload, hmac_key(settings))
    if not result.verified:
        raise ServiceError(REFUSED, field="captcha", code=ErrorCode.CAPTCHA_FAILED)
    # The signature is an HMAC-SHA-256 in hex; its first 50 characters (200 bits) identify
    # the challenge. Only a verified (hence genuinely signed) challenge gets here.
    key = _signature(payload)[:50]
    try:
        # The unique key decides, not a read first: two transactions would both read "unused".
        await SpentCaptcha.create(key=key)
    except IntegrityError:
        raise ServiceError(REPLAYED, field="captcha",
                           code=ErrorCode.CAPTCHA_FAILED) from None
    await audit.record(USED_ACTION, object_type="captcha", object_id=key, ip=ip)
