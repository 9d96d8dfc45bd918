"""The bureau's use cases: ingest and commit a batch, finish pending batches, answer look-ups.

Ingest is crash-safe. The batch is planned in memory (salts, hashes, tree), stored whole as
``pending`` with its root in one transaction, and only then is the root sent on chain; the batch
becomes ``committed`` with its on-chain id afterwards. A process that dies in between leaves a
pending batch, and ``resume_pending`` (run at start-up) asks ``CreditRegistry.batchOfRoot``
first, so a root that did reach the chain is recorded, never committed twice.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.bureau import store
from api.bureau.anchor import CreditAnchor
from api.bureau.commitments import BatchPlan, leaf_tree_indices, plan_batch, proof_from_nodes
from api.bureau.entries import BatchInfo, BureauEntry, EntryColumns
from api.bureau.gc_pause import gc_paused
from api.bureau.intake import canonical_batch
from api.bureau.models import CreditBatch
from api.bureau.settings import BureauSettings
from api.errors import ChainUnavailableError, ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError
from chain.errors import ContractRevertError
from chain.leaves import from_hex32

Progress = Callable[[str], None]


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class BureauService:
    def __init__(self, engine: Engine, anchor: CreditAnchor, settings: BureauSettings,
                 *, today: Callable[[], dt.date] = utc_today) -> None:
        self.engine = engine
        self.anchor = anchor
        self.settings = settings
        self._today = today
        self._trees: OrderedDict[int, bytes] = OrderedDict()
        self._trees_lock = threading.Lock()

    # -- ingest ---------------------------------------------------------------------------

    def plan(self, frame: pd.DataFrame, *, as_of: dt.date | None = None, line_offset: int | None = None) -> BatchPlan:
        """Validate a batch and compute its commitment; nothing is stored (refusals raise)."""
        today = self._today()
        if as_of is not None and as_of > today:
            raise InvalidInputError(f"as_of {as_of} lies after today ({today})")
        records = canonical_batch(frame, today=today, max_errors=self.settings.max_error_rows,
                                  max_records=self.settings.max_batch_records, line_offset=line_offset)
        return plan_batch(records, as_of)

    def ingest(self, frame: pd.DataFrame, *, as_of: dt.date | None = None, source: str = "",
               line_offset: int | None = None, progress: Progress | None = None) -> BatchInfo:
        """Validate, salt, hash, store as pending, commit the root on chain, mark committed."""
        report = progress or (lambda _stage: None)
        with gc_paused():
            report("validating and hashing")
            plan = self.plan(frame, as_of=as_of, line_offset=line_offset)
            report("storing")
            batch = store.save_pending(self.engine, plan, source)
            store.refresh_statistics(self.engine, plan.record_count)
        report("committing on chain")
        return self._finish(batch)

    def resume_pending(self) -> list[BatchInfo]:
        """Finish every pending batch (after a crash), committing only roots the chain lacks."""
        return [self._finish(batch) for batch in store.pending_batches(self.engine)]

    def _finish(self, batch: CreditBatch) -> BatchInfo:
        pending = {"root": batch.root, "status": batch.status, "record_count": batch.record_count}
        try:
            chain_batch_id = self.anchor.committed_batch(batch.root)
            tx_hash = None
            if not chain_batch_id:
                chain_batch_id, tx_hash = self.anchor.commit(batch.root, batch.record_count, batch.as_of)
            if tx_hash is None:
                tx_hash = self.anchor.commit_tx(chain_batch_id)
        except ContractRevertError as exc:
            raise ConflictError(f"CreditRegistry refused the batch ({exc}); it stays pending", details=pending) from None
        except ChainUnavailableError as exc:
            raise ChainUnavailableError(f"{exc.message}; the batch stays pending and is committed on resume",
                                        details=pending) from None
        return store.batch_info(store.mark_committed(self.engine, batch.id, chain_batch_id, tx_hash))

    # -- batches --------------------------------------------------------------------------

    def batch(self, chain_batch_id: int) -> BatchInfo:
        with Session(self.engine) as session:
            return store.batch_info(store.committed_batch(session, chain_batch_id))

    def batches(self, limit: int = 100, offset: int = 0) -> list[BatchInfo]:
        with Session(self.engine) as session:
            return [store.batch_info(batch) for batch in store.list_batches(session, limit, offset)]

    def pending_count(self) -> int:
        return len(store.pending_batches(self.engine))

    def leaves(self, chain_batch_id: int) -> tuple[BatchInfo, bytes]:
        """The batch's salted hashes in leaf order: enough for anyone to rebuild its tree."""
        with Session(self.engine) as session:
            batch = store.committed_batch(session, chain_batch_id)
            return store.batch_info(batch), store.batch_leaves(session.connection(), batch.id)

    def proofs(self, chain_batch_id: int, salted_hashes: Sequence[str]) -> list[list[str] | None]:
        """Proofs that each salted hash is a leaf of the batch's tree (None where it is not)."""
        self._check_lookup_size(len(salted_hashes))
        try:
            values = [from_hex32(value) for value in salted_hashes]
        except ValueError as exc:
            raise InvalidInputError(f"salted hashes are 32-byte 0x-hex values: {exc}") from None
        with Session(self.engine) as session:
            nodes = self._nodes(session, store.committed_batch(session, chain_batch_id).id)
        return [None if index is None else proof_from_nodes(nodes, index)
                for index in leaf_tree_indices(nodes, values)]

    # -- records --------------------------------------------------------------------------

    def lookup(self, borrower_ids: Sequence[str], *, proofs: bool = True) -> tuple[dict[str, BureauEntry], list[str]]:
        """Each borrower's latest committed record; unknown borrowers come back in ``missing``."""
        self._check_lookup_size(len(borrower_ids))
        unique = list(dict.fromkeys(borrower_ids))
        with gc_paused():
            with Session(self.engine) as session:
                rows = store.latest_records(session.connection(), unique)
                batch_pks = {row[9] for row in rows.values()} if proofs else set()
                trees = {batch_pk: self._nodes(session, batch_pk) for batch_pk in batch_pks}
            entries = {
                borrower: BureauEntry(
                    borrower, record_json, salt, salted_hash, chain_batch_id, root, leaf_index, record_date,
                    tuple(proof_from_nodes(trees[batch_pk], tree_index)) if proofs else None,
                )
                for borrower, (_, record_date, leaf_index, tree_index, salt, salted_hash, record_json,
                               chain_batch_id, root, batch_pk) in rows.items()
            }
        return entries, [borrower for borrower in unique if borrower not in rows]

    def lookup_columns(self, borrower_ids: Sequence[str], *, proofs: bool = False,
                       max_ids: int | None = None) -> EntryColumns:
        """``lookup`` for bulk callers: the found borrowers' entries as columns (no object per entry).

        ``max_ids``: the most ids one call may ask for (the API's cap, ``max_lookup_ids``, unless
        a trusted in-process caller sets its own).
        """
        self._check_lookup_size(len(borrower_ids), max_ids)
        with gc_paused():
            with Session(self.engine) as session:
                rows = list(store.latest_records(session.connection(), list(dict.fromkeys(borrower_ids))).values())
                trees = {pk: self._nodes(session, pk) for pk in {row[9] for row in rows}} if proofs else {}
            paths = [tuple(proof_from_nodes(trees[row[9]], row[3])) for row in rows] if proofs else None
            if not rows:
                return EntryColumns.of_rows([], paths)
            borrower, record_date, leaf_index, _, salt, salted_hash, record_json, chain_batch_id, root, _ = map(
                list, zip(*rows))
            return EntryColumns(borrower, record_json, salt, salted_hash, chain_batch_id, root, leaf_index,
                                record_date, paths)

    def record(self, borrower_id: str) -> BureauEntry:
        entries, _ = self.lookup([borrower_id], proofs=True)
        if borrower_id not in entries:
            raise NotFoundError(f"the bureau holds no committed record for borrower {borrower_id!r}")
        return entries[borrower_id]

    def _check_lookup_size(self, count: int, limit: int | None = None) -> None:
        limit = self.settings.max_lookup_ids if limit is None else limit
        if count > limit:
            raise PayloadTooLargeError(f"at most {limit} ids per call, got {count}; page the call")

    def _nodes(self, session: Session, batch_pk: int) -> bytes:
        with self._trees_lock:
            if batch_pk in self._trees:
                self._trees.move_to_end(batch_pk)
                return self._trees[batch_pk]
        nodes = store.tree_nodes(session, batch_pk)
        with self._trees_lock:
            self._trees[batch_pk] = nodes
            while len(self._trees) > self.settings.cached_trees:
                self._trees.popitem(last=False)
        return nodes
