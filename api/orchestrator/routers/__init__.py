"""The orchestrator's routers, one per resource; each set up once with its prefix and tags."""
