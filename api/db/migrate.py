"""Run a service's Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from api.db.engine import normalise_url


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_alembic_env(target_metadata: object = None, version_table: str = "alembic_version") -> None:
    """The body of every service's ``migrations/env.py`` (offline SQL, or online on a URL or a
    connection handed in through ``config.attributes["connection"]``).

    SQLite alters tables only by copying them, hence ``render_as_batch``.
    """
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    options = {"target_metadata": target_metadata, "version_table": version_table, "render_as_batch": True}

    def run(**configure: object) -> None:
        context.configure(**configure, **options)
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        run(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        return
    connectable = config.attributes.get("connection")
    if connectable is not None:
        run(connection=connectable)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        run(connection=connection)
