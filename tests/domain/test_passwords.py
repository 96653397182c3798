"""Password rules: presets, French refusal messages, history, expiry countdown, lockout."""

from __future__ import annotations

import dataclasses
from collections import deque
from datetime import datetime, timedelta, timezone

import pytest

from ppas.domain.passwords import (
    COMMON_PASSWORDS,
    LEGACY,
    MAX_FAILED_ATTEMPTS,
    NIST,
    PasswordPolicy,
    PasswordState,
    grace_warning,
    is_locked_after,
    password_problems,
    password_state,
    policy_named,
)

FORBIDDEN_LIST = "< > / ! # { } ; |"
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)


def never_used(_: str) -> bool:
    """History stub: the password was never used."""
    return False


def legacy(password: str, *, login: str = "jdupont") -> list[str]:
    """Check `password` against the legacy preset with an empty history."""
    return password_problems(LEGACY, password, login=login, matches_recent=never_used)


def nist(password: str, *, login: str = "jdupont") -> list[str]:
    """Check `password` against the NIST preset with an empty history."""
    return password_problems(NIST, password, login=login, matches_recent=never_used)


# --- presets -----------------------------------------------------------------------------


def test_legacy_preset_is_the_portal_rule_set() -> None:
    assert (LEGACY.min_length, LEGACY.max_length) == (8, 12)
    assert LEGACY.require_digit is True
    assert set(LEGACY.forbidden_chars) == set("<>/!#{};|")
    assert LEGACY.history_size == 3
    assert LEGACY.validity == timedelta(days=183)
    assert LEGACY.grace_logins == 3
    assert LEGACY.blocklist == frozenset()


def test_nist_preset_has_no_composition_rule_and_no_expiry() -> None:
    assert (NIST.min_length, NIST.max_length) == (12, 128)
    assert NIST.require_digit is False
    assert NIST.forbidden_chars == ""
    assert NIST.validity is None
    assert NIST.reject_login is True
    assert NIST.blocklist == COMMON_PASSWORDS
    assert len(COMMON_PASSWORDS) >= 50


def test_policies_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LEGACY.min_length = 4  # type: ignore[misc]


@pytest.mark.parametrize(("name", "policy"), [("legacy", LEGACY), ("nist", NIST), (" NIST ", NIST)])
def test_policy_named_returns_presets(name: str, policy: PasswordPolicy) -> None:
    assert policy_named(name) is policy


@pytest.mark.parametrize("name", ["", "strict", "legacy2"])
def test_policy_named_refuses_unknown_names(name: str) -> None:
    with pytest.raises(ValueError, match="expected one of legacy, nist"):
        policy_named(name)


def test_impossible_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid length bounds"):
        dataclasses.replace(LEGACY, min_length=13)


# --- legacy messages ---------------------------------------------------------------------


@pytest.mark.parametrize("password", ["abcdefg1", "Soleil2025", "12345678", "a b c d 9 ", "azertyuiop12"])
def test_legacy_accepts_valid_passwords(password: str) -> None:
    assert legacy(password) == []


def test_empty_password_asks_for_one() -> None:
    assert legacy("") == ["Saisissez un mot de passe."]


def test_legacy_too_short() -> None:
    assert legacy("abc1") == [
        "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères (il en compte 4)."
    ]


def test_legacy_too_long() -> None:
    assert legacy("abcdefghijk12") == [
        "Le mot de passe est trop long : il doit comporter entre 8 et 12 caractères (il en compte 13)."
    ]


def test_legacy_length_bounds_are_inclusive() -> None:
    assert legacy("abcdefg1") == []
    assert legacy("abcdefghijk1") == []


def test_legacy_requires_a_digit() -> None:
    assert legacy("abcdefgh") == ["Le mot de passe doit contenir au moins un chiffre (0 à 9)."]


def test_non_ascii_digit_does_not_count() -> None:
    assert legacy("abcdefg٣") == ["Le mot de passe doit contenir au moins un chiffre (0 à 9)."]


