"""Benchmark: a payment slip's PDF (our xhtml2pdf template) against bare ReportLab.

    .venv/bin/python bench/slip_pdf.py [--lines 1000] [--runs 3]

Lays out a slip of 1,000 lines, then 2,000, with the very functions the publication job
uses (templates/pdf/payment_slip.html through xhtml2pdf), and the same rows drawn by bare
ReportLab (the engine under xhtml2pdf) as one platypus Table, after one warm-up each, and
prints the medians of the CPU time of this process (the machine is shared: wall time would
measure the neighbours) and two ratios:

* template / bare ReportLab at 1,000 lines (target ≤ 15×);
* template at 2,000 lines / template at 1,000 lines (target ≤ 2.2×: linear, not quadratic).
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ppas.services import payment_slips  # noqa: E402
from ppas.services.payment_slips import SlipLine  # noqa: E402


def lines(count: int) -> list[SlipLine]:
    return [SlipLine(id=i, file_number=f"03{i:08d}", last_name=f"DUPONT{i % 97}",
                     first_name="Jeanne-Marie", period_start=date(2026, 9, 1),
                     period_end=date(2026, 9, 30), hours=Decimal("12.50"),
                     sunday_hours=Decimal("1.00") if i % 3 else Decimal(0),
                     hourly_rate=Decimal("21.30"), participation=Decimal("3.20"),
                     amount=Decimal("226.25"),
                     file_name=f"03_21231300_2026{i % 12 + 1:02d}.xml" if i % 2 else None,
                     record_number=i + 1, convention_number="C03-0001", form_period="2026-09",
                     form_position=i + 1)
            for i in range(count)]


def context(count: int) -> dict:
    return payment_slips.pdf_context(
        {"number": "03-2026-000123", "paid_on": "03/11/2026"},
        {"name": "Caisse d'essai", "code": "03"},
        {"name": "Aide et Domicile Provence", "structure_id": "21231300"}, lines(count))


def ours(count: int) -> float:
    ctx = context(count)
    began = time.process_time()
    payment_slips.render_slip_pdf(ctx)
    return time.process_time() - began


def bare_reportlab(count: int) -> float:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    rows = payment_slips.pdf_rows(lines(count))
    began = time.process_time()
    header = ("Bénéficiaire (n° de dossier), période", "Heures × (taux - particip.)",
              "Montant", "Origine")
    table = Table([header, *rows], repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("ALIGN", (1, 0), (2, -1), "RIGHT")]))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=landscape(A4)).build([table])
    return time.process_time() - began


def median(measure, count: int, runs: int) -> float:
    return statistics.median(measure(count) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ours(50), bare_reportlab(50)  # warm-up: fonts, CSS parser, imports
    bare = median(bare_reportlab, args.lines, args.runs)
    one = median(ours, args.lines, args.runs)
    two = median(ours, 2 * args.lines, args.runs)
    ratio, growth = one / bare, two / one
    print(f"Payment slip PDF, median of {args.runs}:")
    print(f"  bare ReportLab, {args.lines} rows (one platypus Table): {bare:6.2f} s")
    print(f"  our template,   {args.lines} lines                   : {one:6.2f} s")
    print(f"  our template,   {2 * args.lines} lines                   : {two:6.2f} s")
    print(f"  template / ReportLab : {ratio:5.1f}× (target ≤ 15×)")
    print(f"  2× lines / 1× lines  : {growth:5.2f}× (target ≤ 2.2×)")
    return 0 if ratio <= 15 and growth <= 2.2 else 1


if __name__ == "__main__":
    sys.exit(main())
