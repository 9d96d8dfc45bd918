"""PackMonitor on the embedded EVM: cycles in order on their own score batches, triggers once,
measures through their legal transitions, and replacements that move the pack's current root.

The pack is driven straight through AssetPack to Issued (the exchange's markIssued needs no
listed product), then into Monitoring. Its kept tree is a real pack-asset tree, so proofs built
here with chain.merkle verify on chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_utils import keccak
from testbed import Consortium

from chain.errors import ContractCustomError
from chain.leaves import PACK_ASSET_LEAF
from chain.merkle import StandardMerkleTree

MONITORING = 8
WEEKLY_REMINDERS, REPLACEMENT_INSTRUCTION = 0, 1
OPEN, DONE, ESCALATED, CANCELLED = 1, 2, 3, 4
RULE = keccak(b"rule:bad-rate-above-expected")
EDGES = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
RATES = [400_000, 250_000, 180_000, 120_000, 90_000, 60_000, 40_000, 25_000, 15_000, 8_000]
LEVEL_COUNTS = [1, 0, 0, 1, 0, 0, 0, 1, 0, 1]
LEVEL_BALANCES = [100_000, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000]
# (asset id, loan-record hash, score, level): the first one is filtered out at issuance
ASSETS = [(keccak(f"L{i}".encode()), keccak(f"rec{i}".encode()), score, level)
          for i, (score, level) in enumerate([(5, 1), (35, 4), (77, 8), (95, 10)], start=1)]
KEPT = ASSETS[1:]
NEWCOMER = (keccak(b"L5"), keccak(b"rec5"), 88, 9)


def b32(hex_root: str) -> bytes:
    return bytes.fromhex(hex_root.removeprefix("0x"))


def tree(rows) -> StandardMerkleTree:
    return StandardMerkleTree.of(rows, PACK_ASSET_LEAF)


def proof(t: StandardMerkleTree, row) -> list[bytes]:
    return [b32(node) for node in t.get_proof(row)]


@dataclass
class MonitoredPack:
    consortium: Consortium
    pack_id: int
    model_id: int
    kept: StandardMerkleTree

    @property
    def monitor(self):
        return self.consortium.contract("PackMonitor")

    def scorer_sends(self, call):
        return self.consortium.sender("scorer").transact(call)

    def score_cycle(self, cycle: int) -> int:
        scores = self.consortium.contract("ScoreRegistry")
        self.scorer_sends(scores.functions.submitScoreBatch(
            self.pack_id, cycle, self.model_id, keccak(f"cycle-scores:{cycle}".encode()), 3))
        return scores.functions.batchCount().call()

    def report(self, batch_id: int, **changes) -> tuple:
        fields = {
            "scoreBatchId": batch_id, "levelCounts": [0, 0, 0, 1, 0, 0, 0, 1, 0, 1],
            "levelBalances": [0, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000], "badRatePpm": 51_000,
            "expectedBadRatePpm": 200_000, "realisedBadRatePpm": 30_000, "psiPpm": 1_200_000,
            "liveCount": 3, "liveBalance": 900_000,
        }
        fields.update(changes)
        return tuple(fields.values())

    def record_cycle(self, cycle: int) -> int:
        batch_id = self.score_cycle(cycle)
        self.scorer_sends(self.monitor.functions.recordCycle(self.pack_id, cycle, self.report(batch_id)))
        return batch_id

    def deadline(self, days: int = 7) -> int:
        return self.consortium.w3.eth.get_block("latest")["timestamp"] + days * 86_400

    def open_measure(self, kind: int = REPLACEMENT_INSTRUCTION, subject=(ASSETS[1][0],)) -> int:
        subjects = StandardMerkleTree.of([(asset,) for asset in subject], ("bytes32",))
        self.scorer_sends(self.monitor.functions.openMeasure(
            self.pack_id, 1, kind, RULE, b32(subjects.root), len(subject), self.deadline()))
        return self.monitor.functions.measureCount().call()


@pytest.fixture
def monitored(consortium: Consortium) -> MonitoredPack:
    """A pack of 4 assets, 3 kept, issued and in Monitoring; no cycle recorded yet."""
    c = consortium
    names = ("AssetPack", "ScoreRegistry", "ModelRegistry", "CreditRegistry")
    packs, scores, models, credit = (c.contract(name) for name in names)
    scorer, financier = c.sender("scorer"), c.sender("financier")
    scorer.transact(models.functions.registerModel(keccak(b"artifact"), keccak(b"schema"), "monitor-test", EDGES, RATES,
                                                    (790_000, 450_000, 70_000, 1_000)))
    model_id = models.functions.modelCount().call()
    now = c.w3.eth.get_block("latest")["timestamp"]
    c.sender("bureau").transact(credit.functions.commitBatch(keccak(b"credit-root"), 4, now))
    kept, removed = tree(KEPT), tree(ASSETS[:1])
    financier.transact(packs.functions.submitPack(keccak(b"submission"), keccak(b"assets"), 4, 1_000_000, 200_000))
    pack_id = packs.functions.packCount().call()
    scorer.transact(packs.functions.recordCreditCheck(pack_id, b"\0" * 32, 4, 0, credit.functions.batchCount().call()))
    scorer.transact(scores.functions.submitScoreBatch(pack_id, 0, model_id, keccak(b"issuance-scores"), 4))
    scorer.transact(packs.functions.recordScores(pack_id, scores.functions.batchCount().call()))
    scorer.transact(packs.functions.recordGrade(pack_id, LEVEL_COUNTS, LEVEL_BALANCES, 138_250, 79_000))
    scorer.transact(packs.functions.recordFilter(pack_id, (
        0, 0, b32(kept.root), b32(removed.root), 3, 1, 900_000, 100_000, 138_250, 51_000,
    )))
    financier.transact(packs.functions.commitPack(pack_id))
    c.sender("exchange").transact(packs.functions.markIssued(pack_id, 1))
    scorer.transact(packs.functions.startMonitoring(pack_id))
    assert packs.functions.pack(pack_id).call()[6] == MONITORING
    return MonitoredPack(c, pack_id, model_id, kept)


def refused(sender, call) -> ContractCustomError:
    with pytest.raises(ContractCustomError) as error:
        sender.transact(call)
    return error.value


def test_start_monitoring_needs_an_issued_pack(monitored):
    packs = monitored.consortium.contract("AssetPack")
    error = refused(monitored.consortium.sender("scorer"), packs.functions.startMonitoring(monitored.pack_id))
    assert (error.name, error.args) == ("AssetPackWrongState", (monitored.pack_id, MONITORING, 7))


def test_cycles_are_recorded_in_order(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    m.score_cycle(1)
    batch_2 = m.score_cycle(2)

    error = refused(scorer, m.monitor.functions.recordCycle(m.pack_id, 2, m.report(batch_2)))

    assert (error.name, error.args) == ("PackMonitorCycleOutOfOrder", (m.pack_id, 1, 2))
    assert m.monitor.functions.cycleCount(m.pack_id).call() == 0


def test_a_cycle_must_rest_on_its_own_score_batch(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    batch_1 = m.score_cycle(1)
    issuance_batch = batch_1 - 1  # cycle 0's batch: the same pack, but not this cycle

    error = refused(scorer, m.monitor.functions.recordCycle(m.pack_id, 1, m.report(issuance_batch)))
    assert (error.name, error.args) == ("PackMonitorScoreBatchMismatch", (m.pack_id, 1, issuance_batch))

    m.scorer_sends(m.monitor.functions.recordCycle(m.pack_id, 1, m.report(batch_1)))
    report, recorded_at = m.monitor.functions.cycle(m.pack_id, 1).call()
    assert report[0] == batch_1 and list(report[2]) == [0, 0, 0, 200_000, 0, 0, 0, 300_000, 0, 400_000]
    assert recorded_at == m.consortium.w3.eth.get_block("latest")["timestamp"]


def test_a_cycle_refuses_bad_rates_and_totals(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    batch_1 = m.score_cycle(1)

    record = m.monitor.functions.recordCycle
    rate = refused(scorer, record(m.pack_id, 1, m.report(batch_1, realisedBadRatePpm=1_000_001)))
    totals = refused(scorer, record(m.pack_id, 1, m.report(batch_1, liveBalance=899_999)))

    assert (rate.name, rate.args) == ("PackMonitorRateOutOfRange", (1_000_001,))
    assert (totals.name, totals.args) == ("PackMonitorTotalsMismatch", (m.pack_id, 899_999, 900_000))


def test_a_rule_fires_once_per_cycle(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    unknown = refused(scorer, m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))
    m.record_cycle(1)
    m.scorer_sends(m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))

    duplicate = refused(scorer, m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"other evidence")))

    assert (unknown.name, unknown.args) == ("PackMonitorUnknownCycle", (m.pack_id, 1))
    assert (duplicate.name, duplicate.args) == ("PackMonitorDuplicateTrigger", (m.pack_id, 1, RULE))
    assert m.monitor.functions.triggerFired(m.pack_id, 1, RULE).call()


def test_a_measure_needs_its_rule_to_have_fired(monitored):
    m = monitored
    m.record_cycle(1)

    with pytest.raises(ContractCustomError) as error:
        m.open_measure()

    assert (error.value.name, error.value.args) == ("PackMonitorTriggerNotFired", (m.pack_id, 1, RULE))


@pytest.mark.parametrize(("path", "refused_move"), [
    ((DONE,), ESCALATED),
    ((ESCALATED,), ESCALATED),
    ((ESCALATED, CANCELLED), DONE),
    ((), OPEN),
])
def test_measure_transitions(monitored, path, refused_move):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    m.record_cycle(1)
    m.scorer_sends(m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))
    measure_id = m.open_measure(kind=WEEKLY_REMINDERS)
    for status in path:
        m.scorer_sends(m.monitor.functions.setMeasureStatus(measure_id, status))
    current = path[-1] if path else OPEN

    error = refused(scorer, m.monitor.functions.setMeasureStatus(measure_id, refused_move))

    assert (error.name, error.args) == ("PackMonitorBadTransition", (measure_id, current, refused_move))
    assert m.monitor.functions.measure(measure_id).call()[3] == current


def test_measure_subjects_verify_against_their_root(monitored):
    m = monitored
    m.record_cycle(1)
    m.scorer_sends(m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))
    subject = [ASSETS[1][0], ASSETS[2][0]]
    subjects = StandardMerkleTree.of([(a,) for a in subject], ("bytes32",))
    measure_id = m.open_measure(subject=subject)

    first_proof = [b32(p) for p in subjects.get_proof((subject[0],))]
    assert m.monitor.functions.verifyMeasureSubject(measure_id, subject[0], first_proof).call()
    assert not m.monitor.functions.verifyMeasureSubject(measure_id, ASSETS[3][0], first_proof).call()


def _replacement_trees(m: MonitoredPack):
    old, new = KEPT[0], NEWCOMER
    after = tree([NEWCOMER, *KEPT[1:]])
    return old, new, after, tree([old]), tree([new])


def test_a_replacement_must_start_from_the_current_root(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    m.record_cycle(1)
    old, new, after, out_tree, in_tree = _replacement_trees(m)
    stale = keccak(b"not the current root")

    error = refused(scorer, m.monitor.functions.recordReplacement(
        m.pack_id, 1, 0, stale, b32(after.root), b32(out_tree.root), b32(in_tree.root), [old[0]], [new[0]]))

    assert (error.name, error.args) == ("PackMonitorStaleRoot", (m.pack_id, b32(m.kept.root), stale))


def test_a_replacement_moves_the_current_root(monitored):
    m = monitored
    m.record_cycle(1)
    m.scorer_sends(m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))
    measure_id = m.open_measure()
    old, new, after, out_tree, in_tree = _replacement_trees(m)
    assert m.monitor.functions.verifyCurrent(m.pack_id, *old, proof(m.kept, old)).call()

    m.scorer_sends(m.monitor.functions.recordReplacement(
        m.pack_id, 1, measure_id, b32(m.kept.root), b32(after.root), b32(out_tree.root), b32(in_tree.root),
        [old[0]], [new[0]]))

    monitor, replacement_id = m.monitor, m.monitor.functions.replacementCount().call()
    assert monitor.functions.currentRoot(m.pack_id).call() == b32(after.root)
    assert monitor.functions.verifyReplacedOut(replacement_id, *old, proof(out_tree, old)).call()
    assert monitor.functions.verifyReplacedIn(replacement_id, *new, proof(in_tree, new)).call()
    assert monitor.functions.verifyCurrent(m.pack_id, *new, proof(after, new)).call()
    assert not monitor.functions.verifyCurrent(m.pack_id, *old, proof(m.kept, old)).call()
    assert monitor.functions.replacement(replacement_id).call()[2] == measure_id


def test_a_replacement_answers_only_a_live_replacement_instruction(monitored):
    m, scorer = monitored, monitored.consortium.sender("scorer")
    m.record_cycle(1)
    m.scorer_sends(m.monitor.functions.recordTrigger(m.pack_id, 1, RULE, keccak(b"evidence")))
    reminders = m.open_measure(kind=WEEKLY_REMINDERS)
    old, new, after, out_tree, in_tree = _replacement_trees(m)

    error = refused(scorer, m.monitor.functions.recordReplacement(
        m.pack_id, 1, reminders, b32(m.kept.root), b32(after.root), b32(out_tree.root), b32(in_tree.root),
        [old[0]], [new[0]]))

    assert (error.name, error.args) == ("PackMonitorWrongMeasure", (reminders,))
