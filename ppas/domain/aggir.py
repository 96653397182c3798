"""The AGGIR algorithm (Code de l'action sociale et des familles, annexe 2-2): the GIR of ten
discriminant variables, each graded A, B or C.

The weights and thresholds are data (`GROUPS`, `RANK_TO_GIR`), served as JSON by
`table_json()` so the offline form computes the same GIR from the same source.

Groups are tried in order A → H: the sum of the weights of the modalities B and C (A weighs
0 everywhere) is compared with the group's thresholds, highest first; the first reached gives
the rank, otherwise the next group is tried (group H always gives a rank). The rank gives the
GIR.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

VARIABLES: tuple[str, ...] = ("COH", "ORI", "TOI", "HAB", "ALI", "ELI", "TRA", "DIN", "DEX",
                              "COM")
MODALITIES: tuple[str, ...] = ("A", "B", "C")


@dataclass(frozen=True)
class Group:
    """One group of the annex: the weights of C and B per variable, and the ranks its sum
    reaches (threshold, rank), highest threshold first; `otherwise` is the rank when no
    threshold is reached (None: try the next group)."""

    name: str
    weights_c: Mapping[str, int]
    weights_b: Mapping[str, int]
    ranks: tuple[tuple[int, int], ...]
    otherwise: int | None


def _weights(*values: int) -> dict[str, int]:
    return dict(zip(VARIABLES, values, strict=True))


#                  COH   ORI   TOI   HAB   ALI   ELI   TRA   DIN  DEX COM
GROUPS: tuple[Group, ...] = (
    Group("A", _weights(2000, 1200, 40, 40, 60, 100, 800, 200, 0, 0),
          _weights(0, 0, 16, 16, 20, 16, 120, 32, 0, 0),
          ((4380, 1), (4140, 2), (3390, 3)), None),
    Group("B", _weights(1500, 1200, 40, 40, 60, 100, 800, -80, 0, 0),
          _weights(320, 120, 16, 16, 0, 16, 120, -40, 0, 0),
          ((2016, 4),), None),
    Group("C", _weights(0, 0, 40, 40, 60, 160, 1000, 400, 0, 0),
          _weights(0, 0, 16, 16, 20, 20, 200, 40, 0, 0),
          ((1700, 5), (1432, 6)), None),
    Group("D", _weights(0, 0, 0, 0, 2000, 400, 2000, 200, 0, 0),
          _weights(0, 0, 0, 0, 200, 200, 200, 0, 0, 0),
          ((2400, 7),), None),
    Group("E", _weights(400, 400, 400, 400, 400, 800, 800, 200, 0, 0),
          _weights(0, 0, 100, 100, 100, 100, 100, 0, 0, 0),
          ((1200, 8),), None),
    Group("F", _weights(200, 200, 500, 500, 500, 500, 500, 200, 0, 0),
          _weights(100, 100, 100, 100, 100, 100, 100, 0, 0, 0),
          ((800, 9),), None),
    Group("G", _weights(150, 150, 300, 300, 500, 500, 400, 200, 0, 0),
          _weights(0, 0, 200, 200, 200, 200, 200, 100, 0, 0),
          ((650, 10),), None),
    Group("H", _weights(0, 0, 3000, 3000, 3000, 3000, 1000, 1000, 0, 0),
          _weights(0, 0, 2000, 2000, 2000, 2000, 2000, 1000, 0, 0),
          ((4000, 11), (2000, 12)), 13),
)

RANK_TO_GIR: Mapping[int, int] = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3,
                                  10: 4, 11: 4, 12: 5, 13: 6}


class ModalitiesError(ValueError):
    """A variable is missing or its modality is not A, B or C."""


def group_sum(group: Group, modalities: Mapping[str, str]) -> int:
    """The sum of a group's weights for these modalities."""
    total = 0
    for code in VARIABLES:
        modality = modalities[code]
        if modality == "C":
            total += group.weights_c[code]
        elif modality == "B":
            total += group.weights_b[code]
    return total


def rank(modalities: Mapping[str, str]) -> int:
    """The rank (1 to 13) the groups give, tried in order A → H."""
    _check(modalities)
    for group in GROUPS:
        total = group_sum(group, modalities)
        for threshold, reached in group.ranks:
            if total >= threshold:
                return reached
        if group.otherwise is not None:
            return group.otherwise
    raise AssertionError("group H always answers")  # pragma: no cover


def gir(modalities: Mapping[str, str]) -> int:
    """The GIR (1 to 6) of the ten discriminant variables, keys COH … COM, values A/B/C."""
    return RANK_TO_GIR[rank(modalities)]


def _check(modalities: Mapping[str, str]) -> None:
    missing = [code for code in VARIABLES if code not in modalities]
    if missing:
        raise ModalitiesError(f"Variables manquantes : {', '.join(missing)}.")
    wrong = [code for code in VARIABLES if modalities[code] not in MODALITIES]
    if wrong:
        raise ModalitiesError(f"Modalité A, B ou C attendue pour : {', '.join(wrong)}.")


def table() -> dict:
    """The algorithm as data, for the browser: the same weights, thresholds and ranks."""
    return {
        "variables": list(VARIABLES),
        "modalities": list(MODALITIES),
        "groups": [
            {"name": g.name, "weights": {"C": dict(g.weights_c), "B": dict(g.weights_b)},
             "ranks": [{"threshold": t, "rank": r} for t, r in g.ranks],
             "otherwise": g.otherwise}
            for g in GROUPS
        ],
        "rankToGir": {str(k): v for k, v in RANK_TO_GIR.items()},
    }


def table_json() -> str:
    """`table()` as canonical JSON."""
    return json.dumps(table(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
