"""Building blocks of the monitoring tests: an issued product of a synthetic pack, on any chain.

A product is made the way the platform makes it: the pack's borrowers' records at the bureau,
the pack submitted to the orchestrator API and run through the pipeline to Committed, then
structured and registered by the financier and listed by the exchange on chain. The pack is
generated with ``generate_pack`` so that the simulated world can regenerate it (``WorldSpec``).
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from support import World, api_key, pack_json_assets  # noqa: E402

from api.exchange.onchain import ChainReader, ExchangeChain  # noqa: E402
from api.monitoring.ports import LoggingAdapter  # noqa: E402
from api.monitoring.simulation import InProcessBureauPublisher, WorldSpec  # noqa: E402
from api.monitoring.wiring import build_monitoring  # noqa: E402
from api.orchestrator.app import create_app  # noqa: E402
from api.orchestrator.pipeline.runner import Pipeline  # noqa: E402
from api.services.issuance import DocumentFile, IssuanceService, ProductDesign, senior_subordinated  # noqa: E402
from api.settings import Settings  # noqa: E402
from scoring.bad_rate import WeightBy  # noqa: E402
from scoring.data.schema import CREDIT_RECORD  # noqa: E402
from scoring.data.synthetic import generate_pack  # noqa: E402
from scoring.monitoring.replacement import Candidate, evaluate_swap  # noqa: E402
from scoring.monitoring.replacement import Holding as Swappable  # noqa: E402

DOCUMENTS = (
    DocumentFile("prospectus", "prospectus.pdf", b"%PDF-1.7 prospectus of the monitored product"),
    DocumentFile("servicing_agreement", "servicing.pdf", b"%PDF-1.7 servicing agreement"),
)


class Api:
    """The orchestrator app with an API key per member: ``api.get(path, as_="investor")``."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.orchestrator = client.app.state.orchestrator
        self.monitoring = client.app.state.monitoring
        self._world = world
        self._keys: dict[str, str] = {}

    def headers(self, member: str, **extra: str) -> dict[str, str]:
        if member not in self._keys:
            self._keys[member] = api_key(self.orchestrator, self._world.consortium, member)
        return {"Authorization": f"Bearer {self._keys[member]}", **extra}

    def get(self, path: str, *, as_: str = "scorer", **kwargs):
        return self.client.get(path, headers=self.headers(as_), **kwargs)

    def post(self, path: str, *, as_: str = "scorer", key: str | None = None, **kwargs):
        extra = {"Idempotency-Key": key} if key is not None else {}
        return self.client.post(path, headers=self.headers(as_, **extra), **kwargs)


def make_app(world: World, folder: Path, **overrides) -> tuple[TestClient, Api]:
    values = {"database_url": f"sqlite:///{folder / 'orchestrator.db'}", "chain_url": "embedded",
              "reports_dir": folder / "reports", "models_dir": world.models_dir, "var_dir": folder,
              **overrides}
    settings = Settings(**values)
    orchestrator = world.orchestrator(settings)
    runtime = build_monitoring(orchestrator, publisher=InProcessBureauPublisher(world.bureau), notices=LoggingAdapter())
    client = TestClient(create_app(settings, orchestrator=orchestrator, run_jobs=False, monitoring=runtime))
    return client, Api(client, world)


@dataclass(frozen=True)
class Issued:
    product_id: int
    pack_id: int
    chain_pack_id: int
    frame: pd.DataFrame  # the generated pack (with true_pd)
    spec: WorldSpec


json_assets = pack_json_assets  # the loans as a financier posts them


