"""libxml2's English messages about a billing file, said in French (F04 and F05 details)."""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree

from ppas.domain.xml_messages import EXPECTED, known_syntax_message, schema_message, syntax_message
from ppas.domain.xml_safety import load_schema, safe_iterparse

NS = "{urn:ppas:facturation:1}"

# (libxml2's message as the XSD validation gives it, what the French sentence must say)
SCHEMA_CASES = [
    (f"Element '{NS}nb-heures': 'abc' is not a valid value of the atomic type '{NS}Heures'.",
     ["<nb-heures>", "« abc »", "au plus 2 décimales", "ex. 12.50"]),
    (f"Element '{NS}nb-heures': [facet 'fractionDigits'] The value '12.505' has more fractional "
     "digits than are allowed ('2').",
     ["<nb-heures>", "« 12.505 »", "plus de 2 décimales", "ex. 12.50"]),
    (f"Element '{NS}taux-horaire': [facet 'pattern'] The value '21.3' is not accepted by the "
     r"pattern '[0-9]+\.[0-9]{2}'.",
     ["<taux-horaire>", "« 21.3 »", "exactement 2 décimales", "ex. 226.25"]),
    (f"Element '{NS}debut-periode': '01/10/2010' is not a valid value of the atomic type "
     f"'{NS}Date'.",
     ["<debut-periode>", "« 01/10/2010 »", "une date AAAA-MM-JJ"]),
    (f"Element '{NS}nb-heures': [facet 'minInclusive'] The value '-1' is less than the minimum "
     "value allowed ('0').",
     ["<nb-heures>", "« -1 »", "inférieur au minimum accepté (0)"]),
    (f"Element '{NS}n-enregistrement': [facet 'maxInclusive'] The value '3000000000' is greater "
     "than the maximum value allowed ('2147483647').",
     ["<n-enregistrement>", "« 3000000000 »", "supérieur au maximum accepté (2147483647)"]),
    (f"Element '{NS}nom': [facet 'minLength'] The value has a length of '0'; this underruns the "
     "allowed minimum length of '1'.",
     ["<nom> est vide", "de 1 à 100 caractères"]),
    (f"Element '{NS}nom': [facet 'maxLength'] The value has a length of '101'; this exceeds the "
     "allowed maximum length of '100'.",
     ["<nom> compte 101 caractères", "100 au plus"]),
    (f"Element '{NS}prenom': This element is not expected. Expected is ( {NS}nom ).",
     ["<prenom> n'est pas à sa place", "l'élément attendu à cet endroit est <nom>"]),
    (f"Element '{NS}nb-lignes': This element is not expected. Expected is one of ( {NS}echeance, "
     f"{NS}date-envoi ).",
     ["<nb-lignes>", "<echeance> ou <date-envoi>"]),
    (f"Element '{NS}foo': This element is not expected.",
     ["<foo> n'est pas prévu à cet endroit"]),
    (f"Element '{NS}ligne': Missing child element(s). Expected is ( {NS}montant ).",
     ["il manque un élément à la fin de <ligne>", "<montant> est attendu"]),
    (f"Element '{NS}facturation', attribute 'version': The value '2' does not match the fixed "
     "value constraint '1'.",
     ["l'attribut version de <facturation> vaut « 2 »", "« 1 »"]),
    (f"Element '{NS}facturation': The attribute 'version' is required but missing.",
     ["l'attribut version est obligatoire sur <facturation>"]),
    (f"Element '{NS}ligne', attribute 'id': The attribute 'id' is not allowed.",
     ["l'attribut id n'est pas autorisé sur <ligne>"]),
    (f"Element '{NS}lignes': Character content other than whitespace is not allowed because the "
     "content type is 'element-only'.",
     ["<lignes> contient du texte"]),
    (f"Element '{NS}nom': Element content is not allowed, because the type definition is simple.",
     ["<nom> contient d'autres éléments"]),
    ("Element '{urn:autre}facturation': No matching global declaration available for the "
     "validation root.",
     ["élément racine <facturation>", 'xmlns="urn:ppas:facturation:1"']),
    (f"Element '{NS}ligne': Duplicate key-sequence ['1'] in unique identity-constraint "
     f"'{NS}numero-enregistrement-unique'.",
     ["numéro d'enregistrement 1 figure sur plusieurs lignes"]),
]

