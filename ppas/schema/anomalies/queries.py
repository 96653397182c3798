"""Queries of « Anomalies »: the partner's anomalies, filtered, paginated, and as CSV."""
from __future__ import annotations

import strawberry

from ppas.schema.anomalies.types import AnomalyFilterInput, PartnerAnomaly
from ppas.schema.context import Info
from ppas.schema.extensions.document_cost import cost
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.schema.permissions import PARTNER
from ppas.services import partner_anomalies
from ppas.services.partner_anomalies import AnomalyFilter

_NOTHING = 0  # an id no row has: an unreadable file or form id matches nothing


def _filter(given: AnomalyFilterInput | None) -> AnomalyFilter:
    if given is None:
        return AnomalyFilter()

    def key(value: strawberry.ID | None) -> int | None:
        if value is None:
            return None
        parsed = parse_id(value)
        return _NOTHING if parsed is None else parsed

    return AnomalyFilter(
        phase=given.phase.value if given.phase else None,
        code=given.code.value if given.code else None,
        month=partner_anomalies.parse_month(given.month),
        file_id=key(given.file_id), form_id=key(given.form_id))


@strawberry.type
class AnomalyQueries:
    @strawberry.field(description="« Anomalies » : toutes les anomalies du partenaire (au dépôt et "
                                  "à l'intégration), de la plus récente à la plus ancienne.",
                      permission_classes=PARTNER)
    async def anomalies(self, info: Info, filter: AnomalyFilterInput | None = None,
                        offset: int = 0, limit: int = 20) -> Page[PartnerAnomaly]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await partner_anomalies.list_anomalies(info.context.user, _filter(filter),
                                                             offset, limit)
        return Page(items=[PartnerAnomaly.from_row(r) for r in rows], total_count=total,
                    offset=offset, limit=limit)

    @strawberry.field(description="Les anomalies filtrées du partenaire au format CSV (séparateur "
                                  "point-virgule, UTF-8 avec BOM, une ligne d'en-tête).",
                      permission_classes=PARTNER, metadata=cost(weight=50, outside_lists=True))
    async def anomalies_csv(self, info: Info, filter: AnomalyFilterInput | None = None) -> str:
        return await partner_anomalies.anomalies_csv(info.context.user, _filter(filter))
