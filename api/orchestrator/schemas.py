"""Request and response bodies of the orchestrator API, with the examples the OpenAPI docs show."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ASSET_EXAMPLE = {
    "loan_id": "FIN-2025-000001",
    "borrower_id": "B-88213",
    "principal_minor": 5_000_000,
    "outstanding_balance_minor": 3_750_000,
    "annual_rate_bps": 725,
    "term_months": 36,
    "origination_date": "2024-03-15",
    "maturity_date": "2027-03-15",
    "collateral_ids": ["VEH-7781"],
    "industry": "logistics",
    "region": "east",
}


class AssetIn(BaseModel):
    """One loan of a pack. Money in integer minor units (cents, fen), rates in basis points."""

    model_config = ConfigDict(json_schema_extra={"examples": [ASSET_EXAMPLE]})

    loan_id: str = Field(max_length=64, description="unique across live packs")
    borrower_id: str = Field(max_length=64, description="the bureau's borrower identifier")
    principal_minor: int = Field(ge=1, description="amount lent, minor units")
    outstanding_balance_minor: int = Field(ge=1, description="balance still owed, minor units")
    annual_rate_bps: int = Field(ge=0, le=100_000, description="annual interest rate, basis points")
    term_months: int = Field(ge=1, le=600)
    origination_date: str = Field(description="YYYY-MM-DD, not in the future")
    maturity_date: str = Field(description="YYYY-MM-DD, after the origination date")
    collateral_ids: list[str] | str | None = Field(default=None, description="list, or ids joined by ';'")
    industry: str = Field(max_length=64)
    region: str = Field(max_length=64)


class PackSubmission(BaseModel):
    """A pack submitted as JSON (CSV uploads take the same options as query parameters)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "expected_bad_rate": "0.05", "filter_mode": "global", "weight_by": "balance", "assets": [ASSET_EXAMPLE],
    }]})

    expected_bad_rate: str | float | None = Field(
        default=None, description="target bad rate as a fraction (0.05 = 5%); default: the platform's")
    expected_bad_rate_ppm: int | None = Field(default=None, ge=0, le=1_000_000, description="the same, in ppm")
    filter_mode: Literal["global", "per-level"] = Field(
        default="global", description="global: riskiest of the whole pack first; per-level: the same riskiest "
                                      "share of every level")
    weight_by: Literal["balance", "count"] = Field(default="balance", description="level weights by balance or count")
    assets: list[AssetIn] = Field(description="up to 1,000,000 assets (use the CSV upload for big packs)")


class RowProblemOut(BaseModel):
    row: int = Field(description="1-based asset position (0: the body as a whole)")
    line: int | None = Field(default=None, description="CSV line (the header is line 1)")
    field: str
    problem: str


