"""Partner administration: users, partner data, convention requests, API tokens."""
