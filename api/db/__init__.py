"""Database plumbing shared by the platform's services: engines, sessions and migrations.
Each service (orchestrator, bureau, exchange) owns its own database and migration history."""
