"""One run of one pack's pipeline: each step stores its result, then makes its chain transition.

A ``Stages`` object carries what earlier steps computed in this run (columns, verdicts, scores),
so a run that goes straight through never reads back what it just wrote; a resumed run reads
each earlier result from the database instead.

A step's store and chain transition run *behind* the next step's computation (a second thread):
the database works on one core while the next step computes on the other. The order of
durable effects is unchanged: each step's result is stored before its own transition, and the
next step stores nothing until the previous one's store and transition are done (``settle``).
Computing is pure, so a crash during the overlap loses nothing the resumed run would miss.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from api.errors import ConflictError, InvalidInputError
from api.orchestrator.pipeline import steps, store
from api.orchestrator.pipeline.chain_sync import PackState
from api.orchestrator.pipeline.steps import PackColumns
from api.services.score_batches import publish_scores, score_tree
from chain.leaves import from_hex32
from chain.roles import Role
from scoring.bad_rate import WeightBy
from scoring.filtering import FilterMode, filter_to_expected_bad_rate
from scoring.pack_assets import PackAssets

if TYPE_CHECKING:
    from api.orchestrator.models import Pack
    from api.orchestrator.pipeline.runner import Pipeline

ORDER = steps.STEPS
T = TypeVar("T")


def _done(pack: Pack, step: str) -> bool:
    return ORDER.index(pack.step) >= ORDER.index(step)


class Stages:
    def __init__(self, pipeline: Pipeline, pack_id: int, columns: PackColumns | None) -> None:
        self.p = pipeline
        self.pack_id = pack_id
        self._columns = columns
        self._credit: Any = None  # api.services.credit_check.CreditColumns of this run's credit check
        self._credit_row: np.ndarray | None = None  # each asset's row in self._credit
        self._eligible: np.ndarray | None = None
        self._credit_reasons: list[str | None] | None = None
        self._scores: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # score, level, pd (eligible rows)
        self._model: Any = None  # the scoring model of this run's scoring step
        self._grade: dict | None = None  # this run's grade
        self._behind: Future | None = None  # the last step's store and chain transition, if still running
        self._worker: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ the store behind the next step

    def _store_behind(self, persist: Callable[[], None]) -> None:
        """Run ``persist`` (a step's store, then its chain transition) while the next step computes.

        On SQLite, which takes one writer at a time, ``persist`` runs at once instead."""
        self.settle()
        if self.p.o.engine.dialect.name == "sqlite":
            persist()
            return
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"pack-{self.pack_id}-store")
        self._behind = self._worker.submit(persist)

    def settle(self) -> None:
        """Wait for the previous step's store and transition; raise what they raised."""
        behind, self._behind = self._behind, None
        if behind is not None:
            behind.result()

    def _overlapped(self, compute: Callable[[], T]) -> T:
        """``compute`` while the previous step's store runs behind; then wait for that store. If
        both fail, the earlier step's failure is the one raised."""
        try:
            result = compute()
        except BaseException:
            self.settle()
            raise
        self.settle()
        return result

    def failure_behind(self) -> BaseException | None:
        """Wait for the store running behind, if any; what it raised, or None."""
        behind, self._behind = self._behind, None
        return behind.exception() if behind is not None else None

    def close(self) -> None:
        """Wait for anything still running behind (without raising) and stop the store thread."""
        self.failure_behind()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    # ------------------------------------------------------------ helpers

    @property
    def pack(self) -> Pack:
        from api.orchestrator.models import Pack

        with Session(self.p.o.engine, expire_on_commit=False) as session:
            pack = session.get(Pack, self.pack_id)
            assert pack is not None
            return pack

    def timed(self, step: str, seconds: float) -> None:
        def note(_session: Any, pack: Pack) -> None:
            pack.step_seconds = {**(pack.step_seconds or {}), step: round(seconds, 3)}
        self.p.save(self.pack_id, note)

    def columns(self) -> PackColumns:
        if self._columns is None:
            self._columns = self.p.columns(self.pack_id)
        return self._columns

    def _progress(self, pct: int) -> Pack:
        def change(_session: Any, pack: Pack) -> None:
            pack.progress_pct = max(pack.progress_pct, pct)
        return self.p.save(self.pack_id, change)

    def _chain_state(self, state: PackState) -> None:
        def change(_session: Any, row: Pack) -> None:
            row.chain_state = state.label
        self.p.save(self.pack_id, change)

    def _transition(self, step: str, sender: Any, chain_pack_id: int, expected: PackState, call: Any,
                    done: str) -> None:
        """Move the pack out of ``expected`` on chain (unless it is past it), then record the transaction."""
        sent = self.p.chain.advance(sender, chain_pack_id, expected, call)
        self.p.checkpoint(f"{step}_sent")  # a death here leaves a transaction on chain the database lacks
        reached = PackState(int(expected) + 1)
        self._sent(step, sent, reached)
        self._chain_state(reached)
        self.p.checkpoint(done)

    def _sent(self, step: str, sent: Any, reached: PackState | None = None) -> None:
        """Record the step's transaction; if it was made by a run that died before recording it
        (``sent`` is None), find it from the chain's events so the record stays complete."""
        if sent is None and reached is not None and not self._recorded(step):
            sent = self.p.chain.find_transition(self.pack.chain_pack_id, reached)
        if sent is not None:
            self.p.save(self.pack_id, lambda session, _pack: store.record_sent(session, self.pack_id, step, sent))

    def _recorded(self, step: str) -> bool:
        from api.orchestrator.models import ChainTx

        with Session(self.p.o.engine) as session:
            return session.exec(select(ChainTx.id).where(ChainTx.pack_id == self.pack_id,
                                                         ChainTx.step == step)).first() is not None

    @property
    def scorer(self) -> Any:
        platform = self.p.o.platform
        return platform.sender(platform.member_with(Role.SCORER))

    def financier(self, pack: Pack) -> Any:
        return self.p.o.platform.sender(pack.financier_name)

    # ------------------------------------------------------------ 1. submitted

    def submitted(self) -> None:
        pack = self.pack
        if pack.chain_pack_id is None:
            self.p.checkpoint("before_submit")
            chain_id, sent = self.p.chain.submit(
                self.financier(pack), uid=pack.uid, assets_root=pack.assets_root, count=pack.asset_count,
                total_balance=pack.total_balance_minor, expected_ppm=pack.expected_bad_rate_ppm)
            self.p.checkpoint("submitted_sent")
            if sent is None and not self._recorded("submitted"):  # adopted: a dead run submitted it
                sent = self.p.chain.find_transition(chain_id, PackState.SUBMITTED)

            def change(session: Any, row: Pack) -> None:
                row.chain_pack_id = chain_id
                row.chain_state = PackState.SUBMITTED.label
                store.record_sent(session, row.id, "submitted", sent)
            self.p.save(self.pack_id, change)
            self.p.checkpoint("after_submit")
        self._progress(steps_progress("submitted"))

    # ------------------------------------------------------------ 2. credit check

    def credit_checked(self) -> None:
        pack = self.pack
        if _done(pack, "credit_checked"):
            self._credit_chain()
            return
        columns = self.columns()
        self._credit = self._overlapped(lambda: self._check_credit(pack, columns))
        outcome = steps.credit_outcome(columns, self._credit)
        if outcome.eligible_count == 0:
            raise InvalidInputError("no asset of the pack passed the credit check; nothing can be scored",
                                    details=outcome.summary())
        self._eligible, self._credit_reasons = outcome.eligible, outcome.reason
        self._credit_row = outcome.credit_row

        def persist() -> None:
            def change(session: Any, row: Pack) -> None:
                store.store_credit(session, row.id, columns, outcome)
                row.credit_summary = outcome.summary()
                row.credit_batch_id = outcome.credit_batch_for_pack
                row.step = "credit_checked"
            self.p.save(self.pack_id, change)
            self.p.checkpoint("after_credit_stored")
            self._credit_chain()
        self._store_behind(persist)

    def _check_credit(self, pack: Pack, columns: PackColumns) -> Any:
        """The credit check of the pack's borrowers: the one started while the pack was being
        stored, if it is for today and for these borrowers, else a fresh one."""
        borrowers, today = steps.credit_borrowers(columns), date.today()
        early = self.p.o.credit_early.take(pack.uid, borrowers, today)
        return early if early is not None else self.p.o.credit.check_columns(borrowers, today=today)

    def _credit_chain(self) -> None:
        pack = self.pack
        summary = pack.credit_summary
        call = self.p.chain.asset_pack.functions.recordCreditCheck(
            pack.chain_pack_id, from_hex32(summary["excluded_root"]), summary["eligible_count"],
            summary["excluded_count"], pack.credit_batch_id)
        self._transition("credit_checked", self.scorer, pack.chain_pack_id, PackState.SUBMITTED, call,
                         "after_credit_chain")
        self._progress(steps_progress("credit_checked"))

    def eligible(self) -> np.ndarray:
        if self._eligible is None:
            with Session(self.p.o.engine) as session:
                self._eligible, self._credit_reasons, _ = store.load_credit(session, self.pack_id)
        return self._eligible

    # ------------------------------------------------------------ 3. score

    def _records(self, eligible_rows: np.ndarray) -> pd.DataFrame:
        """The bureau records of the eligible assets: from this run, or fetched again and checked."""
        borrowers = self.columns().borrower_id[eligible_rows]
        if self._credit is None:
            with Session(self.p.o.engine) as session:
                _, _, salted = store.load_credit(session, self.pack_id)
            credit = self.p.o.credit.check_columns(pd.unique(borrowers).tolist(), today=date.today())
            stored = np.frombuffer(b"".join(salted[row] or bytes(32) for row in eligible_rows.tolist()),
                                   dtype=np.uint8).reshape(-1, 32)
            position = credit.positions(borrowers)
            changed = ~credit.verified[position] | (credit.salted_hash[position] != stored).any(axis=1)
            if changed.any():
                raise ConflictError(
                    f"the bureau's record of borrower {borrowers[np.flatnonzero(changed)[0]]!r} changed since the "
                    "credit check; withdraw the pack and submit it again")
            self._credit = credit
            return credit.records_of(position)
        rows = self._credit_row[eligible_rows] if self._credit_row is not None else self._credit.positions(borrowers)
        return self._credit.records_of(rows)

    def scored(self) -> None:
        pack = self.pack
        model = self.p.o.models.load(pack.model_id)
        if _done(pack, "scored"):
            self.settle()
            self._scores_chain(None)
            return
        eligible_rows = np.flatnonzero(self.eligible())
        columns = self.columns()
        loan_ids = columns.loan_id[eligible_rows].tolist()

        def compute() -> tuple[Any, Any]:
            scores = model.score(self._records(eligible_rows))
            tree = score_tree(loan_ids, scores.scores, scores.levels, model.model_id,
                              asset_ids=columns.asset_id[eligible_rows])
            return scores, tree
        scores, tree = self._overlapped(compute)
        self._model = model
        self._scores = (np.asarray(scores.scores), np.asarray(scores.levels), np.asarray(scores.pd_ppm))

        def persist() -> None:
            def change(session: Any, row: Pack) -> None:
                store.store_scores(session, row.id, columns.row_no[eligible_rows], scores)
                row.model_id = model.model_id
                row.score_summary = {"model_id": model.model_id, "model_name": model.name,
                                     "artifact_hash": model.artifact_hash, "score_root": tree.root,
                                     "scored_count": len(loan_ids)}
                row.step = "scored"
            self.p.save(self.pack_id, change)
            self.p.checkpoint("after_scores_stored")
            self._scores_chain(tree)
        self._store_behind(persist)

    def _scores_chain(self, tree: Any) -> None:
        """Anchor the stored scores (one score batch) and record them on the pack, unless done."""
        pack = self.pack
        if pack.score_batch_id is None:
            columns = self.columns()
            eligible_rows = np.flatnonzero(self.eligible())
            loan_ids = columns.loan_id[eligible_rows].tolist()
            score, level, _ = self.scores()
            tree = tree or score_tree(loan_ids, score, level, pack.model_id, asset_ids=columns.asset_id[eligible_rows])
            if tree.root != pack.score_summary["score_root"]:
                raise ConflictError("the stored scores no longer give the stored score root")
            batch = publish_scores(self.scorer, self.p.chain.score_registry, pack_id=pack.chain_pack_id, cycle=0,
                                   model_id=pack.model_id, loan_ids=loan_ids, scores=score, levels=level, tree=tree)
            self.p.checkpoint("score_batch_sent")
            if batch.tx_hash:
                sent = self.p.chain.sent_of(self.scorer, batch.tx_hash)
            else:  # committed by a run that died before recording it
                sent = None if self._recorded("score_batch") else self.p.chain.find_score_batch(batch.batch_id)

            def note(session: Any, row: Pack) -> None:
                row.score_batch_id = batch.batch_id
                store.record_sent(session, row.id, "score_batch", sent)
            pack = self.p.save(self.pack_id, note)
            self.p.checkpoint("after_score_batch")
        call = self.p.chain.asset_pack.functions.recordScores(pack.chain_pack_id, pack.score_batch_id)
        self._transition("scored", self.scorer, pack.chain_pack_id, PackState.CREDIT_CHECKED, call,
                         "after_scores_chain")
        self._progress(steps_progress("scored"))

    def model(self, pack: Pack) -> Any:
        """The scoring model of this pack: this run's (its id may not be stored yet) or the stored one."""
        return self._model if self._model is not None else self.p.o.models.load(pack.model_id)

    def scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._scores is None:
            with Session(self.p.o.engine) as session:
                _, score, level, pd_ppm = store.load_scores(session, self.pack_id)
            self._scores = (score, level, pd_ppm)
        return self._scores

    # ------------------------------------------------------------ 4. grade

    def graded(self) -> None:
        pack = self.pack
        if _done(pack, "graded"):
            self.settle()
            self._grade_chain()
            return
        table = self.model(pack).level_table

        def compute() -> dict:
            _, level, pd_ppm = self.scores()
            return steps.grade_pack(level, pd_ppm, self.columns().balance[self.eligible()], table)
        grade = self._overlapped(compute)
        self._grade = grade

        def persist() -> None:
            def change(_session: Any, row: Pack) -> None:
                row.grade = grade
                row.step = "graded"
            self.p.save(self.pack_id, change)
            self.p.checkpoint("after_grade_stored")
            self._grade_chain()
        self._store_behind(persist)

    def _grade_chain(self) -> None:
        pack = self.pack
        call = self.p.chain.asset_pack.functions.recordGrade(pack.chain_pack_id, *steps.grade_call_args(pack.grade))
        self._transition("graded", self.scorer, pack.chain_pack_id, PackState.SCORED, call, "after_grade_chain")
        self._progress(steps_progress("graded"))

    # ------------------------------------------------------------ 5. filter

    def filtered(self) -> None:
        pack = self.pack
        if _done(pack, "filtered"):
            self.settle()
            self._filter_chain()
            return
        planned = self._overlapped(lambda: self.plan(pack))

        def persist() -> None:
            self.store_plan(planned)
            self.p.checkpoint("after_filter_stored")
            self._filter_chain()
        self._store_behind(persist)

    def _filter_chain(self) -> None:
        pack = self.pack
        call = self.p.chain.asset_pack.functions.recordFilter(pack.chain_pack_id,
                                                               steps.filter_result_tuple(pack.filter_plan))
        self._transition("filtered", self.scorer, pack.chain_pack_id, PackState.GRADED, call, "after_filter_chain")
        self._progress(steps_progress("filtered"))

    def plan_and_store(self, pack: Pack, filter_mode: str | None = None, weight_by: str | None = None) -> Pack:
        """Plan the filter (in the pack's mode, or the ones given) and store plan and outcomes."""
        return self.store_plan(self.plan(pack, filter_mode, weight_by))

    def plan(self, pack: Pack, filter_mode: str | None = None, weight_by: str | None = None) -> PlannedFilter:
        """The filter plan of a graded pack and each asset's outcome (pure computing)."""
        filter_mode, weight_by = filter_mode or pack.filter_mode, weight_by or pack.weight_by
        grade = self._grade if self._grade is not None else pack.grade  # this run's, which may still be storing
        table = self.model(pack).level_table
        columns = self.columns()
        eligible_rows = np.flatnonzero(self.eligible())
        score, level, pd_ppm = self.scores()
        assets = PackAssets.from_columns(columns.loan_id[eligible_rows], score, pd_ppm, columns.balance[eligible_rows])
        mode = FilterMode.GLOBAL if filter_mode == "global" else FilterMode.PER_LEVEL
        plan = filter_to_expected_bad_rate(assets, table, pack.expected_bad_rate_ppm, mode, WeightBy(weight_by))
        ids, records = columns.asset_id[eligible_rows], columns.record_hash[eligible_rows]
        kept, removed = plan.kept_indices, plan.removed_indices
        kept_tree = steps.pack_asset_tree(ids[kept], records[kept], score[kept], level[kept])
        removed_tree = steps.pack_asset_tree(ids[removed], records[removed], score[removed], level[removed])
        before, after = steps.chain_filter_rates(plan, grade)
        summary = {**steps.plan_dict(plan, pack.expected_bad_rate_ppm),
                   "kept_root": kept_tree.root if kept_tree else steps.ZERO_ROOT,
                   "removed_root": removed_tree.root if removed_tree else steps.ZERO_ROOT,
                   "chain_bad_rate_before_ppm": before, "chain_bad_rate_after_ppm": after}
        if self._credit_reasons is None:
            with Session(self.p.o.engine) as session:
                _, self._credit_reasons, _ = store.load_credit(session, self.pack_id)
        outcome, rank, reason = steps.outcome_columns(plan, eligible_rows, level, self._credit_reasons)
        return PlannedFilter(filter_mode, weight_by, summary, outcome, rank, reason)

    def store_plan(self, planned: PlannedFilter) -> Pack:
        """Store a plan and its per-asset outcomes; the pack's step becomes ``filtered``."""
        row_no = self.columns().row_no

        def change(session: Any, row: Pack) -> None:
            store.store_outcomes(session, row.id, row_no, planned.outcome, planned.rank, planned.reason)
            row.filter_plan = planned.summary
            row.filter_mode, row.weight_by = planned.filter_mode, planned.weight_by  # a re-filter may change them
            row.step = "filtered"
        return self.p.save(self.pack_id, change)

    # ------------------------------------------------------------ 6. commit

    def committed(self) -> None:
        self.settle()
        pack = self.pack
        self.p.checkpoint("before_commit")
        call = self.p.chain.asset_pack.functions.commitPack(pack.chain_pack_id)
        sent = self.p.chain.advance(self.financier(pack), pack.chain_pack_id, PackState.FILTERED, call)
        self.p.checkpoint("committed_sent")
        if sent is None and not self._recorded("committed"):
            sent = self.p.chain.find_transition(pack.chain_pack_id, PackState.COMMITTED)

        def change(session: Any, row: Pack) -> None:
            store.record_sent(session, row.id, "committed", sent)
            row.step = "committed"
            row.chain_state = PackState.COMMITTED.label
            row.progress_pct = 100
        self.p.save(self.pack_id, change)


@dataclass(frozen=True)
class PlannedFilter:
    """A filter plan ready to store: the pack's new summary and every asset's outcome."""

    filter_mode: str
    weight_by: str
    summary: dict
    outcome: np.ndarray
    rank: np.ndarray
    reason: np.ndarray


def steps_progress(step: str) -> int:
    return steps.PROGRESS[step]
