"""Per-address limits on the requests that cost an argon2 hash or send mail: sign-in,
« Mot de passe oublié » and registration.

Counted with the `limits` library in memory (moving window): right for one instance; behind
several, each instance counts its own requests. The address is the client's as uvicorn gives
it (behind a reverse proxy, uvicorn's --forwarded-allow-ips makes it the real one).
"""
from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from ppas.services.errors import AccessDenied, ErrorCode
from ppas.settings import Settings

SIGN_IN = "sign_in"
PASSWORD_RESET = "password_reset"
REGISTRATION = "registration"

CODE = ErrorCode.TOO_MANY_REQUESTS.value
_MESSAGES = {
    SIGN_IN: "Trop de tentatives de connexion depuis votre adresse. Patientez {wait} avant de "
             "réessayer ; si vous avez oublié votre mot de passe, utilisez « Mot de passe "
             "oublié ».",
    PASSWORD_RESET: "Trop de demandes de mot de passe depuis votre adresse. Patientez {wait} "
                    "avant de réessayer, et vérifiez vos courriers indésirables : le courriel "
                    "déjà envoyé s'y trouve peut-être.",
    REGISTRATION: "Trop de préinscriptions envoyées depuis votre adresse. Patientez {wait} "
                  "avant de réessayer ; en cas de difficulté, contactez votre caisse.",
}


def wait_text(seconds: int) -> str:
    """« 45 secondes », « 2 minutes »: how long to wait, in words a user reads at once."""
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


class TooManyRequests(AccessDenied):
    """Past a limit: `retry_after` seconds to wait. A refusal of the caller (top-level error,
    never data); `extensions` is read by graphql-core, so the error carries the code and the
    wait a client can branch on."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(_MESSAGES[action].format(wait=wait_text(retry_after)),
                         code=ErrorCode.TOO_MANY_REQUESTS)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": CODE, "retryAfter": self.retry_after}


class RateLimits:
    """The limits of one app, from its settings (a malformed one stops start-up)."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, list[RateLimitItem]] = {
            SIGN_IN: parse_many(settings.rate_limit_sign_in),
            PASSWORD_RESET: parse_many(settings.rate_limit_password_reset),
            REGISTRATION: parse_many(settings.rate_limit_registration),
        }

    async def hit(self, action: str, address: str) -> None:
        """Count one request of `action` from `address`; TooManyRequests once past a limit."""
        for rule in self._rules[action]:
            if not await self._limiter.hit(rule, action, address):
                stats = await self._limiter.get_window_stats(rule, action, address)
                raise TooManyRequests(action, max(1, math.ceil(stats.reset_time - time.time())))
