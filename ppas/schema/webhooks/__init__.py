"""Webhooks of the partner administration: subscriptions and the delivery log."""