class ErrorBody(BaseModel):
    """Every error: a code, a message, and details where there are any (e.g. row problems)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "error": "invalid_input",
        "message": "pack refused: 2 problem(s) in 2 row(s); nothing was stored",
        "details": {"source": "csv", "total_problems": 2, "rows_with_problems": 2, "shown": 2, "problems": [
            {"row": 3, "line": 4, "field": "principal_minor", "problem": "not an integer number of minor currency units: '12.5'"},
            {"row": 7, "line": 8, "field": "maturity_date", "problem": "2024-01-01 is not after the origination date 2024-06-01"},
        ]},
    }]})

    error: str
    message: str
    details: Any | None = None


class ChainInfo(BaseModel):
    pack_id: int | None = Field(description="the AssetPack id")
    state: str | None = Field(description="the pack's on-chain state as last seen")
    submission_key: str
    assets_root: str
    model_id: int | None
    credit_batch_id: int | None
    score_batch_id: int | None


class PackView(BaseModel):
    """A pack, its pipeline step and percent done, and each step's summary once stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 12, "financier": "financier", "status": "running", "step": "scored", "progress_pct": 60,
        "asset_count": 10000, "total_balance_minor": "184467440737", "expected_bad_rate_ppm": 50000,
        "filter_mode": "global", "weight_by": "balance", "idempotency_key": "pack-2025-06-30-a",
        "chain": {"pack_id": 3, "state": "Scored", "submission_key": "0x5c…", "assets_root": "0x1f…",
                  "model_id": 1, "credit_batch_id": 2, "score_batch_id": 3},
        "credit": {"eligible_count": 9712, "excluded_count": 288, "excluded_by_reason": {"stale": 201, "no_record": 87}},
        "grade": None, "filter": None, "error": None, "step_seconds": {"submitted": 0.05, "credit_checked": 1.2},
        "created_at": "2025-06-30T10:00:00", "updated_at": "2025-06-30T10:00:04",
    }]})

    id: int
    financier: str
    status: Literal["queued", "running", "done", "failed", "withdrawn"]
    step: str = Field(description="the last step whose result is stored: submitted, credit_checked, scored, "
                                  "graded, filtered, committed")
    progress_pct: int
    asset_count: int
    total_balance_minor: str = Field(description="integer minor units, as a string (exceeds 2^53)")
    expected_bad_rate_ppm: int
    filter_mode: str
    weight_by: str
    idempotency_key: str
    chain: ChainInfo
    credit: dict | None = None
    scores: dict | None = None
    grade: dict | None = None
    filter: dict | None = Field(default=None, description="the filter plan's summary (curve omitted; see the report)")
    error: dict | None = None
    step_seconds: dict | None = None
    created_at: datetime
    updated_at: datetime


class PackList(BaseModel):
    packs: list[PackView]
    total: int


class FilterRequest(BaseModel):
    """Plan the filter again (a pack whose filtering failed), with another mode or weighting."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"filter_mode": "per-level", "weight_by": "balance"}]})

    filter_mode: Literal["global", "per-level"]
    weight_by: Literal["balance", "count"] | None = None


class AssetRow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "row": 1, "loan_id": "FIN-2025-000001", "borrower_id": "B-88213", "outstanding_balance_minor": "3750000",
        "asset_id": "0x3a…", "record_hash": "0x77…", "eligible": True, "credit_reason": None, "score": 64,
        "level": 7, "pd_ppm": 31250, "reason_codes": "delinquencies_30d;credit_utilisation", "outcome": "kept",
        "removal_rank": None, "outcome_reason": None,
    }]})

    row: int
    loan_id: str
    borrower_id: str
    outstanding_balance_minor: str
    asset_id: str
    record_hash: str
    eligible: bool | None = None
    credit_reason: str | None = None
    score: int | None = None
    level: int | None = None
    pd_ppm: int | None = None
    reason_codes: str | None = None
    outcome: str | None = None
    removal_rank: int | None = None
    outcome_reason: str | None = None


class AssetPage(BaseModel):
    assets: list[AssetRow]
    total: int
    offset: int
    limit: int


class AssetProof(BaseModel):
    """How to prove an asset's fate against the chain, with the exact call to make."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "loan_id": "FIN-2025-000001", "outcome": "kept", "chain_pack_id": 3, "tree": "kept",
        "root": "0x8e…", "leaf_encoding": ["bytes32", "bytes32", "uint8", "uint8"],
        "leaf": ["0x3a…", "0x77…", 64, 7], "proof": ["0x19…", "0x2b…"],
        "verify": {"contract": "AssetPack", "function": "verifyAsset",
                   "args": [3, True, "0x3a…", "0x77…", 64, 7, ["0x19…", "0x2b…"]]},
    }]})

    loan_id: str
    outcome: Literal["kept", "removed", "excluded"]
    chain_pack_id: int
    tree: Literal["kept", "removed", "excluded"]
    root: str
    leaf_encoding: list[str]
    leaf: list[Any]
    proof: list[str]
    reason: str | None = None
    verify: dict = Field(description="the on-chain view to call; for excluded assets, the root to read")


class MemberView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "financier", "address": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "roles": ["FINANCIER"]}]})

    name: str
    address: str
    roles: list[str]
