"""Rules of a message to the caisse's assistance desk: lengths and the attachment's kind and size."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALLOWED_ATTACHMENTS",
    "BODY_MAX_LENGTH",
    "SUBJECT_MAX_LENGTH",
    "AttachmentKind",
    "attachment_problem",
    "allowed_extensions_text",
    "kind_of",
    "size_text",
]

SUBJECT_MAX_LENGTH = 150
BODY_MAX_LENGTH = 5000


@dataclass(frozen=True)
class AttachmentKind:
    """A kind of file the desk accepts: its extensions, its media type, how its content starts."""

    label: str
    extensions: tuple[str, ...]
    media_type: str
    # The first bytes every such file starts with; None for text, checked as UTF-8 instead.
    magic: tuple[bytes, ...] | None


# What a partner usually sends the desk: a screenshot, a letter or a billing file.
ALLOWED_ATTACHMENTS = (
    AttachmentKind("PDF", (".pdf",), "application/pdf", (b"%PDF-",)),
    AttachmentKind("PNG", (".png",), "image/png", (b"\x89PNG\r\n\x1a\n",)),
    AttachmentKind("JPEG", (".jpg", ".jpeg"), "image/jpeg", (b"\xff\xd8\xff",)),
    AttachmentKind("XML", (".xml",), "application/xml", None),
    AttachmentKind("CSV", (".csv",), "text/csv", None),
    AttachmentKind("texte", (".txt",), "text/plain", None),
)


def size_text(size: int) -> str:
    """A size as a French reader expects it: « 5 Mo », « 1,5 Mo », « 800 ko »."""
    if size >= 1024 * 1024:
        value = f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{value}\u00a0Mo"
    return f"{max(1, round(size / 1024))}\u00a0ko"


def allowed_extensions_text() -> str:
    """« PDF, PNG, JPEG, XML, CSV ou texte (.txt) » — for hints and messages."""
    labels = [kind.label for kind in ALLOWED_ATTACHMENTS]
    labels[-1] = "texte (.txt)"
    return ", ".join(labels[:-1]) + " ou " + labels[-1]


def kind_of(name: str) -> AttachmentKind | None:
    """The accepted kind a file name's extension names, if any."""
    lowered = name.lower()
    for kind in ALLOWED_ATTACHMENTS:
        if lowered.endswith(kind.extensions):
            return kind
    return None


def attachment_problem(name: str, content: bytes, max_bytes: int) -> str | None:
    """What is wrong with an attachment (in French, saying what to do), or None."""
    kind = kind_of(name)
    if kind is None:
        return (f"Le fichier « {name} » n'est pas d'un type accepté : joignez un fichier "
                f"{allowed_extensions_text()}.")
    if not content:
        return f"Le fichier « {name} » est vide : joignez le fichier complet."
    if len(content) > max_bytes:
        return (f"Le fichier « {name} » dépasse la taille acceptée ({size_text(max_bytes)}) : "
                f"il fait {size_text(len(content))}. Réduisez-le (une capture d'écran ou un "
                "extrait suffit) ou envoyez-en une partie.")
    if kind.magic is not None:
        if not content.startswith(kind.magic):
            return (f"Le fichier « {name} » ne contient pas un vrai fichier {kind.label} : "
                    "vérifiez son extension ou enregistrez-le de nouveau dans ce format.")
    else:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return (f"Le fichier « {name} » n'est pas un texte en UTF-8 : enregistrez-le en "
                    "UTF-8, ou joignez-le au format PDF.")
    return None