@pytest.mark.parametrize("char", list("<>/!#{};|"))
def test_each_forbidden_character_is_named(char: str) -> None:
    assert legacy(f"abcdef1{char}") == [
        f"Le caractère « {char} » n'est pas autorisé dans le mot de passe "
        f"(caractères interdits : {FORBIDDEN_LIST})."
    ]


def test_all_problems_are_reported_together() -> None:
    assert legacy("a!b!#") == [
        "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères (il en compte 5).",
        "Le mot de passe doit contenir au moins un chiffre (0 à 9).",
        f"Le caractère « ! » n'est pas autorisé dans le mot de passe (caractères interdits : {FORBIDDEN_LIST}).",
        f"Le caractère « # » n'est pas autorisé dans le mot de passe (caractères interdits : {FORBIDDEN_LIST}).",
    ]


def test_legacy_does_not_apply_nist_only_rules() -> None:
    assert legacy("password1") == []
    assert legacy("jdupont1", login="jdupont1") == []


# --- history of 3 ------------------------------------------------------------------------


class History:
    """Remembers the last `size` passwords, as the account service does with hashes."""

    def __init__(self, size: int) -> None:
        self.recent: deque[str] = deque(maxlen=size)
        self.asked: list[str] = []

    def matches(self, password: str) -> bool:
        self.asked.append(password)
        return password in self.recent

    def change(self, policy: PasswordPolicy, password: str) -> list[str]:
        problems = password_problems(policy, password, login="jdupont", matches_recent=self.matches)
        if not problems:
            self.recent.append(password)
        return problems


HISTORY_MESSAGE = "Ce mot de passe fait partie de vos 3 derniers mots de passe : choisissez-en un nouveau."


def test_password_must_differ_from_the_last_three() -> None:
    history = History(LEGACY.history_size)
    for password in ["premier1", "second22", "troisie3"]:
        assert history.change(LEGACY, password) == []
    for password in ["premier1", "second22", "troisie3"]:
        assert history.change(LEGACY, password) == [HISTORY_MESSAGE]
    assert history.change(LEGACY, "quatrie4") == []
    # "premier1" is now the fourth most recent: allowed again, while the others are not.
    assert history.change(LEGACY, "second22") == [HISTORY_MESSAGE]
    assert history.change(LEGACY, "premier1") == []


def test_history_callback_receives_the_candidate_password() -> None:
    history = History(3)
    history.change(LEGACY, "candidat9")
    assert history.asked == ["candidat9"]


def test_history_message_is_combined_with_other_problems() -> None:
    assert password_problems(LEGACY, "abc", login="x", matches_recent=lambda _: True) == [
        "Le mot de passe est trop court : il doit comporter entre 8 et 12 caractères (il en compte 3).",
        "Le mot de passe doit contenir au moins un chiffre (0 à 9).",
        HISTORY_MESSAGE,
    ]


def test_nist_refuses_the_current_password() -> None:
    assert password_problems(
        NIST, "une phrase de passe", login="jdupont", matches_recent=lambda _: True
    ) == ["Ce mot de passe est identique au précédent : choisissez-en un nouveau."]


def test_history_is_not_consulted_when_the_policy_keeps_none() -> None:
    def explode(_: str) -> bool:
        raise AssertionError("history must not be consulted")

    policy = dataclasses.replace(LEGACY, history_size=0)
    assert password_problems(policy, "abcdefg1", login="jdupont", matches_recent=explode) == []


# --- NIST messages -----------------------------------------------------------------------

BLOCKED_MESSAGE = (
    "Ce mot de passe fait partie des plus courants et se devine facilement : choisissez-en un autre."
)


@pytest.mark.parametrize(
    "password",
    ["cheval correct agrafe batterie", "sans chiffre du tout", "<>/!#{};|<>/!", "é" * 12, "x" * 128],
)
def test_nist_accepts_long_passwords_without_composition_rules(password: str) -> None:
    assert nist(password) == []


