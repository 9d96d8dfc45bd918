"""Submitting a pack: parsing JSON or streamed CSV, validating every row, idempotency, storing."""
