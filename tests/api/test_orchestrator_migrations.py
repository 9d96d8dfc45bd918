"""The orchestrator's migrations (including monitoring's) build exactly the tables its models describe,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from support import PostgresSchema

from api.db.engine import make_engine
from api.monitoring import models as monitoring
from api.orchestrator import models as orchestrator
from api.orchestrator.wiring import migrate


def _models() -> MetaData:
    metadata = MetaData()
    for module in (orchestrator, monitoring):
        for value in vars(module).values():
            table = getattr(value, "__table__", None)
            if table is not None and getattr(value, "__module__", "") == module.__name__:
                table.to_metadata(metadata)
    return metadata


def _drift(url: str) -> list:
    migrate(url)
    with make_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": "orchestrator_alembic_version"})
        return compare_metadata(context, _models())


def test_the_models_cover_both_schemas():
    assert {"pack", "asset", "holding", "monitoring_cycle", "measure", "notice", "replacement"} <= set(_models().tables)


def test_the_migrations_match_the_models_on_sqlite(tmp_path):
    assert _drift(f"sqlite:///{tmp_path / 'orchestrator.db'}") == []


@pytest.mark.integration
def test_the_migrations_match_the_models_on_postgres():
    schema = PostgresSchema("orchmig")
    try:
        assert _drift(schema.url) == []
    finally:
        schema.close()
