"""Payment slips (partners, vendors) and payment runs (caisse back office)."""
