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

A pack's million borrowers are checked column by column (``check_credit_columns``): the
bureau answers columns, the salted hashes are recomputed and compared as matrices, and the
verified records are decoded at once into a typed table (``credit_records``), which is what the
scorer takes. ``check_credit`` gives the same answer as one ``CreditVerdict`` per borrower.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import httpx
import numpy as np
import pandas as pd
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from api.bureau.entries import BureauEntry, EntryColumns
from api.bureau.gc_pause import gc_paused
from api.bureau.service import BureauService
from api.errors import PlatformError
from api.services.credit_records import parse_records
from chain.errors import ContractRevertError
from chain.leaves import CREDIT_LEAF, from_hex32, salted_record_hashes, to_hex32
from chain.merkle import StandardMerkleTree, standard_leaf_hash, verify_proof
from chain.merkle_values import MerkleTreeError
from scoring.credit_policy import (
    BAD_PROOF,
    BORROWER_MISMATCH,
    HASH_MISMATCH,
    UNKNOWN_BATCH,
    CreditFacts,
    CreditPolicy,
    decide,
)

__all__ = [
    "BulkBureauClient",
    "BureauClient",
    "BureauEntry",
    "CreditColumns",
    "CreditVerdict",
    "HttpBureauClient",
    "InProcessBureauClient",
    "check_credit",
    "check_credit_columns",
]

