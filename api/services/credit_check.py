"""The platform's credit check (patent claim 4): fetch each borrower's record from the bureau,
verify it against the bureau's on-chain commitment, and decide with ``scoring.credit_policy``
which assets go on to scoring.

Verification of one record: the record's canonical JSON and its salt must hash to the salted
hash the bureau names (else ``hash_mismatch``); the batch must exist on chain with the root the
bureau names (else ``unknown_batch``, read with ``batch(id)`` once per batch); that salted hash
must be a leaf of the batch's tree (else ``bad_proof``); and the record must be the borrower's
own (else ``borrower_mismatch``).

Inclusion is checked per batch in the cheaper of two ways. When the check needs a sizeable
share of a batch (``DENSE_SHARE``), the platform downloads the batch's leaves (32 bytes each),
rebuilds the tree and compares its root with the chain's: every record is then checked by
comparing its hash with the leaf at its position, with no proof at all. Otherwise each record's
Merkle proof is verified. If rebuilt leaves do not give the on-chain root (a tampered bureau
database), the batch falls back to per-record proofs, so each bad record is pinned down.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import httpx
import numpy as np
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from api.bureau.entries import BureauEntry, entries_from_columns
from api.bureau.gc_pause import gc_paused
from api.bureau.service import BureauService
from api.errors import PlatformError
from chain.errors import ContractRevertError
from chain.leaves import CREDIT_LEAF, from_hex32, salted_record_hashes, to_hex32
from chain.merkle import StandardMerkleTree, standard_leaf_hash, verify_proof
from chain.merkle_values import MerkleTreeError
from scoring.credit_policy import (
    BAD_PROOF,
    BORROWER_MISMATCH,
    HASH_MISMATCH,
    UNKNOWN_BATCH,
    CreditDecision,
    CreditFacts,
    CreditPolicy,
    decide,
)

__all__ = ["BureauClient", "BureauEntry", "BulkBureauClient", "CreditVerdict", "HttpBureauClient",
           "InProcessBureauClient", "check_credit"]

#: Rebuild a batch's tree from its leaves when at least this share of it is being checked:
#: about what 20-odd proof hashes per record cost against two hashes per leaf of the batch.
DENSE_SHARE = 1 / 16
DEFAULT_PAGE_SIZE = 50_000


class CreditVerdict(NamedTuple):  # a named tuple: one per borrower, cheap to make by the million
    borrower_id: str
    eligible: bool  # goes on to scoring
    reason: str | None  # None if eligible and fresh; else a reason code of scoring.credit_policy
    weight_ppm: int  # 1_000_000, the stale weight under 'downweight', 0 when excluded
    record: dict | None  # the verified credit record (schema field -> value), None if excluded
    salted_hash: str | None  # 0x bytes32 committed leaf value (None unless verified)
    credit_batch_id: int | None  # on-chain batch id (None unless verified)
    as_of: dt.date | None  # the verified record's date


class BureauClient(Protocol):
    def lookup(self, borrower_ids: Sequence[str]) -> dict[str, BureauEntry]:
        """Latest committed record of each borrower (with its proof); unknown borrowers are absent."""
        ...


@runtime_checkable
class BulkBureauClient(Protocol):
    """A bureau client that also serves whole batches, for checking many records at once."""

    def lookup(self, borrower_ids: Sequence[str], *, proofs: bool = True) -> dict[str, BureauEntry]: ...

    def batch_leaves(self, batch_id: int) -> bytes: ...

    def batch_proofs(self, batch_id: int, salted_hashes: Sequence[str]) -> list[list[str] | None]: ...


def _pages(items: Sequence[Any], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HttpBureauClient:
    """The bureau over HTTP (``Authorization: Bearer <bureau API key>``); pages big look-ups."""

    def __init__(self, base_url: str, api_key: str, *, page_size: int = DEFAULT_PAGE_SIZE, timeout: float = 300.0,
                 http: httpx.Client | None = None) -> None:
        """``http``: an httpx client to send through (e.g. a FastAPI TestClient); base_url is then its own."""
        self.page_size = page_size
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._http.headers["Authorization"] = f"Bearer {api_key}"

    def __enter__(self) -> HttpBureauClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise PlatformError(f"the bureau answered {response.status_code}: {response.text[:500]}")
        return response

    def lookup(self, borrower_ids: Sequence[str], *, proofs: bool = True) -> dict[str, BureauEntry]:
        entries: dict[str, BureauEntry] = {}
        for page in _pages(list(borrower_ids), self.page_size):
            request = {"borrower_ids": page, "proofs": proofs, "layout": "columns"}
            body = self._checked(self._http.post("/v1/records/lookup", json=request)).json()
            try:
                found = entries_from_columns(body["columns"])
            except (KeyError, TypeError, ValueError) as exc:
                raise PlatformError(f"the bureau's look-up answer is malformed: {exc!r}") from None
            entries.update((entry.borrower_id, entry) for entry in found)
        return entries

    def batch_leaves(self, batch_id: int) -> bytes:
        return self._checked(self._http.get(f"/v1/batches/{batch_id}/leaves")).content

    def batch_proofs(self, batch_id: int, salted_hashes: Sequence[str]) -> list[list[str] | None]:
        proofs: list[list[str] | None] = []
        for page in _pages(list(salted_hashes), self.page_size):
            response = self._http.post(f"/v1/batches/{batch_id}/proofs", json={"salted_hashes": page})
            proofs += self._checked(response).json()["proofs"]
        return proofs


class InProcessBureauClient:
    """The bureau service in this process (tests, one-process runs): same answers, no HTTP."""

    def __init__(self, bureau: Any, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        # A bureau FastAPI app (create_app) keeps its service on app.state.
        self.service: BureauService = bureau if isinstance(bureau, BureauService) else bureau.state.bureau
        self.page_size = min(page_size, self.service.settings.max_lookup_ids)

    def lookup(self, borrower_ids: Sequence[str], *, proofs: bool = True) -> dict[str, BureauEntry]:
        entries: dict[str, BureauEntry] = {}
        for page in _pages(list(borrower_ids), self.page_size):
            entries.update(self.service.lookup(page, proofs=proofs)[0])
        return entries

    def batch_leaves(self, batch_id: int) -> bytes:
        return self.service.leaves(batch_id)[1]

    def batch_proofs(self, batch_id: int, salted_hashes: Sequence[str]) -> list[list[str] | None]:
        proofs: list[list[str] | None] = []
        for page in _pages(list(salted_hashes), self.page_size):
            proofs += self.service.proofs(batch_id, page)
        return proofs


# -- verification ---------------------------------------------------------------------------


def _onchain_batches(registry: Contract, batch_ids: set[int]) -> dict[int, tuple[bytes, int] | None]:
    """(root, record count) of each batch as committed on chain, read once per batch; None if unknown."""
    batches: dict[int, tuple[bytes, int] | None] = {}
    for batch_id in batch_ids:
        try:
            committed = registry.functions.batch(batch_id).call() if batch_id > 0 else None
        except (ContractLogicError, ContractRevertError):
            committed = None
        batches[batch_id] = (bytes(committed[0]), int(committed[1])) if committed else None
    return batches


def _hex32_or_none(value: Any) -> bytes | None:
    try:
        return from_hex32(value)
    except (ValueError, TypeError, AttributeError):
        return None


def _hex32_column(values: list[Any]) -> list[bytes | None]:
    """0x-hex bytes32 values as bytes (None where malformed): one ``fromhex`` when all are well formed."""
    if all(type(value) is str and len(value) == 66 and value[:2] == "0x" for value in values):
        try:
            raw = bytes.fromhex("".join([value[2:] for value in values]))
            return [raw[start : start + 32] for start in range(0, len(raw), 32)]
        except ValueError:
            pass
    return [_hex32_or_none(value) for value in values]


def _recomputed_hashes(entries: list[BureauEntry]) -> list[bytes | None]:
    """keccak256(salt ‖ keccak256(record JSON)) of each entry; None where the salt is malformed."""
    salts = _hex32_column([entry.salt for entry in entries])
    joined = b"".join([salt or bytes(32) for salt in salts])
    hashes = salted_record_hashes(joined, [entry.record_json.encode() for entry in entries])
    return [hashes[i * 32 : (i + 1) * 32] if salt is not None else None for i, salt in enumerate(salts)]


def _tree_root(leaves: bytes) -> bytes | None:
    if not leaves or len(leaves) % 32:
        return None
    column = np.frombuffer(leaves, dtype=np.uint8).reshape(-1, 32)
    return from_hex32(StandardMerkleTree.of_columns([column], CREDIT_LEAF).root)


def _proof_holds(root: bytes, salted_hash: bytes, proof: Sequence[str] | None) -> bool:
    if proof is None:
        return False
    try:
        return verify_proof(root, standard_leaf_hash(CREDIT_LEAF, (salted_hash,)), proof)
    except MerkleTreeError:
        return False


def _included(client: Any, batch_id: int, root: bytes, items: list[tuple[BureauEntry, bytes]],
              record_count: int) -> list[bool]:
    """Whether each (entry, verified salted hash) is a leaf of the batch committed with ``root``."""
    bulk = isinstance(client, BulkBureauClient)
    if bulk and len(items) >= DENSE_SHARE * record_count:
        leaves = client.batch_leaves(batch_id)
        if _tree_root(leaves) == root:
            count = len(leaves) // 32
            return [0 <= entry.leaf_index < count and leaves[entry.leaf_index * 32 : entry.leaf_index * 32 + 32] == value
                    for entry, value in items]
    proofs: list[Sequence[str] | None] = [entry.proof for entry, _ in items]
    if bulk and any(proof is None for proof in proofs):
        try:
            proofs = client.batch_proofs(batch_id, [to_hex32(value) for _, value in items])
        except PlatformError:  # the bureau cannot prove them: nothing is included
            proofs = [None] * len(items)
    return [_proof_holds(root, value, proof) for (_, value), proof in zip(items, proofs)]


def _verify(client: Any, registry: Contract, entries: dict[str, BureauEntry]) -> dict[str, bytes | str]:
    """Per borrower found at the bureau: its verified salted hash, or a verification failure code."""
    found = list(entries.values())
    outcome: dict[str, bytes | str] = {}
    by_batch: dict[int, list[tuple[str, BureauEntry, bytes]]] = defaultdict(list)
    claimed = _hex32_column([entry.salted_hash for entry in found])
    for borrower, entry, value, claim in zip(entries, found, _recomputed_hashes(found), claimed):
        if value is None or value != claim:
            outcome[borrower] = HASH_MISMATCH
        else:
            by_batch[entry.batch_id].append((borrower, entry, value))
    committed = _onchain_batches(registry, set(by_batch))
    for batch_id, items in by_batch.items():
        root, record_count = committed[batch_id] or (None, 0)
        known, claimed_roots = [], {}  # the same few root texts recur: parse each once
        for borrower, entry, value in items:
            if entry.batch_root not in claimed_roots:
                claimed_roots[entry.batch_root] = _hex32_or_none(entry.batch_root)
            if root is not None and claimed_roots[entry.batch_root] == root:
                known.append((borrower, entry, value))
            else:
                outcome[borrower] = UNKNOWN_BATCH
        if known:
            included = _included(client, batch_id, root, [(entry, value) for _, entry, value in known], record_count)
            for (borrower, _, value), ok in zip(known, included):
                outcome[borrower] = value if ok else BAD_PROOF
    return outcome


def _record_facts(borrower_id: str, record_json: str) -> tuple[str | None, dict | None, dt.date | None]:
    """(failure, record, record date) of a verified record's JSON."""
    try:
        record = json.loads(record_json)
    except json.JSONDecodeError:  # committed, but not a record
        return BORROWER_MISMATCH, None, None
    if not isinstance(record, dict) or record.get("borrower_id") != borrower_id:
        return BORROWER_MISMATCH, None, None
    try:
        as_of = dt.date.fromisoformat(record.get("record_date") or "")
    except (TypeError, ValueError):
        as_of = None
    return None, record, as_of


