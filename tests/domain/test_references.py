from ppas.domain.references import registration_reference


def test_a_registration_reference_names_the_caisse_and_a_zero_padded_number():
    assert registration_reference("03", 123) == "PRE-03-000123"
    assert registration_reference("04", 1234567) == "PRE-04-1234567"  # never cut
