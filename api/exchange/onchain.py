"""The exchange's door to the chain: reads of packs, products, models and whitelists, and the
writes it signs with the EXCHANGE key. Every write first reads whether it was already made (by
this process before a crash, or by an earlier call), so each one is safe to repeat.

``ChainReader`` is shared with the financier's side (``api.services.issuance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from web3 import Web3
from web3.contract import Contract

from api.errors import ChainUnavailableError, NotFoundError
from api.exchange.errors import ChainRefusalError
from api.exchange.facts import (
    FILTER_MODES,
    WEIGHT_BY,
    Eligibility,
    ModelFacts,
    PackFacts,
    PackState,
    ProductFacts,
    ProductState,
    TrancheFacts,
    WhitelistEntry,
)
from api.services.model_registry import call_view
from chain.contracts import platform_artifacts
from chain.errors import ChainError, ContractCustomError, ContractRevertError
from chain.leaves import from_hex32, to_hex32
from chain.sender import Sender

ZERO_ADDRESS = "0x" + "00" * 20


class Contracts(Protocol):
    """``PlatformContracts`` or any mapping-like source of contract handles by name."""

    def __getitem__(self, name: str) -> Contract: ...


def _address_or_none(address: str) -> str | None:
    return None if int(address, 16) == 0 else Web3.to_checksum_address(address)


def _hash_or_none(value: bytes) -> str | None:
    return None if value == b"\x00" * 32 else to_hex32(value)


class ChainReader:
    """Read-only views of AssetPack, ModelRegistry, ProductRegistry and the tranche tokens."""

    def __init__(self, w3: Web3, contracts: Contracts) -> None:
        self.w3 = w3
        self.contracts = contracts
        self._token_abi = platform_artifacts()["TrancheToken"].abi

    def contract_address(self, name: str) -> str:
        return self.contracts[name].address

    def pack(self, pack_id: int) -> PackFacts | None:
        packs = self.contracts["AssetPack"]
        if pack_id < 1 or pack_id > call_view(packs.functions.packCount()):
            return None
        record = call_view(packs.functions.pack(pack_id))
        grade = call_view(packs.functions.grade(pack_id))
        result = call_view(packs.functions.filterResult(pack_id))
        return PackFacts(
            pack_id=pack_id,
            financier=Web3.to_checksum_address(record[0]),
            state=PackState(record[6]),
            expected_bad_rate_ppm=record[5],
            kept_root=to_hex32(result[2]),
            kept_count=result[4],
            kept_balance=result[6],
            removed_count=result[5],
            removed_balance=result[7],
            filter_mode=FILTER_MODES[result[0]],
            weight_by=WEIGHT_BY[result[1]],
            bad_rate_before_ppm=result[8],
            bad_rate_after_ppm=result[9],
            model_id=grade[1],
            level_counts=tuple(grade[2]),
            level_balances=tuple(grade[3]),
            issued_product=call_view(packs.functions.issuedProduct(pack_id)),
        )

    def model(self, model_id: int) -> ModelFacts | None:
        models = self.contracts["ModelRegistry"]
        if model_id < 1 or model_id > call_view(models.functions.modelCount()):
            return None
        record = call_view(models.functions.model(model_id))
        return ModelFacts(model_id, record[2], call_view(models.functions.isActive(model_id)))

    def product(self, product_id: int) -> ProductFacts | None:
        products = self.contracts["ProductRegistry"]
        if product_id < 1 or product_id > call_view(products.functions.productCount()):
            return None
        terms, financier, state, registered_at, listed_at, exchange, listing_ref, distributions = call_view(
            products.functions.product(product_id)
        )
        tranches = tuple(
            TrancheFacts(i, t[0][0], t[0][1], t[0][2], t[0][3], t[0][4], _address_or_none(t[1]))
            for i, t in enumerate(call_view(products.functions.tranches(product_id)))
        )
        return ProductFacts(
            product_id=product_id,
            state=ProductState(state),
            issuance_key=to_hex32(terms[0]),
            pack_id=terms[1],
            kept_root=to_hex32(terms[2]),
            kept_count=terms[3],
            kept_balance=terms[4],
            model_id=terms[5],
            maturity=terms[6],
            payments_per_year=terms[7],
            prospectus_hash=to_hex32(terms[8]),
            servicing_agreement_hash=to_hex32(terms[9]),
            financier=Web3.to_checksum_address(financier),
            registered_at=registered_at,
            listed_at=listed_at,
            exchange=_address_or_none(exchange),
            listing_ref=_hash_or_none(listing_ref),
            distribution_count=distributions,
            tranches=tranches,
        )

    def product_of_issuance(self, issuance_key: str) -> int:
        products = self.contracts["ProductRegistry"]
        return call_view(products.functions.productOfIssuance(from_hex32(issuance_key)))

    def distribution_hash(self, product_id: int, period: int) -> str | None:
        record = call_view(self.contracts["ProductRegistry"].functions.distribution(product_id, period))
        return _hash_or_none(record[0])

    def token(self, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=self._token_abi)

    def total_supply(self, token: str) -> int:
        return call_view(self.token(token).functions.totalSupply())

    def balance_of(self, token: str, holder: str) -> int:
        return call_view(self.token(token).functions.balanceOf(Web3.to_checksum_address(holder)))

    def balances(self, token: str, from_block: int = 0) -> dict[str, int]:
        """Every holder of ``token`` with a positive balance now (holders found from Transfer logs)."""
        handle = self.token(token)
        holders: dict[str, None] = {}
        for log in handle.events.Transfer().get_logs(from_block=from_block):
            holders[Web3.to_checksum_address(log["args"]["to"])] = None
        balances = {holder: call_view(handle.functions.balanceOf(holder)) for holder in holders}
        return {holder: units for holder, units in balances.items() if units > 0}

    def eligibility(self, investor: str, qualified_only: bool) -> Eligibility:
        registry = self.contracts["InvestorRegistry"]
        verdict = call_view(registry.functions.eligibility(Web3.to_checksum_address(investor), qualified_only))
        return Eligibility(verdict)

    def whitelist_entry(self, investor: str) -> WhitelistEntry:
        expires_at, whitelisted_at, qualified, _agent = call_view(
            self.contracts["InvestorRegistry"].functions.investor(Web3.to_checksum_address(investor))
        )
        return WhitelistEntry(expires_at, whitelisted_at, qualified)

    def latest_timestamp(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]


class ExchangeChain(ChainReader):
    """The reads plus the exchange's own writes, signed by its EXCHANGE member."""

    def __init__(self, w3: Web3, contracts: Contracts, sender: Sender) -> None:
        super().__init__(w3, contracts)
        self.sender = sender

    @property
    def address(self) -> str:
        return self.sender.address

    def mark_issued(self, pack_id: int, product_id: int) -> str | None:
        """AssetPack: Committed -> Issued as ``product_id``; None if it already is."""
        pack = self.pack(pack_id)
        if pack is not None and pack.issued_product == product_id:
            return None
        return self._send(self.contracts["AssetPack"].functions.markIssued(pack_id, product_id))[0]

    def list_product(self, product_id: int, listing_ref: str) -> tuple[str | None, int | None]:
        """ProductRegistry.listProduct; (tx hash, block) or (None, None) if already listed."""
        product = self.product(product_id)
        if product is not None and product.state is ProductState.LISTED:
            return None, None
        call = self.contracts["ProductRegistry"].functions.listProduct(product_id, from_hex32(listing_ref))
        return self._send(call)

    def whitelist(self, investor: str, expires_at: int, qualified: bool) -> str:
        call = self.contracts["InvestorRegistry"].functions.whitelistInvestor(
            Web3.to_checksum_address(investor), expires_at, qualified
        )
        return self._send(call)[0]

    def remove_investor(self, investor: str) -> str:
        call = self.contracts["InvestorRegistry"].functions.removeInvestor(Web3.to_checksum_address(investor))
        return self._send(call)[0]

    def mint_allocation(
        self, token: str, allocation_id: str, investors: Sequence[str], units: Sequence[int]
    ) -> str | None:
        """TrancheToken.mintAllocation, once per allocation id; None if minted already."""
        handle = self.token(token)
        raw_id = from_hex32(allocation_id)
        if call_view(handle.functions.allocationMinted(raw_id)):
            return None
        call = handle.functions.mintAllocation(
            raw_id, [Web3.to_checksum_address(a) for a in investors], list(units)
        )
        return self._send(call)[0]

    def record_distribution(
        self, product_id: int, period: int, report_hash: str, outstanding: Sequence[int]
    ) -> str | None:
        """ProductRegistry.recordDistribution; None if this very report is recorded already."""
        if self.distribution_hash(product_id, period) == report_hash:
            return None
        call = self.contracts["ProductRegistry"].functions.recordDistribution(
            product_id, period, from_hex32(report_hash), list(outstanding)
        )
        return self._send(call)[0]

    def _send(self, call) -> tuple[str, int]:  # noqa: ANN001 - a bound ContractFunction
        try:
            receipt = self.sender.transact(call)
        except ContractCustomError as exc:
            raise ChainRefusalError(
                f"the chain refused: {exc}", details={"error": exc.name, "args": [_jsonable(a) for a in exc.args]}
            ) from None
        except ContractRevertError as exc:
            raise ChainRefusalError(f"the chain refused: {exc}") from None
        except ChainError as exc:  # not sent, not mined in time, node gone
            raise ChainUnavailableError(f"the transaction did not go through: {exc}") from None
        return Web3.to_hex(receipt["transactionHash"]), receipt["blockNumber"]


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def require_product(reader: ChainReader, product_id: int) -> ProductFacts:
    product = reader.product(product_id)
    if product is None:
        raise NotFoundError(f"no product {product_id} in the ProductRegistry")
    return product
