"""Settings from the environment: safe defaults, and no production run without a secret key."""
from __future__ import annotations

import pytest

from ppas.settings import Settings


def test_production_by_default_needs_a_secret_key(monkeypatch):
    monkeypatch.delenv("PPAS_SECRET_KEY", raising=False)
    monkeypatch.delenv("PPAS_DEVELOPMENT", raising=False)
    with pytest.raises(RuntimeError, match="PPAS_SECRET_KEY"):
        Settings.from_env()


def test_development_is_said_explicitly(monkeypatch):
    monkeypatch.delenv("PPAS_SECRET_KEY", raising=False)
    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")
    settings = Settings.from_env()
    assert settings.development and not settings.secure_cookies
    assert len(settings.secret_key) >= 32
    assert settings.password_rules.name == "legacy"


def test_production_needs_a_secret_key_and_sets_secure_cookies(monkeypatch):
    monkeypatch.setenv("PPAS_DEVELOPMENT", "0")
    monkeypatch.delenv("PPAS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PPAS_SECRET_KEY"):
        Settings.from_env()
    monkeypatch.setenv("PPAS_SECRET_KEY", "k" * 40)
    assert Settings.from_env().secure_cookies


def test_nist_preset_is_one_setting_away(monkeypatch):
    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")
    monkeypatch.setenv("PPAS_PASSWORD_POLICY", "nist")
    assert Settings.from_env().password_rules.min_length == 12


def test_rate_limits_and_hash_workers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")  # no secret key needed for this check
    monkeypatch.setenv("PPAS_RATE_LIMIT_SIGN_IN", "7/minute")
    monkeypatch.setenv("PPAS_HASH_WORKERS", "3")
    settings = Settings.from_env()
    assert settings.rate_limit_sign_in == "7/minute" and settings.hash_workers == 3
    assert settings.rate_limit_password_reset == Settings.rate_limit_password_reset
