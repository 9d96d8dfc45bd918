"""One run of one pack's pipeline: each step stores its result, then makes its chain transition.

A ``Stages`` object carries what earlier steps computed in this run (columns, verdicts, scores),
so a run that goes straight through never reads back what it just wrote; a resumed run reads
each earlier result from the database instead.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

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
        if not _done(pack, "credit_checked"):
            columns = self.columns()
            self._credit = self.p.o.credit.check_columns(steps.credit_borrowers(columns), today=date.today())
            outcome = steps.credit_outcome(columns, self._credit)
            if outcome.eligible_count == 0:
                raise InvalidInputError("no asset of the pack passed the credit check; nothing can be scored",
                                        details=outcome.summary())

            def change(session: Any, row: Pack) -> None:
                store.store_credit(session, row.id, columns, outcome)
                row.credit_summary = outcome.summary()
                row.credit_batch_id = outcome.credit_batch_for_pack
                row.step = "credit_checked"
            pack = self.p.save(self.pack_id, change)
            self._eligible, self._credit_reasons = outcome.eligible, outcome.reason
            self._credit_row = outcome.credit_row
            self.p.checkpoint("after_credit_stored")
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
        eligible_rows = np.flatnonzero(self.eligible())
        columns = self.columns()
        loan_ids = columns.loan_id[eligible_rows].tolist()
        if not _done(pack, "scored"):
            scores = model.score(self._records(eligible_rows))
            self._progress(45)
            tree = score_tree(loan_ids, scores.scores, scores.levels, model.model_id,
                              asset_ids=columns.asset_id[eligible_rows])

            def change(session: Any, row: Pack) -> None:
                store.store_scores(session, row.id, columns.row_no[eligible_rows], scores)
                row.model_id = model.model_id
                row.score_summary = {"model_id": model.model_id, "model_name": model.name,
                                     "artifact_hash": model.artifact_hash, "score_root": tree.root,
                                     "scored_count": len(loan_ids)}
                row.step = "scored"
            pack = self.p.save(self.pack_id, change)
            self._scores = (np.asarray(scores.scores), np.asarray(scores.levels), np.asarray(scores.pd_ppm))
            self.p.checkpoint("after_scores_stored")
        else:
            tree = None
        if pack.score_batch_id is None:
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

    def scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._scores is None:
            with Session(self.p.o.engine) as session:
                _, score, level, pd_ppm = store.load_scores(session, self.pack_id)
            self._scores = (score, level, pd_ppm)
        return self._scores

    # ------------------------------------------------------------ 4. grade

    def graded(self) -> None:
        pack = self.pack
        if not _done(pack, "graded"):
            table = self.p.o.models.load(pack.model_id).level_table
            _, level, pd_ppm = self.scores()
            balances = self.columns().balance[self.eligible()]
            grade = steps.grade_pack(level, pd_ppm, balances, table)

            def change(_session: Any, row: Pack) -> None:
                row.grade = grade
                row.step = "graded"
            pack = self.p.save(self.pack_id, change)
            self.p.checkpoint("after_grade_stored")
        call = self.p.chain.asset_pack.functions.recordGrade(pack.chain_pack_id, *steps.grade_call_args(pack.grade))
        self._transition("graded", self.scorer, pack.chain_pack_id, PackState.SCORED, call, "after_grade_chain")
        self._progress(steps_progress("graded"))

    # ------------------------------------------------------------ 5. filter

    def filtered(self) -> None:
        pack = self.pack
        if not _done(pack, "filtered"):
            pack = self.plan_and_store(pack)
            self.p.checkpoint("after_filter_stored")
        call = self.p.chain.asset_pack.functions.recordFilter(pack.chain_pack_id,
                                                               steps.filter_result_tuple(pack.filter_plan))
        self._transition("filtered", self.scorer, pack.chain_pack_id, PackState.GRADED, call, "after_filter_chain")
        self._progress(steps_progress("filtered"))

    def plan_and_store(self, pack: Pack, filter_mode: str | None = None, weight_by: str | None = None) -> Pack:
        """Plan the filter (in the pack's mode, or the ones given) and store plan and outcomes."""
        filter_mode, weight_by = filter_mode or pack.filter_mode, weight_by or pack.weight_by
        table = self.p.o.models.load(pack.model_id).level_table
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
        before, after = steps.chain_filter_rates(plan, pack.grade)
        summary = {**steps.plan_dict(plan, pack.expected_bad_rate_ppm),
                   "kept_root": kept_tree.root if kept_tree else steps.ZERO_ROOT,
                   "removed_root": removed_tree.root if removed_tree else steps.ZERO_ROOT,
                   "chain_bad_rate_before_ppm": before, "chain_bad_rate_after_ppm": after}
        if self._credit_reasons is None:
            with Session(self.p.o.engine) as session:
                _, self._credit_reasons, _ = store.load_credit(session, self.pack_id)
        outcome, rank, reason = steps.outcome_columns(plan, eligible_rows, level, self._credit_reasons)

        def change(session: Any, row: Pack) -> None:
            store.store_outcomes(session, row.id, columns.row_no, outcome, rank, reason)
            row.filter_plan = summary
            row.filter_mode, row.weight_by = filter_mode, weight_by  # a re-filter may change them
            row.step = "filtered"
        return self.p.save(self.pack_id, change)

    # ------------------------------------------------------------ 6. commit

    def committed(self) -> None:
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


def steps_progress(step: str) -> int:
    return steps.PROGRESS[step]