def check_credit(client: BureauClient, credit_registry: Contract, borrower_ids: Sequence[str], *,
                 today: dt.date, max_age_days: int, stale_policy: str = "exclude",
                 stale_weight_ppm: int = 500_000) -> list[CreditVerdict]:
    """One verdict per borrower id, in input order (a borrower with several loans appears several times)."""
    policy = CreditPolicy(max_age_days, stale_policy, stale_weight_ppm)
    unique = list(dict.fromkeys(borrower_ids))
    with gc_paused():
        if isinstance(client, BulkBureauClient):
            entries = client.lookup(unique, proofs=False)  # proofs only for batches checked sparsely
        else:
            entries = client.lookup(unique)
        wanted = set(unique)
        entries = {borrower: entry for borrower, entry in entries.items() if borrower in wanted}
        outcome = _verify(client, credit_registry, entries)
        decisions: dict[tuple, CreditDecision] = {}  # few distinct (found, failure, date): decide each once
        verdicts: dict[str, CreditVerdict] = {}
        for borrower in unique:
            entry, verified = entries.get(borrower), outcome.get(borrower)
            failure, record, as_of = (verified, None, None) if isinstance(verified, str) else (None, None, None)
            if entry is not None and failure is None:
                failure, record, as_of = _record_facts(borrower, entry.record_json)
            facts = (entry is not None, failure, as_of)
            decision = decisions.get(facts)
            if decision is None:
                decision = decisions[facts] = decide(CreditFacts(*facts), today, policy)
            if entry is not None and failure is None:  # trusted: verified and the borrower's own
                verdicts[borrower] = CreditVerdict(borrower, decision.eligible, decision.reason, decision.weight_ppm,
                                                   record if decision.eligible else None, to_hex32(verified),
                                                   entry.batch_id, as_of)
            else:
                verdicts[borrower] = CreditVerdict(borrower, decision.eligible, decision.reason, decision.weight_ppm,
                                                   None, None, None, None)
        return [verdicts[borrower] for borrower in borrower_ids]
