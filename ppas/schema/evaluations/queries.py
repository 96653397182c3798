"""Queries of the evaluations: orders, received evaluations, conflicts, offline packages."""
from __future__ import annotations

import strawberry

from ppas.domain import evaluation_form
from ppas.schema.context import Info
from ppas.schema.evaluations.types import (
    EvaluationConflict,
    EvaluationOrder,
    EvaluationStructure,
    OfflinePackage,
    OrderFilterEnum,
    ReceivedEvaluation,
)
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.schema.permissions import EVALUATION_DESK, EVALUATION_REVIEW
from ppas.services import evaluations


def _viewer(info: Info) -> int | None:
    return info.context.user.id if info.context.user else None


@strawberry.type
class EvaluationQueries:
    @strawberry.field(description="Les commandes d'évaluation : celles de la structure de "
                                  "l'évaluateur, ou celles de la caisse de l'agent ; les plus "
                                  "proches de l'échéance d'abord.",
                      permission_classes=EVALUATION_DESK)
    async def evaluation_orders(self, info: Info, status: OrderFilterEnum = evaluations.OrderFilter.ALL,
                                offset: int = 0, limit: int = 20) -> Page[EvaluationOrder]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        now = info.context.now()
        rows, total = await evaluations.list_orders(info.context.user, now,
                                                    evaluations.OrderFilter(status), offset, limit)
        return Page(items=[EvaluationOrder.from_model(r, _viewer(info), now) for r in rows],
                    total_count=total, offset=offset, limit=limit)

    @strawberry.field(description="Une commande d'évaluation ; null si elle n'est pas visible.",
                      permission_classes=EVALUATION_DESK)
    async def evaluation_order(self, info: Info, id: strawberry.ID) -> EvaluationOrder | None:
        key = parse_id(id)
        if key is None:
            return None
        row = await evaluations.get_order(info.context.user, key)
        return None if row is None else EvaluationOrder.from_model(row, _viewer(info),
                                                                   info.context.now())

    @strawberry.field(description="La version des définitions du formulaire d'évaluation "
                                  "(/evaluations/definitions.json).",
                      permission_classes=EVALUATION_DESK)
    def evaluation_definitions_version(self) -> str:
        return evaluation_form.DEFINITIONS_VERSION

    @strawberry.field(description="Les évaluations reçues (agents : de la caisse ; évaluateur : "
                                  "les siennes), les plus récentes d'abord.",
                      permission_classes=EVALUATION_DESK)
    async def evaluations(self, info: Info, offset: int = 0,
                          limit: int = 20) -> Page[ReceivedEvaluation]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await evaluations.list_evaluations(info.context.user, offset, limit)
        now = info.context.now()
        return Page(items=[ReceivedEvaluation.from_model(r, _viewer(info), now) for r in rows],
                    total_count=total, offset=offset, limit=limit)

    @strawberry.field(description="Une évaluation reçue ; null si elle n'est pas visible.",
                      permission_classes=EVALUATION_DESK)
    async def evaluation(self, info: Info, id: strawberry.ID) -> ReceivedEvaluation | None:
        key = parse_id(id)
        if key is None:
            return None
        row = await evaluations.get_evaluation(info.context.user, key)
        return None if row is None else ReceivedEvaluation.from_model(row, _viewer(info),
                                                                      info.context.now())

    @strawberry.field(description="Les évaluations gardées en conflit (agents : de la caisse ; "
                                  "évaluateur : les siennes), les plus anciennes d'abord.",
                      permission_classes=EVALUATION_DESK)
    async def evaluation_conflicts(self, info: Info, pending_only: bool = True, offset: int = 0,
                                   limit: int = 20) -> Page[EvaluationConflict]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await evaluations.list_conflicts(info.context.user, pending_only, offset,
                                                       limit)
        now = info.context.now()
        return Page(items=[EvaluationConflict.from_model(r, _viewer(info), now) for r in rows],
                    total_count=total, offset=offset, limit=limit)

    @strawberry.field(description="Un conflit à examiner (agents de la caisse) ; null sinon.",
                      permission_classes=EVALUATION_REVIEW)
    async def evaluation_conflict(self, info: Info, id: strawberry.ID) -> EvaluationConflict | None:
        key = parse_id(id)
        if key is None:
            return None
        row = await evaluations.get_conflict(info.context.user, key)
        return None if row is None else EvaluationConflict.from_model(row, _viewer(info),
                                                                      info.context.now())

    @strawberry.field(description="Les modes déconnectés (évaluateur : les siens ; agents : ceux "
                                  "des évaluateurs de la caisse), les plus récents d'abord.",
                      permission_classes=EVALUATION_DESK)
    async def offline_packages(self, info: Info, offset: int = 0,
                               limit: int = 20) -> Page[OfflinePackage]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await evaluations.list_packages(info.context.user, offset, limit)
        pending = await evaluations.unsynchronised_order_ids(rows)
        return Page(items=[OfflinePackage.from_model(r, pending[r.id]) for r in rows],
                    total_count=total, offset=offset, limit=limit)

    @strawberry.field(description="Les structures d'évaluation de la caisse ayant une convention "
                                  "active : celles à qui confier une commande (agents).",
                      permission_classes=EVALUATION_REVIEW)
    async def evaluation_structures(self, info: Info) -> list[EvaluationStructure]:
        rows = await evaluations.evaluation_structures(info.context.user)
        return [EvaluationStructure(id=strawberry.ID(str(p.id)), name=p.name,
                                    structure_id=p.structure_id, city=p.city) for p in rows]
