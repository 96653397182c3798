"""French no-break spaces (ppas/domain/typography.py)."""
import pytest

from ppas.domain.typography import NBSP, NNBSP, french_spacing


@pytest.mark.parametrize(("typed", "printed"), [
    ("le bouton « Enregistrer »", f"le bouton «{NBSP}Enregistrer{NBSP}»"),
    ("«Annuler»", f"«{NBSP}Annuler{NBSP}»"),  # the missing spaces are added
    ("Total du formulaire : 12 h", f"Total du formulaire{NBSP}: 12 h"),
    ("Vous n'êtes pas encore inscrit ?", f"Vous n'êtes pas encore inscrit{NNBSP}?"),
    ("Attention ! Rien n'est enregistré ; recommencez.",
     f"Attention{NNBSP}! Rien n'est enregistré{NNBSP}; recommencez."),
    ("<strong>Total</strong> : 3", f"<strong>Total</strong>{NBSP}: 3"),
    ("Et maintenant ?</h2>", f"Et maintenant{NNBSP}?</h2>"),
])
def test_the_spaces_before_french_punctuation_never_break(typed, printed):
    assert french_spacing(typed) == printed


@pytest.mark.parametrize("untouched", [
    "à 12:30", "https://exemple.fr/?page=2", '{"confirm": "3"}', "x :y",
    '<meta content="width=device-width, initial-scale=1">', "&amp; &lt;",
])
def test_what_is_not_french_punctuation_is_left_alone(untouched):
    assert french_spacing(untouched) == untouched


def test_applying_it_twice_changes_nothing_more():
    once = french_spacing("« Oui » : d'accord ? Non !")
    assert french_spacing(once) == once
