"""A 10,000-asset pack through the whole pipeline on the real Hardhat node with PostgreSQL, and
every asset's fate proven on chain.

Kept and removed assets: ``AssetPack.verifyAsset`` is called for EVERY one of them on the node,
in JSON-RPC batches of eth_calls. Assets excluded before scoring have no on-chain verify view
(the contract has none for the excluded root), so their proofs are checked off chain against
the ``excludedRoot`` read from ``AssetPack.creditCheck`` on the node.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api.orchestrator.app import create_app  # noqa: E402
from api.orchestrator.reports.proofs import _cached_tree  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.leaves import EXCLUDED_LEAF, from_hex32  # noqa: E402
from chain.merkle import StandardMerkleTree  # noqa: E402
from support import PostgresSchema, api_key, loans, make_world, pack_frame, wait_for_pack  # noqa: E402

pytestmark = pytest.mark.integration

ASSETS = 10_000
BATCH = 500


@pytest.fixture(scope="module")
def schemas():
    orchestrator, bureau = PostgresSchema("orch"), PostgresSchema("bureau")
    yield orchestrator, bureau
    orchestrator.close()
    bureau.close()


def verify_on_chain(w3, asset_pack, chain_pack_id: int, kept: bool, tree: StandardMerkleTree) -> int:
    """verifyAsset for every leaf of ``tree``, batched; returns how many the node confirmed."""
    confirmed = 0
    for start in range(0, len(tree), BATCH):
        with w3.batch_requests() as batch:
            for index in range(start, min(start + BATCH, len(tree))):
                asset, record, score, level = tree.at(index)
                proof = [from_hex32(node) for node in tree.get_proof(index)]
                batch.add(asset_pack.functions.verifyAsset(chain_pack_id, kept, asset, record, int(score),
                                                           int(level), proof))
            confirmed += sum(1 for answer in batch.execute() if answer is True)
    return confirmed


def test_a_10k_pack_is_committed_and_every_asset_proven(hardhat_consortium, schemas, tmp_path):
    orchestrator_db, bureau_db = schemas
    settings = Settings(database_url=orchestrator_db.url, chain_url="unused", models_dir=tmp_path / "models",
                        reports_dir=tmp_path / "reports")
    world = make_world(hardhat_consortium, settings, tmp_path / "models", bureau_db.url)
    frame = pack_frame(ASSETS, seed=8001, financier="hh")
    owing = np.flatnonzero(frame["outstanding_balance_minor"].to_numpy() > 0)
    world.seed(frame, missing_rows=owing[:40], stale_rows=owing[40:70])
    csv_path = tmp_path / "pack.csv"
    loans(frame).to_csv(csv_path, index=False)

    app = create_app(settings, orchestrator=world.orchestrator(settings))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {api_key(app.state.orchestrator, hardhat_consortium, 'financier')}"}
        started = time.perf_counter()
        response = client.post("/v1/packs/csv?expected_bad_rate=0.04&filter_mode=global", content=csv_path.read_bytes(),
                               headers={**headers, "Idempotency-Key": "hh-10k", "Content-Type": "text/csv"})
        assert response.status_code == 202, response.text
        view = wait_for_pack(client, response.json()["id"], headers, timeout=600)
        elapsed = time.perf_counter() - started
        assert view["status"] == "done", view["error"]
        print(f"\n10k pack to Committed in {elapsed:.2f} s; steps {view['step_seconds']}")

        w3 = hardhat_consortium.w3
        asset_pack = hardhat_consortium.contract("AssetPack")
        chain_id = view["chain"]["pack_id"]
        assert asset_pack.functions.pack(chain_id).call()[6] == 6  # Committed
        plan, credit = view["filter"], view["credit"]
        assert credit["excluded_by_reason"]["no_record"] == 40 and credit["excluded_by_reason"]["stale"] == 30
        assert plan["removed_count"] > 0

        engine = app.state.orchestrator.engine
        from api.orchestrator.models import Pack
        from sqlmodel import Session

        with Session(engine) as session:
            pack = session.get(Pack, view["id"])
            kept_tree, _ = _cached_tree(session, pack, "kept")
            removed_tree, _ = _cached_tree(session, pack, "removed")
            excluded_tree, _ = _cached_tree(session, pack, "excluded")
        started = time.perf_counter()
        assert verify_on_chain(w3, asset_pack, chain_id, True, kept_tree) == plan["kept_count"] == len(kept_tree)
        assert verify_on_chain(w3, asset_pack, chain_id, False, removed_tree) == plan["removed_count"]
        print(f"{len(kept_tree) + len(removed_tree)} verifyAsset calls on the node in "
              f"{time.perf_counter() - started:.2f} s")
        excluded_root = "0x" + asset_pack.functions.creditCheck(chain_id).call()[0].hex()
        assert excluded_tree.root == excluded_root
        for index in range(len(excluded_tree)):
            assert StandardMerkleTree.verify(excluded_root, EXCLUDED_LEAF, excluded_tree.at(index),
                                             excluded_tree.get_proof(index))
        assert len(kept_tree) + len(removed_tree) + len(excluded_tree) == ASSETS

        # the API's proof endpoint serves the same proofs (a sample, through HTTP)
        for loan_id in frame["loan_id"].iloc[owing[[0, 100, 5000]]]:
            proof = client.get(f"/v1/packs/{view['id']}/assets/{loan_id}/proof", headers=headers).json()
            if proof["outcome"] != "excluded":
                a = proof["verify"]["args"]
                assert asset_pack.functions.verifyAsset(a[0], a[1], from_hex32(a[2]), from_hex32(a[3]), a[4], a[5],
                                                        [from_hex32(n) for n in a[6]]).call()
