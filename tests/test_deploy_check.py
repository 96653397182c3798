"""docs/deploy.md followed from scratch (scripts/deploy_check.sh), in the PostgreSQL run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(BACKEND != "postgres", reason="the guide deploys on PostgreSQL")
def test_the_deploy_guide_works_from_scratch():
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PPAS_", "DATABASE_URL", "PROMETHEUS_"))}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "deploy_check.sh")],
                            env={**env, "PY": sys.executable}, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "deploy check: OK" in result.stdout
    assert "/readyz before migrating: 503" in result.stdout
    assert "restored database: /readyz 200" in result.stdout
