"""Sign-in: argon2id check, same answer for unknown logins, lockout at 3 failures."""
from __future__ import annotations

from datetime import datetime, timezone

from argon2 import PasswordHasher

from ppas.models import AuditEvent, User
from ppas.services.sign_in import LOCKED, WRONG_CREDENTIALS, sign_in

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


async def test_right_password_signs_in_and_resets_the_failure_count(make_user):
    user = await make_user("Secret2026")
    await sign_in(user.login, "Wrong2026", now=NOW)
    result = await sign_in(user.login, "Secret2026", now=NOW)
    assert result.user is not None and result.user.id == user.id
    await user.refresh_from_db()
    assert user.failed_attempts == 0


async def test_unknown_login_and_wrong_password_get_the_same_answer(make_user):
    user = await make_user()
    unknown = await sign_in("personne", "Wrong2026", now=NOW)
    wrong = await sign_in(user.login, "Wrong2026", now=NOW)
    assert unknown.error == wrong.error == WRONG_CREDENTIALS


async def test_three_failures_lock_the_account_even_with_the_right_password_after(make_user):
    user = await make_user("Secret2026")
    results = [await sign_in(user.login, f"Wrong{i}x2026", now=NOW) for i in range(3)]
    assert [r.error for r in results] == [WRONG_CREDENTIALS, WRONG_CREDENTIALS, LOCKED]
    after = await sign_in(user.login, "Secret2026", now=NOW)
    assert after.user is None and after.error == LOCKED
    await user.refresh_from_db()
    assert user.locked_at == NOW
    actions = await AuditEvent.filter(actor_id=user.id).values_list("action", flat=True)
    assert actions.count("sign_in_failed") == 3 and "account_locked" in actions
    assert "Mot de passe oublié" in LOCKED


async def test_a_weaker_hash_is_upgraded_at_sign_in(make_user):
    user = await make_user()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("Secret2026")
    await User.filter(id=user.id).update(password_hash=weak)
    assert (await sign_in(user.login, "Secret2026", now=NOW)).user is not None
    await user.refresh_from_db()
    assert user.password_hash != weak and user.password_hash.startswith("$argon2id$")


async def test_audit_never_holds_the_password(make_user):
    user = await make_user("Secret2026")
    await sign_in(user.login, "Wrong2026x", now=NOW)
    events = await AuditEvent.filter(actor_id=user.id).values("details")
    assert events and all("Wrong2026x" not in str(e["details"]) for e in events)
