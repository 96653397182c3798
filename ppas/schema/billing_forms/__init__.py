"""The monthly online billing form: worklist, lines, saves, validation, cancellation."""
