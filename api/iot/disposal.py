"""Raising warnings and carrying out their disposal: one transaction per warning and per freeze.

The plan comes from ``scoring.iot.disposal.plan_disposal``; this shell writes it: the warning
on chain (SCORER), each freeze on chain, then the borrower notices into the outbox and a
review case for yellow and red. Each step is a row of the action log. Database first, chain
second, database again: a crash in between leaves a ``raising`` warning or a ``pending``
freeze that ``recover`` settles against the chain (the warning is found by its evidence hash,
a freeze by ``freezeOf``), and disposal is idempotent (freezes only go up, notices and review
cases are made once per warning).
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.iot.chain_port import CollateralChain
from api.iot.models import CollateralLoan, CollateralWarning, CreditFreeze, OutboxNotice, ReviewCase
from api.iot.records import Clock, now_ms, record_action
from api.iot.registry import Registry
from chain.errors import ContractCustomError
from chain.leaves import record_hash, to_hex32
from scoring.iot.disposal import DisposalPolicy, Freeze, Notice, plan_disposal
from scoring.iot.telemetry import Finding, Level
from scoring.iot.thresholds import response_deadline_ms


class Disposal:
    def __init__(self, engine: Engine, chain: CollateralChain, registry: Registry, *, clock: Clock,
                 policy: DisposalPolicy) -> None:
        self.engine = engine
        self.chain = chain
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self.lock = threading.RLock()  # one warning's disposal at a time
        self._open: set[tuple[str, str]] = set()
        self._not_before: dict[str, dict[str, int]] = {}

    def load(self) -> None:
        with Session(self.engine) as session:
            rows = session.exec(select(CollateralWarning)).all()
        with self.lock:
            self._open = {(w.collateral_code, w.rule) for w in rows if w.status != "resolved"}
            self._not_before = {}
            for w in rows:
                if w.status == "resolved" and w.resolved_at_ms is not None:
                    self.resolved(w.collateral_code, w.rule, w.resolved_at_ms)

    def is_open(self, code: str, rule: str) -> bool:
        return (code, rule) in self._open

    def not_before(self, code: str) -> dict[str, int]:
        return dict(self._not_before.get(code, {}))

    def resolved(self, code: str, rule: str, at_ms: int) -> None:
        with self.lock:
            self._open.discard((code, rule))
            rules = self._not_before.setdefault(code, {})
            rules[rule] = max(rules.get(rule, 0), at_ms)

    # ------------------------------------------------------------ raising

    def raise_warning(self, code: str, finding: Finding) -> CollateralWarning | None:
        """Raise and dispose of a warning; None if the rule already has an open one on ``code``."""
        with self.lock:
            if self.is_open(code, finding.rule):
                return None
            uid = secrets.token_hex(16)
            evidence = record_hash({
                "uid": uid, "collateral": code, "rule": finding.rule, "level": int(finding.level),
                "measure": finding.measure, "threshold": finding.threshold, "unit": finding.unit,
                "observed_at_ms": finding.observed_at_ms, "from_ms": finding.evidence_from_ms,
                "to_ms": finding.evidence_to_ms,
            })
            at = now_ms(self.clock)
            warning = CollateralWarning(
                uid=uid, collateral_code=code, level=int(finding.level), rule=finding.rule, measure=finding.measure,
                threshold=finding.threshold, unit=finding.unit, observed_at_ms=finding.observed_at_ms,
                evidence_from_ms=finding.evidence_from_ms, evidence_to_ms=finding.evidence_to_ms,
                detail=finding.detail, evidence_hash=to_hex32(evidence), raised_at_ms=at,
                respond_by_ms=at + response_deadline_ms(finding.level),
            )
            with session_scope(self.engine) as session:
                session.add(warning)
            self._open.add((code, finding.rule))
            warning = self._settle_on_chain(warning)
            self.dispose(warning)
            return warning

    def _settle_on_chain(self, warning: CollateralWarning, *, recovering: bool = False) -> CollateralWarning:
        evidence = bytes.fromhex(warning.evidence_hash[2:])
        chain_id = self.chain.find_warning(warning.collateral_code, evidence) if recovering else None
        tx_hash = None
        if chain_id is None:
            chain_id, tx_hash = self.chain.raise_warning(warning.collateral_code, warning.level, warning.rule, evidence,
                                                         warning.observed_at_ms)
        at = now_ms(self.clock)
        with session_scope(self.engine) as session:
            row = session.get(CollateralWarning, warning.id)
            row.status, row.chain_warning_id, row.tx_hash = "open", chain_id, tx_hash
            session.add(row)
            record_action(session, "warning_raised", at, collateral_code=row.collateral_code, warning_id=row.id,
                          tx_hash=tx_hash, detail={"level": Level(row.level).name.lower(), "rule": row.rule,
                                                   "measure": row.measure, "threshold": row.threshold,
                                                   "unit": row.unit, "chain_warning": chain_id})
        return row

    # ------------------------------------------------------------ disposal

    def dispose(self, warning: CollateralWarning) -> None:
        """Freeze, notify and open a review as the plan for the warning's level says (idempotent)."""
        with self.lock:
            level = Level(warning.level)
            with Session(self.engine) as session:
                loans = self.registry.loan_lines(session, warning.collateral_code)
                has_notices = session.exec(select(OutboxNotice.id).where(OutboxNotice.warning_id == warning.id)).first()
                has_review = session.exec(select(ReviewCase.id).where(ReviewCase.warning_id == warning.id)).first()
            plan = plan_disposal(level, loans, self.policy)
            for freeze in plan.freezes:
                self.freeze(warning, freeze)
            at = now_ms(self.clock)
            with session_scope(self.engine) as session:
                if has_notices is None:
                    for notice in plan.notices:
                        self._queue_notice(session, warning, notice, at)
                if plan.open_review and has_review is None:
                    case = ReviewCase(warning_id=warning.id, opened_at_ms=at, due_at_ms=warning.respond_by_ms)
                    session.add(case)
                    session.flush()
                    record_action(session, "review_opened", at, collateral_code=warning.collateral_code,
                                  warning_id=warning.id, review_id=case.id, detail={"due_at_ms": case.due_at_ms})

    def refreeze(self, code: str) -> None:
        """Freeze again what open yellow/red warnings still call for on the loans of ``code`` (after
        a review lifted or lowered freezes), including warnings of other collaterals of those loans."""
        with self.lock:
            with Session(self.engine) as session:
                loans = select(CollateralLoan.loan_id).where(CollateralLoan.collateral_code == code)
                codes = select(CollateralLoan.collateral_code).where(CollateralLoan.loan_id.in_(loans))
                open_warnings = session.exec(
                    select(CollateralWarning).where(CollateralWarning.collateral_code.in_(codes),
                                                    CollateralWarning.status == "open", CollateralWarning.level >= 2)
                    .order_by(CollateralWarning.level.desc(), CollateralWarning.id)
                ).all()
            for warning in open_warnings:
                with Session(self.engine) as session:
                    lines = self.registry.loan_lines(session, warning.collateral_code)
                for freeze in plan_disposal(Level(warning.level), lines, self.policy).freezes:
                    self.freeze(warning, freeze)

    def freeze(self, warning: CollateralWarning, freeze: Freeze) -> None:
        at = now_ms(self.clock)
        with session_scope(self.engine) as session:
            row = session.get(CreditFreeze, freeze.loan_id) or CreditFreeze(loan_id=freeze.loan_id, warning_id=0,
                                                                           frozen_bps=0, amount_minor=0, status="",
                                                                           updated_at_ms=at)
            row.warning_id, row.frozen_bps, row.amount_minor = warning.id, freeze.frozen_bps, freeze.amount_minor
            row.status, row.updated_at_ms, row.tx_hash = "pending", at, None
            session.add(row)
        try:
            tx_hash = self.chain.freeze(freeze.loan_id, warning.chain_warning_id, freeze.frozen_bps, freeze.amount_minor)
        except ContractCustomError as exc:
            if exc.name != "CollateralRegistryFreezeNotIncreased":
                raise
            tx_hash = None  # sent before a crash: the chain already holds it (or more)
        with session_scope(self.engine) as session:
            row = session.get(CreditFreeze, freeze.loan_id)
            row.status, row.tx_hash, row.updated_at_ms = "active", tx_hash, now_ms(self.clock)
            session.add(row)
            record_action(session, "credit_frozen", row.updated_at_ms, collateral_code=warning.collateral_code,
                          warning_id=warning.id, loan_id=freeze.loan_id, tx_hash=tx_hash,
                          detail={"frozen_bps": freeze.frozen_bps, "amount_minor": freeze.amount_minor})

    def _queue_notice(self, session: Session, warning: CollateralWarning, notice: Notice, at: int) -> None:
        level = Level(warning.level).name.lower()
        subject = f"{level.capitalize()} warning on collateral {warning.collateral_code}: {warning.rule}"
        action = ("a reminder: please check the collateral's operation" if notice.kind == "reminder"
                  else "undrawn credit of the loans below is frozen pending review")
        body = (f"{subject}.\nMeasured {warning.measure} {warning.unit} against a threshold of {warning.threshold} "
                f"{warning.unit}.\nLoans: {', '.join(notice.loan_ids)}.\nThis is {action}.\n"
                f"Please respond by {warning.respond_by_ms} (unix ms).")
        outbox = OutboxNotice(warning_id=warning.id, borrower_id=notice.borrower_id, kind=notice.kind,
                              subject=subject, body=body, created_at_ms=at)
        session.add(outbox)
        record_action(session, "notice_queued", at, collateral_code=warning.collateral_code, warning_id=warning.id,
                      detail={"borrower": notice.borrower_id, "kind": notice.kind, "loans": list(notice.loan_ids)})

    # ------------------------------------------------------------ recovery

    def recover(self) -> None:
        """At start: settle what a crash interrupted, then finish every undecided warning's disposal."""
        self.settle_pending()
        with Session(self.engine) as session:
            undecided = session.exec(
                select(CollateralWarning).where(CollateralWarning.status == "open")
                .where(~CollateralWarning.id.in_(select(ReviewCase.warning_id).where(ReviewCase.status == "decided")))
            ).all()
        for warning in undecided:
            self.dispose(warning)

    def settle_pending(self) -> None:
        """Warnings not yet on chain (found by evidence hash, else raised) and freezes not yet
        confirmed (read back with ``freezeOf``, else sent): after a crash or a failed send."""
        with self.lock:
            with Session(self.engine) as session:
                raising = session.exec(select(CollateralWarning).where(CollateralWarning.status == "raising")).all()
                pending = session.exec(select(CreditFreeze).where(CreditFreeze.status == "pending")).all()
            for warning in raising:
                self.dispose(self._settle_on_chain(warning, recovering=True))
            for row in pending:
                chain_warning, bps = self.chain.freeze_of(row.loan_id)
                with Session(self.engine) as session:
                    warning = session.get(CollateralWarning, row.warning_id)
                if bps >= row.frozen_bps and chain_warning == warning.chain_warning_id:
                    with session_scope(self.engine) as session:
                        fresh = session.get(CreditFreeze, row.loan_id)
                        fresh.status = "active"
                        session.add(fresh)
                else:
                    self.freeze(warning, Freeze(row.loan_id, row.frozen_bps, row.amount_minor))