#: Rebuild a batch's tree from its leaves when at least this share of it is being checked:
#: about what 20-odd proof hashes per record cost against two hashes per leaf of the batch.
DENSE_SHARE = 1 / 16
DEFAULT_PAGE_SIZE = 50_000
NAT = int(np.datetime64("NaT", "D").astype(np.int64))


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

    def lookup_columns(self, borrower_ids: Sequence[str], *, proofs: bool = False) -> EntryColumns: ...

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
        return {entry.borrower_id: entry for entry in self.lookup_columns(borrower_ids, proofs=proofs).entries()}

    def lookup_columns(self, borrower_ids: Sequence[str], *, proofs: bool = False) -> EntryColumns:
        """The found borrowers' entries as columns, a page of ids per request."""
        pages: list[EntryColumns] = []
        for page in _pages(list(borrower_ids), self.page_size):
            request = {"borrower_ids": page, "proofs": proofs, "layout": "columns"}
            body = self._checked(self._http.post("/v1/records/lookup", json=request)).json()
            try:
                pages.append(EntryColumns.from_wire(body["columns"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise PlatformError(f"the bureau's look-up answer is malformed: {exc!r}") from None
        return EntryColumns.concat(pages)

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

    def lookup_columns(self, borrower_ids: Sequence[str], *, proofs: bool = False) -> EntryColumns:
        """All in one call: the look-up cap protects the bureau's HTTP API from its callers, and
        one query over a whole pack costs far less than one per page (each scans the records)."""
        return self.service.lookup_columns(borrower_ids, proofs=proofs, max_ids=max(len(borrower_ids), 1))

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


def _hex32_matrix(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """0x-hex bytes32 values as an (n, 32) uint8 matrix and a mask of the well-formed ones (zeros
    elsewhere): one ``fromhex`` when all are well formed, as they are unless someone tampered."""
    if all(type(value) is str and len(value) == 66 and value[:2] == "0x" for value in values):
        try:
            raw = bytes.fromhex("".join([value[2:] for value in values]))
            return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 32), np.ones(len(values), dtype=bool)
        except ValueError:
            pass
    parsed = [_hex32_or_none(value) for value in values]
    ok = np.fromiter((value is not None for value in parsed), dtype=bool, count=len(values))
    raw = b"".join(value if value is not None else bytes(32) for value in parsed)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 32), ok


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


def _included(client: Any, batch_id: int, root: bytes, record_count: int, values: np.ndarray,
              leaf_index: np.ndarray, proofs: list[Sequence[str] | None] | None) -> np.ndarray:
    """Whether each verified salted hash (rows of ``values``) is a leaf of the batch committed with ``root``."""
    bulk = isinstance(client, BulkBureauClient)
    if bulk and len(values) >= DENSE_SHARE * record_count:
        leaves = client.batch_leaves(batch_id)
        if _tree_root(leaves) == root:
            matrix = np.frombuffer(leaves, dtype=np.uint8).reshape(-1, 32)
            inside = (leaf_index >= 0) & (leaf_index < matrix.shape[0])
            included = np.zeros(len(values), dtype=bool)
            included[inside] = (matrix[leaf_index[inside]] == values[inside]).all(axis=1)
            return included
    hashes = [bytes(row) for row in values]
    if proofs is None or (bulk and any(proof is None for proof in proofs)):
        try:
            proofs = client.batch_proofs(batch_id, [to_hex32(value) for value in hashes]) if bulk else None
        except PlatformError:  # the bureau cannot prove them: nothing is included
            proofs = None
    proofs = proofs or [None] * len(hashes)
    return np.fromiter((_proof_holds(root, value, proof) for value, proof in zip(hashes, proofs)), dtype=bool,
                       count=len(hashes))


def _verify(client: Any, registry: Contract, found: EntryColumns) -> tuple[np.ndarray, np.ndarray]:
    """Per found entry: the failure code (None where verified) and the recomputed salted hash.

    Checks, column-wise: the record and salt hash to the salted hash the bureau names
    (``hash_mismatch``); the batch exists on chain with the root the bureau names
    (``unknown_batch``); the salted hash is a leaf of that batch's tree (``bad_proof``).
    """
    count = len(found)
    failure = np.full(count, None, dtype=object)
    salts, salt_ok = _hex32_matrix(found.salt)
    claimed, claim_ok = _hex32_matrix(found.salted_hash)
    raw = salted_record_hashes(salts.tobytes(), [text.encode() for text in found.record_json])
    values = np.frombuffer(raw, dtype=np.uint8).reshape(count, 32)
    hash_ok = salt_ok & claim_ok & (values == claimed).all(axis=1)
    failure[~hash_ok] = HASH_MISMATCH
    batch_ids = np.asarray(found.batch_id, dtype=np.int64)
    leaf_index = np.asarray(found.leaf_index, dtype=np.int64)
    roots = np.asarray(found.batch_root, dtype=object)
    committed = _onchain_batches(registry, {int(b) for b in np.unique(batch_ids[hash_ok])})
    for batch_id, onchain in committed.items():
        rows = np.flatnonzero(hash_ok & (batch_ids == batch_id))
        root, record_count = onchain or (None, 0)
        claimed_roots = {text: _hex32_or_none(text) for text in set(roots[rows].tolist())}  # the same few texts
        known = np.fromiter((root is not None and claimed_roots[text] == root for text in roots[rows].tolist()),
                            dtype=bool, count=rows.size)
        failure[rows[~known]] = UNKNOWN_BATCH
        rows = rows[known]
        if rows.size:
            proofs = None if found.proof is None else [found.proof[i] for i in rows.tolist()]
            included = _included(client, batch_id, root, record_count, values[rows], leaf_index[rows], proofs)
            failure[rows[~included]] = BAD_PROOF
    return failure, values


# -- the check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditColumns:
    """The credit check of many borrowers, column by column: one row per distinct borrower, in
    first-seen order. This is what the pipeline uses for a whole pack; ``verdicts`` gives the
    same answer as one ``CreditVerdict`` per borrower."""

    borrower_id: list[str]
    eligible: np.ndarray  # bool: goes on to scoring
    reason: np.ndarray  # object: a reason code of scoring.credit_policy, None if eligible and fresh
    weight_ppm: np.ndarray  # int64
    verified: np.ndarray  # bool: a record verified against the chain and the borrower's own
    salted_hash: np.ndarray  # (n, 32) uint8: the committed leaf value (zeros unless verified)
    credit_batch_id: np.ndarray  # int64: on-chain batch id (0 unless verified)
    as_of: np.ndarray  # datetime64[D]: the verified record's date (NaT if none)
    record_row: np.ndarray  # int64: the borrower's row in ``records`` (-1 unless verified)
    records: pd.DataFrame  # the verified records, typed columns (see ``credit_records``)
    record_json: np.ndarray  # object: the verified record's canonical JSON (None unless verified)

    def __len__(self) -> int:
        return len(self.borrower_id)

    def positions(self, borrower_ids: Sequence[str]) -> np.ndarray:
        """Row of each given borrower (-1 for one not checked)."""
        return pd.Index(self.borrower_id, dtype=object).get_indexer(pd.Index(list(borrower_ids), dtype=object))

    def records_of(self, rows: np.ndarray) -> pd.DataFrame:
        """The verified records of the given rows, in that order (every row must be verified)."""
        picked = self.record_row[rows]
        if (picked < 0).any():
            raise ValueError("a row without a verified record was asked for its record")
        return self.records.take(picked).reset_index(drop=True)

    def verdicts(self, borrower_ids: Sequence[str] | None = None) -> list[CreditVerdict]:
        """One verdict per borrower id (all checked ones when None), in the order given."""
        rows = list(range(len(self))) if borrower_ids is None else self.positions(borrower_ids).tolist()
        if any(row < 0 for row in rows):
            raise KeyError("verdicts asked for borrowers that were not checked")
        made: dict[int, CreditVerdict] = {}
        for row in rows:
            if row not in made:
                made[row] = self._verdict(row)
        return [made[row] for row in rows]

    def _verdict(self, row: int) -> CreditVerdict:
        eligible, verified = bool(self.eligible[row]), bool(self.verified[row])
        day = self.as_of[row]
        return CreditVerdict(
            self.borrower_id[row], eligible, self.reason[row], int(self.weight_ppm[row]),
            json.loads(self.record_json[row]) if eligible and verified else None,
            to_hex32(bytes(self.salted_hash[row])) if verified else None,
            int(self.credit_batch_id[row]) if verified else None,
            day.astype(dt.date) if verified and not np.isnat(day) else None)


def _lookup(client: Any, unique: list[str]) -> EntryColumns:
    if hasattr(client, "lookup_columns"):
        return client.lookup_columns(unique)
    if isinstance(client, BulkBureauClient):  # proofs only for batches checked sparsely
        return EntryColumns.of_entries(list(client.lookup(unique, proofs=False).values()))
    return EntryColumns.of_entries(list(client.lookup(unique).values()))


def _decisions(found: np.ndarray, failure: np.ndarray, as_of: np.ndarray, today: dt.date,
               policy: CreditPolicy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``decide`` for every borrower, called once per distinct (found, failure, date)."""
    failure_codes, failure_names = pd.factorize(pd.Series(failure, dtype=object).fillna(""))
    days, day_values = pd.factorize(as_of.astype(np.int64))  # a few hundred distinct dates (NaT: the int64 minimum)
    key = (days.astype(np.int64) * len(failure_names) + failure_codes) * 2 + found  # one integer per combination
    distinct, inverse = np.unique(key, return_inverse=True)
    eligible, reason, weight = [], [], []
    for combined in distinct.tolist():
        was_found, rest = combined % 2, combined // 2
        code, day = rest % len(failure_names), int(day_values[rest // len(failure_names)])
        facts = CreditFacts(bool(was_found), failure_names[code] or None,
                            None if day == NAT else np.datetime64(day, "D").astype(dt.date))
        decision = decide(facts, today, policy)
        eligible.append(decision.eligible)
        reason.append(decision.reason)
        weight.append(decision.weight_ppm)
    inverse = inverse.reshape(-1)
    return (np.asarray(eligible, dtype=bool)[inverse], np.asarray(reason, dtype=object)[inverse],
            np.asarray(weight, dtype=np.int64)[inverse])


def check_credit_columns(client: BureauClient, credit_registry: Contract, borrower_ids: Sequence[str], *,
                         today: dt.date, max_age_days: int, stale_policy: str = "exclude",
                         stale_weight_ppm: int = 500_000) -> CreditColumns:
    """The credit check of every distinct borrower id, column by column (see ``CreditColumns``)."""
    policy = CreditPolicy(max_age_days, stale_policy, stale_weight_ppm)
    unique = list(dict.fromkeys(borrower_ids))
    count = len(unique)
    with gc_paused():
        found = _lookup(client, unique)
        where = pd.Index(unique, dtype=object).get_indexer(pd.Index(found.borrower_id, dtype=object))
        asked = np.flatnonzero(where >= 0)
        _, last = np.unique(where[asked][::-1], return_index=True)  # a borrower answered twice: its last entry
        asked = np.sort(asked[::-1][last])
        if asked.size != len(found):
            found = found.take(asked.tolist())
        rows = where[asked]  # each found entry's borrower row
        failure_found, values = _verify(client, credit_registry, found)
        checked = np.flatnonzero(failure_found == None)
        parsed = parse_records([found.record_json[i] for i in checked.tolist()])
        claimed = np.asarray(found.borrower_id, dtype=object)[checked]
        own = parsed.ok & (parsed.borrower_id == claimed)  # the record names the borrower it was served for
        failure_found[checked[~own]] = BORROWER_MISMATCH
        trusted = checked[own]

        present = np.zeros(count, dtype=bool)
        present[rows] = True
        failure = np.full(count, None, dtype=object)
        failure[rows] = failure_found
        verified = np.zeros(count, dtype=bool)
        verified[rows[trusted]] = True
        as_of = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
        as_of[rows[trusted]] = parsed.record_date[own]
        eligible, reason, weight = _decisions(present, failure, as_of, today, policy)
        salted = np.zeros((count, 32), dtype=np.uint8)
        salted[rows[trusted]] = values[trusted]
        batch = np.zeros(count, dtype=np.int64)
        batch[rows[trusted]] = np.asarray(found.batch_id, dtype=np.int64)[trusted]
        texts = np.full(count, None, dtype=object)
        texts[rows[trusted]] = np.asarray(found.record_json, dtype=object)[trusted]
        record_row = np.full(count, -1, dtype=np.int64)
        record_row[rows[trusted]] = np.arange(trusted.size)
        records = parsed.frame.take(np.flatnonzero(own)).reset_index(drop=True)
        return CreditColumns(unique, eligible, reason, weight, verified, salted, batch, as_of, record_row, records,
                             texts)


def check_credit(client: BureauClient, credit_registry: Contract, borrower_ids: Sequence[str], *,
                 today: dt.date, max_age_days: int, stale_policy: str = "exclude",
                 stale_weight_ppm: int = 500_000) -> list[CreditVerdict]:
    """One verdict per borrower id, in input order (a borrower with several loans appears several times)."""
    checked = check_credit_columns(client, credit_registry, borrower_ids, today=today, max_age_days=max_age_days,
                                   stale_policy=stale_policy, stale_weight_ppm=stale_weight_ppm)
    return checked.verdicts(list(borrower_ids))
