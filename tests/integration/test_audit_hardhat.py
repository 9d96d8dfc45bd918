"""The auditor on the real Hardhat node, after a demo-like flow (two packs to Committed through the
orchestrator, a product issued, subscribed and paid by the exchange, IoT telemetry anchored and a
freeze): ``audit chain`` rebuilds exactly the state the APIs report, the published bundles verify,
``audit db`` finds nothing (and, given the big pack's bundle, names a changed score's row), and the kept tree equals @openzeppelin/merkle-tree's with every proof
accepted by ``AssetPack.verifyAsset`` (MerkleProof.sol) on the node.

Runs between a snapshot and a revert of the session's node.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import build_audit_world  # noqa: E402
from support import api_key  # noqa: E402
from test_audit_db import row  # noqa: E402
from test_audit_db_bundles import tamper  # noqa: E402
from test_merkle_js_parity import run_reference  # noqa: E402

from api.audit.bundle import read_pack_bundle  # noqa: E402
from api.audit.chain_audit import audit_chain  # noqa: E402
from api.audit.db_audit import audit_databases  # noqa: E402
from api.audit.db_bundles import BundleSource  # noqa: E402
from api.audit.pack_audit import audit_pack  # noqa: E402
from chain.audit.leafset import published_leaves, tree_of  # noqa: E402
from chain.leaves import PACK_ASSET_LEAF, asset_id, from_hex32  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def world(node_state, tmp_path):
    yield build_audit_world(tmp_path, node_state)


def test_the_auditor_rebuilds_what_the_platform_reports_on_hardhat(world, tmp_path):
    report, state = audit_chain(world.w3, world.manifest, page_blocks=25)
    assert report.findings == [], report.text()
    assert audit_databases(world.w3, world.manifest, world.urls(), state=state).findings == []

    application = world.orchestrator_app()
    with TestClient(application) as client:
        orchestrator = application.state.orchestrator
        financier = {"Authorization": f"Bearer {api_key(orchestrator, world.consortium, 'financier')}"}
        auditor = {"Authorization": f"Bearer {api_key(orchestrator, world.consortium, 'auditor')}"}
        views = client.get("/v1/packs", headers=financier).json()["packs"]
        bundles = {pid: client.get(f"/v1/audit/packs/{pid}/bundle", headers=auditor).text.splitlines()
                   for pid in (world.small_pack, world.big_pack)}
    assert {v["chain"]["pack_id"] for v in views} == set(state.packs)
    for view in views:
        pack = state.packs[view["chain"]["pack_id"]]
        assert (pack.assets_root, pack.model_id, pack.score_batch_id, pack.kept_root, pack.asset_count) == (
            view["chain"]["assets_root"], view["chain"]["model_id"], view["chain"]["score_batch_id"],
            view["filter"]["kept_root"], view["asset_count"])
    product = world.exchange.client("investor").product(world.product_id)
    rebuilt = state.products[world.product_id]
    assert (rebuilt.pack_id, rebuilt.state.lower(), rebuilt.tokens) == (
        product["pack_id"], product["state"], [t["token"] for t in product["tranches"]])
    for tranche, token in zip(world.exchange.client("exchange").holders(world.product_id), rebuilt.tokens):
        assert {h["address"]: h["units"] for h in tranche["holders"]} == state.tokens[token].balances
    assert state.packs[world.small_pack].state_name == "Issued"

    for pack_id, lines in bundles.items():
        assert audit_pack(world.w3, world.manifest, pack_id, read_pack_bundle(lines)).findings == []
    _kept_tree_matches_javascript_and_verifies_on_chain(world, read_pack_bundle(bundles[world.big_pack]))

    (tmp_path / "tampered").mkdir()
    folder = world.copy_databases(tmp_path / "tampered")
    pack_id, = row(folder / "orchestrator.db", "SELECT id FROM pack WHERE chain_pack_id = ?", world.big_pack)
    subject, field, chain_value, db_value = tamper(folder, pack_id, "score")
    source = BundleSource([read_pack_bundle(lines) for lines in bundles.values()])
    named = audit_databases(world.w3, world.manifest, world.urls(folder), state=state, bundles=source)
    assert [(f.subject, f.field, f.expected, f.actual) for f in named.findings] == [
        (subject, field, chain_value, db_value)], named.text()


def _kept_tree_matches_javascript_and_verifies_on_chain(world, bundle) -> None:
    kept = [r for r in bundle.rows if r.outcome == "kept"]
    rows = [["0x" + asset_id(r.loan_id).hex(), r.record_hash, str(r.score), str(r.level)] for r in kept]
    reference = run_reference(list(PACK_ASSET_LEAF), rows, [])
    packs = world.consortium.contract("AssetPack")
    committed = "0x" + packs.functions.filterResult(world.big_pack).call()[2].hex()
    ours = tree_of([[from_hex32(r[0]) for r in rows], [from_hex32(r[1]) for r in rows],
                    [r.score for r in kept], [r.level for r in kept]], PACK_ASSET_LEAF)
    assert reference["root"] == ours.root == committed
    assert sorted(reference["leafHashes"]) == published_leaves(ours) == sorted(bundle.leaves["kept"])
    for row, proof in zip(kept, reference["proofs"]):
        assert packs.functions.verifyAsset(world.big_pack, True, asset_id(row.loan_id), from_hex32(row.record_hash),
                                           row.score, row.level, [from_hex32(p) for p in proof]).call()
    wrong = kept[0]
    assert not packs.functions.verifyAsset(world.big_pack, True, asset_id(wrong.loan_id),
                                           from_hex32(wrong.record_hash), wrong.score % 100 + 1, wrong.level,
                                           [from_hex32(p) for p in reference["proofs"][0]]).call()
