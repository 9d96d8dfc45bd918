"""Wiring: the one place that opens the bureau's database and connects its anchor to the chain."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine

from api.bureau.anchor import ChainCreditAnchor, CreditAnchor
from api.bureau.service import BureauService
from api.bureau.settings import BureauSettings, get_bureau_settings
from api.db.engine import make_engine
from api.db.migrate import upgrade
from api.platform import Platform
from chain.roles import Role

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def open_database(database_url: str) -> Engine:
    """Bring the bureau's database to the latest migration and return an engine on it."""
    upgrade(MIGRATIONS_DIR, database_url)
    return make_engine(database_url)


class PlatformCreditAnchor:
    """A ``ChainCreditAnchor`` made on first use, so the service starts while the chain is down."""

    def __init__(self, platform: Platform, member: str | None = None) -> None:
        self._platform = platform
        self._member = member

    @cached_property
    def _anchor(self) -> ChainCreditAnchor:
        member = self._member or self._platform.member_with(Role.CREDIT_BUREAU)
        return ChainCreditAnchor(self._platform.contract("CreditRegistry"), self._platform.sender(member),
                                 from_block=self._platform.manifest.deploy_block)

    def committed_batch(self, root: str) -> int:
        return self._anchor.committed_batch(root)

    def commit(self, root: str, record_count: int, as_of: dt.date) -> tuple[int, str | None]:
        return self._anchor.commit(root, record_count, as_of)

    def commit_tx(self, batch_id: int) -> str | None:
        return self._anchor.commit_tx(batch_id)


def build_service(settings: BureauSettings | None = None, platform: Platform | None = None, *,
                  anchor: CreditAnchor | None = None, engine: Engine | None = None) -> BureauService:
    """The bureau service on its own database; ``anchor`` (tests) or ``platform`` reach the chain."""
    settings = settings or get_bureau_settings()
    if anchor is None:
        anchor = PlatformCreditAnchor(platform or Platform(), settings.member)
    return BureauService(engine or open_database(settings.database_url), anchor, settings)
