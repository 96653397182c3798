"""The form page refuses « Annuler » once the caisse integrated a line of the form."""
from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ppas.domain.periods import Period
from ppas.models import BillingForm, FormStatus, IntegratedLine
from ppas.services.integration import integrate_due_lines
from tests.billing_form_support import PASSWORD
from tests.integration_support import provider, validated_form


async def test_cancel_is_refused_with_a_message_once_integrated(client, sign_in, settings, db):
    prov = await provider(1)
    now = datetime.now(timezone.utc)
    form, [line] = await validated_form(prov, prov.plans, now - timedelta(minutes=5),
                                        period=Period(2026, 2))
    await integrate_due_lines(now, replace(settings, report_delay_business_days=0),
                              partner_ids=[prov.partner.id])
    assert await IntegratedLine.filter(form_line_id=line.id).exists()
    csrf = await sign_in(client, prov.login, PASSWORD)
    page = await client.get(f"/facturation/{form.id}")
    problem = re.search(r'<p id="pas-d-annulation">([^<]*)</p>', page.text)
    assert problem and "intégrées par la caisse" in html.unescape(problem.group(1))
    assert f'action="/facturation/{form.id}/annuler"' not in page.text
    response = await client.post(f"/facturation/{form.id}/annuler", data={"csrf_token": csrf})
    assert response.status_code == 422
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))
    assert "déjà été intégrées par la caisse" in text
    assert (await BillingForm.get(id=form.id)).status == FormStatus.VALIDATED
