"""The exchange's database: its migration matches its models on SQLite and PostgreSQL, and a
whole book and distribution run on PostgreSQL (a schema of its own per test, dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from issuance_world import DOCUMENTS, start_exchange_on
from sqlmodel import Session, select

from api.exchange import cash
from api.exchange.bootstrap import open_database
from api.exchange.models import METADATA, CashEntry

POSTGRES_URL = os.environ.get("ABS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = 24 * 3600


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"exchange_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def _drift(url: str) -> list:
    engine = open_database(url)
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), METADATA)


def test_the_migration_matches_the_models_on_sqlite(tmp_path):
    assert _drift(f"sqlite:///{tmp_path / 'exchange.db'}") == []


@pytest.mark.integration
def test_the_migration_matches_the_models_on_postgres(postgres_url):
    assert _drift(postgres_url) == []


@pytest.mark.integration
def test_a_book_and_a_distribution_on_postgres(world, pack_id, postgres_url):
    exchange = start_exchange_on(world.consortium, postgres_url)
    assert exchange.service.engine.dialect.name == "postgresql"
    product = exchange.issuer().issue(exchange.plan(pack_id), DOCUMENTS)["product_id"]
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    exchange.client("exchange").whitelist(world.address("investor-2"), now + DAY, qualified=True)
    exchange.client("investor-2").subscribe(product, 0, 720_000)
    exchange.client("investor-2").subscribe(product, 1, 180_000)
    exchange.client("exchange").close_book(product)

    result = exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000)

    assert [p["interest"] for p in result["report"]["payments"]] == [2_700, 1_350]
    with Session(exchange.service.engine) as session:
        assert cash.balance(session, cash.investor_account(world.address("investor-2"))) == (
            -900_000 + 2_700 + 20_000 + 1_350)
        assert sum(e.amount for e in session.exec(select(CashEntry)).all()) == 0
