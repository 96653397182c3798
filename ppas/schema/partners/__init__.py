"""The partner and its conventions."""
