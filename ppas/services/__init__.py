"""Use cases: each runs in one transaction and checks who may do it."""
