"""The platform's state as rebuilt from its events alone (``chain.audit.replay``).

Plain mutable records, keyed the way the contracts key them. ``extra`` holds what handlers of
later capabilities add (e.g. monitoring cycles) without a change here. Values are JSON-friendly
(hex strings for bytes, checksummed addresses) so that a report can print the state as is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chain.audit.transitions import StateChange, state_name


@dataclass
class MemberState:
    address: str
    name: str = ""
    roles: set[str] = field(default_factory=set)
    active: bool = True


@dataclass
class PackRecord:
    pack_id: int
    financier: str
    submission_key: str
    assets_root: str
    asset_count: int
    total_balance: int
    expected_bad_rate_ppm: int
    state: int = 0
    history: list[StateChange] = field(default_factory=list)
    excluded_root: str | None = None
    eligible_count: int | None = None
    excluded_count: int | None = None
    score_batch_id: int | None = None
    model_id: int | None = None
    bad_rate_by_count_ppm: int | None = None
    bad_rate_by_balance_ppm: int | None = None
    filter_mode: int | None = None
    weight_by: int | None = None
    kept_root: str | None = None
    removed_root: str | None = None
    bad_rate_before_ppm: int | None = None
    bad_rate_after_ppm: int | None = None
    kept_count: int | None = None
    kept_balance: int | None = None
    product_id: int | None = None

    @property
    def state_name(self) -> str:
        return state_name(self.state)


@dataclass
class ProductRecord:
    product_id: int
    pack_id: int
    financier: str
    issuance_key: str
    kept_root: str
    model_id: int
    tranche_count: int
    maturity: int
    state: str = "Registered"
    exchange: str | None = None
    listing_ref: str | None = None
    tokens: list[str] = field(default_factory=list)
    distributions: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class TokenRecord:
    address: str
    product_id: int | None = None
    tranche_index: int | None = None
    cap: int | None = None
    total_supply: int = 0
    balances: dict[str, int] = field(default_factory=dict)
    frozen_accounts: set[str] = field(default_factory=set)
    frozen_amounts: dict[str, int] = field(default_factory=dict)


@dataclass
class ChainState:
    """Everything the auditor rebuilt, up to ``to_block``."""

    chain_id: int
    from_block: int
    to_block: int = 0
    event_count: int = 0
    quorum: int | None = None
    paused: bool = False
    members: dict[str, MemberState] = field(default_factory=dict)  # by checksummed address
    proposals: dict[int, dict[str, Any]] = field(default_factory=dict)
    credit_batches: dict[int, dict[str, Any]] = field(default_factory=dict)
    models: dict[int, dict[str, Any]] = field(default_factory=dict)
    score_batches: dict[int, dict[str, Any]] = field(default_factory=dict)
    packs: dict[int, PackRecord] = field(default_factory=dict)
    products: dict[int, ProductRecord] = field(default_factory=dict)
    tokens: dict[str, TokenRecord] = field(default_factory=dict)  # by checksummed address
    investors: dict[str, dict[str, Any]] = field(default_factory=dict)
    collaterals: dict[str, dict[str, Any]] = field(default_factory=dict)  # by 0x collateral id
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by checksummed address
    windows: dict[int, dict[str, Any]] = field(default_factory=dict)
    warnings: dict[int, dict[str, Any]] = field(default_factory=dict)
    freezes: dict[str, dict[str, Any]] = field(default_factory=dict)  # by 0x asset id, active only
    reviews: dict[int, dict[str, Any]] = field(default_factory=dict)
    attestations: dict[int, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    unhandled: dict[str, int] = field(default_factory=dict)  # "Contract.Event" -> count

    def member(self, address: str) -> MemberState:
        return self.members.setdefault(address, MemberState(address))

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON values (sets become sorted lists, int keys strings)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value
