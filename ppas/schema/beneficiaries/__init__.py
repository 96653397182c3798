"""Beneficiaries and their care plans."""
