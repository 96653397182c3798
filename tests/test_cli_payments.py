"""`ppas payments run` and `ppas payments publish`: the caisse's payment from the command line."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from ppas.domain.amounts import format_euros
from ppas.models import IntegratedLine, PaymentSlip
from ppas.models.integration import IntegrationStatus
from tests.payment_support import make_payees

ROOT = Path(__file__).resolve().parent.parent


def ppas(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_DEVELOPMENT": "1"}
    return subprocess.run([sys.executable, "-m", "ppas", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def test_payments_run_prints_the_slips_and_the_total_in_french(database_url, db):
    made = await make_payees(partners=2, file_lines=2, form_lines=0, with_accounts=False)
    paid_on = (date.today() + timedelta(days=2)).isoformat()
    done = ppas(database_url, "payments", "run", "--caisse", made.caisse.code, "--paid-on", paid_on)
    assert done.returncode == 0, done.stderr
    total = sum((ln.amount for ln in made.lines), Decimal(0))
    assert "2 bordereau(x), 4 ligne(s)" in done.stdout
    assert f"total {format_euros(total)}" in done.stdout
    assert await IntegratedLine.filter(caisse_id=made.caisse.id,
                                       status=IntegrationStatus.PAID).count() == 4
    again = ppas(database_url, "payments", "run", "--caisse", made.caisse.code, "--paid-on", paid_on)
    assert again.returncode == 0 and "0 bordereau(x)" in again.stdout
    published = ppas(database_url, "payments", "publish")
    assert published.returncode == 0 and "Bordereaux publiés" in published.stdout
    # Paid in two days: not online yet.
    assert not await PaymentSlip.filter(caisse_id=made.caisse.id,
                                        published_at__isnull=False).exists()


async def test_payments_run_says_what_to_fix(database_url, db):
    unknown = ppas(database_url, "payments", "run", "--caisse", "ZZ", "--paid-on", "2999-01-01")
    assert unknown.returncode == 1 and "Aucune caisse de code « ZZ »" in unknown.stderr
    unreadable = ppas(database_url, "payments", "run", "--caisse", "03", "--paid-on", "demain")
    assert unreadable.returncode == 2 and "AAAA-MM-JJ" in unreadable.stderr
