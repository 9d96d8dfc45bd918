"""What every table comparison of ``audit db`` shares: the rebuilt chain state, view access, the
database's tables by reflection (the auditor holds no model classes of the platform), and the
rule for naming a row."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import Connection
from web3 import Web3
from web3.contract import Contract

from api.audit.db_bundles import BundleSource
from chain.audit.findings import Finding, plain
from chain.audit.pack_facts import ModelFacts, read_model
from chain.audit.state import ChainState
from chain.contracts import contract_handle
from chain.manifest import Manifest


@dataclass
class DbContext:
    w3: Web3
    manifest: Manifest
    state: ChainState
    connection: Connection
    tables: dict[str, Table] = field(default_factory=dict)
    bundles: BundleSource = field(default_factory=BundleSource)
    _models: dict[int, ModelFacts] = field(default_factory=dict)

    @classmethod
    def reflect(cls, w3: Web3, manifest: Manifest, state: ChainState, connection: Connection,
                bundles: BundleSource | None = None) -> DbContext:
        metadata = MetaData()
        names = inspect(connection).get_table_names()
        tables = {name: Table(name, metadata, autoload_with=connection) for name in names}
        return cls(w3, manifest, state, connection, tables, bundles or BundleSource())

    def contract(self, name: str) -> Contract:
        return contract_handle(self.w3, self.manifest, name)

    @cached_property
    def token_abi(self) -> list[dict]:
        return self.contract("TrancheToken").abi

    def model(self, model_id: int) -> ModelFacts:
        if model_id not in self._models:
            self._models[model_id] = read_model(self.contract("ModelRegistry"), model_id)
        return self._models[model_id]

    def rows(self, table: str, order_by: tuple[str, ...] = ()) -> Iterator[Mapping[str, Any]]:
        t = self.tables[table]
        query = select(t).order_by(*(t.c[name] for name in order_by))
        yield from self.connection.execute(query).mappings()

    def has(self, *tables: str) -> bool:
        return all(name in self.tables for name in tables)


def row_name(table: str, row: Mapping[str, Any], *keys: str) -> str:
    return f"{table}[" + ",".join(f"{k}={row[k]}" for k in keys) + "]"


def differs(subject: str, field_name: str, chain_value: Any, db_value: Any, detail: str = "") -> list[Finding]:
    """A db finding when the database's value is not the chain's (expected = chain, actual = database)."""
    if _normal(chain_value) == _normal(db_value):
        return []
    return [Finding("db", subject, field_name, plain(chain_value), plain(db_value), detail)]


def _normal(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value
