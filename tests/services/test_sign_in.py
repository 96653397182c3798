"""Sign-in: argon2id check, same answer for unknown logins, lockout at 3 failures."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from argon2 import PasswordHasher

from ppas.models import AuditEvent, User
from ppas.services.sign_in import WRONG_CREDENTIALS, sign_in

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
    assert [r.error for r in results] == [WRONG_CREDENTIALS] * 3
    after = await sign_in(user.login, "Secret2026", now=NOW)
    assert after.user is None and after.error == WRONG_CREDENTIALS
    await user.refresh_from_db()
    assert user.locked_at == NOW
    actions = await AuditEvent.filter(actor_id=user.id).values_list("action", flat=True)
    assert actions.count("sign_in_failed") == 3 and "account_locked" in actions
    assert actions.count("sign_in_refused_locked") == 1
    assert "Mot de passe oublié" in WRONG_CREDENTIALS


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


async def test_a_locked_account_answers_exactly_like_an_unknown_login(make_user):
    # Three wrong passwords then the right one, against four wrong ones for a login no account
    # has: a guesser must not learn which login exists from the answers.
    user = await make_user("Secret2026")
    real = [await sign_in(user.login, f"Wrong{i}x2026", now=NOW) for i in range(3)]
    real.append(await sign_in(user.login, "Secret2026", now=NOW))
    unknown = [await sign_in("personneici", f"Wrong{i}x2026", now=NOW) for i in range(4)]
    assert [r.error for r in real] == [r.error for r in unknown] == [WRONG_CREDENTIALS] * 4
    assert "bloqué" in WRONG_CREDENTIALS and "Mot de passe oublié" in WRONG_CREDENTIALS
    await user.refresh_from_db()
    assert user.locked_at == NOW


async def test_a_login_longer_than_30_characters_gets_a_plain_refusal():
    result = await sign_in("a" * 31, "Secret2026", now=NOW)
    assert result.user is None
    assert "trop long" in result.error and "30" in result.error and "31" in result.error


async def test_concurrent_wrong_passwords_check_at_most_three_then_the_right_one_is_refused(make_user):
    user = await make_user("Secret2026")
    results = await asyncio.gather(*(sign_in(user.login, f"Wrong{i}x2026", now=NOW)
                                     for i in range(19)))
    assert all(r.user is None for r in results)
    assert await AuditEvent.filter(actor_id=user.id, action="sign_in_failed").count() <= 3
    after = await sign_in(user.login, "Secret2026", now=NOW)
    assert after.user is None
    await user.refresh_from_db()
    assert user.locked_at is not None
