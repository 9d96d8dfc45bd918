"""The credit bureau: its own FastAPI service and database; commits credit records on chain (see README.md)."""
