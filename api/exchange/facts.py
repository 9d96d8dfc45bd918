"""What the chain says about a pack, a product, a model and an investor, as plain values.

The exchange decides from these snapshots only (``verification.py`` is a pure function of a
request and the facts), so the decision can be tested without a chain and re-run by anyone
who reads the same contracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class PackState(IntEnum):
    """IAssetPack.PackState."""

    NONE = 0
    SUBMITTED = 1
    CREDIT_CHECKED = 2
    SCORED = 3
    GRADED = 4
    FILTERED = 5
    COMMITTED = 6
    ISSUED = 7
    MONITORING = 8
    CLOSED = 9


class ProductState(IntEnum):
    """IProductRegistry.ProductState."""

    NONE = 0
    REGISTERED = 1
    LISTED = 2


class Eligibility(IntEnum):
    """IInvestorRegistry.Eligibility, with the words an investor is told."""

    ELIGIBLE = 0
    NOT_INVESTOR = 1
    NOT_WHITELISTED = 2
    WHITELIST_EXPIRED = 3
    NOT_QUALIFIED = 4

    @property
    def code(self) -> str:
        return self.name.lower()

    @property
    def explanation(self) -> str:
        return {
            Eligibility.ELIGIBLE: "eligible",
            Eligibility.NOT_INVESTOR: "does not hold the INVESTOR role in the consortium",
            Eligibility.NOT_WHITELISTED: "is not on the exchange's investor whitelist",
            Eligibility.WHITELIST_EXPIRED: "has a whitelisting that has expired",
            Eligibility.NOT_QUALIFIED: "is not a qualified investor, which this tranche requires",
        }[self]


WEIGHT_BY = ("count", "balance")  # IAssetPack.WeightBy
FILTER_MODES = ("global", "per_level")  # IAssetPack.FilterMode


@dataclass(frozen=True)
class PackFacts:
    """A pack's record, grade and filter result in AssetPack."""

    pack_id: int
    financier: str
    state: PackState
    expected_bad_rate_ppm: int
    kept_root: str
    kept_count: int
    kept_balance: int
    removed_count: int
    removed_balance: int
    filter_mode: str
    weight_by: str
    bad_rate_before_ppm: int
    bad_rate_after_ppm: int
    model_id: int
    level_counts: tuple[int, ...]
    level_balances: tuple[int, ...]
    issued_product: int


@dataclass(frozen=True)
class ModelFacts:
    model_id: int
    name: str
    active: bool


@dataclass(frozen=True)
class TrancheFacts:
    index: int
    name: str
    symbol: str
    size: int
    coupon_bps: int
    qualified_only: bool
    token: str | None  # set once the product is listed


@dataclass(frozen=True)
class ProductFacts:
    """A product's manifest in ProductRegistry."""

    product_id: int
    state: ProductState
    issuance_key: str
    pack_id: int
    kept_root: str
    kept_count: int
    kept_balance: int
    model_id: int
    maturity: int
    payments_per_year: int
    prospectus_hash: str
    servicing_agreement_hash: str
    financier: str
    registered_at: int
    listed_at: int
    exchange: str | None
    listing_ref: str | None
    distribution_count: int
    tranches: tuple[TrancheFacts, ...]

    @property
    def document_hashes(self) -> dict[str, str]:
        return {"prospectus": self.prospectus_hash, "servicing_agreement": self.servicing_agreement_hash}


@dataclass(frozen=True)
class WhitelistEntry:
    expires_at: int
    whitelisted_at: int
    qualified: bool

    @property
    def listed(self) -> bool:
        return self.whitelisted_at != 0
