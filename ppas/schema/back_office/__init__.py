"""The caisse's back office: beneficiaries, care plans, CSV import, conventions."""
