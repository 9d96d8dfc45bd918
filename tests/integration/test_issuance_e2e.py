"""Issuance end to end on the Hardhat node: a pack driven to Committed on chain, a product
structured and issued with ``absctl product``, listed by the exchange running as its own server
process (``absctl exchange serve``), subscribed to with ``absctl exchange subscribe``,
allocated and minted, and one period distributed.

The whole test runs between a snapshot and a revert of the session's node, so other tests on
it never see its pack, model or product. The server binds 127.0.0.1 on a free port and is
stopped by its PID.
"""

from __future__ import annotations

import csv
import os
import datetime as dt
import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.exchange.client import ExchangeClient
from chain.keys import env_var_for
from chain.node import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "exchange"))
from issuance_world import commit_credit_batch, committed_pack, register_model  # noqa: E402
from testbed import account_for  # noqa: E402

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
MEMBERS = ("exchange", "financier", "investor")


@pytest.fixture
def environment(node_state, tmp_path, monkeypatch):
    port = free_port()
    node_state.manifest.save(tmp_path / "deployment.json")
    env = {
        "ABS_CHAIN_URL": node_state.w3.provider.endpoint_uri,
        "ABS_MANIFEST_PATH": str(tmp_path / "deployment.json"),
        "ABS_KEYSTORE_DIR": str(tmp_path / "keystore"),
        "ABS_VAR_DIR": str(tmp_path),
        "ABS_EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'exchange.db'}",
        "ABS_EXCHANGE_URL": f"http://127.0.0.1:{port}",
        "COLUMNS": "200",
        **{env_var_for(name): "0x" + bytes(account_for(name).key).hex() for name in MEMBERS},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def absctl(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"absctl {' '.join(args)} failed:\n{result.output}"
    return result.output


@pytest.fixture
def exchange_server(environment):
    """``absctl exchange serve`` as a process of its own, stopped by its PID."""
    url = environment["ABS_EXCHANGE_URL"]
    log = open(Path(environment["ABS_VAR_DIR"]) / "exchange.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "api.cli.main", "exchange", "serve"], cwd=REPO,
                               env={**os.environ, **environment, "PYTHONPATH": str(REPO)},
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "the exchange did not come up within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_pack_to_product_to_listing_to_subscriptions_to_one_distribution(node_state, environment, exchange_server,
                                                                        tmp_path):
    c = node_state
    run = uuid.uuid4().hex[:8]
    pack_id = committed_pack(c, register_model(c, f"e2e-{run}"), commit_credit_batch(c), f"e2e-{run}")
    keys = {name: absctl("exchange", "api-key", name).strip() for name in MEMBERS}
    operator = ExchangeClient.over_http(exchange_server, keys["exchange"])

    # the financier structures and issues; the exchange verifies against the chain and lists
    (tmp_path / "prospectus.pdf").write_bytes(b"%PDF prospectus " + run.encode())
    (tmp_path / "servicing.pdf").write_bytes(b"%PDF servicing agreement")
    maturity = dt.datetime.fromtimestamp(c.w3.eth.get_block("latest")["timestamp"], dt.UTC).date()
    maturity = maturity.replace(year=maturity.year + 3)
    documents = ["--prospectus", str(tmp_path / "prospectus.pdf"),
                 "--servicing-agreement", str(tmp_path / "servicing.pdf")]
    absctl("product", "structure", str(pack_id), "--as", "financier", "--maturity", maturity.isoformat(),
           *documents, "--out", str(tmp_path / "plan.json"))
    absctl("product", "issue", str(tmp_path / "plan.json"), "--as", "financier", "--api-key", keys["financier"],
           *documents)
    (product,) = operator.products()
    product_id = product["product_id"]
    assert [t["size"] for t in product["tranches"]] == [720_000, 180_000]
    assert c.contract("AssetPack").functions.issuedProduct(pack_id).call() == product_id

    # the investor, whitelisted as qualified, books three orders; the senior ones oversubscribe.
    # The operator's commands sign as the exchange from this process while the server signs
    # too: each Sender finds its nonce again when the other has moved it on.
    absctl("exchange", "whitelist", "investor", "--days", "30", "--qualified")
    for tranche, units in ((0, 500_000), (0, 400_000), (1, 180_000)):
        absctl("exchange", "subscribe", str(product_id), "--tranche", str(tranche), "--units", str(units),
               "--api-key", keys["investor"])
    assert "ABS" in absctl("exchange", "close-book", str(product_id))
    # 720,000 for 900,000 asked: 720,000 x 5/9 = 400,000 and x 4/9 = 320,000, exactly
    senior = operator.allocation(product_id)["tranches"][0]
    assert [o["allocated"] for o in senior["orders"]] == [400_000, 320_000]
    (holders_a, holders_b) = operator.holders(product_id)
    assert holders_a["holders"] == [{"address": c.address("investor"), "units": 720_000}]
    assert holders_b["holders"] == [{"address": c.address("investor"), "units": 180_000}]

    # one period: 2,700 + 1,350 of coupons, 1,950 residual, 20,000 principal to the senior tranche
    financier = ExchangeClient.over_http(exchange_server, keys["financier"])
    period = financier.distribute(product_id, 1, interest=6_000, principal=20_000)
    assert [(p["interest"], p["principal"]) for p in period["report"]["payments"]] == [(2_700, 20_000), (1_350, 0)]
    anchored = c.contract("ProductRegistry").functions.distribution(product_id, 1).call()
    assert "0x" + anchored[0].hex() == period["report_hash"]
    assert list(anchored[2]) == [700_000, 180_000]

    absctl("exchange", "transactions", "--api-key", keys["investor"], "--out", str(tmp_path / "tx.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "tx.csv").read_text())))
    assert sum(int(r["amount"]) for r in rows) == -900_000 + 2_700 + 20_000 + 1_350
