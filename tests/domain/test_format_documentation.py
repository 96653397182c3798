"""The « Cahiers des charges » page is described from the packaged XSD and the catalog.

The page must show every element and attribute of facturation-1.xsd, in document order,
with its occurrence, its type in French (documentation, then facets) and its own
documentation, so that the page and the format cannot drift apart.
"""
from __future__ import annotations

import pytest
from lxml import etree

from ppas.domain.anomalies import CATALOG
from ppas.domain.file_names import parse_file_name
from ppas.domain.format_documentation import (
    EXAMPLE_FILE,
    EXAMPLE_NAMES,
    XSD_FILE_NAME,
    anomaly_title,
    describe_format,
    xsd_bytes,
)
from ppas.domain.xml_safety import load_schema



@pytest.fixture
def described(fresh_import):
    """The description as a fresh copy of the module builds it.

    describe_format() is cached for the process: read at collection, it would never show the
    code as it runs in the test (mutation testing switches a mutant on just before each test).
    """
    return fresh_import("ppas.domain.format_documentation").describe_format()


def by_path(description):
    return {element.path: element for element in description.elements}

ONE, OPTIONAL = "obligatoire (1)", "facultatif (0 ou 1)"

# (path, kind, depth, type as written, occurrence), in the XSD's order.
ELEMENTS = [
    ("facturation", "élément", 0, "(composé)", "obligatoire (1), élément racine"),
    ("facturation/@version", "attribut", 1, "xs:string", "obligatoire"),
    ("facturation/en-tete", "élément", 1, "f:EnTete", ONE),
    ("facturation/en-tete/rf-borfact", "élément", 2, "f:ReferenceFichier", ONE),
    ("facturation/en-tete/code-caisse", "élément", 2, "f:CodeCaisse", ONE),
    ("facturation/en-tete/id-structure", "élément", 2, "f:IdentifiantStructure", ONE),
    ("facturation/en-tete/n-convention", "élément", 2, "f:NumeroConvention", ONE),
    ("facturation/en-tete/code-prestation", "élément", 2, "f:CodePrestation", ONE),
    ("facturation/en-tete/echeance", "élément", 2, "f:Echeance",
     "obligatoire (1), au choix avec date-envoi"),
    ("facturation/en-tete/date-envoi", "élément", 2, "f:Date",
     "obligatoire (1), au choix avec echeance"),
    ("facturation/en-tete/nb-lignes", "élément", 2, "xs:positiveInteger", ONE),
    ("facturation/en-tete/montant-total", "élément", 2, "f:MontantTotal", ONE),
    ("facturation/en-tete/logiciel", "élément", 2, "f:Logiciel", OPTIONAL),
    ("facturation/lignes", "élément", 1, "f:Lignes", ONE),
    ("facturation/lignes/ligne", "élément", 2, "f:Ligne", "obligatoire, répétable (1 ou plus)"),
    ("facturation/lignes/ligne/n-enregistrement", "élément", 3, "f:NumeroEnregistrement", ONE),
    ("facturation/lignes/ligne/n-dossier", "élément", 3, "f:NumeroDossier", ONE),
    ("facturation/lignes/ligne/nom", "élément", 3, "f:Nom", ONE),
    ("facturation/lignes/ligne/prenom", "élément", 3, "f:Nom", ONE),
    ("facturation/lignes/ligne/debut-periode", "élément", 3, "f:Date", ONE),
    ("facturation/lignes/ligne/fin-periode", "élément", 3, "f:Date", ONE),
    ("facturation/lignes/ligne/nb-heures", "élément", 3, "f:Heures", ONE),
    ("facturation/lignes/ligne/nb-heures-dimanche", "élément", 3, "f:Heures", OPTIONAL),
    ("facturation/lignes/ligne/taux-horaire", "élément", 3, "f:TauxHoraire", ONE),
    ("facturation/lignes/ligne/participation", "élément", 3, "f:TauxHoraire", ONE),
    ("facturation/lignes/ligne/montant", "élément", 3, "f:MontantLigne", ONE),
]


