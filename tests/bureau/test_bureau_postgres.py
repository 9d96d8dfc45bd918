"""The bureau's storage on PostgreSQL (COPY bulk inserts, ``= ANY`` look-ups, bytea trees), and
its migration matching its models on both databases.

Each test works in a schema of its own, dropped afterwards, so parallel runs never collide.
PostgreSQL: ``ABS_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.bureau.bootstrap import build_service, open_database
from api.bureau.models import METADATA
from api.services.credit_check import InProcessBureauClient, check_credit
from chain.leaves import CREDIT_LEAF
from chain.merkle import StandardMerkleTree
from bureau_support import TODAY, bureau_rows, credit_frame

POSTGRES_URL = os.environ.get("ABS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"bureau_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.integration
def test_ingest_lookup_and_verification_on_postgres(postgres_url, settings, anchor, registry):
    service = build_service(settings.model_copy(update={"database_url": postgres_url}), anchor=anchor)
    assert service.engine.dialect.name == "postgresql"
    big, update = credit_frame(5_000, seed=50), credit_frame(3, seed=50)
    update["recent_inquiries"] = 9
    update["record_date"] = pd.Timestamp(TODAY)
    first = service.ingest(big)
    second = service.ingest(update)

    assert (first.batch_id, second.batch_id, registry.functions.batchCount().call()) == (1, 2, 2)
    assert bureau_rows(service, "SELECT count(*) FROM bureau_record") == [(5_003,)]
    entries, missing = service.lookup([*big["borrower_id"][:4], "nobody"])
    assert missing == ["nobody"]
    assert [entries[b].batch_id for b in big["borrower_id"][:4]] == [2, 2, 2, 1]  # newest record wins
    assert entries[big["borrower_id"][0]].record["recent_inquiries"] == 9
    same_day = update.iloc[:1].copy()
    same_day["recent_inquiries"] = 4
    service.ingest(same_day)  # the same record date as batch 2: the later batch wins the tie
    assert service.lookup([big["borrower_id"][0]])[0][big["borrower_id"][0]].record["recent_inquiries"] == 4
    assert registry.functions.batchCount().call() == 3
    # 5,000 ids go through the joined temporary table: the same newest-record choice as ``= ANY``
    columns = service.lookup_columns([*big["borrower_id"], "nobody"])
    assert len(columns) == 5_000 and "nobody" not in columns.borrower_id
    by_borrower = dict(zip(columns.borrower_id, columns.entries()))
    assert [by_borrower[b].batch_id for b in big["borrower_id"][:4]] == [3, 2, 2, 1]
    assert by_borrower[big["borrower_id"][0]].record["recent_inquiries"] == 4
    few, _ = service.lookup(list(big["borrower_id"][:50]), proofs=False)
    assert all(few[b] == by_borrower[b] for b in big["borrower_id"][:50])
    info, leaves = service.leaves(1)
    tree = StandardMerkleTree.of([(leaves[i * 32 : i * 32 + 32],) for i in range(5_000)], CREDIT_LEAF)
    assert tree.root == info.root == "0x" + bytes(registry.functions.batch(1).call()[0]).hex()
    entry = entries[big["borrower_id"][3]]
    assert StandardMerkleTree.verify(entry.batch_root, CREDIT_LEAF, [entry.salted_hash], entry.proof)

    bureau_rows(service, "UPDATE bureau_record SET salt = :s WHERE borrower_id = :b",
                s="0x" + "33" * 32, b=big["borrower_id"].iloc[10])
    verdicts = check_credit(InProcessBureauClient(service), registry, list(big["borrower_id"]), today=TODAY,
                            max_age_days=90)
    assert [(v.borrower_id, v.reason) for v in verdicts if not v.eligible] == [(big["borrower_id"].iloc[10],
                                                                               "hash_mismatch")]


@pytest.mark.integration
def test_migration_creates_exactly_the_models_tables(postgres_url, settings):
    for url in (postgres_url, settings.database_url):
        engine = open_database(url)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), METADATA) == []
        open_database(url)  # a second start-up is a no-op
