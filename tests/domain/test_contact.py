"""Rules of a message to the assistance desk: the attachment's kind, content and size."""
from __future__ import annotations

import pytest

from ppas.domain.contact import (
    ALLOWED_ATTACHMENTS,
    allowed_extensions_text,
    attachment_problem,
    kind_of,
    size_text,
)

NB = "\u00a0"
MIB = 1024 * 1024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def problem(name: str, content: bytes, max_bytes: int) -> str | None:
    """The refusal with its no-break spaces (French typography) read as plain spaces."""
    message = attachment_problem(name, content, max_bytes)
    return message.replace(NB, " ") if message else message


@pytest.mark.parametrize(("size", "text"), [
    (5 * MIB, f"5{NB}Mo"),
    (10 * MIB, f"10{NB}Mo"),  # the zero of the tens stays
    (100 * MIB, f"100{NB}Mo"),  # a mebibyte is 1024 × 1024 bytes: 100 Mo, not 99,9 Mo
    (MIB + MIB // 2, f"1,5{NB}Mo"),
    (MIB, f"1{NB}Mo"),  # exactly 1 Mo is counted in Mo
    (MIB - 1, f"1024{NB}ko"),
    (800 * 1024, f"800{NB}ko"),
    (1536, f"2{NB}ko"),
    (100, f"1{NB}ko"),  # never « 0 ko » for a file that has content
    (0, f"1{NB}ko"),
])
def test_size_text_in_mo_from_one_mebibyte_in_ko_below(size, text):
    assert size_text(size) == text


def test_allowed_extensions_are_listed_with_ou_before_the_last():
    assert allowed_extensions_text() == "PDF, PNG, JPEG, XML, CSV ou texte (.txt)"


@pytest.mark.parametrize(("name", "label"), [
    ("releve.pdf", "PDF"), ("Capture.PNG", "PNG"), ("photo.jpg", "JPEG"), ("photo.JPEG", "JPEG"),
    ("03_21231300_201010.xml", "XML"), ("export.csv", "CSV"), ("notes.txt", "texte"),
])
def test_kind_of_reads_the_extension_whatever_its_case(name, label):
    assert kind_of(name).label == label


@pytest.mark.parametrize("name", ["lettre.doc", "pdf", "archive.pdf.zip", "photo.jpg.exe", ""])
def test_kind_of_an_unlisted_extension_is_none(name):
    assert kind_of(name) is None


def test_attachment_of_an_unlisted_kind_is_refused_listing_the_kinds():
    assert problem("lettre.doc", b"x", 100) == (
        "Le fichier « lettre.doc » n'est pas d'un type accepté : joignez un fichier "
        "PDF, PNG, JPEG, XML, CSV ou texte (.txt).")


def test_an_empty_attachment_is_refused():
    assert problem("releve.pdf", b"", 100) == (
        "Le fichier « releve.pdf » est vide : joignez le fichier complet.")


def test_an_attachment_of_exactly_the_cap_is_accepted_one_byte_more_is_refused():
    content = PDF + b"0" * (MIB - len(PDF))
    assert problem("releve.pdf", content, MIB) is None
    assert problem("releve.pdf", content + b"0", MIB) == (
        "Le fichier « releve.pdf » dépasse la taille acceptée (1 Mo) : il fait 1 Mo. "
        "Réduisez-le (une capture d'écran ou un extrait suffit) ou envoyez-en une partie.")


def test_a_file_whose_content_is_not_its_kind_is_refused():
    assert problem("capture.png", PDF, 100) == (
        "Le fichier « capture.png » ne contient pas un vrai fichier PNG : vérifiez son "
        "extension ou enregistrez-le de nouveau dans ce format.")


@pytest.mark.parametrize(("name", "content"), [
    ("releve.pdf", PDF), ("capture.png", b"\x89PNG\r\n\x1a\n\0\0"), ("photo.jpeg", b"\xff\xd8\xff\xe0"),
    ("export.csv", "nom;prénom\nDUPONT;Jeanne\n".encode()), ("notes.txt", b"ok"),
])
def test_a_file_of_its_kind_is_accepted(name, content):
    assert problem(name, content, 100) is None


def test_a_text_file_must_be_utf8():
    assert problem("export.csv", "prénom".encode("latin-1"), 100) == (
        "Le fichier « export.csv » n'est pas un texte en UTF-8 : enregistrez-le en UTF-8, "
        "ou joignez-le au format PDF.")


def test_every_kind_with_a_signature_has_one_media_type_and_extensions_with_a_dot():
    for kind in ALLOWED_ATTACHMENTS:
        assert all(ext.startswith(".") and ext == ext.lower() for ext in kind.extensions)
        assert "/" in kind.media_type
