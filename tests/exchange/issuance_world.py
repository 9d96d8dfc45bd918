"""A committed pack on any chain, driven straight through AssetPack with the members' senders
(not through the orchestrator), and the exchange and the financier wired to that chain.

The pack: 4 assets of 1,000,000 minor units, graded into levels 1, 4, 8 and 10 (100,000,
200,000, 300,000 and 400,000); the level-1 asset is filtered out, so 3 assets and 900,000 are
kept. An 80/20 product on it has tranches of 720,000 and 180,000.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak
from testbed import Consortium, account_for

from api.exchange.app import create_app
from api.exchange.bootstrap import open_database
from api.exchange.client import ExchangeClient
from api.exchange.keys import issue_key
from api.exchange.onchain import ChainReader, ExchangeChain
from api.exchange.schemas import LevelMix
from api.exchange.service import ExchangeService
from api.exchange.settings import ExchangeSettings
from api.platform import ChainRoleSource
from api.services.issuance import DocumentFile, IssuanceService, ProductDesign, ProductPlan, senior_subordinated
from chain.deploy import Seat, pass_proposal
from chain.roles import Role
from chain.sender import Sender

EXTRA_MEMBERS = {"financier-2": Role.FINANCIER, "investor-2": Role.INVESTOR, "investor-3": Role.INVESTOR}
LEVEL_COUNTS = [1, 0, 0, 1, 0, 0, 0, 1, 0, 1]
LEVEL_BALANCES = [100_000, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000]
KEPT_MIX = LevelMix(counts=[0, 0, 0, 1, 0, 0, 0, 1, 0, 1], balances=[0, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000])
BAD_RATE_BEFORE, BAD_RATE_AFTER, EXPECTED = 138_250, 51_000, 200_000
DOCUMENTS = (
    DocumentFile("prospectus", "prospectus.pdf", b"%PDF-1.7 prospectus of the test product"),
    DocumentFile("servicing_agreement", "servicing.pdf", b"%PDF-1.7 servicing agreement"),
)


def h(text: str) -> bytes:
    return keccak(text.encode())


def seat_extra_members(consortium: Consortium) -> None:
    """Admit a second financier and two more investors through governance."""
    registry = consortium.registry
    for name, role in EXTRA_MEMBERS.items():
        sender = Sender(consortium.w3, account_for(name), name=name)
        consortium.senders[name] = sender
        if not registry.functions.isMember(sender.address).call():
            seat = Seat(name, sender.address, (role,))
            pass_proposal(registry, consortium.governors,
                          registry.functions.proposeAdmit(seat.address, seat.name, [bytes(role)]))


def register_model(consortium: Consortium, name: str = "exchange-test-model") -> int:
    models = consortium.contract("ModelRegistry")
    edges = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    rates = [400_000, 250_000, 180_000, 120_000, 90_000, 60_000, 40_000, 25_000, 15_000, 8_000]
    metrics = (790_000, 450_000, 70_000, 1_000)
    consortium.sender("scorer").transact(
        models.functions.registerModel(h(f"artifact:{name}"), h("schema"), name, edges, rates, metrics)
    )
    return models.functions.modelCount().call()


def commit_credit_batch(consortium: Consortium) -> int:
    credit = consortium.contract("CreditRegistry")
    now = consortium.w3.eth.get_block("latest")["timestamp"]
    consortium.sender("bureau").transact(credit.functions.commitBatch(h(f"credit-root:{now}"), 4, now))
    return credit.functions.batchCount().call()


def committed_pack(consortium: Consortium, model_id: int, credit_batch_id: int, key: str,
                   financier: str = "financier") -> int:
    """A pack driven from Submitted to Committed; returns its id."""
    packs, scores = consortium.contract("AssetPack"), consortium.contract("ScoreRegistry")
    owner, scorer = consortium.sender(financier), consortium.sender("scorer")
    owner.transact(packs.functions.submitPack(h(f"submission:{key}"), h(f"assets:{key}"), 4, 1_000_000, EXPECTED))
    pack_id = packs.functions.packCount().call()
    scorer.transact(packs.functions.recordCreditCheck(pack_id, b"\0" * 32, 4, 0, credit_batch_id))
    scorer.transact(scores.functions.submitScoreBatch(pack_id, 0, model_id, h(f"scores:{key}"), 4))
    scorer.transact(packs.functions.recordScores(pack_id, scores.functions.batchCount().call()))
    scorer.transact(packs.functions.recordGrade(pack_id, LEVEL_COUNTS, LEVEL_BALANCES, BAD_RATE_BEFORE, 79_000))
    scorer.transact(packs.functions.recordFilter(pack_id, (
        0, 0, kept_root(key), h(f"removed:{key}"), 3, 1, 900_000, 100_000, BAD_RATE_BEFORE, BAD_RATE_AFTER,
    )))
    owner.transact(packs.functions.commitPack(pack_id))
    return pack_id


def kept_root(key: str) -> bytes:
    return h(f"kept:{key}")


def design(pack_id: int, *, years: int = 3) -> ProductDesign:
    maturity = dt.date.today() + dt.timedelta(days=365 * years)
    return ProductDesign(senior_subordinated(pack_id), maturity, 12)


@dataclass
class Exchange:
    """The exchange service on its own database, its app, and an API key per member."""

    consortium: Consortium
    service: ExchangeService
    app: object
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, member: str) -> ExchangeClient:
        return ExchangeClient.in_process(self.app, self.keys[member])

    def issuer(self, member: str = "financier") -> IssuanceService:
        c = self.consortium
        return IssuanceService(ChainReader(c.w3, c.contracts), c.sender(member), self.client(member))

    def plan(self, pack_id: int, member: str = "financier") -> ProductPlan:
        return self.issuer(member).structure(pack_id, design(pack_id), DOCUMENTS, KEPT_MIX)


def start_exchange(consortium: Consortium, database: Path) -> Exchange:
    return start_exchange_on(consortium, f"sqlite:///{database}")


def start_exchange_on(consortium: Consortium, url: str) -> Exchange:
    """The exchange on the database at ``url`` (migrated), signing with the ``exchange`` member."""
    settings = ExchangeSettings(database_url=url)
    engine = open_database(url)
    chain = ExchangeChain(consortium.w3, consortium.contracts, consortium.sender("exchange"))
    service = ExchangeService(engine, chain, ChainRoleSource(consortium.registry), settings)
    exchange = Exchange(consortium, service, create_app(settings, service=service))
    for name, sender in consortium.senders.items():
        exchange.keys[name] = issue_key(engine, name, sender.address)
    return exchange
