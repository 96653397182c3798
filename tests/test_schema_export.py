"""The exported SDL in graphql/schema.graphql must match the code."""
from __future__ import annotations

from ppas.cli import SCHEMA_FILE, export_schema_sdl


def test_schema_file_matches_code():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == export_schema_sdl(), (
        "graphql/schema.graphql is out of date: run `ppas export-schema`"
    )
