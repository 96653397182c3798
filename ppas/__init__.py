"""PPAS — Portail Partenaires Action Sociale."""
