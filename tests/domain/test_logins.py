"""Login rules: ASCII letters and digits only, 3 to 30 characters, offending character named."""

from __future__ import annotations

import pytest

from ppas.domain.logins import (
    LOGIN_MAX_LENGTH,
    LOGIN_MIN_LENGTH,
    describe_char,
    login_problems,
)

HINT = "utilisez uniquement des lettres sans accent et des chiffres."


def char_message(described: str) -> str:
    """Return the exact message shown for one refused character."""
    return f"Le caractère {described} n'est pas autorisé dans l'identifiant : {HINT}"


@pytest.mark.parametrize("login", ["abc", "jdupont", "JDupont75", "a1b2c3", "123", "x" * 30])
def test_letters_and_digits_are_accepted(login: str) -> None:
    assert login_problems(login) == []


def test_bounds_match_the_account_model() -> None:
    assert (LOGIN_MIN_LENGTH, LOGIN_MAX_LENGTH) == (3, 30)


def test_empty_login_asks_for_one() -> None:
    assert login_problems("") == ["Saisissez un identifiant."]


def test_too_short_login_gives_bounds_and_count() -> None:
    assert login_problems("ab") == [
        "L'identifiant est trop court : il doit comporter entre 3 et 30 caractères (il en compte 2)."
    ]


def test_too_long_login_gives_bounds_and_count() -> None:
    assert login_problems("a" * 31) == [
        "L'identifiant est trop long : il doit comporter entre 3 et 30 caractères (il en compte 31)."
    ]


def test_accented_letter_is_named() -> None:
    assert login_problems("rené") == [char_message("« é »")]


def test_space_is_called_espace() -> None:
    assert login_problems("jean dupont") == [char_message("espace")]


@pytest.mark.parametrize(
    ("login", "described"),
    [
        ("d'arc", "« ' »"),
        ("jean-paul", "« - »"),
        ("jean_paul", "« _ »"),
        ("jean.paul", "« . »"),
        ("jean@caisse", "« @ »"),
        ("françois", "« ç »"),
        ("Ærø12", "« Æ »"),
        ("abc\u00a0d", "espace insécable"),
        ("abc\td", "tabulation"),
    ],
)
def test_each_special_character_is_named(login: str, described: str) -> None:
    assert char_message(described) in login_problems(login)


def test_every_distinct_offending_character_reported_once_in_order() -> None:
    assert login_problems("é-à é-x") == [
        char_message("« é »"),
        char_message("« - »"),
        char_message("« à »"),
        char_message("espace"),
    ]


def test_length_and_character_problems_are_all_reported() -> None:
    assert login_problems("é") == [
        "L'identifiant est trop court : il doit comporter entre 3 et 30 caractères (il en compte 1).",
        char_message("« é »"),
    ]


def test_non_ascii_digits_and_superscripts_are_refused() -> None:
    assert login_problems("abc²") == [char_message("« ² »")]
    assert login_problems("abc٣") == [char_message("« ٣ »")]


def test_combining_accent_is_described_with_its_code_point() -> None:
    assert login_problems("rene\u0301") == [char_message("accent isolé (U+0301)")]


def test_invisible_character_is_described_with_its_code_point() -> None:
    assert describe_char("\u200b") == "invisible (U+200B)"
