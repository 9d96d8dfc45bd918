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


def entries_to_columns(entries: list[BureauEntry], *, with_proofs: bool) -> dict[str, list]:
    columns: dict[str, list] = {name: [getattr(entry, name) for entry in entries] for name in ENTRY_COLUMNS}
    columns["as_of"] = [day.isoformat() for day in columns["as_of"]]
    if with_proofs:
        columns["proof"] = [list(entry.proof) if entry.proof is not None else None for entry in entries]
    return columns


def entries_from_columns(columns: dict[str, list]) -> list[BureauEntry]:
    count = len(columns["borrower_id"])
    proofs = columns.get("proof") or [None] * count
    if any(len(columns[name]) != count for name in ENTRY_COLUMNS) or len(proofs) != count:
        raise ValueError("the columns of a look-up answer differ in length")
    return [
        BureauEntry(borrower, record_json, salt, salted_hash, int(batch_id), batch_root, int(leaf_index),
                    dt.date.fromisoformat(as_of), tuple(proof) if proof is not None else None)
        for borrower, record_json, salt, salted_hash, batch_id, batch_root, leaf_index, as_of, proof in zip(
            *(columns[name] for name in ENTRY_COLUMNS), proofs)
    ]