def test_every_element_and_attribute_in_document_order_with_its_occurrence(described):
    assert [(e.path, e.kind, e.depth, e.type_name, e.occurrence) for e in described.elements] == ELEMENTS
    assert all(e.name == e.path.rsplit("/", 1)[-1].lstrip("@") for e in described.elements)


@pytest.mark.parametrize(("path", "type_text"), [
    # a composed element without a named type
    ("facturation", "élément composé"),
    # an attribute: its built-in type in French, then its fixed value
    ("facturation/@version", "texte, valeur fixe 1"),
    # a named complex type: its documentation
    ("facturation/en-tete", "Contenu de l'en-tête, dans cet ordre."),
    # a built-in type, named in French
    ("facturation/en-tete/nb-lignes", "entier strictement positif"),
    # a simple type: its documentation, then its facets in French
    ("facturation/en-tete/rf-borfact",
     "Nom de fichier : de 1 à 64 caractères. (longueur min. 1, longueur max. 64)"),
    ("facturation/en-tete/code-caisse", "Exactement 2 chiffres. (motif [0-9]{2})"),
    ("facturation/lignes/ligne/nb-heures",
     "Nombre d'heures positif ou nul, au plus 2 décimales, inférieur à 10000 (par exemple 12, "
     "12.5 ou 12.50). (motif [0-9]+(\\.[0-9]{1,2})?, min. 0, max. 9999.99, décimales max. 2)"),
    ("facturation/en-tete/logiciel", "Texte de 100 caractères au plus. (longueur max. 100)"),
    # a type derived from another named type: its own facets only
    ("facturation/lignes/ligne/montant",
     "Montant d'une ligne en euros avec exactement 2 décimales, inférieur à 100 000 000. "
     "(max. 99999999.99)"),
])
def test_types_are_explained_in_french_from_the_xsd(described, path, type_text):
    assert by_path(described)[path].type_text == type_text


def test_each_element_carries_its_own_documentation_on_one_line(described):
    assert by_path(described)["facturation/lignes/ligne/nom"].documentation == (
        "Nom de famille du bénéficiaire (100 caractères au plus).")
    assert by_path(described)["facturation/@version"].documentation == (
        "Version du cahier des charges suivie par le fichier. Obligatoire ; sa valeur est toujours 1.")
    for element in described.elements:
        assert element.documentation and "\n" not in element.documentation
        assert "  " not in element.documentation


def test_named_types_with_their_base_and_facets(described):
    types = {t.name: (t.base, t.constraints) for t in described.types}
    assert list(types)[:4] == ["EnTete", "Lignes", "Ligne", "ReferenceFichier"]
    assert types["EnTete"] == ("élément composé", "")
    assert types["CodeCaisse"] == ("string", "motif [0-9]{2}")
    assert types["Echeance"] == ("gYearMonth", "motif [0-9]{4}-(0[1-9]|1[0-2])")
    assert types["NumeroEnregistrement"] == ("positiveInteger", "motif [1-9][0-9]*, max. 2147483647")
    assert types["Logiciel"] == ("token", "longueur max. 100")
    assert types["Montant"] == ("decimal", "motif [0-9]+\\.[0-9]{2}, min. 0, décimales max. 2")
    assert types["TauxHoraire"] == ("Montant", "max. 999999.99")
    assert len(types) == 19
    assert next(t for t in described.types if t.name == "Date").documentation == (
        "Date du calendrier au format AAAA-MM-JJ, sans fuseau horaire.")


def test_header_of_the_page_namespace_version_introduction_and_constraints(described):
    assert (described.namespace, described.version) == ("urn:ppas:facturation:1", "1")
    assert described.introduction.startswith(
        "Cahier des charges du fichier de facturation, version 1. Le fichier est un document "
        "XML encodé en UTF-8")
    assert described.constraints == (
        "Un même numéro d'enregistrement ne peut pas être utilisé par deux lignes du fichier.",)


