"""The billing-file format described from its own sources: the packaged XSD and the catalog.

The « Cahiers des charges » page is rendered from `describe_format()`: every element, attribute
and constraint comes from facturation-1.xsd (with its French xs:documentation), every anomaly
from CATALOG, so the page and the format cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from lxml import etree

from ppas.domain.anomalies import CATALOG, AnomalyKind
from ppas.domain.file_names import AMD_PATTERN, OTHER_PATTERN
from ppas.domain.xml_safety import SCHEMA_NAMESPACE, safe_parser

__all__ = [
    "EXAMPLE_FILE",
    "EXAMPLE_NAMES",
    "FormatDescription",
    "NamePattern",
    "XSD_FILE_NAME",
    "describe_format",
    "xsd_bytes",
]

XSD_FILE_NAME = "facturation-1.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
_BUILTIN_TYPES = {
    "string": "texte",
    "token": "texte",
    "positiveInteger": "entier strictement positif",
    "decimal": "nombre décimal",
    "date": "date AAAA-MM-JJ",
    "gYearMonth": "mois AAAA-MM",
}


@dataclass(frozen=True)
class ElementDoc:
    """One element or attribute of the format, as the page shows it."""

    path: str  # e.g. facturation/en-tete/rf-borfact; attributes end with /@version
    name: str
    kind: str  # "élément" | "attribut"
    depth: int
    type_name: str  # the XSD type as written (EnTete, Date, xs:positiveInteger…)
    type_text: str  # what the type means, from its own documentation and facets
    occurrence: str
    documentation: str


@dataclass(frozen=True)
class TypeDoc:
    """A named type of the XSD: its base, constraints and documentation."""

    name: str
    base: str
    constraints: str
    documentation: str


@dataclass(frozen=True)
class NamePattern:
    pattern: str
    prestations: str
    example: str
    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FormatDescription:
    namespace: str
    version: str
    introduction: str
    elements: tuple[ElementDoc, ...]
    types: tuple[TypeDoc, ...]
    constraints: tuple[str, ...]
    name_patterns: tuple[NamePattern, ...]
    example_name: str
    example_file: str
    anomalies: tuple[AnomalyKind, ...]


EXAMPLE_NAMES = ("03_21231300_201010.xml", "03_171110_014_21231300.xml")

EXAMPLE_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<facturation xmlns="urn:ppas:facturation:1" version="1">
  <en-tete>
    <rf-borfact>03_21231300_201010.xml</rf-borfact>
    <code-caisse>03</code-caisse>
    <id-structure>21231300</id-structure>
    <n-convention>C03-0001</n-convention>
    <code-prestation>001</code-prestation>
    <echeance>2010-10</echeance>
    <nb-lignes>2</nb-lignes>
    <montant-total>443.45</montant-total>
    <logiciel>VendorSoft 4.2</logiciel>
  </en-tete>
  <lignes>
    <ligne>
      <n-enregistrement>1</n-enregistrement>
      <n-dossier>0300012345</n-dossier>
      <nom>DUPONT</nom>
      <prenom>Jeanne</prenom>
      <debut-periode>2010-10-01</debut-periode>
      <fin-periode>2010-10-31</fin-periode>
      <nb-heures>12.50</nb-heures>
      <taux-horaire>21.30</taux-horaire>
      <participation>3.20</participation>
      <montant>226.25</montant>
    </ligne>
    <ligne>
      <n-enregistrement>2</n-enregistrement>
      <n-dossier>0300012346</n-dossier>
      <nom>MARTIN</nom>
      <prenom>Louis</prenom>
      <debut-periode>2010-10-01</debut-periode>
      <fin-periode>2010-10-31</fin-periode>
      <nb-heures>12.00</nb-heures>
      <nb-heures-dimanche>0.00</nb-heures-dimanche>
      <taux-horaire>21.30</taux-horaire>
      <participation>3.20</participation>
      <montant>217.20</montant>
    </ligne>
  </lignes>
</facturation>
"""

_PATTERNS = (
    NamePattern(
        AMD_PATTERN, "aide ménagère à domicile (prestation 001)", EXAMPLE_NAMES[0],
        (("CC", "code caisse sur 2 chiffres"),
         ("SSSSSSSS", "identifiant de votre structure sur 8 chiffres"),
         ("AAAAMM", "échéance facturée : année sur 4 chiffres puis mois de 01 à 12 ; "
                    "un mois à venir est refusé"))),
    NamePattern(
        OTHER_PATTERN, "autres prestations", EXAMPLE_NAMES[1],
        (("CC", "code caisse sur 2 chiffres"),
         ("JJMMAA", "date d'envoi : jour, mois, année sur 2 chiffres chacun ; une date "
                    "qui n'existe pas ou située dans le futur est refusée"),
         ("PPP", "code de la prestation facturée sur 3 chiffres"),
         ("SSSSSSSS", "identifiant de votre structure sur 8 chiffres"))),
)


def xsd_bytes() -> bytes:
    """The packaged XSD, byte for byte (what the download serves)."""
    return resources.files("ppas").joinpath("xsd").joinpath(XSD_FILE_NAME).read_bytes()