# English a French sentence must not carry (outside the fallback's quoted original).
_ENGLISH = re.compile(r"\b(Element|expected|Expected|value|allowed|Missing|attribute|not)\b")


@pytest.mark.parametrize(("message", "says"), SCHEMA_CASES,
                         ids=[case[1][0] for case in SCHEMA_CASES])
def test_schema_messages_are_french_sentences(message, says):
    french = schema_message(message, 4)
    for part in says:
        assert part in french, french
    assert not _ENGLISH.search(french), french
    assert NS not in french and "{" not in french
    assert french[0].islower() and not french.endswith(".")


def test_an_unknown_schema_message_names_the_element_and_line_in_french():
    message = f"Element '{NS}nb-heures': Some future libxml2 wording."
    french = schema_message(message, 12)
    assert french.startswith("l'élément <nb-heures> (ligne 12) ne respecte pas le cahier des charges")
    assert "Some future libxml2 wording" in french  # after the French, for the vendor
    assert NS not in french
    assert schema_message("Something else entirely.", 3).startswith(
        "le contenu (ligne 3) ne respecte pas le cahier des charges")


def test_every_element_of_the_format_has_an_expectation():
    schema = etree.parse(io.BytesIO(_xsd_bytes()))
    names = {node.get("name") for node in schema.iter("{http://www.w3.org/2001/XMLSchema}element")}
    assert names - {"facturation", "en-tete", "lignes", "ligne"} == set(EXPECTED)


def _xsd_bytes() -> bytes:
    from importlib import resources

    return resources.files("ppas").joinpath("xsd").joinpath("facturation-1.xsd").read_bytes()


# A valid file of the format, damaged one way per case: every message the real libxml2 gives
# must be one the table knows (a new libxml2 wording fails here, not in front of a partner).
VALID = """<facturation xmlns="urn:ppas:facturation:1" version="1">
<en-tete><rf-borfact>03_21231300_201010.xml</rf-borfact><code-caisse>03</code-caisse><id-structure>21231300</id-structure><n-convention>C03-0001</n-convention><code-prestation>001</code-prestation><echeance>2010-10</echeance><nb-lignes>1</nb-lignes><montant-total>226.25</montant-total></en-tete>
<lignes>
  <ligne><n-enregistrement>1</n-enregistrement><n-dossier>0300012345</n-dossier><nom>DUPONT</nom><prenom>Jeanne</prenom><debut-periode>2010-10-01</debut-periode><fin-periode>2010-10-31</fin-periode><nb-heures>12.50</nb-heures><taux-horaire>21.30</taux-horaire><participation>3.20</participation><montant>226.25</montant></ligne>
</lignes>
</facturation>"""

