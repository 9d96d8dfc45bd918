"""An asset's data, every step's verdict on it, and the proof of its fate against the chain."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.db.bulk import as_bytes, select_rows
from api.orchestrator.access import require_readable
from api.orchestrator.deps import MemberDep, SessionDep
from api.orchestrator.models import Pack
from api.orchestrator.reports.proofs import asset_proof
from api.orchestrator.routers.packs import ERRORS
from api.orchestrator.schemas import AssetPage, AssetProof, AssetRow, ErrorBody
from chain.leaves import to_hex32

router = APIRouter(prefix="/v1/packs/{pack_id}", tags=["assets"])

_SELECT = (
    "SELECT a.row_no, a.loan_id, a.borrower_id, a.outstanding_balance_minor, a.asset_id, a.record_hash, c.eligible, "
    "c.reason, s.score, s.level, s.pd_ppm, s.reason_codes, o.outcome, o.removal_rank, o.reason FROM asset a "
    "LEFT JOIN asset_credit_check c ON c.pack_id = a.pack_id AND c.row_no = a.row_no "
    "LEFT JOIN asset_score s ON s.pack_id = a.pack_id AND s.row_no = a.row_no "
    "LEFT JOIN asset_outcome o ON o.pack_id = a.pack_id AND o.row_no = a.row_no WHERE a.pack_id = :p"
)


def _row(values: tuple) -> AssetRow:
    (row, loan_id, borrower_id, balance, asset_id, record_hash, eligible, credit_reason, score, level, pd_ppm,
     codes, outcome, rank, outcome_reason) = values
    return AssetRow(row=row, loan_id=loan_id, borrower_id=borrower_id, outstanding_balance_minor=str(balance),
                    asset_id=to_hex32(as_bytes(asset_id)), record_hash=to_hex32(as_bytes(record_hash)),
                    eligible=None if eligible is None else bool(eligible), credit_reason=credit_reason, score=score,
                    level=level, pd_ppm=pd_ppm, reason_codes=codes, outcome=outcome, removal_rank=rank,
                    outcome_reason=outcome_reason)


@router.get("/assets", response_model=AssetPage, responses=ERRORS, summary="A page of the pack's assets")
def list_assets(pack_id: int, session: SessionDep, member: MemberDep,
                outcome: Annotated[Literal["kept", "removed", "excluded"] | None, Query()] = None,
                offset: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AssetPage:
    """Each asset with its credit verdict, score, level, PD, reason codes and outcome (as far as the
    pipeline has got)."""
    require_readable(member, session.get(Pack, pack_id), pack_id)
    params = {"p": pack_id}
    where = ""
    if outcome:
        where, params["o"] = " AND o.outcome = :o", outcome
    total = select_rows(session, "SELECT count(*) FROM asset a LEFT JOIN asset_outcome o ON o.pack_id = a.pack_id "
                                 f"AND o.row_no = a.row_no WHERE a.pack_id = :p{where}", params)[0][0]
    rows = select_rows(session, f"{_SELECT}{where} ORDER BY a.row_no LIMIT {limit} OFFSET {offset}", params)
    return AssetPage(assets=[_row(r) for r in rows], total=total, offset=offset, limit=limit)


@router.get("/assets/{loan_id}/proof", response_model=AssetProof,
            responses={**ERRORS, 409: {"model": ErrorBody, "description": "the pack is not filtered yet"}},
            summary="Prove an asset's inclusion, removal or exclusion against the chain")
def proof(pack_id: int, loan_id: str, session: SessionDep, member: MemberDep) -> AssetProof:
    """Kept and removed assets verify with ``AssetPack.verifyAsset(packId, kept, assetId, recordHash, score,
    level, proof)``; an asset excluded by the credit check verifies against ``creditCheck(packId).excludedRoot``."""
    pack = require_readable(member, session.get(Pack, pack_id), pack_id)
    return asset_proof(session, pack, loan_id)
