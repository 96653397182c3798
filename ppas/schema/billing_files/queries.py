"""Queries of billing by file: one send's report, the history of sends."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from ppas.schema.billing_files.types import (
    BillingFileLine,
    BillingFileReport,
    BillingFileSummary,
)
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import SyncPage, sync_arguments, sync_page
from ppas.schema.permissions import PARTNER
from ppas.services import billing_file_lines, billing_file_reports


@strawberry.type
class BillingFileQueries:
    @strawberry.field(description="Le compte rendu d'un fichier du partenaire ; null sinon.",
                      permission_classes=PARTNER)
    async def billing_file(self, info: Info, id: strawberry.ID) -> BillingFileReport | None:
        key = parse_id(id)
        if key is None:
            return None
        report = await billing_file_reports.file_report(info.context.user, key)
        return BillingFileReport.from_report(report) if report else None

    @strawberry.field(description="Les fichiers envoyés par le partenaire : du plus récent au "
                                  "plus ancien ; avec `since` ou `after`, dans l'ordre stable "
                                  "(uploadedAt, id) croissant, pour synchroniser un logiciel "
                                  "(`nextCursor` à repasser en `after`).",
                      permission_classes=PARTNER)
    async def billing_files(
            self, info: Info, offset: int = 0, limit: int = 20,
            since: Annotated[datetime | None, strawberry.argument(
                description="Les fichiers envoyés à partir de cet instant (avec son fuseau).")]
            = None,
            after: Annotated[str | None, strawberry.argument(
                description="Le nextCursor d'une page précédente : la suite.")] = None,
    ) -> SyncPage[BillingFileSummary]:
        since, position, offset, limit = sync_arguments(
            since, after, offset, limit, info.context.settings.max_page_size)
        user = info.context.user
        if since is None and position is None:
            rows, total = await billing_file_reports.list_files(user, offset, limit)
            page = SyncPage(items=[], total_count=total, offset=offset, limit=limit,
                            next_cursor=None, has_more=offset + len(rows) < total)
        else:
            keyset = await billing_file_reports.sync_files(
                user, since=since, after=position, limit=limit, now=info.context.now())
            rows = keyset.rows
            page = sync_page([], keyset, limit=limit, since=since, after=position,
                             time_of=lambda row: row.uploaded_at, id_of=lambda row: row.id)
        ids = [r.id for r in rows]
        counts = await billing_file_lines.anomaly_counts(ids)
        amounts = await billing_file_lines.accepted_amounts(ids)
        page.items = [BillingFileSummary.from_model(r, counts.get(r.id, 0), amounts.get(r.id))
                      for r in rows]
        return page

    @strawberry.field(description="Une ligne d'un fichier accepté du partenaire, avec ses "
                                  "anomalies et s'il est possible de la refacturer ; null sinon.",
                      permission_classes=PARTNER)
    async def billing_file_line(self, info: Info, id: strawberry.ID) -> BillingFileLine | None:
        key = parse_id(id)
        if key is None:
            return None
        detail = await billing_file_lines.line_detail(info.context.user, key)
        return BillingFileLine.from_detail(detail) if detail else None

    @strawberry.field(description="Les anomalies d'un fichier du partenaire au format CSV "
                                  "(séparateur point-virgule, UTF-8 avec BOM) ; null sinon.",
                      permission_classes=PARTNER)
    async def billing_file_anomalies_csv(self, info: Info, id: strawberry.ID) -> str | None:
        key = parse_id(id)
        if key is None:
            return None
        rows = await billing_file_reports.anomalies_csv(info.context.user, key)
        return None if rows is None else "".join(rows)