def test_nist_too_short() -> None:
    assert nist("court123") == [
        "Le mot de passe est trop court : il doit comporter entre 12 et 128 caractères (il en compte 8)."
    ]


def test_nist_too_long() -> None:
    assert nist("x" * 129) == [
        "Le mot de passe est trop long : il doit comporter entre 12 et 128 caractères (il en compte 129)."
    ]


@pytest.mark.parametrize("password", ["password1234", "PASSWORD1234", "AzertyUiop123", "123456789012"])
def test_nist_refuses_common_passwords_case_insensitively(password: str) -> None:
    assert nist(password) == [BLOCKED_MESSAGE]


def test_short_common_password_gets_both_messages() -> None:
    assert nist("Azerty") == [
        "Le mot de passe est trop court : il doit comporter entre 12 et 128 caractères (il en compte 6).",
        BLOCKED_MESSAGE,
    ]


def test_nist_refuses_the_login_as_password_case_insensitively() -> None:
    expected = ["Le mot de passe ne doit pas être identique à l'identifiant : choisissez-en un autre."]
    assert nist("jeanpaul2024", login="jeanpaul2024") == expected
    assert nist("JeanPaul2024", login="jeanpaul2024") == expected


# --- expiry and grace sign-ins -----------------------------------------------------------

CHANGED = NOW - timedelta(days=200)


def test_password_is_valid_before_its_six_months() -> None:
    changed = NOW - timedelta(days=182, hours=23)
    assert password_state(LEGACY, changed, NOW, 0) == (PasswordState.VALID, 3)


def test_password_expires_exactly_after_183_days() -> None:
    changed = NOW - timedelta(days=183)
    assert password_state(LEGACY, changed, NOW, 0) == (PasswordState.GRACE, 3)


def test_grace_countdown_three_two_one_then_blocked() -> None:
    states = [password_state(LEGACY, CHANGED, NOW, used) for used in range(5)]
    assert states == [
        (PasswordState.GRACE, 3),
        (PasswordState.GRACE, 2),
        (PasswordState.GRACE, 1),
        (PasswordState.BLOCKED, 0),
        (PasswordState.BLOCKED, 0),
    ]


def test_a_fresh_change_makes_the_password_valid_again() -> None:
    assert password_state(LEGACY, NOW - timedelta(minutes=1), NOW, 3) == (PasswordState.VALID, 3)


def test_nist_passwords_never_expire() -> None:
    ancient = NOW - timedelta(days=3650)
    assert password_state(NIST, ancient, NOW, 0) == (PasswordState.VALID, 0)


def test_expiry_without_grace_blocks_at_once() -> None:
    policy = dataclasses.replace(LEGACY, grace_logins=0)
    assert password_state(policy, CHANGED, NOW, 0) == (PasswordState.BLOCKED, 0)


def test_grace_warning_plural() -> None:
    assert grace_warning(3) == (
        "Votre mot de passe arrive à expiration — il vous reste 3 authentifications "
        "avant le blocage de votre compte : modifiez-le dès maintenant."
    )
    assert grace_warning(2) == (
        "Votre mot de passe arrive à expiration — il vous reste 2 authentifications "
        "avant le blocage de votre compte : modifiez-le dès maintenant."
    )


def test_grace_warning_singular() -> None:
    assert grace_warning(1) == (
        "Votre mot de passe arrive à expiration — il vous reste 1 authentification "
        "avant le blocage de votre compte : modifiez-le dès maintenant."
    )


def test_grace_warning_none_left() -> None:
    assert grace_warning(0) == (
        "Votre mot de passe a expiré — il ne vous reste aucune authentification : "
        "modifiez-le maintenant, sinon votre compte sera bloqué."
    )


def test_grace_warning_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        grace_warning(-1)


