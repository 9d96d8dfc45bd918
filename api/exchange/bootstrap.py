"""Wiring: the one place that opens the exchange's database and binds it to the chain and the
EXCHANGE member's key. Tests pass their own chain adapter and role source."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from api.db.engine import make_engine
from api.db.migrate import upgrade
from api.exchange.keys import CachedRoles, RoleSource
from api.exchange.onchain import ExchangeChain
from api.exchange.service import ExchangeService
from api.exchange.settings import ExchangeSettings, get_exchange_settings
from api.platform import Platform
from chain.roles import Role

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def open_database(database_url: str) -> Engine:
    """Bring the exchange's database to the latest migration and return an engine on it."""
    upgrade(MIGRATIONS_DIR, database_url)
    return make_engine(database_url)


def chain_for(platform: Platform, member: str | None = None) -> ExchangeChain:
    """The exchange's chain adapter, signing as ``member`` (default: the first EXCHANGE member)."""
    member = member or platform.member_with(Role.EXCHANGE)
    return ExchangeChain(platform.w3, platform.contracts, platform.sender(member))


def build_service(
    settings: ExchangeSettings | None = None,
    platform: Platform | None = None,
    *,
    chain: ExchangeChain | None = None,
    roles: RoleSource | None = None,
    engine: Engine | None = None,
) -> ExchangeService:
    settings = settings or get_exchange_settings()
    if chain is None or roles is None:
        platform = platform or Platform()
        chain = chain or chain_for(platform, settings.member)
        roles = roles or platform.roles
    return ExchangeService(engine or open_database(settings.database_url), chain,
                           CachedRoles(roles, settings.role_cache_seconds), settings)
