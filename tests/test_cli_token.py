"""`ppas token create`: prints a working token once, for a partner admin only."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from ppas.models import ApiToken, AuditEvent
from ppas.services.api_tokens import user_for_token

ROOT = Path(__file__).resolve().parent.parent


def ppas_token_create(database_url: str, login: str, name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_DEVELOPMENT": "1"}
    return subprocess.run([sys.executable, "-m", "ppas", "token", "create", "--login", login,
                           "--name", name], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


async def test_token_create_prints_the_token_once_on_stdout(database_url, make_user):
    admin = await make_user(role="partner_admin")

    result = ppas_token_create(database_url, admin.login, "Éditeur en ligne de commande")

    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("ppas_") and "\n" not in secret  # scripts can capture it
    assert "il ne sera plus jamais affiché" in result.stderr
    row = await ApiToken.get(token_hash=hashlib.sha256(secret.encode()).hexdigest())
    assert (row.name, row.created_by_id, row.partner_id) == (
        "Éditeur en ligne de commande", admin.id, admin.partner_id)
    assert (await user_for_token(secret)).id == admin.id
    event = await AuditEvent.get(action="api_token_created", object_id=str(row.id))
    assert event.ip == "cli" and secret not in str(event.details)


async def test_token_create_refuses_a_login_that_is_not_a_partner_admin(database_url, make_user):
    plain = await make_user(role="partner_user")
    before = await ApiToken.all().count()
    for login in (plain.login, "caisseagent", "inconnu"):
        result = ppas_token_create(database_url, login, "Refusé")
        assert result.returncode == 1
        assert result.stdout == ""
        assert f"« {login} » n'est pas un administrateur de partenaire actif" in result.stderr
    assert await ApiToken.all().count() == before
