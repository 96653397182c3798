"""Argon2id password hashing, constant-cost unknown logins, and temporary passwords."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ppas.domain.passwords import PasswordPolicy, password_problems

__all__ = [
    "DUMMY_HASH",
    "TEMPORARY_PASSWORD_ALPHABET",
    "generate_temporary_password",
    "hash_password",
    "needs_rehash",
    "verify_against_dummy",
    "verify_password",
]

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 defaults

# Letters and digits a user can retype from an e-mail without confusing 0/O/o or 1/l/I.
TEMPORARY_PASSWORD_ALPHABET = "".join(
    char for char in string.ascii_letters + string.digits if char not in "0Oo1lI"
)
_TEMPORARY_LENGTH = 16
_MAX_DRAWS = 1000


def hash_password(password: str) -> str:
    """Return the argon2id hash (PHC string, salt included) of `password`."""
    return _HASHER.hash(password)


def verify_password(hash: str, password: str) -> bool:
    """Return True when `password` matches `hash`; False on mismatch or unusable hash."""
    if not isinstance(hash, str) or not isinstance(password, str):
        return False
    try:
        return _HASHER.verify(hash, password)
    except (VerificationError, InvalidHashError, UnicodeError):
        return False


def needs_rehash(hash: str) -> bool:
    """Return True when `hash` was made with other parameters (or is unreadable) and should be replaced."""
    try:
        return _HASHER.check_needs_rehash(hash)
    except (InvalidHashError, ValueError, TypeError):
        return True


DUMMY_HASH = hash_password(secrets.token_urlsafe(32))


def verify_against_dummy(password: str) -> bool:
    """Spend the cost of a real verification for an unknown login; always return False."""
    verify_password(DUMMY_HASH, password)
    return False


def _draw(policy: PasswordPolicy) -> str:
    """Draw one random candidate of the right length from the allowed alphabet."""
    alphabet = [char for char in TEMPORARY_PASSWORD_ALPHABET if char not in policy.forbidden_chars]
    if not alphabet:
        raise ValueError(f"policy {policy.name!r} forbids every letter and digit")
    length = min(max(_TEMPORARY_LENGTH, policy.min_length), policy.max_length)
    chars = [secrets.choice(alphabet) for _ in range(length)]
    if policy.require_digit:
        digits = [char for char in alphabet if char in string.digits] or [
            char for char in string.digits if char not in policy.forbidden_chars
        ]
        chars[secrets.randbelow(length)] = secrets.choice(digits)
    return "".join(chars)


def generate_temporary_password(policy: PasswordPolicy) -> str:
    """Return a random password, easy to retype, that `policy` accepts."""
    for _ in range(_MAX_DRAWS):
        candidate = _draw(policy)
        if not password_problems(policy, candidate, login="", matches_recent=lambda _: False):
            return candidate
    raise ValueError(f"policy {policy.name!r} refuses every generated temporary password")
