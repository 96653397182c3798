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


def test_fragments_are_shared_between_files_and_only_the_needed_ones_are_sent(tmp_path):
    (tmp_path / "Fragments.graphql").write_text(
        "fragment PartnerName on Partner { name }\n"
        "fragment PartnerCity on Partner { city }\n"
        "fragment Both on Partner { ...PartnerName ...PartnerCity }\n")
    (tmp_path / "Home.graphql").write_text("query Home { partner { ...PartnerName } }")
    (tmp_path / "Full.graphql").write_text("query Full { partner { ...Both } }")
    operations = load_operations(tmp_path, schema)
    assert "PartnerName" in operations["Home"].source
    assert "PartnerCity" not in operations["Home"].source
    assert all(name in operations["Full"].source for name in ("Both", "PartnerName", "PartnerCity"))


def test_a_fragment_defined_twice_stops_start_up(tmp_path):
    (tmp_path / "A.graphql").write_text("fragment Name on Partner { name }")
    (tmp_path / "B.graphql").write_text("fragment Name on Partner { city }")
    with pytest.raises(InvalidOperation, match="fragment Name is defined twice"):
        load_operations(tmp_path, schema)


def test_an_unknown_fragment_stops_start_up(tmp_path):
    (tmp_path / "Home.graphql").write_text("query Home { partner { ...Missing } }")
    with pytest.raises(InvalidOperation, match="Home.graphql"):
        load_operations(tmp_path, schema)
