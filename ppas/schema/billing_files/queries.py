"""Queries of billing by file: one send's report, the history of sends."""
from __future__ import annotations

import strawberry

from ppas.schema.permissions import PARTNER
from ppas.schema.billing_files.types import BillingFileLine, BillingFileReport, BillingFileSummary
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
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

    @strawberry.field(description="Les fichiers envoyés par le partenaire, du plus récent au plus ancien.",
                      permission_classes=PARTNER)
    async def billing_files(self, info: Info, offset: int = 0,
                            limit: int = 20) -> Page[BillingFileSummary]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await billing_file_reports.list_files(info.context.user, offset, limit)
        ids = [r.id for r in rows]
        counts = await billing_file_lines.anomaly_counts(ids)
        amounts = await billing_file_lines.accepted_amounts(ids)
        return Page(items=[BillingFileSummary.from_model(r, counts.get(r.id, 0), amounts.get(r.id))
                           for r in rows],
                    total_count=total, offset=offset, limit=limit)

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
