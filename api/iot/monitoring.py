"""The link into post-issuance monitoring: the warnings and collateral values of given loans.

Monitoring (DESIGN step 8) knows which loans an issued product holds; it asks here which
warnings were raised since a time on the collaterals securing those loans, and treats each
as a trigger input for that product. These functions read the IoT service's database only;
call them with its engine (``IotService.engine``) or through ``GET /iot/warnings``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.iot.models import Collateral, CollateralLoan, CollateralWarning, CreditFreeze
from api.iot.valuation import collateral_value
from scoring.iot.telemetry import Level


@dataclass(frozen=True)
class LoanWarning:
    """One warning on a collateral securing ``loan_id`` (a warning on a shared collateral appears per loan)."""

    loan_id: str
    collateral_code: str
    warning_id: int
    chain_warning_id: int | None
    level: str  # blue | yellow | red (the level now: a review may have changed it)
    rule: str
    measure: int
    threshold: int
    unit: str
    observed_at_ms: int
    raised_at_ms: int
    respond_by_ms: int
    status: str  # raising | open | resolved
    loan_frozen_bps: int  # the share of the loan's undrawn credit frozen now, by any warning

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def warnings_for_loans(
    engine: Engine, loan_ids: Iterable[str], since_ms: int, *, min_level: Level = Level.BLUE,
    include_resolved: bool = True,
) -> list[LoanWarning]:
    """Warnings raised at or after ``since_ms`` on the collaterals of ``loan_ids``, oldest first."""
    loans = sorted(set(loan_ids))
    if not loans:
        return []
    with Session(engine) as session:
        query = (
            select(CollateralLoan.loan_id, CollateralWarning, CreditFreeze)
            .join(CollateralWarning, CollateralWarning.collateral_code == CollateralLoan.collateral_code)
            .join(CreditFreeze, (CreditFreeze.loan_id == CollateralLoan.loan_id) & (CreditFreeze.status != "lifted"),
                  isouter=True)
            .where(CollateralLoan.loan_id.in_(loans), CollateralWarning.raised_at_ms >= since_ms,
                   CollateralWarning.level >= int(min_level))
            .order_by(CollateralWarning.raised_at_ms, CollateralWarning.id, CollateralLoan.loan_id)
        )
        if not include_resolved:
            query = query.where(CollateralWarning.status != "resolved")
        rows = session.exec(query).all()
    return [
        LoanWarning(
            loan_id=loan_id, collateral_code=w.collateral_code, warning_id=w.id, chain_warning_id=w.chain_warning_id,
            level=Level(w.level).name.lower(), rule=w.rule, measure=w.measure, threshold=w.threshold, unit=w.unit,
            observed_at_ms=w.observed_at_ms, raised_at_ms=w.raised_at_ms, respond_by_ms=w.respond_by_ms,
            status=w.status, loan_frozen_bps=freeze.frozen_bps if freeze is not None else 0,
        )
        for loan_id, w, freeze in rows
    ]


def collateral_values_for_loans(engine: Engine, loan_ids: Iterable[str], at_ms: int) -> dict[str, list[dict]]:
    """``{loan_id: [{collateral, residual value...}]}`` for the loans' valued collaterals."""
    out: dict[str, list[dict]] = {}
    with Session(engine) as session:
        rows = session.exec(
            select(CollateralLoan.loan_id, Collateral)
            .join(Collateral, Collateral.code == CollateralLoan.collateral_code)
            .where(CollateralLoan.loan_id.in_(sorted(set(loan_ids))))
        ).all()
        values: dict[str, dict | None] = {}
        for loan_id, collateral in rows:
            if collateral.code not in values:
                values[collateral.code] = collateral_value(session, collateral, at_ms)
            if values[collateral.code] is not None:
                out.setdefault(loan_id, []).append({"collateral_code": collateral.code, **values[collateral.code]})
    return out
