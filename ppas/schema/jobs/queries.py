"""The background jobs, for the caisse's agents."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.jobs.types import BackgroundJob, JobStateEnum
from ppas.schema.pagination import Page, checked_window
from ppas.schema.permissions import JOB_DESK
from ppas.services.jobs import admin


@strawberry.type
class JobQueries:
    @strawberry.field(description="Les tâches de fond du portail (toutes caisses), par heure "
                                  "de passage, la plus récente d'abord ; filtrables par état "
                                  "et par type (`kind`). Agents de la caisse.",
                      permission_classes=JOB_DESK)
    async def jobs(self, info: Info, offset: int = 0, limit: int = 20,
                   state: JobStateEnum | None = None,
                   kind: str | None = None) -> Page[BackgroundJob]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await admin.list_jobs(info.context.user, offset, limit, state=state,
                                            kind=kind)
        return Page(items=[BackgroundJob.from_model(r) for r in rows], total_count=total,
                    offset=offset, limit=limit)
