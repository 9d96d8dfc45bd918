"""Alembic environment of the exchange's database (run through ``api.db.migrate.upgrade``)."""

from api.db.migrate import run_alembic_env
from api.exchange.models import METADATA

run_alembic_env(METADATA)
