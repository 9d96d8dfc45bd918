"""The exchange's API bodies. ``IssuanceRequest`` is the contract between the financier's
issuance service and the exchange: every field of it is checked against the chain."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from web3 import Web3

LEVELS = 10
DOCUMENT_KINDS = ("prospectus", "servicing_agreement")
MAX_MINOR_UNITS = 2**63 - 1  # the exchange's database keeps amounts in signed 64-bit integers


def _hex32(value: str) -> str:
    text = value.lower()
    if len(text) != 66 or not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
        raise ValueError("must be 0x followed by 64 hex digits")
    return text


def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise ValueError("must be an account address")
    return Web3.to_checksum_address(value)


Hex32 = Annotated[str, AfterValidator(_hex32)]
Address = Annotated[str, AfterValidator(_address)]
MinorUnits = Annotated[int, Field(ge=0, le=MAX_MINOR_UNITS)]
Ppm = Annotated[int, Field(ge=0, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrancheSpec(Strict):
    name: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=16)
    size: int = Field(gt=0, le=MAX_MINOR_UNITS, description="face value, minor units")
    coupon_bps: int = Field(ge=0, le=10_000, description="annual coupon, basis points")
    qualified_only: bool = False


class DocumentRef(Strict):
    kind: Literal["prospectus", "servicing_agreement"]
    filename: str = Field(min_length=1, max_length=200)
    keccak256: Hex32
    content_b64: str | None = Field(default=None, description="the file itself; its hash is checked when sent")


class LevelMix(Strict):
    """Assets per risk level (1 = riskiest ... 10), by count and by outstanding balance."""

    counts: list[Annotated[int, Field(ge=0)]] = Field(min_length=LEVELS, max_length=LEVELS)
    balances: list[MinorUnits] = Field(min_length=LEVELS, max_length=LEVELS)


class IssuanceRequest(Strict):
    """A registered product the financier asks the exchange to list."""

    product_id: int = Field(ge=1)
    issuance_key: Hex32
    pack_id: int = Field(ge=1)
    financier: Address
    kept_root: Hex32
    kept_count: int = Field(ge=1)
    kept_balance: MinorUnits
    model_id: int = Field(ge=1)
    expected_bad_rate_ppm: Ppm
    bad_rate_before_ppm: Ppm
    bad_rate_after_ppm: Ppm
    weight_by: Literal["count", "balance"]
    kept_level_mix: LevelMix | None = Field(default=None, description="the level mix after filtering")
    maturity: int = Field(ge=1, description="unix seconds")
    payments_per_year: Literal[1, 2, 4, 12]
    tranches: list[TrancheSpec] = Field(min_length=2, max_length=8, description="most senior first")
    documents: list[DocumentRef] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_document_per_kind(self) -> IssuanceRequest:
        kinds = [d.kind for d in self.documents]
        if len(set(kinds)) != len(kinds):
            raise ValueError("at most one document of each kind")
        return self


class SubscriptionRequest(Strict):
    tranche: int = Field(ge=0, description="tranche index, 0 = most senior")
    units: int = Field(gt=0, le=MAX_MINOR_UNITS, description="units asked for (one unit = one minor unit of face)")


class WhitelistRequest(Strict):
    investor: Address
    expires_at: int = Field(ge=1, description="unix seconds")
    qualified: bool = False


class DistributionRequest(Strict):
    """One period's collections from the pack's assets, reported by its servicer."""

    period: int = Field(ge=1)
    interest: MinorUnits
    principal: MinorUnits
    defaults: MinorUnits = 0


# GET /v1/products/{id}/monitoring: an example answer, for the OpenAPI document.
MONITORING_EXAMPLE = {
    "product_id": 3, "pack_id": 7, "pack_state": "Monitoring", "status": "escalated", "cycles_done": 1,
    "open_measures": 1, "kept_root": "0x5a0e...c1", "current_root": "0x5a0e...c1",
    "cycles": [{"cycle": 1, "score_batch_id": 12, "level_counts": [0, 0, 0, 1, 0, 0, 0, 1, 0, 1],
                "level_balances": [0, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000], "bad_rate_ppm": 51_000,
                "expected_bad_rate_ppm": 200_000, "realised_bad_rate_ppm": 30_000, "psi_ppm": 120_000,
                "live_count": 3, "live_balance": 900_000, "recorded_at": 1_767_225_600, "block": 418,
                "tx_hash": "0x9f3b...02"}],
    "triggers": [{"cycle": 1, "rule": "risky_levels", "rule_id": "0x2c7d...aa", "evidence_hash": "0x77e1...4d",
                  "block": 419, "tx_hash": "0x13ac...9e"}],
    "measures": [{"id": 4, "cycle": 1, "kind": "replacement_instruction", "status": "escalated",
                  "rule": "risky_levels", "subject_root": "0x8c2e...41", "subject_count": 2,
                  "deadline": 1_767_830_400, "opened_at": 1_767_225_612, "updated_at": 1_767_830_500,
                  "block": 420, "tx_hash": "0x4e0f...b7"}],
    "replacements": [], "as_of_block": 431, "monitor": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
