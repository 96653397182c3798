"""Helpers of the domain tests (pure rules: no database, no app)."""
from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest


@pytest.fixture
def fresh_import():
    """Run a module's code again into a new module object and return it (sys.modules untouched).

    Tables a module builds once at import (the anomaly catalog) come from functions that ran
    before any test: a test that must see that code run — mutation testing switches the
    mutant on just before each test — reads such a fresh copy, not the module imported at
    collection.
    """
    def load(name: str) -> ModuleType:
        spec = importlib.util.find_spec(name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
