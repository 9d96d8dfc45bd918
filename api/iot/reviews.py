"""Manual review of yellow and red warnings, responses, and the 2 h / 24 h / 72 h deadlines.

A review's outcome goes on chain first (AUDITOR): ``keep`` leaves the freezes, ``restore``
lifts the freezes the warning caused and resolves it, ``adjust`` sets a new level and frozen
share. Then the database follows, and what other open warnings of the collateral still call for
is frozen again. A warning counts as responded to when a review is decided or someone
acknowledges it; one still unanswered at its deadline is marked overdue once (an action row).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.errors import ConflictError, NotFoundError
from api.iot.chain_port import CollateralChain
from api.iot.disposal import Disposal
from api.iot.models import CollateralWarning, CreditFreeze, Loan, ReviewCase
from api.iot.records import Clock, now_ms, record_action
from api.iot.schemas import Acknowledgement, ReviewDecision
from chain.merkle_hashing import keccak256
from scoring.iot.disposal import frozen_amount
from scoring.iot.telemetry import Level

OUTCOMES = {"keep": 0, "restore": 1, "adjust": 2}


class Reviews:
    def __init__(self, engine: Engine, chain: CollateralChain, disposal: Disposal, *, clock: Clock) -> None:
        self.engine = engine
        self.chain = chain
        self.disposal = disposal
        self.clock = clock

    def decide(self, review_id: int, decision: ReviewDecision) -> ReviewCase:
        with self.disposal.lock:
            with Session(self.engine) as session:
                case = session.get(ReviewCase, review_id)
                if case is None:
                    raise NotFoundError(f"no review {review_id}")
                if case.status != "open":
                    raise ConflictError(f"review {review_id} is already decided ({case.outcome})")
                warning = session.get(CollateralWarning, case.warning_id)
            if warning.status != "open":
                raise ConflictError(f"warning {warning.id} is {warning.status}")
            level = Level.from_name(decision.level) if decision.outcome == "adjust" else Level(warning.level)
            bps = 0
            if decision.outcome == "adjust":
                bps = decision.frozen_bps if decision.frozen_bps is not None else self.disposal.policy.freeze_bps(level)
            chain_review, tx_hash = self.chain.record_review(
                warning.chain_warning_id, OUTCOMES[decision.outcome], int(level), bps, keccak256(decision.notes.encode())
            )
            at = now_ms(self.clock)
            with session_scope(self.engine) as session:
                case = session.get(ReviewCase, review_id)
                case.status, case.outcome, case.notes, case.reviewer = "decided", decision.outcome, decision.notes, \
                    decision.reviewer
                case.new_level, case.frozen_bps, case.decided_at_ms = int(level), bps, at
                case.chain_review_id, case.tx_hash = chain_review, tx_hash
                session.add(case)
                warning = session.get(CollateralWarning, warning.id)
                warning.responded_at_ms = warning.responded_at_ms or at
                detail = {"outcome": decision.outcome, "reviewer": decision.reviewer, "level": level.name.lower(),
                          "frozen_bps": bps, "chain_review": chain_review}
                record_action(session, "review_decided", at, collateral_code=warning.collateral_code,
                              warning_id=warning.id, review_id=case.id, tx_hash=tx_hash, detail=detail)
                if decision.outcome != "keep":
                    self._apply_to_freezes(session, warning, case, bps, at)
                if decision.outcome == "restore":
                    warning.status, warning.resolved_at_ms = "resolved", at
                    record_action(session, "warning_resolved", at, collateral_code=warning.collateral_code,
                                  warning_id=warning.id, review_id=case.id)
                elif decision.outcome == "adjust" and int(level) != warning.level:
                    record_action(session, "warning_level_changed", at, collateral_code=warning.collateral_code,
                                  warning_id=warning.id, review_id=case.id,
                                  detail={"from": Level(warning.level).name.lower(), "to": level.name.lower()})
                    warning.level = int(level)
                session.add(warning)
            if decision.outcome == "restore":
                self.disposal.resolved(warning.collateral_code, warning.rule, at)
            self.disposal.refreeze(warning.collateral_code)
            return case

    def _apply_to_freezes(self, session: Session, warning: CollateralWarning, case: ReviewCase, bps: int, at: int) -> None:
        freezes = session.exec(select(CreditFreeze).where(CreditFreeze.warning_id == warning.id,
                                                          CreditFreeze.status == "active")).all()
        for freeze in freezes:
            if bps == 0:
                freeze.status = "lifted"
                kind, detail = "credit_unfrozen", {"previous_bps": freeze.frozen_bps}
            else:
                kind, detail = "credit_freeze_adjusted", {"previous_bps": freeze.frozen_bps, "frozen_bps": bps}
                loan = session.get(Loan, freeze.loan_id)
                freeze.amount_minor = frozen_amount(loan.credit_line_minor - loan.drawn_minor, bps)
                freeze.frozen_bps = bps
            freeze.updated_at_ms, freeze.tx_hash = at, case.tx_hash
            session.add(freeze)
            record_action(session, kind, at, collateral_code=warning.collateral_code, warning_id=warning.id,
                          review_id=case.id, loan_id=freeze.loan_id, tx_hash=case.tx_hash, detail=detail)

    def reopen(self, warning_id: int) -> ReviewCase:
        """A further review case for an open warning (e.g. after a ``keep``)."""
        with session_scope(self.engine) as session:
            warning = session.get(CollateralWarning, warning_id)
            if warning is None or warning.status != "open":
                raise ConflictError(f"warning {warning_id} is not open")
            if session.exec(select(ReviewCase).where(ReviewCase.warning_id == warning_id,
                                                     ReviewCase.status == "open")).first():
                raise ConflictError(f"warning {warning_id} already has an open review")
            at = now_ms(self.clock)
            case = ReviewCase(warning_id=warning_id, opened_at_ms=at, due_at_ms=max(at, warning.respond_by_ms))
            session.add(case)
            session.flush()
            record_action(session, "review_opened", at, collateral_code=warning.collateral_code, warning_id=warning_id,
                          review_id=case.id, detail={"due_at_ms": case.due_at_ms, "reopened": True})
            return case

    def acknowledge(self, warning_id: int, ack: Acknowledgement) -> CollateralWarning:
        with session_scope(self.engine) as session:
            warning = session.get(CollateralWarning, warning_id)
            if warning is None:
                raise NotFoundError(f"no warning {warning_id}")
            at = now_ms(self.clock)
            warning.responded_at_ms = warning.responded_at_ms or at
            session.add(warning)
            record_action(session, "warning_acknowledged", at, collateral_code=warning.collateral_code,
                          warning_id=warning_id, detail={"by": ack.by, "notes": ack.notes})
            return warning

    def sweep_deadlines(self) -> list[int]:
        """Mark every unanswered warning past its deadline as overdue (once); returns their ids."""
        at = now_ms(self.clock)
        with session_scope(self.engine) as session:
            late = session.exec(select(CollateralWarning).where(
                CollateralWarning.status == "open", CollateralWarning.responded_at_ms.is_(None),
                CollateralWarning.overdue_at_ms.is_(None), CollateralWarning.respond_by_ms < at)).all()
            for warning in late:
                warning.overdue_at_ms = at
                session.add(warning)
                record_action(session, "response_overdue", at, collateral_code=warning.collateral_code,
                              warning_id=warning.id, detail={"respond_by_ms": warning.respond_by_ms})
            return [w.id for w in late]
