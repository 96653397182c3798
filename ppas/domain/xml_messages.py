"""libxml2's English messages about a billing file, said in French for the people who fix it.

The XSD validation (F05) and the XML parser (F04) report in English, with the schema's
internals (`{urn:ppas:facturation:1}nb-heures`, type names, regular expressions). A partner
needs the element as it is written in the file (`<nb-heures>`), the value found there and
what is expected instead. Each known message shape is one row of a table: a regular
expression and the French sentence built from its groups. A message no row knows still
gets a French sentence naming the element and the line, followed by the original text
(for the software vendor), never the English alone.

Sentences start in lower case and carry no final full stop: they follow the anomaly's
heading and a colon (« Fichier non conforme au cahier des charges (ligne 4, colonne 12) : … »).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ppas.domain.plural import plural

__all__ = ["EXPECTED", "known_syntax_message", "schema_message", "syntax_message"]

_HOURS = ("un nombre d'heures positif ou nul avec au plus 2 décimales et un point comme "
          "séparateur, ex. 12.50")
_AMOUNT = "un montant en euros avec exactement 2 décimales et un point comme séparateur, ex. 226.25"
_DATE = "une date AAAA-MM-JJ, ex. 2010-10-31"

# What each element of facturation-1.xsd expects, in the words of the format's documentation.
EXPECTED: dict[str, str] = {
    "rf-borfact": "le nom du fichier envoyé, extension .xml comprise (64 caractères au plus)",
    "code-caisse": "le code caisse sur 2 chiffres, ex. 03",
    "id-structure": "l'identifiant de structure sur 8 chiffres, ex. 21231300",
    "n-convention": "le numéro de convention (de 1 à 20 caractères)",
    "code-prestation": "le code prestation sur 3 chiffres, ex. 001",
    "echeance": "un mois AAAA-MM, ex. 2010-10",
    "date-envoi": _DATE,
    "nb-lignes": "un nombre entier de lignes, au moins 1",
    "montant-total": _AMOUNT,
    "logiciel": "un texte de 100 caractères au plus",
    "n-enregistrement": "un nombre entier de 1 à 2147483647, sans zéro en tête",
    "n-dossier": "le numéro de dossier sur 10 chiffres, ex. 0300012345",
    "nom": "un texte de 1 à 100 caractères",
    "prenom": "un texte de 1 à 100 caractères",
    "debut-periode": _DATE,
    "fin-periode": _DATE,
    "nb-heures": _HOURS + " (moins de 10000)",
    "nb-heures-dimanche": _HOURS + " (moins de 10000)",
    "taux-horaire": _AMOUNT,
    "participation": _AMOUNT,
    "montant": _AMOUNT,
}

# The same by XSD type, for an element this table does not know (a future version).
_EXPECTED_BY_TYPE: dict[str, str] = {
    "Heures": _HOURS,
    "Montant": _AMOUNT,
    "TauxHoraire": _AMOUNT,
    "MontantLigne": _AMOUNT,
    "MontantTotal": _AMOUNT,
    "Date": _DATE,
    "Echeance": "un mois AAAA-MM, ex. 2010-10",
    "xs:positiveInteger": "un nombre entier supérieur ou égal à 1",
    "xs:decimal": "un nombre décimal avec un point comme séparateur",
    "xs:date": _DATE,
}

_NAME = r"(?:\{[^}]*\})?(?P<element>[^'{}]+)"  # a qualified name: its namespace is dropped
_ELEMENT = rf"^Element '{_NAME}'"


def _tag(name: str) -> str:
    return f"<{name}>"


def _names(listing: str) -> list[str]:
    """`{ns}a, {ns}b` (libxml2's « Expected is ( … ) ») → ['a', 'b']."""
    return [re.sub(r"^\{[^}]*\}", "", part.strip()) for part in listing.split(",") if part.strip()]


def _expected_elements(listing: str) -> str:
    names = [_tag(name) for name in _names(listing)]
    if len(names) == 1:
        return f"l'élément attendu à cet endroit est {names[0]}"
    return f"l'élément attendu à cet endroit est {', '.join(names[:-1])} ou {names[-1]}"


def _expected(element: str, type_name: str | None = None) -> str:
    known = EXPECTED.get(element) or _EXPECTED_BY_TYPE.get(
        re.sub(r"^\{[^}]*\}", "", type_name or ""))
    return f" ; attendu : {known}" if known else ""


def _value(text: str) -> str:
    return f"« {text} »"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    say: Callable[[dict[str, str]], str]


def _rule(pattern: str, say: Callable[[dict[str, str]], str]) -> _Rule:
    return _Rule(re.compile(pattern, re.DOTALL), say)


_SCHEMA_RULES: tuple[_Rule, ...] = (
    _rule(_ELEMENT + r": '(?P<value>.*)' is not a valid value of the atomic type '(?P<type>[^']*)'",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"qui n'est pas une valeur acceptée{_expected(g['element'], g['type'])}"),
    _rule(_ELEMENT + r": \[facet 'fractionDigits'\] The value '(?P<value>.*)' has more fractional "
                     r"digits than are allowed \('(?P<limit>[^']*)'\)",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"qui a plus de {g['limit']} décimales{_expected(g['element'])}"),
    _rule(_ELEMENT + r": \[facet 'totalDigits'\] The value '(?P<value>.*)' has more digits than "
                     r"are allowed \('(?P<limit>[^']*)'\)",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"qui a plus de {g['limit']} chiffres{_expected(g['element'])}"),
    _rule(_ELEMENT + r": \[facet 'pattern'\] The value '(?P<value>.*)' is not accepted by the "
                     r"pattern '.*'",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"qui n'est pas écrit sous la forme attendue{_expected(g['element'])}"),
    _rule(_ELEMENT + r": \[facet 'minInclusive'\] The value '(?P<value>.*)' is less than the "
                     r"minimum value allowed \('(?P<limit>[^']*)'\)",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"inférieur au minimum accepté ({g['limit']}){_expected(g['element'])}"),
    _rule(_ELEMENT + r": \[facet 'maxInclusive'\] The value '(?P<value>.*)' is greater than the "
                     r"maximum value allowed \('(?P<limit>[^']*)'\)",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"supérieur au maximum accepté ({g['limit']}){_expected(g['element'])}"),
    _rule(_ELEMENT + r": \[facet 'minLength'\] The value has a length of '(?P<length>[^']*)'; "
                     r"this underruns the allowed minimum length of '(?P<limit>[^']*)'",
          lambda g: (f"l'élément {_tag(g['element'])} est vide" if g["length"] == "0" else
                     f"l'élément {_tag(g['element'])} compte {g['length']} "
                     f"{plural(int(g['length']), 'caractère', 'caractères')}, il en faut au moins "
                     f"{g['limit']}") + _expected(g["element"])),
    _rule(_ELEMENT + r": \[facet 'maxLength'\] The value has a length of '(?P<length>[^']*)'; "
                     r"this exceeds the allowed maximum length of '(?P<limit>[^']*)'",
          lambda g: f"l'élément {_tag(g['element'])} compte {g['length']} caractères, "
                    f"{g['limit']} au plus sont acceptés"),
    _rule(_ELEMENT + r": \[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of "
                     r"the set \{(?P<set>.*)\}",
          lambda g: f"l'élément {_tag(g['element'])} contient {_value(g['value'])}, "
                    f"qui n'est pas l'une des valeurs acceptées ({g['set']})"),
    _rule(_ELEMENT + r": This element is not expected\. Expected is (?:one of )?\( (?P<list>.*) \)",
          lambda g: f"l'élément {_tag(g['element'])} n'est pas à sa place : "
                    f"{_expected_elements(g['list'])} (il manque, ou les éléments ne suivent pas "
                    "l'ordre du cahier des charges)"),
    _rule(_ELEMENT + r": This element is not expected",
          lambda g: f"l'élément {_tag(g['element'])} n'est pas prévu à cet endroit par le cahier "
                    "des charges (élément inconnu, en trop ou mal placé)"),
    _rule(_ELEMENT + r": Missing child element\(s\)\. Expected is (?:one of )?\( (?P<list>.*) \)",
          lambda g: f"il manque un élément à la fin de {_tag(g['element'])} : "
                    f"{' ou '.join(_tag(name) for name in _names(g['list']))} est attendu "
                    f"avant </{g['element']}>"),
    _rule(_ELEMENT + r": Missing child element\(s\)",
          lambda g: f"il manque un élément obligatoire dans {_tag(g['element'])}"),
    _rule(_ELEMENT + r", attribute '(?P<attribute>[^']*)': The attribute '[^']*' is not allowed",
          lambda g: f"l'attribut {g['attribute']} n'est pas autorisé sur {_tag(g['element'])}"),
    _rule(_ELEMENT + r": The attribute '(?P<attribute>[^']*)' is required but missing",
          lambda g: f"l'attribut {g['attribute']} est obligatoire sur {_tag(g['element'])}, "
                    "ex. version=\"1\"" if g["attribute"] == "version" else
                    f"l'attribut {g['attribute']} est obligatoire sur {_tag(g['element'])}"),
    _rule(_ELEMENT + r", attribute '(?P<attribute>[^']*)': The value '(?P<value>.*)' does not "
                     r"match the fixed value constraint '(?P<fixed>[^']*)'",
          lambda g: f"l'attribut {g['attribute']} de {_tag(g['element'])} vaut "
                    f"{_value(g['value'])} ; la seule valeur acceptée est {_value(g['fixed'])}"),
    _rule(_ELEMENT + r": Character content other than whitespace is not allowed",
          lambda g: f"l'élément {_tag(g['element'])} contient du texte en dehors de ses "
                    "éléments : seuls des éléments (et des espaces) y sont acceptés"),
    _rule(_ELEMENT + r": Element content is not allowed, because the type definition is simple",
          lambda g: f"l'élément {_tag(g['element'])} contient d'autres éléments ; il ne doit "
                    "contenir que sa valeur"),
    _rule(_ELEMENT + r": No matching global declaration available for the validation root",
          lambda g: f"l'élément racine {_tag(g['element'])} n'est pas celui du cahier des "
                    "charges : attendu <facturation xmlns=\"urn:ppas:facturation:1\" "
                    "version=\"1\">"),
    _rule(_ELEMENT + r": Duplicate key-sequence \['(?P<value>[^']*)'\]",
          lambda g: f"le numéro d'enregistrement {g['value']} figure sur plusieurs lignes ; "
                    "chaque ligne doit avoir son propre numéro"),
)

_UNKNOWN_ELEMENT = re.compile(r"^Element '" + _NAME + "'")


def _located(line: int | None) -> str:
    return f" (ligne {line})" if line else ""


def schema_message(message: str, line: int | None = None) -> str:
    """French for one XSD validation message of libxml2 (`line` is used when no rule knows it)."""
    text = message.strip()
    for rule in _SCHEMA_RULES:
        match = rule.pattern.match(text)
        if match:
            return rule.say(match.groupdict())
    element = _UNKNOWN_ELEMENT.match(text)
    where = f"l'élément {_tag(element['element'])}" if element else "le contenu"
    return (f"{where}{_located(line)} ne respecte pas le cahier des charges "
            f"(message technique : {_readable(text)})")


def _readable(text: str) -> str:
    """The original message without the namespace noise, for the software vendor."""
    return re.sub(r"\{urn:ppas:facturation:1\}", "", text).rstrip(".")


_SYNTAX_RULES: tuple[_Rule, ...] = (
    _rule(r"^Opening and ending tag mismatch: (?P<open>\S+) line (?P<line>\d+) and (?P<close>\S+)",
          lambda g: f"la balise {_tag(g['open'])} ouverte ligne {g['line']} est fermée par "
                    f"</{g['close']}> ; chaque balise doit être fermée par la balise de même nom"),
    _rule(r"^Premature end of data in tag (?P<open>\S+) line (?P<line>\d+)",
          lambda g: f"la balise {_tag(g['open'])} ouverte ligne {g['line']} n'est jamais fermée"),
    _rule(r"^Couldn't find end of Start Tag (?P<open>\S+)",
          lambda g: f"la balise {_tag(g['open'])} n'est pas refermée par « > »"),
    _rule(r"^EndTag: '</' not found",
          lambda g: "une balise fermante « </…> » manque"),
    _rule(r"^Extra content at the end of the document",
          lambda g: "du contenu suit la fin de l'élément racine </facturation> ; rien d'autre "
                    "qu'un commentaire ou des espaces ne peut venir après"),
    _rule(r"^xmlParseEntityRef: no name",
          lambda g: "un caractère « & » est seul dans un texte : écrivez-le &amp;"),
    _rule(r"^Entity '(?P<name>[^']*)' not defined",
          lambda g: f"l'entité &{g['name']}; n'est pas définie ; seules &amp; &lt; &gt; &quot; "
                    "et &apos; sont acceptées"),
    _rule(r"^error parsing attribute name",
          lambda g: "une balise contient un caractère inattendu ; dans un texte, le caractère "
                    "« < » s'écrit &lt;"),
    _rule(r"^AttValue: \" or ' expected",
          lambda g: "la valeur d'un attribut doit être écrite entre guillemets, ex. version=\"1\""),
    _rule(r"^Attribute (?P<name>\S+) redefined",
          lambda g: f"l'attribut {g['name']} figure deux fois dans la même balise"),
    _rule(r"^StartTag: invalid element name",
          lambda g: "un nom de balise invalide suit un « < » ; dans un texte, le caractère « < » "
                    "s'écrit &lt;"),
    _rule(r"^Namespace prefix (?P<prefix>\S+) on (?P<name>\S+) is not defined",
          lambda g: f"le préfixe {g['prefix']} de la balise <{g['prefix']}:{g['name']}> n'est "
                    f"déclaré par aucun attribut xmlns:{g['prefix']}"),
    _rule(r"^(?:PCDATA invalid Char value|Char 0x[0-9A-Fa-f]+ out of allowed range)",
          lambda g: "un caractère de contrôle (invisible) n'est pas autorisé dans un fichier XML"),
    _rule(r"^(?:Invalid bytes in character encoding|Input is not proper UTF-8)",
          lambda g: "des octets ne forment pas des caractères UTF-8 (fichier enregistré dans "
                    "un autre encodage, par exemple ISO-8859-1 ou Windows-1252)"),
    _rule(r"^Comment not terminated",
          lambda g: "un commentaire « <!-- » n'est jamais fermé par « --> »"),
    _rule(r"^CData section not finished",
          lambda g: "une section « <![CDATA[ » n'est jamais fermée par « ]]> »"),
    _rule(r"^Start tag expected, '<' not found",
          lambda g: "le fichier ne commence pas par une balise XML"),
    _rule(r"^(?:Document is empty|no element found)",
          lambda g: "aucun élément XML n'a été trouvé"),
    _rule(r"^XML declaration allowed only at the start of the document",
          lambda g: "la déclaration « <?xml … ?> » doit être au tout début du fichier, "
                    "sans espace ni ligne avant elle"),
    _rule(r"^expected '>'",
          lambda g: "un « > » manque pour fermer une balise"),
)


def known_syntax_message(message: str) -> str | None:
    """French for one XML parser message of libxml2 (F04), or None when no rule knows it."""
    text = re.sub(r", line \d+, column \d+$", "", message.strip())
    for rule in _SYNTAX_RULES:
        match = rule.pattern.match(text)
        if match:
            return rule.say(match.groupdict())
    return None


def syntax_message(message: str, line: int | None = None) -> str:
    """French for one XML parser message of libxml2 (F04), whatever the message."""
    known = known_syntax_message(message)
    if known is not None:
        return known
    text = re.sub(r", line \d+, column \d+$", "", message.strip())
    return (f"le document XML est mal formé{_located(line)} "
            f"(message technique : {_readable(text)})")
