"""Argon2id hashing, dummy verification for unknown logins, temporary passwords."""

from __future__ import annotations

import dataclasses
import string

import pytest
from argon2 import PasswordHasher

from ppas.domain.password_hashing import (
    DUMMY_HASH,
    TEMPORARY_PASSWORD_ALPHABET,
    generate_temporary_password,
    hash_password,
    needs_rehash,
    verify_against_dummy,
    verify_password,
)
from ppas.domain.passwords import LEGACY, NIST, PasswordPolicy, password_problems


def test_hash_is_argon2id_and_salted() -> None:
    first = hash_password("Soleil2025")
    second = hash_password("Soleil2025")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "Soleil2025" not in first


def test_verify_accepts_the_right_password_only() -> None:
    stored = hash_password("Soleil2025")
    assert verify_password(stored, "Soleil2025") is True
    assert verify_password(stored, "soleil2025") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$broken", None])
def test_verify_never_raises_on_an_unusable_hash(stored: object) -> None:
    assert verify_password(stored, "Soleil2025") is False  # type: ignore[arg-type]


def test_verify_never_raises_on_an_unencodable_password() -> None:
    assert verify_password(hash_password("Soleil2025"), "\ud800") is False


def test_non_ascii_passwords_round_trip() -> None:
    stored = hash_password("phrase très sûre €")
    assert verify_password(stored, "phrase très sûre €") is True


def test_current_hash_needs_no_rehash() -> None:
    assert needs_rehash(hash_password("Soleil2025")) is False


def test_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("Soleil2025")
    assert verify_password(weak, "Soleil2025") is True
    assert needs_rehash(weak) is True


def test_unreadable_hash_needs_a_rehash() -> None:
    assert needs_rehash("garbage") is True


def test_dummy_hash_is_a_real_argon2id_hash_with_current_parameters() -> None:
    assert DUMMY_HASH.startswith("$argon2id$")
    assert needs_rehash(DUMMY_HASH) is False


@pytest.mark.parametrize("password", ["", "Soleil2025", "x" * 200])
def test_verify_against_dummy_always_fails(password: str) -> None:
    assert verify_against_dummy(password) is False


def accepted(policy: PasswordPolicy, password: str) -> bool:
    """Return True when `policy` accepts `password` for a fresh account."""
    return password_problems(policy, password, login="jdupont", matches_recent=lambda _: False) == []


@pytest.mark.parametrize("policy", [LEGACY, NIST], ids=["legacy", "nist"])
def test_temporary_passwords_always_pass_their_policy(policy: PasswordPolicy) -> None:
    generated = {generate_temporary_password(policy) for _ in range(300)}
    assert len(generated) == 300
    for password in generated:
        assert accepted(policy, password), password
        assert set(password) <= set(TEMPORARY_PASSWORD_ALPHABET)


def test_legacy_temporary_password_has_a_digit_and_fits_twelve_chars() -> None:
    for _ in range(300):
        password = generate_temporary_password(LEGACY)
        assert 8 <= len(password) <= 12
        assert any(char in string.digits for char in password)


def test_temporary_password_avoids_lookalike_characters() -> None:
    assert not set("0Oo1lI") & set(TEMPORARY_PASSWORD_ALPHABET)


def test_temporary_password_respects_a_custom_policy() -> None:
    policy = dataclasses.replace(
        LEGACY, name="custom", min_length=20, max_length=24, forbidden_chars="23456789"
    )
    for _ in range(200):
        password = generate_temporary_password(policy)
        assert accepted(policy, password), password
        assert 20 <= len(password) <= 24


# --- Policies no temporary password can satisfy (issue 17) -------------------------------

def test_a_policy_forbidding_every_letter_and_digit_gets_no_temporary_password():
    from ppas.domain.password_hashing import TEMPORARY_PASSWORD_ALPHABET

    closed = dataclasses.replace(NIST, name="fermée", forbidden_chars=TEMPORARY_PASSWORD_ALPHABET)
    with pytest.raises(ValueError) as error:
        generate_temporary_password(closed)
    assert str(error.value) == "policy 'fermée' forbids every letter and digit"


def test_a_policy_refusing_every_candidate_is_reported_not_looped_forever():
    from ppas.domain.password_hashing import TEMPORARY_PASSWORD_ALPHABET

    # Only « a » is left, on one character, and « a » is blocklisted: every draw is refused.
    only_a = dataclasses.replace(
        NIST, name="impossible", min_length=1, max_length=1, blocklist=frozenset({"a"}),
        forbidden_chars=TEMPORARY_PASSWORD_ALPHABET.replace("a", ""))
    with pytest.raises(ValueError) as error:
        generate_temporary_password(only_a)
    assert str(error.value) == "policy 'impossible' refuses every generated temporary password"


def test_a_temporary_password_is_not_compared_with_any_login():
    from ppas.domain.password_hashing import TEMPORARY_PASSWORD_ALPHABET

    # Only « X » is allowed, on 4 characters: « XXXX » must be the one drawn and accepted;
    # the account's login is unknown here and plays no part.
    only_x = dataclasses.replace(
        NIST, name="x", min_length=4, max_length=4,
        forbidden_chars=TEMPORARY_PASSWORD_ALPHABET.replace("X", ""))
    assert generate_temporary_password(only_x) == "XXXX"


def test_an_unknown_login_costs_as_much_as_a_real_verification():
    # No timing difference may tell an unknown login from a wrong password. Best of three
    # runs each; a skipped hash is a thousand times faster, far below this margin.
    import time

    known = hash_password("Soleil2025")

    def best(call) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return min(times)

    real = best(lambda: verify_password(known, "Lune2025x"))
    assert best(lambda: verify_against_dummy("Lune2025x")) > real / 5
