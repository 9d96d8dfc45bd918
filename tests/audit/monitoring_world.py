"""A monitored product for the ``audit db`` tests, on its own embedded chain (simulated cycles move
the chain's clock, which the other audit tests' deadlines must not see): a pack of 600 loans
issued and listed, two simulated cycles with a regional shock from the second, so that the
levels rule fires and both measures are opened, then an accepted replacement of the riskiest
loans that moves the pool's root on chain."""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path


TESTS = Path(__file__).resolve().parents[1]
for folder in ("api", "monitoring"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from monitoring_support import enough, issue_product, make_app, simulate, substitutes, swap  # noqa: E402
from sqlmodel import Session, select  # noqa: E402
from support import make_world  # noqa: E402
from testbed import build_consortium  # noqa: E402

from api.monitoring.models import Holding  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402

SHOCK = {"region": "east", "stress_multiplier": 8.0, "from_cycle": 2}


@dataclass
class MonitoredWorld:
    consortium: object
    folder: Path
    product_id: int
    chain_pack_id: int

    @property
    def w3(self):  # noqa: ANN201
        return self.consortium.w3

    @property
    def manifest(self):  # noqa: ANN201
        return self.consortium.manifest

    def copy_database(self, target: Path) -> list[str]:
        with sqlite3.connect(self.folder / "orchestrator.db") as source, \
                sqlite3.connect(target / "orchestrator.db") as copy:
            source.backup(copy)
        return [f"sqlite:///{target / 'orchestrator.db'}"]


def build_monitored_world(folder: Path) -> MonitoredWorld:
    consortium = build_consortium(connect("embedded"))
    settings = Settings(database_url=f"sqlite:///{folder / 'unused.db'}", chain_url="embedded")
    world = make_world(consortium, settings, folder / "models", f"sqlite:///{folder / 'bureau.db'}")
    client, api = make_app(world, folder)
    with client:
        issued = issue_product(api, world, n=600, seed=48)
        cycles = [simulate(api, issued, shock=SHOCK if k == 0 else None) for k in range(2)]
        assert cycles[-1]["triggers"], "the shock tripped no rule"
        measures = api.get(f"/v1/monitoring/products/{issued.product_id}/measures", as_="financier").json()
        instruction = next(m for m in measures["measures"] if m["kind"] == "replacement_instruction")
        with Session(api.orchestrator.engine) as session:
            live = sorted((h for h in session.exec(select(Holding).where(Holding.product_id == issued.product_id))
                           if h.status == "live"), key=lambda h: (h.level, h.loan_id))
        good = substitutes(api, world, date.fromisoformat(cycles[-1]["as_of"]), 1500, seed=947)
        count = max(enough(api, issued.product_id, live, len(good), step=10, margin=20), len(instruction["loan_ids"]))
        swaps = [swap(h.loan_id, h.balance_minor, g) for h, g in zip(live[:count], good)]
        accepted = api.post(f"/v1/monitoring/products/{issued.product_id}/replacements", as_="financier",
                            key="audit", json={"measure_id": instruction["id"], "swaps": swaps})
        assert accepted.status_code == 201, accepted.text[:2000]
    return MonitoredWorld(consortium, folder, issued.product_id, issued.chain_pack_id)
