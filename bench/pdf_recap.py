"""Benchmark: the PDF recap of a validated form grows linearly with its lines.

    .venv/bin/python bench/pdf_recap.py [--small 300] [--large 600] [--runs 3]

Lays out the recap (templates/pdf/form_recap.html through xhtml2pdf, the very functions the
service uses) for a 300-line and a 600-line form built from plain objects, after one warm-up,
and prints the median times, their ratio (target ≤ 2.3×) and the same figures for one single
long table (no chunking) to show why the tables are split.

It then lays out the small recap once on the event loop and once in the service's PDF thread
while a ticker asks the loop for a 1 ms sleep, and prints the longest pause each time: other
requests wait that long (target: the thread's pause ≤ 10 % of the inline one).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace  # noqa: F401
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace as Row

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ppas.services import billing_forms  # noqa: E402


def context(count: int, rows_per_table: int) -> dict:
    lines = [Row(position=i + 1, crossed_out=i % 17 == 0, hours=Decimal("10.50"),
                 sunday_hours=Decimal("1.00"), amount=Decimal("233.05"),
                 care_plan=Row(hourly_rate=Decimal("21.30"), participation=Decimal("2.35"),
                               beneficiary=Row(file_number=f"03{i:08d}", last_name="DUPONT",
                                               first_name="Jeanne")))
             for i in range(count)]
    summary = billing_forms.summarize([(ln.hours, ln.sunday_hours, ln.amount, ln.crossed_out, None)
                                       for ln in lines])
    return {"partner": Row(name="Aide et Domicile Provence", structure_id="21231300"),
            "convention": Row(number="C03-0001", prestation_code="001"),
            "form": Row(period="2025-05"), "period_label": "mai 2025",
            "chunks": billing_forms.chunked(lines, rows_per_table), "summary": summary,
            "sunday": True, "validated_at": datetime.now(timezone.utc),
            "validated_by": Row(display_name="Claire FABRE", login="demoadmin")}


def timed(count: int, rows_per_table: int, runs: int) -> float:
    html = billing_forms.render_recap_html(context(count, rows_per_table))
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        billing_forms.html_to_pdf(html)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def _longest_pause(layout) -> float:
    """The longest gap between 1 ms ticks of the event loop while `layout()` runs."""
    longest, running = 0.0, True

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest, last = max(longest, now - last), now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    await layout()
    running = False
    await task
    return longest


def loop_pauses(count: int) -> tuple[float, float]:
    """The loop's longest pause: the layout run inline, then in the PDF thread."""
    ctx = context(count, billing_forms.PDF_ROWS_PER_TABLE)

    async def inline() -> None:
        billing_forms._lay_out(ctx)

    async def threaded() -> None:
        await asyncio.wrap_future(billing_forms._PDF_THREAD.submit(billing_forms._lay_out, ctx))

    return asyncio.run(_longest_pause(inline)), asyncio.run(_longest_pause(threaded))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single-table", action="store_true",
                        help="also time one long table, to compare")
    args = parser.parse_args()
    timed(20, billing_forms.PDF_ROWS_PER_TABLE, 1)  # warm-up: fonts, CSS parser
    chunk = billing_forms.PDF_ROWS_PER_TABLE
    small, large = timed(args.small, chunk, args.runs), timed(args.large, chunk, args.runs)
    ratio = large / small
    print(f"PDF recap (xhtml2pdf, tables of {chunk} rows), median of {args.runs}:")
    print(f"  {args.small} lines : {small:6.2f} s")
    print(f"  {args.large} lines : {large:6.2f} s")
    print(f"  ratio     : {ratio:4.2f}× (target ≤ 2.3×)")
    if args.single_table:
        one_small = timed(args.small, 10**9, args.runs)
        one_large = timed(args.large, 10**9, args.runs)
        print(f"  one single table: {one_small:6.2f} s / {one_large:6.2f} s, "
              f"ratio {one_large / one_small:4.2f}×")
    inline, threaded = loop_pauses(args.small)
    print(f"Event loop's longest pause during a {args.small}-line layout:")
    print(f"  on the loop   : {inline * 1000:8.1f} ms")
    print(f"  in PDF thread : {threaded * 1000:8.1f} ms ({threaded / inline:5.1%} of inline, "
          "target ≤ 10 %)")
    return 0 if ratio <= 2.3 and threaded <= inline * 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
