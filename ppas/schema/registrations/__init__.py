"""Pre-registration and the caisse's decision."""