def issue_product(api: Api, world: World, *, n: int, seed: int, expected: str = "0.06", mode: str = "global",
                  weight_by: str = "count", financier: str = "financier") -> Issued:
    today = dt.date.today()
    frame = generate_pack(n, seed=seed, financier=financier, as_of=today, include_true_pd=True)
    frame = frame[frame["outstanding_balance_minor"].to_numpy() > 0].reset_index(drop=True)  # repaid: nothing to pool
    world.seed(frame)
    body = {"assets": json_assets(frame), "expected_bad_rate": expected, "filter_mode": mode, "weight_by": weight_by}
    response = api.post("/v1/packs", as_=financier, key=f"monitored-{seed}", json=body)
    assert response.status_code == 202, response.text
    pack_id = response.json()["id"]
    pack = Pipeline(api.orchestrator).run(pack_id)
    assert pack is not None and pack.step == "committed", pack and (pack.status, pack.error)
    platform = api.orchestrator.platform
    w3, contracts = platform.w3, platform.contracts
    issuer = IssuanceService(ChainReader(w3, contracts), world.consortium.sender(financier))
    design = ProductDesign(senior_subordinated(pack.chain_pack_id), maturity=today.replace(year=today.year + 5))
    plan = issuer.structure(pack.chain_pack_id, design, DOCUMENTS)
    product_id = issuer.register(plan)
    exchange = ExchangeChain(w3, contracts, world.consortium.sender("exchange"))
    exchange.mark_issued(pack.chain_pack_id, product_id)
    exchange.list_product(product_id, "0x" + "ab" * 32)
    spec = WorldSpec(n=n, pack_seed=seed, financier=financier, pack_as_of=today, world_seed=seed)
    return Issued(product_id, pack_id, pack.chain_pack_id, frame, spec)


def simulate(api: Api, issued: Issued, *, shock: dict | None = None) -> dict:
    body: dict = {"simulate": True, "simulation": {**issued.spec.to_dict()}}
    if shock:
        body["shock"] = shock
    response = api.post(f"/v1/monitoring/products/{issued.product_id}/cycles", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def substitutes(api: Api, world: World, as_of: dt.date, count: int, *, seed: int = 946) -> list[dict]:
    """Fresh loans of other borrowers scored at level 8 or safer, their records at the bureau dated ``as_of``."""
    frame = generate_pack(count, seed=seed, financier="sub", as_of=as_of)
    records = frame[list(CREDIT_RECORD.names)].copy()
    InProcessBureauPublisher(world.bureau).publish(records.assign(record_date=as_of.isoformat()), as_of)
    levels = api.orchestrator.models.load().score(records).levels
    return [row for row, level in zip(json_assets(frame), levels) if level >= 8]


def swap(out_loan: str, balance: int, loan: dict) -> dict:
    """One pair of a replacement request: the substitute carries the replaced loan's balance."""
    return {"out_loan_id": out_loan, "in": {**loan, "outstanding_balance_minor": balance,
                                            "principal_minor": max(loan["principal_minor"], balance)}}


def enough(api: Api, product_id: int, riskiest: list, available: int, *, step: int = 25,
           margin: int | None = None) -> int:
    """How many of the riskiest loans to swap (in steps) for the product to meet its target with level-9
    substitutes, found with the pure rule check; the API calls of the tests are what is tested."""
    monitored = api.monitoring.service.product(product_id)
    held = [Swappable(h.loan_id, h.level, h.balance_minor) for h in riskiest]
    table = api.orchestrator.models.load().level_table
    for count in range(step, available, step):
        out = riskiest[:count]
        candidates = [Candidate(f"c{i}", 9, h.balance_minor) for i, h in enumerate(out)]
        decision = evaluate_swap(held, [h.loan_id for h in out], candidates, table=table,
                                 expected_bad_rate_ppm=monitored.expected_bad_rate_ppm,
                                 weight_by=WeightBy(monitored.weight_by))
        if decision.accepted:
            return min(count + (step if margin is None else margin), available)  # substitutes are levels 8-10
    raise AssertionError("no swap of the available substitutes brings the product within its target")


def level_share(cycle: dict, levels: range = range(3)) -> float:
    return sum(cycle["level_counts"][i] for i in levels) / cycle["live_count"]


__all__ = ["Api", "Issued", "enough", "issue_product", "json_assets", "level_share", "make_app", "simulate",
           "substitutes", "swap"]
