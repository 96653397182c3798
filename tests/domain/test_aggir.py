"""The GIR of the annex 2-2: every group and threshold edge, checked against the annex's table
copied here as text (not against ppas.domain.aggir's own data), over all 3^8 grids."""
from __future__ import annotations

import itertools
import json

import pytest

from ppas.domain import aggir

# The annex's table, as published (group, modality, COH ORI TOI HAB ALI ELI TRA DIN DEX COM).
ANNEX = """
A C 2000 1200 40 40 60 100 800 200 0 0
A B 0 0 16 16 20 16 120 32 0 0
B C 1500 1200 40 40 60 100 800 -80 0 0
B B 320 120 16 16 0 16 120 -40 0 0
C C 0 0 40 40 60 160 1000 400 0 0
C B 0 0 16 16 20 20 200 40 0 0
D C 0 0 0 0 2000 400 2000 200 0 0
D B 0 0 0 0 200 200 200 0 0 0
E C 400 400 400 400 400 800 800 200 0 0
E B 0 0 100 100 100 100 100 0 0 0
F C 200 200 500 500 500 500 500 200 0 0
F B 100 100 100 100 100 100 100 0 0 0
G C 150 150 300 300 500 500 400 200 0 0
G B 0 0 200 200 200 200 200 100 0 0
H C 0 0 3000 3000 3000 3000 1000 1000 0 0
H B 0 0 2000 2000 2000 2000 2000 1000 0 0
"""
# group: [(threshold, rank)], highest first; the last group's "else" is rank 13.
THRESHOLDS = {"A": [(4380, 1), (4140, 2), (3390, 3)], "B": [(2016, 4)],
              "C": [(1700, 5), (1432, 6)], "D": [(2400, 7)], "E": [(1200, 8)],
              "F": [(800, 9)], "G": [(650, 10)], "H": [(4000, 11), (2000, 12)]}
GIR_OF_RANK = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3, 10: 4, 11: 4, 12: 5, 13: 6}
CODES = ["COH", "ORI", "TOI", "HAB", "ALI", "ELI", "TRA", "DIN", "DEX", "COM"]
WEIGHTS = {}
for line in ANNEX.strip().splitlines():
    group, modality, *numbers = line.split()
    WEIGHTS[group, modality] = dict(zip(CODES, map(int, numbers), strict=True))


def annex_sum(group: str, grid: dict[str, str]) -> int:
    return sum(WEIGHTS[group, m][c] for c, m in grid.items() if m in "BC")


def annex_rank(grid: dict[str, str]) -> int:
    for group, steps in THRESHOLDS.items():
        total = annex_sum(group, grid)
        for threshold, rank in steps:
            if total >= threshold:
                return rank
    return 13


def all_grids():
    for values in itertools.product("ABC", repeat=8):
        yield dict(zip(CODES, (*values, "A", "A"), strict=True))


GRIDS = list(all_grids())


def grid(**modalities: str) -> dict[str, str]:
    return {code: modalities.get(code, "A") for code in CODES}


def test_every_grid_gives_the_annex_rank_and_gir():
    for g in GRIDS:
        expected = annex_rank(g)
        assert aggir.rank(g) == expected, g
        assert aggir.gir(g) == GIR_OF_RANK[expected], g


@pytest.mark.parametrize(("group", "threshold", "rank"),
                         [(g, t, r) for g, steps in THRESHOLDS.items() for t, r in steps])
def test_each_threshold_is_reached_at_its_exact_sum(group, threshold, rank):
    """The grids with the lowest sum at or above the threshold (the threshold itself where a
    grid sums to it) get the rank; those with the highest sum just below it do not."""
    groups = list(THRESHOLDS)
    earlier = groups[:groups.index(group)]

    def reaches(g):  # no earlier group classified it
        return all(all(annex_sum(e, g) < t for t, _ in THRESHOLDS[e]) for e in earlier)

    reaching = [g for g in GRIDS if reaches(g)]
    lowest = min(annex_sum(group, g) for g in reaching if annex_sum(group, g) >= threshold)
    if (group, threshold) != ("A", 3390):  # no grid sums to 3390 exactly (lowest: 3392)
        assert lowest == threshold
    at = [g for g in reaching if annex_sum(group, g) == lowest]
    for g in at:
        assert aggir.rank(g) == rank
    below = [g for g in reaching if annex_sum(group, g) < threshold]
    highest = max(annex_sum(group, g) for g in below)
    for g in (g for g in below if annex_sum(group, g) == highest):
        assert aggir.rank(g) != rank
        assert aggir.rank(g) > rank


def test_known_grids():
    assert aggir.gir(grid()) == 6
    assert aggir.gir({c: "C" for c in CODES}) == 1
    # COH and ORI at C only: group A 3200 < 3390, group B 2700 >= 2016 -> rank 4 -> GIR 2.
    assert aggir.rank(grid(COH="C", ORI="C")) == 4
    assert aggir.gir(grid(COH="C", ORI="C")) == 2
    # DEX and COM weigh nothing.
    assert aggir.gir(grid(DEX="C", COM="C")) == 6
    # Toilette and habillage at B: group H 4000 -> rank 11 -> GIR 4.
    assert aggir.rank(grid(TOI="B", HAB="B")) == 11
    assert aggir.gir(grid(TOI="B")) == 5  # group H 2000 -> rank 12


@pytest.mark.parametrize("bad", [{}, {**grid(), "COH": "D"}, {**grid(), "TRA": "b"},
                                 {k: v for k, v in grid().items() if k != "COM"}])
def test_a_missing_or_wrong_modality_is_refused(bad):
    with pytest.raises(aggir.ModalitiesError):
        aggir.gir(bad)


def test_the_table_served_to_the_browser_is_the_annex():
    served = json.loads(aggir.table_json())
    assert served["variables"] == CODES
    for group in served["groups"]:
        for modality in "CB":
            assert group["weights"][modality] == WEIGHTS[group["name"], modality]
        assert [(s["threshold"], s["rank"]) for s in group["ranks"]] == THRESHOLDS[group["name"]]
    assert {int(k): v for k, v in served["rankToGir"].items()} == GIR_OF_RANK
