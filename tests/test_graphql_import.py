"""Guard: `import graphql` must be graphql-core, never the project's graphql/ folder."""
from __future__ import annotations

import sysconfig
from pathlib import Path

import graphql


def test_graphql_is_graphql_core_from_site_packages():
    location = Path(graphql.__file__).resolve()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site_packages in location.parents, location
    assert hasattr(graphql, "graphql_sync")


def test_project_graphql_folder_holds_only_documents():
    folder = Path(__file__).resolve().parent.parent / "graphql"
    stray = [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".graphql"]
    assert stray == []
