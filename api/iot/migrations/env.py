"""Alembic environment of the IoT service's database (run through ``api.db.migrate.upgrade``)."""

from api.db.migrate import run_alembic_env

run_alembic_env(version_table="iot_alembic_version")  # its own history when databases are shared
