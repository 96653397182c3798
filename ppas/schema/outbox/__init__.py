"""Development only: reading the outbox."""
