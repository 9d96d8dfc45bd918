"""Replacement: a swap that would leave the product above its expected bad rate is refused, so is one
whose balances do not fit, and neither changes anything; an accepted one moves the pool's root on
chain, closes the instruction, and both the old asset's removal and the new asset's inclusion are
provable there."""

from __future__ import annotations

from datetime import date

import pytest
from monitoring_support import enough, issue_product, make_app, simulate, substitutes, swap
from sqlmodel import Session, select

from api.monitoring.models import Holding
from chain.leaves import from_hex32

SHOCK = {"region": "east", "stress_multiplier": 8.0, "from_cycle": 3}


def verify(monitor, view: str, key: int, proof: dict) -> bool:
    leaf = proof["leaf"]
    return getattr(monitor.functions, view)(key, from_hex32(leaf["asset_id"]), from_hex32(leaf["record_hash"]),
                                            leaf["score"], leaf["level"], [from_hex32(p) for p in proof["proof"]]).call()


def test_refused_swaps_change_nothing_and_an_accepted_one_is_provable(world, tmp_path, monkeypatch):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=2000, seed=46)
        product, pack = issued.product_id, issued.chain_pack_id
        cycles = [simulate(api, issued, shock=SHOCK if k == 0 else None) for k in range(3)]
        measures = api.get(f"/v1/monitoring/products/{product}/measures", as_="financier").json()["measures"]
        instruction = next(m for m in measures if m["kind"] == "replacement_instruction" and m["cycle"] == 3)
        with Session(api.orchestrator.engine) as session:
            live = sorted((h for h in session.exec(select(Holding).where(Holding.product_id == product)).all()
                           if h.status == "live"), key=lambda h: (h.level, h.loan_id))
        good = substitutes(api, world, date.fromisoformat(cycles[-1]["as_of"]), 3000)
        riskiest = live[:len(good)]  # the financier swaps out its riskiest loans, the instruction's first
        assert set(instruction["loan_ids"]) <= {h.loan_id for h in live if h.level <= 3}
        monitor = api.orchestrator.platform.contract("PackMonitor")
        root_before = monitor.functions.currentRoot(pack).call()
        url = f"/v1/monitoring/products/{product}/replacements"

        def body(count: int, markup: float = 1.0) -> dict:
            return {"measure_id": instruction["id"], "swaps": [
                swap(h.loan_id, round(h.balance_minor * markup), g) for h, g in zip(riskiest[:count], good)]}

        # Five of the riskiest loans: the product stays far above its expected bad rate.
        few = api.post(url, as_="financier", key="few", json=body(5))
        assert few.status_code == 422, few.text[:2000]
        assert few.json()["details"]["problems"] == [{"loan_id": "", "field": "bad_rate", "problem": "above_expected"}]
        assert few.json()["details"]["bad_rate_after_ppm"] > issued_expected(cycles)

        # Enough loans, but 10% more balance coming in than going out: outside the 2% tolerance.
        count = max(enough(api, product, riskiest, len(good)), sum(h.level <= 3 for h in live))
        assert count <= len(good)
        assert set(instruction["loan_ids"]) <= {h.loan_id for h in riskiest[:count]}
        inflated = api.post(url, as_="financier", key="inflated", json=body(count, 1.10))
        assert inflated.status_code == 422, inflated.text[:2000]
        assert inflated.json()["details"]["problems"] == [{"loan_id": "", "field": "balance",
                                                           "problem": "outside_tolerance"}]
        assert monitor.functions.currentRoot(pack).call() == root_before  # refusals changed nothing
        assert monitor.functions.replacementCount().call() == 0

        # The process dies right after the chain took the swap: the retry adopts it, nothing is sent twice.
        chain = api.monitoring.service.chain
        real = chain.record_replacement

        def dies_after(*args, **kwargs):
            real(*args, **kwargs)
            raise ConnectionError("the process died before storing the replacement")

        monkeypatch.setattr(chain, "record_replacement", dies_after)
        with pytest.raises(ConnectionError):
            api.post(url, as_="financier", key="accepted", json=body(count))
        monkeypatch.setattr(chain, "record_replacement", real)
        accepted = api.post(url, as_="financier", key="accepted", json=body(count))
        assert accepted.status_code == 201, accepted.text[:2000]
        result = accepted.json()
        assert result["decision"]["bad_rate_after_ppm"] <= result["decision"]["expected_bad_rate_ppm"]
        again = api.post(url, as_="financier", key="accepted", json=body(count))  # an idempotent replay
        assert again.status_code == 201 and again.json()["chain_replacement_id"] == result["chain_replacement_id"]
        old, new = riskiest[0].loan_id, result["swaps"][0]["in_loan_id"]
        old_proof = api.get(f"/v1/monitoring/products/{product}/proofs/{old}", as_="investor").json()
        new_proof = api.get(f"/v1/monitoring/products/{product}/proofs/{new}", as_="investor").json()
        status = api.get(f"/v1/monitoring/products/{product}/measures", as_="exchange").json()
        investor_replace = api.post(url, as_="investor", key="x", json=body(1))

    assert monitor.functions.replacementCount().call() == 1
    root_after = monitor.functions.currentRoot(pack).call()
    assert root_after != root_before and "0x" + root_after.hex() == result["new_root"]
    replacement = result["chain_replacement_id"]
    assert old_proof["state"] == "replaced_out" and old_proof["replaced_by"] == new
    assert verify(monitor, "verifyReplacedOut", replacement, old_proof)
    assert not verify(monitor, "verifyCurrent", pack, old_proof)  # the old asset is no longer in the pool
    assert new_proof["state"] == "in_pool" and verify(monitor, "verifyCurrent", pack, new_proof)
    assert not verify(monitor, "verifyReplacedOut", replacement, new_proof)
    closed = next(m for m in status["measures"] if m["id"] == instruction["id"])
    assert closed["status"] == "done" and monitor.functions.measure(instruction["chain_measure_id"]).call()[3] == 2
    assert [r["status"] for r in status["replacements"]] == ["refused", "refused", "accepted"]
    assert investor_replace.status_code in (403, 404)


def issued_expected(cycles: list[dict]) -> int:
    return cycles[-1]["expected_bad_rate_ppm"]