def test_countdown_messages_follow_the_state() -> None:
    warnings = []
    for used in range(4):
        state, remaining = password_state(LEGACY, CHANGED, NOW, used)
        if state is PasswordState.GRACE:
            warnings.append(grace_warning(remaining))
    assert [w.split("il vous reste ")[1].split(" avant")[0] for w in warnings] == [
        "3 authentifications",
        "2 authentifications",
        "1 authentification",
    ]


# --- lockout -----------------------------------------------------------------------------


def test_three_wrong_attempts_lock_the_account() -> None:
    assert MAX_FAILED_ATTEMPTS == 3
    assert [is_locked_after(count) for count in range(5)] == [False, False, False, True, True]


def test_lockout_limit_can_be_tuned() -> None:
    assert is_locked_after(4, max_attempts=5) is False
    assert is_locked_after(5, max_attempts=5) is True


# --- the policy's own consistency checks (issue 17) --------------------------------------


def policy(**changes: object) -> PasswordPolicy:
    """The legacy preset renamed "essai" with `changes`: a caisse's own tuning."""
    return dataclasses.replace(LEGACY, name="essai", **changes)


def test_a_policy_may_ask_for_one_exact_length() -> None:
    exact = policy(min_length=10, max_length=10)
    assert password_problems(exact, "abcdefghi1", login="x", matches_recent=never_used) == []


def test_a_policy_may_accept_one_character_passwords_but_not_empty_ones() -> None:
    assert policy(min_length=1, require_digit=False).min_length == 1
    with pytest.raises(ValueError) as error:
        policy(min_length=0)
    assert str(error.value) == "invalid length bounds 0..12 for policy 'essai'"


def test_a_policy_with_max_below_min_is_refused_naming_the_bounds() -> None:
    with pytest.raises(ValueError) as error:
        policy(min_length=9, max_length=8)
    assert str(error.value) == "invalid length bounds 9..8 for policy 'essai'"


@pytest.mark.parametrize("changes", [{"history_size": -1}, {"grace_logins": -1}])
def test_a_negative_history_or_grace_count_is_refused_on_its_own(changes) -> None:
    with pytest.raises(ValueError) as error:
        policy(**changes)
    assert str(error.value) == "history_size and grace_logins must be >= 0 in policy 'essai'"


def test_no_history_and_no_grace_sign_in_make_a_valid_policy() -> None:
    assert (policy(history_size=0, grace_logins=0).history_size,
            policy(history_size=0, grace_logins=0).grace_logins) == (0, 0)


@pytest.mark.parametrize("validity", [timedelta(0), timedelta(seconds=-1)])
def test_a_zero_or_negative_validity_is_refused(validity: timedelta) -> None:
    with pytest.raises(ValueError) as error:
        policy(validity=validity)
    assert str(error.value) == "validity must be positive or None in policy 'essai'"


def test_a_validity_shorter_than_a_day_is_allowed() -> None:
    assert policy(validity=timedelta(hours=1)).validity == timedelta(hours=1)
    assert policy(validity=None).validity is None


def test_a_policy_requiring_a_digit_may_not_forbid_exactly_all_digits() -> None:
    with pytest.raises(ValueError) as error:
        policy(forbidden_chars="0123456789")
    assert str(error.value) == "policy 'essai' requires a digit but forbids them all"
    assert policy(forbidden_chars="012345678").forbidden_chars == "012345678"
    assert policy(forbidden_chars="0123456789", require_digit=False).require_digit is False


@pytest.mark.parametrize("name", [None, 3])
def test_policy_named_refuses_a_name_that_is_not_text(name) -> None:
    with pytest.raises(ValueError) as error:
        policy_named(name)  # type: ignore[arg-type]
    assert str(error.value) == f"unknown password policy {name!r}: expected one of legacy, nist"


def test_grace_warning_refuses_a_negative_count_naming_it() -> None:
    with pytest.raises(ValueError) as error:
        grace_warning(-1)
    assert str(error.value) == "remaining must be >= 0, got -1"
