"""The exchange as one object: listing desk, subscription book, paying agent and views over one
database and one EXCHANGE signer, plus the investor whitelist the exchange keeps on chain."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from api.errors import InvalidInputError
from api.exchange.book import SubscriptionBook
from api.exchange.distributions import PayingAgent
from api.exchange.keys import Caller, RoleSource
from api.exchange.listing import ListingDesk
from api.exchange.onchain import ExchangeChain
from api.exchange.schemas import WhitelistRequest
from api.exchange.settings import ExchangeSettings
from api.exchange.views import ExchangeViews


class ExchangeService:
    def __init__(self, engine: Engine, chain: ExchangeChain, roles: RoleSource, settings: ExchangeSettings) -> None:
        self.engine = engine
        self.chain = chain
        self.roles = roles
        self.settings = settings
        self.listing = ListingDesk(engine, chain, settings.max_document_bytes)
        self.book = SubscriptionBook(engine, chain)
        self.payments = PayingAgent(engine, chain)
        self.views = ExchangeViews(engine, chain)

    def whitelist(self, caller: Caller, request: WhitelistRequest) -> dict:
        """Whitelist (or renew) an INVESTOR member on chain, after the exchange's own KYC."""
        caller.require("EXCHANGE")
        if request.expires_at <= self.chain.latest_timestamp():
            raise InvalidInputError("a whitelisting must expire in the future")
        tx = self.chain.whitelist(request.investor, request.expires_at, request.qualified)
        return {**self.investor_status(request.investor), "tx_hash": tx}

    def remove_from_whitelist(self, caller: Caller, investor: str) -> dict:
        caller.require("EXCHANGE")
        tx = self.chain.remove_investor(investor)
        return {**self.investor_status(investor), "tx_hash": tx}

    def investor_status(self, investor: str) -> dict:
        entry = self.chain.whitelist_entry(investor)
        return {
            "investor": investor, "whitelisted": entry.listed, "expires_at": entry.expires_at or None,
            "qualified": entry.qualified,
            "eligibility": {"ordinary": self.chain.eligibility(investor, False).code,
                            "qualified_only": self.chain.eligibility(investor, True).code},
        }