DAMAGES = {
    "three decimals": ("<nb-heures>12.50", "<nb-heures>12.505"),
    "comma": ("<nb-heures>12.50", "<nb-heures>12,50"),
    "negative": ("<nb-heures>12.50", "<nb-heures>-1"),
    "too many hours": ("<nb-heures>12.50", "<nb-heures>10000"),
    "one decimal rate": ("<taux-horaire>21.30", "<taux-horaire>21.3"),
    "no such day": ("2010-10-01</debut", "2010-10-32</debut"),
    "french date": ("2010-10-01</debut", "01/10/2010</debut"),
    "leading zero": ("<n-enregistrement>1<", "<n-enregistrement>01<"),
    "short file number": ("0300012345", "030001234"),
    "empty name": ("<nom>DUPONT</nom>", "<nom></nom>"),
    "long name": ("<nom>DUPONT</nom>", "<nom>" + "A" * 101 + "</nom>"),
    "missing name": ("<nom>DUPONT</nom>", ""),
    "missing amount": ("<montant>226.25</montant>", ""),
    "extra element": ("<montant>226.25</montant>", "<montant>226.25</montant><foo>1</foo>"),
    "version 2": ('version="1"', 'version="2"'),
    "no version": (' version="1"', ""),
    "attribute": ("<ligne>", '<ligne id="3">'),
    "month 13": ("<echeance>2010-10", "<echeance>2010-13"),
    "zero lines": ("<nb-lignes>1", "<nb-lignes>0"),
    "text in lignes": ("<lignes>", "<lignes>texte"),
    "no month": ("<echeance>2010-10</echeance>", ""),
    "nested": ("<nom>DUPONT</nom>", "<nom><b>D</b></nom>"),
    "other namespace": ('xmlns="urn:ppas:facturation:1"', 'xmlns="urn:autre"'),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_real_validation_messages_are_all_known(damage):
    old, new = DAMAGES[damage]
    document = etree.fromstring(VALID.replace(old, new, 1).encode())
    schema = load_schema()
    assert not schema.validate(document)
    first = schema.error_log[0]
    french = schema_message(first.message, first.line)
    assert "message technique" not in french and not _ENGLISH.search(french), (first.message, french)


# --------------------------------------------------------------------------- F04


SYNTAX_CASES = [
    ("Opening and ending tag mismatch: prenom line 4 and prenon, line 4, column 50",
     "la balise <prenom> ouverte ligne 4 est fermée par </prenon>"),
    ("Premature end of data in tag lignes line 3, line 5, column 1",
     "la balise <lignes> ouverte ligne 3 n'est jamais fermée"),
    ("xmlParseEntityRef: no name", "écrivez-le &amp;"),
    ("error parsing attribute name", "s'écrit &lt;"),
    ("AttValue: \" or ' expected", "entre guillemets"),
    ("Attribute a redefined", "l'attribut a figure deux fois"),
    ("Extra content at the end of the document", "après"),
    ("PCDATA invalid Char value 1", "caractère de contrôle"),
    ("Invalid bytes in character encoding", "UTF-8"),
    ("Input is not proper UTF-8, indicate encoding !\nBytes: 0xE9 0x4E 0x54 0x3C", "UTF-8"),
    ("StartTag: invalid element name", "nom de balise invalide"),
    ("Namespace prefix x on nom is not defined", "le préfixe x de la balise <x:nom>"),
    ("Comment not terminated", "commentaire"),
    ("CData section not finished\nDUP</nom>", "CDATA"),
    ("Start tag expected, '<' not found", "ne commence pas par une balise XML"),
    ("XML declaration allowed only at the start of the document", "au tout début du fichier"),
    ("Entity 'xxe' not defined", "l'entité &xxe; n'est pas définie"),
]


@pytest.mark.parametrize(("message", "says"), SYNTAX_CASES, ids=[c[0][:30] for c in SYNTAX_CASES])
def test_parser_messages_are_french_sentences(message, says):
    french = syntax_message(message, 4)
    assert says in french and known_syntax_message(message) == french
    assert not _ENGLISH.search(french), french


def test_an_unknown_parser_message_is_said_in_french_with_its_line():
    assert known_syntax_message("Some new wording") is None
    french = syntax_message("Some new wording, line 7, column 3", 7)
    assert french == "le document XML est mal formé (ligne 7) (message technique : Some new wording)"


@pytest.mark.parametrize("damage", [
    ("</prenom>", "</prenon>"), ("<nom>DUPONT</nom>", "<nom>DUPONT"), ("DUPONT", "DU<PONT"),
    ("DUPONT", "DU & PONT"), ("<nom>", "<nom a=1>"), ("<nom>", '<nom a="1" a="2">'),
    ("</facturation>", "</facturation><autre/>"), ("DUPONT", "DU\x01PONT"),
    ("<nom>", "<1nom>"), ("<nom>DUPONT</nom>", "<x:nom>DUPONT</x:nom>"),
    ("<nom>", "<!-- abc <nom>"), ("DUPONT", "<![CDATA[DUP"), ("</lignes>\n</facturation>", ""),
], ids=lambda damage: repr(damage[1])[:20])
def test_real_parser_messages_are_all_known(damage):
    old, new = damage
    data = VALID.replace(old, new, 1).encode()
    with pytest.raises(etree.XMLSyntaxError) as raised:
        for _ in safe_iterparse(io.BytesIO(data), events=("end",), encoding="utf-8"):
            pass
    assert known_syntax_message(str(raised.value.msg)) is not None, raised.value.msg


# --- Word for word, and the cases the packaged format does not produce yet (issue 17) ----

def test_several_expected_elements_are_listed_with_ou_before_the_last():
    message = (f"Element '{NS}ligne': This element is not expected. Expected is one of "
               f"( {NS}debut-periode, {NS}fin-periode, {NS}nb-heures ).")
    assert schema_message(message) == (
        "l'élément <ligne> n'est pas à sa place : l'élément attendu à cet endroit est "
        "<debut-periode>, <fin-periode> ou <nb-heures> (il manque, ou les éléments ne suivent "
        "pas l'ordre du cahier des charges)")


def test_an_element_the_table_does_not_know_is_explained_by_its_type():
    # A later version of the format may add an element: its XSD type still says what it expects.
    message = (f"Element '{NS}heures-nuit': '1,5' is not a valid value of the atomic type "
               f"'{NS}Heures'.")
    assert schema_message(message) == (
        "l'élément <heures-nuit> contient « 1,5 », qui n'est pas une valeur acceptée ; attendu : "
        "un nombre d'heures positif ou nul avec au plus 2 décimales et un point comme "
        "séparateur, ex. 12.50")


def test_an_element_and_type_nobody_knows_get_no_expectation():
    message = f"Element '{NS}futur': 'x' is not a valid value of the atomic type '{NS}Futur'."
    assert schema_message(message) == (
        "l'élément <futur> contient « x », qui n'est pas une valeur acceptée")


def test_a_value_spanning_lines_is_quoted_whole(fresh_import):
    # The rules are compiled at import: a fresh copy of the module compiles them again.
    fresh = fresh_import("ppas.domain.xml_messages")
    message = (f"Element '{NS}nb-heures': '12\n5' is not a valid value of the atomic type "
               f"'{NS}Heures'.")
    assert fresh.schema_message(message).startswith("l'élément <nb-heures> contient « 12\n5 », ")
    assert fresh.syntax_message("Comment not terminated\n<!-- x", 3) == (
        "un commentaire « <!-- » n'est jamais fermé par « --> »")


def test_an_unknown_schema_message_word_for_word_with_and_without_its_line():
    assert schema_message(f"Element '{NS}nom': Something new happened.", 7) == (
        "l'élément <nom> (ligne 7) ne respecte pas le cahier des charges (message technique : "
        "Element 'nom': Something new happened)")
    assert schema_message("Something new happened.") == (
        "le contenu ne respecte pas le cahier des charges (message technique : "
        "Something new happened)")


def test_an_unknown_parser_message_word_for_word_with_and_without_its_line():
    assert syntax_message("Something odd, line 3, column 9", 3) == (
        "le document XML est mal formé (ligne 3) (message technique : Something odd)")
    assert syntax_message("Something odd.") == (
        "le document XML est mal formé (message technique : Something odd)")


def test_only_the_final_full_stop_of_the_technical_text_is_dropped():
    assert syntax_message("Unsupported encoding ISO-8859-X.") == (
        "le document XML est mal formé (message technique : Unsupported encoding ISO-8859-X)")
