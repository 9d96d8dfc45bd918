"""What the bureau answers, as plain values shared by its HTTP API and its in-process clients.

A ``BureauEntry`` carries the record as the exact canonical JSON text the bureau hashed, so a
verifier hashes those bytes without re-serialising a million records.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple


class BureauEntry(NamedTuple):
    """A borrower's latest committed credit record and what is needed to verify it.

    A named tuple rather than a frozen dataclass: a look-up makes one per borrower, and a
    frozen dataclass's ``__init__`` costs several times more (seconds for a million).
    """

    borrower_id: str
    record_json: str  # canonical JSON, exactly the bytes behind the salted hash
    salt: str  # 0x-hex, 32 bytes
    salted_hash: str  # 0x-hex: the leaf value the bureau says it committed
    batch_id: int  # on-chain CreditRegistry batch id
    batch_root: str  # 0x-hex: the root the bureau says it committed for that batch
    leaf_index: int  # position of the record in its batch (the order of GET .../leaves)
    as_of: dt.date  # the record's date, as the bureau stored it
    proof: tuple[str, ...] | None = None  # sibling hashes up to the root, when asked for

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.record_json)

    def to_dict(self, *, with_record: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "borrower_id": self.borrower_id,
            "record_json": self.record_json,
            "salt": self.salt,
            "salted_hash": self.salted_hash,
            "batch_id": self.batch_id,
            "batch_root": self.batch_root,
            "leaf_index": self.leaf_index,
            "as_of": self.as_of.isoformat(),
        }
        if with_record:
            body["record"] = self.record
        if self.proof is not None:
            body["proof"] = list(self.proof)
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> BureauEntry:
        proof = body.get("proof")
        return cls(
            borrower_id=body["borrower_id"],
            record_json=body["record_json"],
            salt=body["salt"],
            salted_hash=body["salted_hash"],
            batch_id=int(body["batch_id"]),
            batch_root=body["batch_root"],
            leaf_index=int(body["leaf_index"]),
            as_of=dt.date.fromisoformat(body["as_of"]),
            proof=tuple(proof) if proof is not None else None,
        )


@dataclass(frozen=True)
class BatchInfo:
    """One ingested batch: pending until its root is committed on chain."""

    batch_id: int | None  # on-chain id; None while pending
    root: str
    record_count: int
    as_of: dt.date
    status: str
    tx_hash: str | None
    source: str
    created_at: dt.datetime
    committed_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "root": self.root,
            "record_count": self.record_count,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "tx_hash": self.tx_hash,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "committed_at": self.committed_at.isoformat() if self.committed_at else None,
        }


#: The column-wise wire form of many entries: one list per field, cheaper to build and parse
#: than a list of objects (no per-entry dict, no repeated keys).
ENTRY_COLUMNS = ("borrower_id", "record_json", "salt", "salted_hash", "batch_id", "batch_root", "leaf_index", "as_of")


@dataclass(frozen=True)
class EntryColumns:
    """Many bureau entries column by column, in one order: what a bulk look-up answers.

    The million-borrower credit check works on these columns directly (hashing, comparing and
    parsing a column at a time) instead of on one ``BureauEntry`` per borrower.
    """

    borrower_id: list[str]
    record_json: list[str]
    salt: list[str]
    salted_hash: list[str]
    batch_id: list[int]
    batch_root: list[str]
    leaf_index: list[int]
    as_of: list[dt.date]
    proof: list[tuple[str, ...] | None] | None = None  # None: no proofs were asked for

    def __len__(self) -> int:
        return len(self.borrower_id)

    @classmethod
    def of_rows(cls, rows: list[tuple], proofs: list[tuple[str, ...] | None] | None = None) -> EntryColumns:
        """From rows of the eight ``ENTRY_COLUMNS`` values (one ``zip`` per column, no object per row)."""
        if not rows:
            return cls([], [], [], [], [], [], [], [], proofs)
        return cls(*(list(column) for column in zip(*rows)), proofs)

    @classmethod
    def of_entries(cls, entries: list[BureauEntry]) -> EntryColumns:
        proofs = [entry.proof for entry in entries]
        return cls.of_rows([entry[:8] for entry in entries], proofs if any(p is not None for p in proofs) else None)

    def entries(self) -> list[BureauEntry]:
        proofs = self.proof or [None] * len(self)
        return [BureauEntry(*row, proof) for row, proof in zip(zip(*(getattr(self, name) for name in ENTRY_COLUMNS)),
                                                              proofs)]

    @classmethod
    def concat(cls, parts: list[EntryColumns]) -> EntryColumns:
        if len(parts) == 1:
            return parts[0]
        joined = [[value for part in parts for value in getattr(part, name)] for name in ENTRY_COLUMNS]
        with_proofs = any(part.proof is not None for part in parts)
        proofs = [proof for part in parts for proof in (part.proof or [None] * len(part))] if with_proofs else None
        return cls(*joined, proofs)

    def take(self, positions: list[int]) -> EntryColumns:
        pick = [getattr(self, name) for name in ENTRY_COLUMNS]
        proofs = None if self.proof is None else [self.proof[i] for i in positions]
        return EntryColumns(*([column[i] for i in positions] for column in pick), proofs)

    def to_wire(self) -> dict[str, list]:
        columns: dict[str, list] = {name: getattr(self, name) for name in ENTRY_COLUMNS}
        columns["as_of"] = [day.isoformat() for day in self.as_of]
        if self.proof is not None:
            columns["proof"] = [list(proof) if proof is not None else None for proof in self.proof]
        return columns

    @classmethod
    def from_wire(cls, columns: dict[str, list]) -> EntryColumns:
        """The wire form back; raises ValueError, KeyError or TypeError on a malformed answer."""
        count = len(columns["borrower_id"])
        proofs = columns.get("proof")
        if any(not isinstance(columns[name], list) or len(columns[name]) != count for name in ENTRY_COLUMNS) or (
                proofs is not None and len(proofs) != count):
            raise ValueError("the columns of a look-up answer differ in length")
        for name in ("borrower_id", "record_json", "salt", "salted_hash", "batch_root"):
            if not all(type(value) is str for value in columns[name]):
                raise ValueError(f"column {name} holds a value that is not a string")
        return cls(columns["borrower_id"], columns["record_json"], columns["salt"], columns["salted_hash"],
                   [int(value) for value in columns["batch_id"]], columns["batch_root"],
                   [int(value) for value in columns["leaf_index"]],
                   [dt.date.fromisoformat(value) for value in columns["as_of"]],
                   None if proofs is None else [tuple(p) if p is not None else None for p in proofs])
