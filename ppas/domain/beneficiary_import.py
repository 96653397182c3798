"""The caisse's CSV import of beneficiaries and care plans: its columns and its template.

One row per beneficiary and, optionally, one care plan (the plan's columns left empty: the
beneficiary alone). `;` separated, UTF-8 with or without BOM, decimal comma or point, dates
jj/mm/aaaa or aaaa-mm-jj; an empty `taux_horaire` takes the convention's rate.
"""
from __future__ import annotations

IMPORT_COLUMNS = ("numero_dossier", "nom", "prenom", "date_naissance", "date_deces",
                  "convention", "heures_mensuelles", "taux_horaire", "participation",
                  "date_debut", "date_fin")
REQUIRED_COLUMNS = IMPORT_COLUMNS[:3]
# The import runs inside the web request, one transaction per row: 2,000 rows of new
# beneficiaries with their plans take about 5 s on the embedded SQLite (bench/import_rows.py),
# so a full file finishes within a request; a bigger file is split.
IMPORT_MAX_ROWS = 2_000
EXAMPLE_ROW = ("0300012345", "MARTIN", "Jeanne", "14/02/1941", "", "C03-0001", "12,5", "",
               "3,20", "01/01/2026", "")


def import_template() -> str:
    """The CSV template offered for download: the header and one example row."""
    return ";".join(IMPORT_COLUMNS) + "\r\n" + ";".join(EXAMPLE_ROW) + "\r\n"
