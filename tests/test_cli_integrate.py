"""`ppas integrate`: one integration run from the command line, its counts printed."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ppas.models import IntegratedLine
from tests.integration_support import accepted_file, provider

ROOT = Path(__file__).resolve().parent.parent


async def test_integrate_prints_its_counts_and_integrates(database_url, db):
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, datetime.now(timezone.utc) - timedelta(days=1))
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_DEVELOPMENT": "1",
           "PPAS_REPORT_DELAY_BUSINESS_DAYS": "0"}
    result = subprocess.run([sys.executable, "-m", "ppas", "integrate"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Intégration : ") and "payable(s)" in result.stdout
    assert (await IntegratedLine.get(billing_line_id=line.id)).status == "payable"
