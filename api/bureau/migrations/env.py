"""Alembic environment of the bureau's database (run through ``api.db.migrate.upgrade``)."""

from api.db.migrate import run_alembic_env
from api.bureau.models import METADATA

run_alembic_env(METADATA)
