"""Starlette routes of the HTMX UI; each runs a named GraphQL operation."""