def _doc(node) -> str:
    texts = node.xpath("xs:annotation/xs:documentation", namespaces={"xs": XS[1:-1]})
    return " ".join(" ".join((t.text or "").split()) for t in texts)


def _local(qname: str | None) -> str:
    return (qname or "").split(":", 1)[-1]


def _facets(restriction) -> list[str]:
    words = []
    for facet in restriction:
        if not isinstance(facet.tag, str):
            continue
        name, value = facet.tag.removeprefix(XS), facet.get("value")
        label = {"pattern": "motif", "minLength": "longueur min.", "maxLength": "longueur max.",
                 "minInclusive": "min.", "maxInclusive": "max.",
                 "fractionDigits": "décimales max."}.get(name)
        if label:
            words.append(f"{label} {value}")
    return words


class _Reader:
    def __init__(self, root) -> None:
        self.root = root
        self.simple = {t.get("name"): t for t in root.findall(XS + "simpleType")}
        self.complex = {t.get("name"): t for t in root.findall(XS + "complexType")}

    def type_text(self, type_name: str) -> str:
        local = _local(type_name)
        if type_name.startswith("xs:"):
            return _BUILTIN_TYPES.get(local, local)
        simple = self.simple.get(local)
        if simple is not None:
            restriction = simple.find(XS + "restriction")
            text = _doc(simple)
            facets = _facets(restriction) if restriction is not None else []
            return f"{text} ({', '.join(facets)})" if facets else text
        complex_type = self.complex.get(local)
        if complex_type is not None:
            return _doc(complex_type) or "élément composé"
        return local

    def walk(self, element, parent_path: str, depth: int, occurrence: str,
             out: list[ElementDoc]) -> None:
        name = element.get("name")
        path = f"{parent_path}/{name}" if parent_path else name
        type_name = element.get("type") or ""
        inline = element.find(XS + "complexType")
        out.append(ElementDoc(path, name, "élément", depth, type_name or "(composé)",
                              self.type_text(type_name) if type_name else "élément composé",
                              occurrence, _doc(element)))
        content = inline if inline is not None else self.complex.get(_local(type_name))
        if content is None:
            return
        for attribute in content.findall(XS + "attribute"):
            use = "obligatoire" if attribute.get("use") == "required" else "facultatif"
            fixed = attribute.get("fixed")
            out.append(ElementDoc(
                f"{path}/@{attribute.get('name')}", attribute.get("name"), "attribut",
                depth + 1, attribute.get("type") or "",
                self.type_text(attribute.get("type") or "xs:string")
                + (f", valeur fixe {fixed}" if fixed else ""), use, _doc(attribute)))
        sequence = content.find(XS + "sequence")
        if sequence is not None:
            self.walk_group(sequence, path, depth + 1, out)

    def walk_group(self, group, path: str, depth: int, out: list[ElementDoc]) -> None:
        for child in group:
            if child.tag == XS + "element":
                self.walk(child, path, depth, _occurrence(child), out)
            elif child.tag == XS + "choice":
                names = [c.get("name") for c in child.findall(XS + "element")]
                for option in child.findall(XS + "element"):
                    others = ", ".join(n for n in names if n != option.get("name"))
                    self.walk(option, path, depth,
                              f"{_occurrence(option)}, au choix avec {others}", out)


def _occurrence(element) -> str:
    low, high = element.get("minOccurs", "1"), element.get("maxOccurs", "1")
    if high == "unbounded":
        return "obligatoire, répétable (1 ou plus)" if low != "0" else "facultatif, répétable"
    if low == "0":
        return "facultatif (0 ou 1)"
    return "obligatoire (1)"


@cache
def describe_format() -> FormatDescription:
    """Read the packaged XSD once and describe the format for the documentation page."""
    root = etree.fromstring(xsd_bytes(), safe_parser())
    reader = _Reader(root)
    elements: list[ElementDoc] = []
    for top in root.findall(XS + "element"):
        reader.walk(top, "", 0, "obligatoire (1), élément racine", elements)
    constraints = tuple(
        f"{_doc(c)}" for c in root.iter(XS + "unique", XS + "key") if _doc(c))
    types = []
    for node in root:
        if node.tag == XS + "simpleType":
            restriction = node.find(XS + "restriction")
            base = _local(restriction.get("base")) if restriction is not None else ""
            facets = _facets(restriction) if restriction is not None else []
            types.append(TypeDoc(node.get("name"), base, ", ".join(facets), _doc(node)))
        elif node.tag == XS + "complexType":
            types.append(TypeDoc(node.get("name"), "élément composé", "", _doc(node)))
    return FormatDescription(
        namespace=root.get("targetNamespace") or SCHEMA_NAMESPACE,
        version=root.get("version") or "",
        introduction=_doc(root),
        elements=tuple(elements),
        types=tuple(types),
        constraints=constraints,
        name_patterns=_PATTERNS,
        example_name=EXAMPLE_NAMES[0],
        example_file=EXAMPLE_FILE,
        anomalies=tuple(CATALOG.values()),
    )


def anomaly_title(kind: AnomalyKind) -> str:
    """The kind's heading: a catalogue names the motive, each anomaly's message gives the values."""
    return kind.heading
