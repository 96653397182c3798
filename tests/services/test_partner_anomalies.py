"""The partner's anomalies export: dates as the partner reads them (Europe/Paris)."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime

from ppas.domain.periods import PARIS
from ppas.models import Convention
from ppas.services import partner_anomalies
from ppas.services.integration import integrate_due_lines
from ppas.services.partner_anomalies import AnomalyFilter
from tests.integration_support import accepted_file, paris, provider


async def test_the_csv_dates_a_report_anomaly_on_its_paris_day(db, settings):
    prov = await provider(1)
    await accepted_file(prov, prov.plans, paris(2026, 10, 12))
    await Convention.filter(id=prov.convention.id).update(status="suspended")
    # Wednesday 14 October 2026 at 00:05 in Paris is still Tuesday 13 in UTC.
    await integrate_due_lines(datetime(2026, 10, 14, 0, 5, tzinfo=PARIS),
                              replace(settings, report_delay_business_days=2),
                              partner_ids=[prov.partner.id])
    text = await partner_anomalies.anomalies_csv(prov.user, AnomalyFilter(phase="report"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == ["R02"]
    assert rows[1][-1] == "2026-10-14"
