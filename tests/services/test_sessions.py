"""Server-side sessions: idle and absolute timeouts, sign-out of every session."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ppas.models import Session
from ppas.services.sessions import (
    SessionLimits,
    close_all_sessions,
    find_session,
    open_session,
)

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)
LIMITS = SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


async def test_session_lives_while_used_and_dies_when_idle(make_user):
    user = await make_user()
    secret, row = await open_session(user, T0)
    assert row.key_hash != secret  # only the hash is stored
    assert (await find_session(secret, T0 + timedelta(minutes=29), LIMITS)).user.id == user.id
    assert await find_session(secret, T0 + timedelta(minutes=29 + 31), LIMITS) is None
    assert not await Session.filter(id=row.id).exists()


async def test_absolute_timeout_ends_even_an_active_session(make_user):
    user = await make_user()
    secret, _ = await open_session(user, T0)
    moment = T0
    for _ in range(25):  # active every 29 minutes for 12 h 05
        moment += timedelta(minutes=29)
        found = await find_session(secret, moment, LIMITS)
        if moment - T0 > LIMITS.absolute:
            assert found is None
            break
        assert found is not None
    else:
        raise AssertionError("the session outlived its absolute timeout")


async def test_deactivated_user_loses_sessions(make_user):
    user = await make_user()
    secret, _ = await open_session(user, T0)
    user.active = False
    await user.save()
    assert await find_session(secret, T0, LIMITS) is None


async def test_close_all_sessions(make_user):
    user = await make_user()
    first, _ = await open_session(user, T0)
    second, _ = await open_session(user, T0)
    await close_all_sessions(user.id)
    assert await find_session(first, T0, LIMITS) is None
    assert await find_session(second, T0, LIMITS) is None


async def test_unknown_cookie_finds_nothing(db):
    assert await find_session("made-up", T0, LIMITS) is None
    assert await find_session(None, T0, LIMITS) is None
