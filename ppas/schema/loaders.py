"""The request's DataLoaders: one registry on the context, one named loader class per relation.

A type never fetches a relation itself: its field asks the registry,
`info.context.loaders.get(ConventionById).resolve(self.convention_id, Convention.from_model)`.
The registry makes each loader class once per request, on first use, so a request pays only
for the relations its document asks for, and never sees another request's cache (a cache
holds what one user may read). Lists load their rows' relations in one batch per relation
(`await loaders.get(BeneficiaryById).load_many(ids)`) before returning, and rows that a use
case already read with `select_related` go into the same caches (`loaders.prime(row)`), so
the fields below find them without a query.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from ppas import models
from ppas.services.access import partner_id_of

if TYPE_CHECKING:
    from ppas.schema.context import Context

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")
L = TypeVar("L", bound="Loader")


class Loader(DataLoader[K, V], Generic[K, V]):
    """A loader of one relation for one request; made by the registry, never by hand."""

    def __init__(self, loaders: Loaders) -> None:
        super().__init__(load_fn=self.batch_load)
        self.loaders = loaders

    async def batch_load(self, keys: list[K]) -> Sequence[V]:
        """The values of `keys`, in their order: one query whatever their number."""
        raise NotImplementedError

    def resolve(self, key: K, convert: Callable[[V], R]) -> R | Awaitable[R]:
        """`convert(value of key)`: a value when this request already holds it, else an awaitable.

        What a resolver returns: graphql-core takes a value as it is and awaits an awaitable,
        and each awaitable item of a list costs it a task; for a 500-row page whose rows'
        relations the list loaded beforehand, those tasks cost more than the queries.
        """
        future = self.cache_map.get(key)
        if (future is not None and future.done() and not future.cancelled()
                and future.exception() is None):
            return convert(future.result())
        return self._convert_later(key, convert)

    async def _convert_later(self, key: K, convert: Callable[[V], R]) -> R:
        return convert(await self.load(key))


# --------------------------------------------------------------------------- rows by id

_BY_MODEL: dict[type[Model], type[ById]] = {}


class ById(Loader[int, Any]):
    """Rows of one model by primary key (None for an id with no row).

    The ids come from rows the request was already allowed to read (a plan's beneficiary,
    a line's form…), so no access check is repeated here.
    """

    model: ClassVar[type[Model]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            _BY_MODEL[cls.model] = cls

    def query(self, ids: set[int]):
        return self.model.filter(id__in=ids)

    async def batch_load(self, keys: list[int]) -> list[Any]:
        rows = {row.id: row for row in await self.query(set(keys))}
        return [rows.get(key) for key in keys]


class BeneficiaryById(ById):
    model = models.Beneficiary


class CarePlanById(ById):
    model = models.CarePlan


class ConventionById(ById):
    model = models.Convention


class UserById(ById):
    model = models.User


class BillingFormById(ById):
    """Forms with their conventions: every form field but a few reads its convention."""

    model = models.BillingForm

    async def batch_load(self, keys: list[int]) -> list[Any]:
        rows = {row.id: row for row in await self.query(set(keys)).select_related("convention")}
        self.loaders.prime(*(row.convention for row in rows.values()))
        return [rows.get(key) for key in keys]


# --------------------------------------------------------------------------- lists by parent

class CarePlansOfBeneficiary(Loader[int, list]):
    """A beneficiary's care plans at the signed-in user's partner, newest first."""

    async def batch_load(self, keys: list[int]) -> list[list]:
        rows = await models.CarePlan.filter(
            partner_id=partner_id_of(self.loaders.context.user), beneficiary_id__in=set(keys)
        ).order_by("-start_date", "id")
        return _grouped(rows, "beneficiary_id", keys)


def _grouped(rows: Iterable[Any], key: str, keys: Sequence[int]) -> list[list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return [groups.get(k, []) for k in keys]


# --------------------------------------------------------------------------- the registry

class Loaders:
    """The loaders of one request (the context's `loaders`), made on first use, by class."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._made: dict[type[Loader], Loader] = {}

    def get(self, kind: type[L]) -> L:
        loader = self._made.get(kind)
        if loader is None:
            loader = self._made[kind] = kind(self)
        return loader  # type: ignore[return-value]

    def prime(self, *rows: Model | None) -> None:
        """Put rows a use case already read (its `select_related`) into their ById loaders.

        Only rows a use case says it returns belong here: anything else than a model row
        (an unfetched relation is an awaitable query) is a mistake, refused loudly.
        """
        for row in rows:
            if row is None:
                continue
            kind = _BY_MODEL.get(type(row))
            if kind is None:
                raise TypeError(f"no loader by id for {type(row).__name__}: prime() takes rows "
                                "a use case fetched, not relations left to fetch")
            # force: a row read later in the request (after a save) replaces an older one.
            self.get(kind).prime(row.pk, row, force=True)
