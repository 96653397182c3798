"""Fixtures for use-case tests: throw-away accounts that tests may lock or change."""
from __future__ import annotations

import itertools

import pytest

from ppas.domain.password_hashing import hash_password
from ppas.models import Caisse, Partner, Role, User

_numbers = itertools.count(1)


@pytest.fixture
async def make_user(db):
    async def create(password: str = "Secret2026", role: Role = Role.PARTNER_USER) -> User:
        caisse = await Caisse.get(code="03")
        partner = await Partner.get(structure_id="21231300")
        return await User.create(login=f"essai{next(_numbers)}x{id(create) % 9999}",
                                 password_hash=hash_password(password), role=role,
                                 caisse=caisse, partner=partner)

    return create
