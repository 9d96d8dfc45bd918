"""The exchange's monitoring view (patent claim 7): what PackMonitor records for a listed
product's pack (cycles, fired rules, measures, replacements) as investors see it through the
exchange's API, read from the chain alone. PackMonitor is driven here with the SCORER member.

The pack (see issuance_world): 3 kept assets in levels 4, 8 and 10, 900,000 minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from issuance_world import DOCUMENTS, kept_root

from api.exchange.monitoring import PackMonitorReader
from api.exchange.onchain import ChainReader

REPLACEMENT_INSTRUCTION, WEEKLY_REMINDERS = 1, 0
ESCALATED = 3
DAY = 86_400
COUNTS = [0, 0, 0, 1, 0, 0, 0, 1, 0, 1]
BALANCES = [0, 0, 0, 180_000, 0, 0, 0, 290_000, 0, 400_000]
# scoreBatchId is filled in per cycle: badRate, expected, realised, PSI, live count, live balance
FIGURES = (61_000, 200_000, 12_500, 140_000, 3, 870_000)


@dataclass
class Monitored:
    world: object
    exchange: object
    product_id: int
    pack_id: int

    @property
    def monitor(self):
        return self.world.consortium.contract("PackMonitor")

    def scorer_sends(self, call):
        return self.world.consortium.sender("scorer").transact(call)

    def start(self) -> None:
        self.scorer_sends(self.world.consortium.contract("AssetPack").functions.startMonitoring(self.pack_id))

    def record_cycle(self, cycle: int = 1) -> int:
        scores = self.world.consortium.contract("ScoreRegistry")
        self.scorer_sends(scores.functions.submitScoreBatch(
            self.pack_id, cycle, self.world.model_id, keccak(f"cycle-scores:{cycle}".encode()), 3))
        batch_id = scores.functions.batchCount().call()
        self.scorer_sends(self.monitor.functions.recordCycle(self.pack_id, cycle, (batch_id, COUNTS, BALANCES,
                                                                                   *FIGURES)))
        return batch_id

    def fire(self, rule: bytes, cycle: int = 1) -> None:
        self.scorer_sends(self.monitor.functions.recordTrigger(self.pack_id, cycle, rule, keccak(b"evidence")))

    def open_measure(self, rule: bytes, kind: int, deadline: int, subjects: int = 2) -> int:
        self.scorer_sends(self.monitor.functions.openMeasure(
            self.pack_id, 1, kind, rule, keccak(b"subjects"), subjects, deadline))
        return self.monitor.functions.measureCount().call()

    def now(self) -> int:
        return self.world.consortium.w3.eth.get_block("latest")["timestamp"]

    def get(self, member: str | None = "investor", path: str = "/monitoring"):
        headers = {} if member is None else {"Authorization": f"Bearer {self.exchange.keys[member]}"}
        return TestClient(self.exchange.app).get(f"/v1/products/{self.product_id}{path}", headers=headers)

    def view(self, member: str = "investor") -> dict:
        response = self.get(member)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def monitored(world, exchange, pack_id) -> Monitored:
    """An issued and listed product (no book, no distributions); its pack is not yet monitored."""
    listing = exchange.issuer().issue(exchange.plan(pack_id), DOCUMENTS)
    return Monitored(world, exchange, listing["product_id"], pack_id)


def test_before_any_cycle_the_status_is_not_started(monitored):
    issued = monitored.view()
    monitored.start()
    started = monitored.view("financier")

    assert (issued["pack_state"], issued["status"]) == ("Issued", "not_started")
    assert (started["pack_state"], started["status"], started["cycles_done"]) == ("Monitoring", "not_started", 0)
    assert started["pack_id"] == monitored.pack_id
    assert started["cycles"] == started["triggers"] == started["measures"] == started["replacements"] == []
    assert started["current_root"] == started["kept_root"] == "0x" + kept_root("pack-a").hex()


def test_shows_the_cycle_the_rule_fired_and_the_escalated_measure(monitored):
    monitored.start()
    batch_id = monitored.record_cycle()
    assert monitored.view()["status"] == "normal"
    monitored.fire(keccak(b"risky_levels"))
    deadline = monitored.now() + 14 * DAY
    measure_id = monitored.open_measure(keccak(b"risky_levels"), REPLACEMENT_INSTRUCTION, deadline)
    assert (monitored.view()["status"], monitored.view()["open_measures"]) == ("measures_open", 1)

    monitored.scorer_sends(monitored.monitor.functions.setMeasureStatus(measure_id, ESCALATED))
    view = monitored.view()

    assert (view["status"], view["cycles_done"], view["open_measures"]) == ("escalated", 1, 1)
    (cycle,) = view["cycles"]
    assert (cycle["cycle"], cycle["score_batch_id"]) == (1, batch_id)
    assert (cycle["level_counts"], cycle["level_balances"]) == (COUNTS, BALANCES)
    assert (cycle["bad_rate_ppm"], cycle["expected_bad_rate_ppm"], cycle["realised_bad_rate_ppm"], cycle["psi_ppm"],
            cycle["live_count"], cycle["live_balance"]) == FIGURES
    (trigger,) = view["triggers"]
    assert (trigger["cycle"], trigger["rule"], trigger["evidence_hash"]) == (1, "risky_levels",
                                                                            "0x" + keccak(b"evidence").hex())
    (measure,) = view["measures"]
    assert (measure["id"], measure["cycle"], measure["kind"], measure["status"], measure["rule"]) == (
        measure_id, 1, "replacement_instruction", "escalated", "risky_levels")
    assert (measure["deadline"], measure["subject_count"], measure["subject_root"]) == (
        deadline, 2, "0x" + keccak(b"subjects").hex())
    summary = monitored.exchange.client("investor").product(monitored.product_id)["monitoring"]
    assert summary == {"status": "escalated", "pack_state": "Monitoring", "cycles_done": 1, "open_measures": 1}


def test_an_unknown_rule_shows_its_id_and_a_replacement_moves_the_root(monitored):
    monitored.start()
    monitored.record_cycle()
    other_rule = keccak(b"house-rule-not-on-the-platform")
    monitored.fire(other_rule)
    monitored.fire(keccak(b"bad_rate"))
    reminders = monitored.open_measure(keccak(b"bad_rate"), WEEKLY_REMINDERS, monitored.now() + 7 * DAY)
    monitored.scorer_sends(monitored.monitor.functions.setMeasureStatus(reminders, 2))  # Done
    old, new = kept_root("pack-a"), keccak(b"root after the swap")
    monitored.scorer_sends(monitored.monitor.functions.recordReplacement(
        monitored.pack_id, 1, 0, old, new, keccak(b"out"), keccak(b"in"), [keccak(b"L2")], [keccak(b"L5")]))

    view = monitored.view()

    assert [t["rule"] for t in view["triggers"]] == ["0x" + other_rule.hex(), "bad_rate"]
    assert [(m["kind"], m["status"]) for m in view["measures"]] == [("weekly_reminders", "done")]
    assert view["status"] == "normal" and view["open_measures"] == 0
    (replacement,) = view["replacements"]
    assert (replacement["swap_count"], replacement["measure_id"]) == (1, None)
    assert (replacement["previous_root"], replacement["new_root"]) == ("0x" + old.hex(), "0x" + new.hex())
    assert view["current_root"] == "0x" + new.hex() != view["kept_root"]


def test_logs_read_in_small_pages_give_the_same_history(monitored):
    monitored.start()
    monitored.record_cycle(1)
    monitored.record_cycle(2)
    monitored.fire(keccak(b"psi"), cycle=2)
    consortium = monitored.world.consortium
    reader = ChainReader(consortium.w3, consortium.contracts)

    whole = PackMonitorReader(reader).view(monitored.product_id)
    paged = PackMonitorReader(reader, page_blocks=1).view(monitored.product_id)

    assert [c["cycle"] for c in whole["cycles"]] == [1, 2]
    assert [(t["cycle"], t["rule"]) for t in whole["triggers"]] == [(2, "psi")]
    assert paged == whole


def test_unauthenticated_or_unknown_products_are_refused(monitored):
    assert monitored.get(None).status_code == 401
    unknown = TestClient(monitored.exchange.app).get(
        f"/v1/products/{monitored.product_id + 1}/monitoring",
        headers={"Authorization": f"Bearer {monitored.exchange.keys['investor']}"})
    assert unknown.status_code == 404


def test_the_openapi_document_shows_the_endpoint_with_an_example(monitored):
    schema = TestClient(monitored.exchange.app).get("/openapi.json").json()

    answer = schema["paths"]["/v1/products/{product_id}/monitoring"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["example"]["status"] == "escalated"
