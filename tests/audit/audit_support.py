"""The audit tests' world on the embedded chain: the orchestrator took two packs to Committed (120
assets, whose scores the chain also holds one by one, and 400, proven by roots only), the
exchange issued the small one as a product (whitelisted, subscribed, allocated, one period
paid), and the IoT service anchored telemetry, raised a red warning and froze credit. Each
service has its own SQLite database; tamper tests copy a database and change one row.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

TESTS = Path(__file__).resolve().parents[1]
for folder in ("api", "exchange", "iot"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from issuance_world import DOCUMENTS, Exchange, design, start_exchange  # noqa: E402
from iot_support import SITE, make_platform, register, signed, unique_code  # noqa: E402
from support import World, admit_second_financier, api_key, make_world, pack_csv, pack_frame, wait_for_pack  # noqa: E402
from testbed import MEMBER_ROLES, Consortium, account_for, build_consortium  # noqa: E402

from api.iot.app import create_app as create_iot_app  # noqa: E402
from api.iot.service import IotService  # noqa: E402
from api.iot.settings import IotSettings  # noqa: E402
from api.orchestrator.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402
from chain.keys import EnvironmentKeys, MemberKeys, env_var_for  # noqa: E402

DAY = 24 * 3600
AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}


@dataclass
class AuditWorld:
    world: World
    folder: Path
    settings: Settings
    small_pack: int  # chain pack ids
    big_pack: int
    product_id: int
    windows: list[int]
    exchange: Exchange

    @property
    def consortium(self):  # noqa: ANN201
        return self.world.consortium

    @property
    def w3(self):  # noqa: ANN201
        return self.world.consortium.w3

    @property
    def manifest(self):  # noqa: ANN201
        return self.world.consortium.manifest

    def db(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def urls(self, folder: Path | None = None) -> list[str]:
        return [f"sqlite:///{(folder or self.folder) / f'{n}.db'}" for n in ("orchestrator", "exchange", "iot")]

    def copy_databases(self, target: Path) -> Path:
        for name in ("orchestrator", "exchange", "iot"):  # the backup API: WAL contents included
            with sqlite3.connect(self.db(name)) as source, sqlite3.connect(target / f"{name}.db") as copy:
                source.backup(copy)
        return target

    def orchestrator_app(self, database: Path | None = None):  # noqa: ANN201
        settings = self.settings.model_copy(update={"database_url": f"sqlite:///{database or self.db('orchestrator')}"})
        return create_app(settings, orchestrator=self.world.orchestrator(settings), run_jobs=False)


def execute(database: Path, sql: str, *params) -> int:
    with sqlite3.connect(database) as connection:
        changed = connection.execute(sql, params).rowcount
    assert changed == 1, f"{sql} changed {changed} rows"
    return changed


def _submit(client: TestClient, headers: dict, world: World, count: int, seed: int) -> int:
    frame = pack_frame(count, seed=seed, financier=f"audit{seed}")
    owing = np.flatnonzero(frame["outstanding_balance_minor"].to_numpy() > 0)
    world.seed(frame, missing_rows=owing[[1, 5]])
    response = client.post("/v1/packs/csv?expected_bad_rate=0.05&filter_mode=global&weight_by=balance",
                           content=pack_csv(frame), headers={**headers, "Idempotency-Key": f"audit-{seed}",
                                                             "Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    view = wait_for_pack(client, response.json()["id"], headers, timeout=300)
    assert view["status"] == "done", view["error"]
    return view["chain"]["pack_id"]


def _issue(world: World, folder: Path, pack_id: int) -> tuple[Exchange, int]:
    exchange = start_exchange(world.consortium, folder / "exchange.db")
    issuer = exchange.issuer()
    plan = issuer.structure(pack_id, design(pack_id), DOCUMENTS)
    product_id = issuer.issue(plan, DOCUMENTS)["product_id"]
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    desk = exchange.client("exchange")
    desk.whitelist(world.consortium.address("investor"), now + 30 * DAY, qualified=True)
    tranches = exchange.client("investor").product(product_id)["tranches"]
    for index, tranche in enumerate(tranches):
        exchange.client("investor").subscribe(product_id, index, tranche["size"] // 2)
    desk.close_book(product_id)
    exchange.client("financier").distribute(product_id, 1, interest=1_000, principal=5_000)
    return exchange, product_id


def _iot(world: World, folder: Path) -> list[int]:
    environ = {env_var_for(name): account_for(name).key.hex() for name in MEMBER_ROLES}
    platform = make_platform(world.consortium, MemberKeys(keystore=None, environment=EnvironmentKeys(environ)))
    service = IotService(IotSettings(database_url=f"sqlite:///{folder / 'iot.db'}", window_seconds=0.2,
                                     evaluation_interval_s=0.2, urgent_gap_s=0.0, sweep_interval_s=3600.0), platform)
    key = bytes(range(1, 33))
    code = unique_code("AUD")
    register(service, key, code=code)
    registry = world.consortium.contract("CollateralRegistry")
    with TestClient(create_iot_app(service=service)) as client:
        for seq, place in enumerate((SITE, SITE, AWAY), start=1):
            assert client.post("/iot/events", json={"events": [signed(key, seq, "location", place)]}).json()[
                "accepted"] == 1
        deadline = time.monotonic() + 30
        while True:
            freezes = [f for f in client.get("/iot/freezes").json() if f["status"] == "active"]
            anchored = registry.functions.windowCount().call()
            if freezes and anchored and _all_anchored(folder / "iot.db"):
                break
            assert time.monotonic() < deadline, "the IoT service did not anchor and freeze in time"
            time.sleep(0.1)
    return list(range(1, registry.functions.windowCount().call() + 1))


def _all_anchored(database: Path) -> bool:
    with sqlite3.connect(database) as connection:
        pending = connection.execute("SELECT COUNT(*) FROM iot_event WHERE window_id IS NULL").fetchone()[0]
        open_windows = connection.execute("SELECT COUNT(*) FROM iot_window WHERE status != 'anchored'").fetchone()[0]
        raising = connection.execute("SELECT COUNT(*) FROM iot_freeze WHERE status != 'active'").fetchone()[0]
    return pending == 0 and open_windows == 0 and raising == 0


def build_audit_world(folder: Path, consortium: Consortium | None = None) -> AuditWorld:
    """The world on ``consortium`` (default: a new one on the embedded chain)."""
    consortium = consortium or build_consortium(connect("embedded"))
    admit_second_financier(consortium)
    settings = Settings(database_url=f"sqlite:///{folder / 'orchestrator.db'}", chain_url="embedded",
                        reports_dir=folder / "reports", models_dir=folder / "models", pipeline_lease_seconds=30.0)
    world = make_world(consortium, settings, folder / "models", f"sqlite:///{folder / 'bureau.db'}")
    app = create_app(settings, orchestrator=world.orchestrator(settings))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'financier')}"}
        small, big = _submit(client, headers, world, 120, 9101), _submit(client, headers, world, 400, 9102)
    exchange, product_id = _issue(world, folder, small)
    windows = _iot(world, folder)
    return AuditWorld(world, folder, settings, small, big, product_id, windows, exchange)


def today() -> dt.date:
    return dt.date.today()
