"""Named operations are parsed and validated against the schema at start-up."""
from __future__ import annotations

import pytest

from ppas.schema import schema
from ppas.settings import Settings
from ppas.web.operations import InvalidOperation, load_operations


def test_every_operation_validates_against_the_schema():
    operations = load_operations(Settings().operations_dir, schema)
    assert {"PartnerHome", "Beneficiaries", "Beneficiary"} <= set(operations)


def test_an_operation_that_drifted_from_the_schema_stops_start_up(tmp_path):
    (tmp_path / "Broken.graphql").write_text("query Broken { partner { noSuchField } }")
    with pytest.raises(InvalidOperation, match="Broken.graphql"):
        load_operations(tmp_path, schema)


def test_the_app_refuses_to_start_with_a_drifted_operation(tmp_path):
    from dataclasses import replace

    from ppas.app import create_app

    (tmp_path / "Broken.graphql").write_text("query Broken { beneficiaries { nope } }")
    with pytest.raises(InvalidOperation):
        create_app(replace(Settings(), operations_dir=tmp_path), manage_database=False)
