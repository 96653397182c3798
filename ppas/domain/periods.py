"""Billed months (échéances) and Europe/Paris calendar rules."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = [
    "ONLINE_BILLING_MONTHS_BACK",
    "PARIS",
    "Period",
    "care_plan_in_progress",
    "current_period",
    "months_between",
    "online_billing_problem",
    "paris_date",
    "same_paris_day",
]

PARIS = ZoneInfo("Europe/Paris")

# The form may bill the current month and this many months before it.
ONLINE_BILLING_MONTHS_BACK = 12

_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

_PERIOD_RE = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_FORMAT_HINT = "Saisissez l'échéance au format AAAA-MM, par exemple 2010-10."


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A billed calendar month (échéance), ordered chronologically."""

    year: int
    month: int

    def __post_init__(self) -> None:
        """Refuse years outside 1–9999 and months outside 1–12."""
        for name in ("year", "month"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Period.{name} must be an int, got {type(value).__name__}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"Année {self.year} invalide : elle doit être comprise entre 1 et 9999.")
        if not 1 <= self.month <= 12:
            raise ValueError(f"Mois {self.month} invalide : il doit être compris entre 1 et 12.")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read a "YYYY-MM" string (surrounding spaces allowed) into a Period."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}")
        cleaned = text.strip()
        if not cleaned:
            raise ValueError(f"L'échéance est vide. {_FORMAT_HINT}")
        match = _PERIOD_RE.fullmatch(cleaned)
        if match is None:
            raise ValueError(f"Échéance « {cleaned} » non reconnue. {_FORMAT_HINT}")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(
                f"Échéance « {cleaned} » : le mois {month:02d} n'existe pas, "
                f"il doit être compris entre 01 et 12. {_FORMAT_HINT}"
            )
        if year < 1:
            raise ValueError(f"Échéance « {cleaned} » : l'année 0000 n'existe pas. {_FORMAT_HINT}")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Period:
        """Return the month containing `day` (a date; convert datetimes with paris_date)."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(
                f"Period.of expects a date, got {type(day).__name__}; use paris_date(now) for instants"
            )
        return cls(day.year, day.month)

    def __str__(self) -> str:
        """Return the "YYYY-MM" form."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        """Return the first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """Return the last day of the month."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label_fr(self) -> str:
        """Return the French label, e.g. "octobre 2010"."""
        return f"{_MONTHS_FR[self.month - 1]} {self.year}"

    def plus_months(self, count: int) -> Period:
        """Return the period `count` months later (earlier when negative)."""
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"expected an int, got {type(count).__name__}")
        index = self.year * 12 + (self.month - 1) + count
        return Period(index // 12, index % 12 + 1)

    def next(self) -> Period:
        """Return the following month."""
        return self.plus_months(1)

    def previous(self) -> Period:
        """Return the preceding month."""
        return self.plus_months(-1)


def paris_date(now: datetime) -> date:
    """Return the Europe/Paris calendar date of a timezone-aware instant."""
    if not isinstance(now, datetime):
        raise TypeError(f"expected a datetime, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(PARIS).date()


def current_period(now: datetime) -> Period:
    """Return the month in progress in Europe/Paris at instant `now`."""
    return Period.of(paris_date(now))


def months_between(a: Period, b: Period) -> int:
    """Return how many months lead from `a` to `b` (negative when `b` is before `a`)."""
    if not isinstance(a, Period) or not isinstance(b, Period):
        raise TypeError("months_between expects two Period values")
    return (b.year - a.year) * 12 + (b.month - a.month)


def online_billing_problem(period: Period, now: datetime) -> str | None:
    """Say why `period` cannot be billed through the online form at `now`, or None.

    Boundary: with C the current Europe/Paris month, the 12 months before C plus C
    itself are allowed, i.e. C-12 … C (13 months). C-13 and older are refused (send
    an individual bill to the caisse); C+1 and later are refused (not over yet).
    """
    if not isinstance(period, Period):
        raise TypeError(f"expected a Period, got {type(period).__name__}")
    current = current_period(now)
    age = months_between(period, current)
    if age < 0:
        return (
            f"L'échéance {period.label_fr} n'est pas encore facturable : "
            f"le mois le plus récent que vous pouvez facturer est {current.label_fr}."
        )
    if age > ONLINE_BILLING_MONTHS_BACK:
        oldest = current.plus_months(-ONLINE_BILLING_MONTHS_BACK)
        return (
            f"L'échéance {period.label_fr} a plus de {ONLINE_BILLING_MONTHS_BACK} mois et ne peut "
            f"plus être facturée en ligne (au plus tôt : {oldest.label_fr}). "
            "Envoyez une facture individuelle à la caisse, qui la traitera manuellement."
        )
    return None


def online_billable_periods(now: datetime) -> list[Period]:
    """The months the online form accepts at `now`, newest first: C, C-1 … C-12."""
    current = current_period(now)
    return [current.plus_months(-back) for back in range(ONLINE_BILLING_MONTHS_BACK + 1)]


def last_online_billing_day(period: Period) -> date:
    """The last day `period` can still be billed online (Europe/Paris): the end of the month
    12 months after it; from the next day, only an individual bill to the caisse is possible."""
    return period.plus_months(ONLINE_BILLING_MONTHS_BACK).last_day


def same_paris_day(a: datetime, b: datetime) -> bool:
    """Tell whether two instants fall on the same Europe/Paris calendar day."""
    return paris_date(a) == paris_date(b)


def care_plan_in_progress(start: date, end: date | None, period: Period) -> bool:
    """Tell whether a care plan running from `start` to `end` (inclusive, None = open) overlaps `period`."""
    for name, value in (("start", start), ("end", end)):
        if value is None and name == "end":
            continue
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name} must be a date, got {type(value).__name__}")
    if not isinstance(period, Period):
        raise TypeError(f"expected a Period, got {type(period).__name__}")
    if end is not None and end < start:
        raise ValueError(
            f"Prise en charge incohérente : la fin ({end:%d/%m/%Y}) précède le début "
            f"({start:%d/%m/%Y}). Corrigez l'une des deux dates."
        )
    return start <= period.last_day and (end is None or end >= period.first_day)