def test_the_page_lists_both_name_patterns_every_anomaly_and_a_valid_example(described):
    assert [p.pattern for p in described.name_patterns] == [
        "CC_SSSSSSSS_AAAAMM.xml", "CC_JJMMAA_PPP_SSSSSSSS.xml"]
    assert described.anomalies == tuple(CATALOG.values())
    assert described.example_name == EXAMPLE_NAMES[0] and described.example_file == EXAMPLE_FILE
    from datetime import date
    for name in EXAMPLE_NAMES:
        parse_file_name(name, today=date(2026, 1, 1))
    document = etree.fromstring(EXAMPLE_FILE.encode())
    assert load_schema().validate(document)


def test_the_page_reads_the_xsd_once():
    assert describe_format() is describe_format()


def test_the_downloaded_xsd_is_the_packaged_file():
    data = xsd_bytes()
    assert XSD_FILE_NAME == "facturation-1.xsd"
    assert data.startswith(b"<?xml") and b'targetNamespace="urn:ppas:facturation:1"' in data


def test_a_catalogue_names_the_motive_without_placeholders():
    assert anomaly_title(CATALOG["L05"]) == "Ligne déjà envoyée ou période déjà facturée"
    assert anomaly_title(CATALOG["L01"]) == CATALOG["L01"].title


# --- What the packaged XSD does not use yet (a later version may) ------------------------

XS_NS = "http://www.w3.org/2001/XMLSchema"


def xs(fragment: str):
    return etree.fromstring(f'<xs:element xmlns:xs="{XS_NS}" name="x" {fragment}/>')


@pytest.mark.parametrize(("attributes", "occurrence"), [
    ("", "obligatoire (1)"),
    ('minOccurs="0"', "facultatif (0 ou 1)"),
    ('maxOccurs="unbounded"', "obligatoire, répétable (1 ou plus)"),
    ('minOccurs="0" maxOccurs="unbounded"', "facultatif, répétable"),
])
def test_occurrence_in_words(attributes, occurrence):
    from ppas.domain.format_documentation import _occurrence

    assert _occurrence(xs(attributes)) == occurrence


def test_unknown_built_in_types_keep_their_xsd_name():
    from ppas.domain.format_documentation import _Reader

    reader = _Reader(etree.fromstring(xsd_bytes()))
    assert reader.type_text("xs:boolean") == "boolean"
    assert reader.type_text("xs:decimal") == "nombre décimal"
    assert reader.type_text("xs:date") == "date AAAA-MM-JJ"
    assert reader.type_text("xs:token") == "texte"
    assert reader.type_text("f:Inconnu") == "Inconnu"


def test_facets_in_french_in_their_order_skipping_comments_and_enumerations():
    from ppas.domain.format_documentation import _facets

    restriction = etree.fromstring(
        f'<xs:restriction xmlns:xs="{XS_NS}" base="xs:string"><!-- a comment -->'
        '<xs:minInclusive value="1"/><xs:enumeration value="a"/><xs:maxInclusive value="9"/>'
        '<xs:fractionDigits value="2"/><xs:minLength value="1"/><xs:maxLength value="3"/>'
        '<xs:pattern value="[a-z]"/></xs:restriction>')
    assert _facets(restriction) == ["min. 1", "max. 9", "décimales max. 2", "longueur min. 1",
                                    "longueur max. 3", "motif [a-z]"]


def test_a_type_without_facets_or_documentation():
    from ppas.domain.format_documentation import _Reader

    reader = _Reader(etree.fromstring(
        f'<xs:schema xmlns:xs="{XS_NS}">'
        '<xs:simpleType name="Libre"><xs:annotation><xs:documentation>Texte   libre\n'
        '  sur deux lignes.</xs:documentation></xs:annotation>'
        '<xs:restriction base="xs:string"/></xs:simpleType>'
        '<xs:simpleType name="Liste"><xs:list itemType="xs:string"/></xs:simpleType>'
        '<xs:complexType name="Vide"><xs:sequence/></xs:complexType></xs:schema>'))
    assert reader.type_text("f:Libre") == "Texte libre sur deux lignes."
    assert reader.type_text("f:Liste") == ""
    assert reader.type_text("f:Vide") == "élément composé"
