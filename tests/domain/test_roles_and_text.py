"""The main menu per role, and invisible characters in typed names."""
from __future__ import annotations

from ppas.domain.roles import Role, menu_for
from ppas.domain.text import invisible_characters

EVERYBODY = [("Documentation", "/documentation"), ("Contact", "/contact")]


def test_an_anonymous_visitor_sees_the_public_areas_and_an_evaluator_evaluations_not_billing():
    assert menu_for(None) == EVERYBODY
    assert menu_for(Role.EVALUATOR) == [("Évaluations", "/evaluations"), *EVERYBODY]


def test_providers_see_billing_and_no_caisse_area():
    assert menu_for(Role.PARTNER_USER) == [
        ("Facturation", "/facturation"), ("Fichiers", "/fichiers"),
        ("Bénéficiaires", "/beneficiaires"), ("Anomalies", "/anomalies"),
        ("Bordereaux", "/bordereaux"), *EVERYBODY]
    assert menu_for("partner_admin") == menu_for(Role.PARTNER_USER)


def test_caisse_staff_see_the_caisse_areas_and_no_billing():
    assert menu_for(Role.CAISSE_AGENT) == [
        ("Demandes de convention", "/caisse/conventions"),
        ("Préinscriptions", "/caisse/inscriptions"), ("Messages reçus", "/caisse/messages"),
        ("Tâches de fond", "/caisse/taches"),
        ("Bénéficiaires et prises en charge", "/caisse/beneficiaires"),
        ("Paiements", "/caisse/paiements"), ("Évaluations reçues", "/caisse/evaluations"),
        *EVERYBODY]
    assert menu_for(Role.CAISSE_ADMIN) == menu_for(Role.CAISSE_AGENT)


def test_invisible_characters_are_named_once_each_in_order_as_code_points():
    assert invisible_characters("DU\u200bPONT\x00 Jeanne\u200b\ue000\U000e0001") == [
        "U+200B", "U+0000", "U+E000", "U+E0001"]


def test_visible_names_have_no_invisible_character():
    assert invisible_characters("Éloïse D'ARTAGNAN-Ñúñez  ") == []
