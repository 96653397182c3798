"""Offset pagination shared by every list; cursors for the lists vendors synchronise."""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Generic, TypeVar

import strawberry

from ppas.services.errors import ServiceError
from ppas.services.sync import KeysetPage, Position

T = TypeVar("T")


@strawberry.type(description="Une page d'une liste plus longue.")
class Page(Generic[T]):
    items: list[T]
    total_count: int
    offset: int
    limit: int

    @strawberry.field(description="Vrai s'il reste des éléments après cette page.")
    def has_next_page(self) -> bool:
        return self.offset + len(self.items) < self.total_count


def checked_window(offset: int, limit: int, max_limit: int) -> tuple[int, int]:
    """Refuse a negative offset or a page size outside 1..max_limit."""
    if offset < 0:
        raise ServiceError("Le décalage (offset) doit être positif ou nul.")
    if not 1 <= limit <= max_limit:
        raise ServiceError(f"La taille de page (limit) doit être comprise entre 1 et {max_limit}.")
    return offset, limit


# --------------------------------------------------------------------------- synchronisation

CURSOR_VERSION = "v1"
BAD_CURSOR = ("Le curseur (after) est illisible : renvoyez tel quel le nextCursor d'une page "
              "précédente, ou omettez-le pour repartir de since.")
NAIVE_SINCE = ("La date since doit indiquer son fuseau, par exemple 2026-12-01T00:00:00Z ou "
               "2026-12-01T01:00:00+01:00.")


@strawberry.type(description="Une page d'une liste qu'un logiciel synchronise : sans `since` ni "
                             "`after`, du plus récent au plus ancien (offset) ; avec l'un d'eux, "
                             "dans l'ordre stable (date, identifiant) croissant, `nextCursor` "
                             "donnant la suite.")
class SyncPage(Generic[T]):
    items: list[T]
    total_count: int = strawberry.field(description="Sans since ni after : tous les éléments ; "
                                                    "avec : ceux qui restent à lire, cette page "
                                                    "comprise.")
    offset: int
    limit: int
    next_cursor: str | None = strawberry.field(
        description="À passer en `after` au prochain appel (même si la page est vide : on "
                    "reprend au même point) ; null sans since ni after.")
    has_more: bool = strawberry.field(description="Vrai s'il reste des éléments après cette page.")

    @strawberry.field(description="Vrai s'il reste des éléments après cette page (comme hasMore).")
    def has_next_page(self) -> bool:
        return self.has_more


def encode_cursor(at: datetime, id: int) -> str:
    """An opaque cursor for the position (time, id): clients only send it back."""
    text = f"{CURSOR_VERSION}|{at.astimezone(UTC).isoformat()}|{id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position of a cursor from encode_cursor; a ServiceError (field `after`) otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, at, id_text = raw.split("|")
        if version != CURSOR_VERSION or not id_text.isdigit():
            raise ValueError(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(raw)
        return Position(when, int(id_text))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ServiceError(BAD_CURSOR, field="after") from None


def sync_arguments(since: datetime | None, after: str | None, offset: int, limit: int,
                   max_limit: int) -> tuple[datetime | None, Position | None, int, int]:
    """Check a synchronised list's arguments: since with its zone, a readable cursor, no offset
    together with since/after (the cursor says where to go on)."""
    offset, limit = checked_window(offset, limit, max_limit)
    if since is not None and since.tzinfo is None:
        raise ServiceError(NAIVE_SINCE, field="since")
    position = decode_cursor(after) if after is not None else None
    if offset and (since is not None or position is not None):
        raise ServiceError("Avec since ou after, laissez offset à 0 : le curseur dit où "
                           "reprendre.", field="offset")
    return since, position, offset, limit


def sync_page(items: list, keyset: KeysetPage, *, limit: int, since: datetime | None,
              after: Position | None, time_of, id_of) -> SyncPage:
    """The SyncPage of a keyset page: the cursor of its last row, or the same position again."""
    if keyset.rows:
        last = keyset.rows[-1]
        cursor = encode_cursor(time_of(last), id_of(last))
    elif after is not None:
        cursor = encode_cursor(after.at, after.id)
    else:  # nothing since `since` yet: start again just before it
        cursor = encode_cursor(since, 0)
    return SyncPage(items=items, total_count=keyset.total, offset=0, limit=limit,
                    next_cursor=cursor, has_more=keyset.has_more)
