"""Password rules: policy presets, acceptance messages, expiry with grace sign-ins, lockout."""

from __future__ import annotations

import enum
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "COMMON_PASSWORDS",
    "LEGACY",
    "MAX_FAILED_ATTEMPTS",
    "NIST",
    "PasswordPolicy",
    "PasswordState",
    "grace_warning",
    "is_locked_after",
    "password_problems",
    "password_state",
    "policy_named",
]

MAX_FAILED_ATTEMPTS = 3

# Well-known entries of public "most common passwords" lists, French favourites included,
# plus long variants that would otherwise pass a 12-character minimum.
COMMON_PASSWORDS = frozenset(
    {
        "123456", "12345678", "123456789", "1234567890", "12345", "111111", "000000",
        "123123", "654321", "666666", "password", "password1", "passw0rd", "qwerty",
        "qwerty123", "azerty", "azerty123", "abc123", "iloveyou", "admin", "welcome",
        "letmein", "monkey", "dragon", "football", "baseball", "sunshine", "princess",
        "superman", "trustno1", "master", "shadow", "michael", "jordan23", "starwars",
        "motdepasse", "soleil", "bonjour", "doudou", "loulou", "chouchou", "marseille",
        "jetaime", "nicolas", "camille", "123456789012", "1234567890123", "111111111111",
        "000000000000", "123123123123", "abcdefghijkl", "qwertyuiop123", "azertyuiop123",
        "qwertyqwerty", "azertyazerty", "password1234", "password123!", "passwordpassword",
        "motdepasse123", "motdepasse1234", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedcrfv",
        "iloveyou1234", "welcome12345", "changeme1234", "administrator", "bonjour12345",
        "soleil123456", "jetaime123456", "marseille1234",
    }
)


@dataclass(frozen=True)
class PasswordPolicy:
    """Every password rule a caisse can tune; see the LEGACY and NIST presets."""

    name: str
    min_length: int
    max_length: int
    require_digit: bool
    forbidden_chars: str
    history_size: int
    validity: timedelta | None
    grace_logins: int
    blocklist: frozenset[str]
    reject_login: bool = False

    def __post_init__(self) -> None:
        """Refuse a policy that no password could satisfy or that makes no sense."""
        if self.min_length < 1 or self.max_length < self.min_length:
            raise ValueError(
                f"invalid length bounds {self.min_length}..{self.max_length} for policy {self.name!r}"
            )
        if self.history_size < 0 or self.grace_logins < 0:
            raise ValueError(f"history_size and grace_logins must be >= 0 in policy {self.name!r}")
        if self.validity is not None and self.validity <= timedelta(0):
            raise ValueError(f"validity must be positive or None in policy {self.name!r}")
        if self.require_digit and set(string.digits) <= set(self.forbidden_chars):
            raise ValueError(f"policy {self.name!r} requires a digit but forbids them all")


LEGACY = PasswordPolicy(
    name="legacy",
    min_length=8,
    max_length=12,
    require_digit=True,
    forbidden_chars="<>/!#{};|",
    history_size=3,
    validity=timedelta(days=183),
    grace_logins=3,
    blocklist=frozenset(),
)

NIST = PasswordPolicy(
    name="nist",
    min_length=12,
    max_length=128,
    require_digit=False,
    forbidden_chars="",
    history_size=1,
    validity=None,
    grace_logins=0,
    blocklist=COMMON_PASSWORDS,
    reject_login=True,
)

_POLICIES = {"legacy": LEGACY, "nist": NIST}


def policy_named(name: str) -> PasswordPolicy:
    """Return the preset called `name` ("legacy" or "nist"), raising ValueError otherwise."""
    key = name.strip().lower() if isinstance(name, str) else name
    try:
        return _POLICIES[key]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown password policy {name!r}: expected one of {', '.join(sorted(_POLICIES))}"
        ) from None


def _history_message(size: int) -> str:
    """Return the French message for a password found in the last `size` ones."""
    if size == 1:
        return "Ce mot de passe est identique au précédent : choisissez-en un nouveau."
    return (
        f"Ce mot de passe fait partie de vos {size} derniers mots de passe : "
        "choisissez-en un nouveau."
    )


def password_problems(
    policy: PasswordPolicy,
    password: str,
    *,
    login: str,
    matches_recent: Callable[[str], bool],
) -> list[str]:
    """Return every French message explaining why `password` is refused; empty when accepted."""
    if password == "":
        return ["Saisissez un mot de passe."]
    problems: list[str] = []
    bounds = f"entre {policy.min_length} et {policy.max_length} caractères"
    if len(password) < policy.min_length:
        problems.append(
            f"Le mot de passe est trop court : il doit comporter {bounds} "
            f"(il en compte {len(password)})."
        )
    elif len(password) > policy.max_length:
        problems.append(
            f"Le mot de passe est trop long : il doit comporter {bounds} "
            f"(il en compte {len(password)})."
        )
    if policy.require_digit and not any(char in string.digits for char in password):
        problems.append("Le mot de passe doit contenir au moins un chiffre (0 à 9).")
    listed = " ".join(policy.forbidden_chars)
    for char in dict.fromkeys(password):
        if char in policy.forbidden_chars:
            problems.append(
                f"Le caractère « {char} » n'est pas autorisé dans le mot de passe "
                f"(caractères interdits : {listed})."
            )
    if policy.reject_login and login and password.casefold() == login.casefold():
        problems.append(
            "Le mot de passe ne doit pas être identique à l'identifiant : choisissez-en un autre."
        )
    if password.casefold() in {entry.casefold() for entry in policy.blocklist}:
        problems.append(
            "Ce mot de passe fait partie des plus courants et se devine facilement : "
            "choisissez-en un autre."
        )
    if policy.history_size > 0 and matches_recent(password):
        problems.append(_history_message(policy.history_size))
    return problems


class PasswordState(enum.Enum):
    """Where a password stands: valid, expired with sign-ins left, or blocked."""

    VALID = "valid"
    GRACE = "grace"
    BLOCKED = "blocked"


def password_state(
    policy: PasswordPolicy, changed_at: datetime, now: datetime, grace_used: int
) -> tuple[PasswordState, int]:
    """Return the password's state and the grace sign-ins still allowed, this one included."""
    remaining = max(policy.grace_logins - max(grace_used, 0), 0)
    if policy.validity is None or now < changed_at + policy.validity:
        return PasswordState.VALID, policy.grace_logins
    if remaining > 0:
        return PasswordState.GRACE, remaining
    return PasswordState.BLOCKED, 0


def grace_warning(remaining: int) -> str:
    """Return the French countdown shown at a sign-in with an expired password."""
    if remaining < 0:
        raise ValueError(f"remaining must be >= 0, got {remaining}")
    if remaining == 0:
        return (
            "Votre mot de passe a expiré — il ne vous reste aucune authentification : "
            "modifiez-le maintenant, sinon votre compte sera bloqué."
        )
    noun = "authentification" if remaining == 1 else "authentifications"
    return (
        f"Votre mot de passe arrive à expiration — il vous reste {remaining} {noun} "
        "avant le blocage de votre compte : modifiez-le dès maintenant."
    )


def is_locked_after(failed_count: int, max_attempts: int = MAX_FAILED_ATTEMPTS) -> bool:
    """Return True once `failed_count` consecutive wrong sign-ins reach the lockout limit."""
    return failed_count >= max_attempts
