"""The composition layer: FastAPI apps (orchestrator, bureau, exchange), database models,
services, auth and the `absctl` CLI. Only `api.wiring` constructs chain and scoring objects."""
